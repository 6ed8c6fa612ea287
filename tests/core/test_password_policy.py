"""Passwords of password-only accounts (NIST SP 800-63B): at least 15 characters and a blocklist
(common passwords, the user's own details, the service's and the agencies' names), no composition
rules. Checked where a password is set: the API's users, the password change page."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client

from qgov.management.commands.load_demo import DEMO_PASSWORD_BYTES
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

TOO_SHORT = "This password is too short. It must contain at least 15 characters."
TOO_COMMON = "This password is too common."
CONTEXT_WORDS = ("This password is built from the name of this service or of an agency. Without those words it "
                 "must still have at least 15 characters.")


def messages(password, user=None):
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        return error.messages
    return []


def test_fourteen_characters_are_refused_and_fifteen_accepted(db):
    assert messages("k7#vt-mirror-ab") == []  # 15
    assert messages("k7#vt-mirror-a") == [TOO_SHORT]  # 14


def test_a_common_password_is_refused_however_long(db):
    assert len("yfdbufnjh10305070") == 17
    assert messages("yfdbufnjh10305070") == [TOO_COMMON]
    assert messages("password") == [TOO_SHORT, TOO_COMMON]


def test_no_composition_rules(db):
    assert messages("739104628501937") == []  # digits only
    assert messages("all lower case words here") == []


def test_the_services_and_the_agencies_names_do_not_count_towards_the_length(agency):
    assert messages("Qgov-2026-Qgov!") == [CONTEXT_WORDS]
    assert messages("department of quantum networks!") == [CONTEXT_WORDS]  # the agency's name
    assert messages("DQN-DQN-DQN-DQN-17") == [CONTEXT_WORDS]  # its code
    assert messages("qgov-tiger-orchid-lantern") == []  # a long passphrase may mention it


def test_a_password_like_the_username_is_refused(db):
    user = get_user_model()(username="margaret.hamilton-1936")

    assert messages("margaret.hamilton-1936", user=user) == ["The password is too similar to the username."]


def test_the_test_and_demo_passwords_pass(db, capsys):
    assert messages(TEST_PASSWORD) == []
    call_command("load_demo")  # the logins `make run` prints
    printed = re.findall(r"^  demo-\S+\s+(\S+)\s", capsys.readouterr().out, flags=re.MULTILINE)

    assert len(printed) == 5  # one per role and the platform admin
    assert [len(password) for password in printed] == [DEMO_PASSWORD_BYTES * 4 // 3] * 5  # base64: 20
    assert [messages(password) for password in printed] == [[]] * 5


def test_the_password_change_page_says_why_a_password_is_refused(agency, member_of):
    member_of(agency, "editor", username="alice")
    client = Client()
    client.login(username="alice", password=TEST_PASSWORD)

    response = client.post("/password/change/", {"old_password": TEST_PASSWORD, "new_password1": "short-but-new",
                                                 "new_password2": "short-but-new"})

    assert response.status_code == 200
    content = response.content.decode()
    assert TOO_SHORT in content
    assert get_user_model().objects.get(username="alice").check_password(TEST_PASSWORD)  # unchanged
