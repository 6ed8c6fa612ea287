"""Login throttling (qgov.identity.lockout): five failed sign-ins for a username from one address
lock it there, in the browser and on the API token endpoint alike, and a good password does not
get through while locked. The concurrent case, against gunicorn: tests/integration/test_login_lockout_concurrency.py."""

import datetime as dt

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.contrib.auth import SESSION_KEY, aauthenticate
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from qgov.audit_verify import verify_chain
from qgov.celery import app as celery_app
from qgov.choices import RoleChoices
from qgov.identity import lockout
from qgov.models import ApiToken, AuditEvent, LoginAttempt, hash_token_key
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LOCKED_OUT_HEADING = "Too many failed sign-in attempts"
LOCKED_OUT_JSON = {
    "status": 429,
    "code": "locked_out",
    "detail": "Too many failed sign-in attempts. Try again later.",
    "errors": {},
}
BAD_CREDENTIALS_JSON = {
    "status": 400,
    "code": "invalid",
    "detail": "Invalid input.",
    "errors": {"non_field_errors": ["Unable to sign in with these credentials."]},
}
LOGIN_FORM_ERROR = (
    "Please enter a correct username and password. Note that both fields may be case-sensitive."
)


@pytest.fixture
def staff_member(agency, member_of):
    return member_of(agency, RoleChoices.EDITOR, username="alice")


def ui_login(client, username, password):
    return client.post("/login/", {"username": username, "password": password})


def token_request(client, username, password):
    return client.post("/api/auth/token/", {"username": username, "password": password}, format="json")


def assert_retry_after_the_lockout(response):
    # QGOV_LOGIN_LOCKOUT_MINUTES from the last checked attempt: 900 s, less the seconds a slow run takes.
    assert 890 <= int(response["Retry-After"]) <= 900, response["Retry-After"]


def assert_locked_out_page(response):
    content = response.content.decode()
    assert response.status_code == 429
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert [t.name for t in response.templates][-2:] == ["registration/locked_out.html", "base.html"]
    assert f'<h1 class="h4">{LOCKED_OUT_HEADING}</h1>' in content
    assert 'name="password"' not in content
    assert_retry_after_the_lockout(response)
    assert "locked for 15 more minutes" in content


def failures(username, address="127.0.0.1"):
    return LoginAttempt.objects.get(username=username, address=address).failures


def test_four_failed_sign_ins_reshow_the_form_and_the_fifth_locks_the_account(staff_member):
    client = Client()

    for attempt in range(1, 5):
        response = ui_login(client, "alice", f"wrong-password-{attempt}")
        assert response.status_code == 200
        assert response.templates[0].name == "registration/login.html"
        assert LOGIN_FORM_ERROR in response.content.decode()
        assert failures("alice") == attempt

    response = ui_login(client, "alice", "wrong-password-5")

    assert_locked_out_page(response)
    assert failures("alice") == 5


def test_locked_account_refuses_the_right_password_in_the_browser_and_on_the_api(staff_member):
    browser = Client()
    for attempt in range(5):
        ui_login(browser, "alice", f"wrong-password-{attempt}")

    response = ui_login(browser, "alice", TEST_PASSWORD)

    assert_locked_out_page(response)
    assert SESSION_KEY not in browser.session
    assert browser.get("/").status_code == 302  # still signed out: the dashboard sends to /login/

    response = token_request(APIClient(), "alice", TEST_PASSWORD)

    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json() == LOCKED_OUT_JSON
    assert_retry_after_the_lockout(response)
    assert ApiToken.objects.count() == 0
    assert failures("alice") == 5  # refused attempts are not counted: nothing was checked


def test_failed_token_requests_count_towards_the_same_lockout(staff_member):
    api = APIClient()

    for attempt in range(4):
        response = token_request(api, "alice", f"wrong-password-{attempt}")
        assert response.status_code == 400
        assert response.json() == BAD_CREDENTIALS_JSON

    response = token_request(api, "alice", "wrong-password-4")

    assert response.status_code == 429
    assert response.json() == LOCKED_OUT_JSON

    response = ui_login(Client(), "alice", TEST_PASSWORD)

    assert_locked_out_page(response)
    assert ApiToken.objects.count() == 0


def test_other_users_are_not_locked_by_someone_elses_failures(agency, member_of, staff_member):
    member_of(agency, RoleChoices.VIEWER, username="bob")
    client = Client()
    for attempt in range(5):
        ui_login(client, "alice", f"wrong-password-{attempt}")

    response = ui_login(client, "bob", TEST_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_token_request_returns_a_working_expiring_token(agency, staff_member):
    before = timezone.now()

    response = token_request(APIClient(), "alice", TEST_PASSWORD)

    assert response.status_code == 201
    body = response.json()
    assert sorted(body) == ["expires", "token"]
    token = ApiToken.objects.get()
    assert token.key_hash == hash_token_key(body["token"])
    assert (token.user, token.name, list(token.agencies.all()), token.scopes, token.revoked_at) == (
        staff_member, "API login", [], ["read", "write"], None)  # a personal token: all its user may do
    assert parse_datetime(body["expires"]) == token.expires
    assert before + dt.timedelta(days=30) <= token.expires <= timezone.now() + dt.timedelta(days=30)

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    response = api.get("/api/agencies/")

    assert response.status_code == 200
    assert response.json()["count"] == 1
    assert [(a["id"], a["code"], a["name"]) for a in response.json()["results"]] == [
        (agency.pk, "DQN", "Department of Quantum Networks")
    ]


def test_a_successful_sign_in_resets_the_failure_count(staff_member):
    client = Client()
    for attempt in range(4):
        ui_login(client, "alice", f"wrong-password-{attempt}")

    response = ui_login(client, "alice", TEST_PASSWORD)

    assert response.status_code == 302
    assert failures("alice") == 0
    # The username's own count (attempts from addresses where alice had not signed in) keeps the
    # four failures and gave back the successful attempt; this address is now known for alice.
    assert failures("alice", "*") == 4
    assert LoginAttempt.objects.get(username="alice", address="127.0.0.1").last_success is not None


def test_lockouts_do_not_leak_between_tests(staff_member):
    # The tests above locked "alice"; the counts live in a database table that each test rolls back.
    assert LoginAttempt.objects.count() == 0

    response = ui_login(Client(), "alice", TEST_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"


# --- keyed on username and client address (qgov.identity.lockout) ------------------------------


def lock_out(username, address, count=5):
    client = Client(REMOTE_ADDR=address)
    for attempt in range(count):
        ui_login(client, username, f"wrong-password-{attempt}")


def test_failures_from_one_address_do_not_lock_the_user_out_at_another(staff_member):
    lock_out("alice", "192.0.2.1")

    assert_locked_out_page(ui_login(Client(REMOTE_ADDR="192.0.2.1"), "alice", TEST_PASSWORD))
    response = ui_login(Client(REMOTE_ADDR="198.51.100.7"), "alice", TEST_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"


@override_settings(QGOV_LOGIN_USERNAME_FAILURE_LIMIT=20)
def test_guesses_from_many_addresses_stop_at_the_username_ceiling_but_not_where_the_user_signed_in_before(
        staff_member):
    assert ui_login(Client(REMOTE_ADDR="203.0.113.5"), "alice", TEST_PASSWORD).status_code == 302  # known there
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"):
        lock_out("alice", address)
    assert failures("alice", "*") == 20

    response = ui_login(Client(REMOTE_ADDR="192.0.2.99"), "alice", TEST_PASSWORD)

    assert_locked_out_page(response)  # a fifth unknown address: refused, even with the right password
    assert failures("alice", "192.0.2.99") == 0  # and its own count was given back
    response = ui_login(Client(REMOTE_ADDR="203.0.113.5"), "alice", TEST_PASSWORD)
    assert response.status_code == 302  # the attacker did not lock alice out where she signs in
    assert failures("alice", "*") == 20


def test_unknown_usernames_lock_like_real_ones(db):
    lock_out("nobody", "127.0.0.1", count=4)

    response = ui_login(Client(), "nobody", "wrong-password-5")

    assert_locked_out_page(response)  # the same answers as for an account: no way to tell them apart
    assert failures("nobody") == 5


def test_one_row_per_username_and_address_whatever_the_user_agent(staff_member):
    for number in range(4):
        Client(HTTP_USER_AGENT=f"agent/{number}").post("/login/", {"username": "alice", "password": "wrong"})

    assert sorted(LoginAttempt.objects.values_list("address", "failures")) == [("*", 4), ("127.0.0.1", 4)]


def test_a_client_supplied_forwarded_for_does_not_escape_the_lock(staff_member):
    lock_out("alice", "127.0.0.1")

    response = Client(HTTP_X_FORWARDED_FOR="198.51.100.7").post(
        "/login/", {"username": "alice", "password": TEST_PASSWORD})

    assert_locked_out_page(response)


@override_settings(QGOV_TRUSTED_PROXIES=1)
def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_count(staff_member):
    behind_proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for attempt in range(5):
        Client(**behind_proxy, HTTP_X_FORWARDED_FOR="192.0.2.1").post(
            "/login/", {"username": "alice", "password": f"wrong-{attempt}"})

    other_client = Client(**behind_proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert other_client.post("/login/", {"username": "alice", "password": TEST_PASSWORD}).status_code == 302
    assert failures("alice", "192.0.2.1") == 5
    assert not LoginAttempt.objects.filter(address="10.0.0.2").exists()


def test_retry_after_is_the_time_left_and_the_lock_ends_with_its_window(staff_member):
    lock_out("alice", "127.0.0.1")
    LoginAttempt.objects.filter(address="127.0.0.1").update(window_ends=timezone.now() + dt.timedelta(seconds=100))

    response = token_request(APIClient(), "alice", TEST_PASSWORD)

    assert response.status_code == 429
    assert response["Retry-After"] in ("99", "100")
    LoginAttempt.objects.update(window_ends=timezone.now() - dt.timedelta(seconds=1))

    response = token_request(APIClient(), "alice", "wrong-password")

    assert response.status_code == 400  # a new window: checked again, counted from one
    assert failures("alice") == 1


def test_the_admin_sign_in_is_locked_too(staff_member):
    lock_out("alice", "127.0.0.1")
    client = Client()

    # The admin site's form checks no password: it sends people to the one sign-in, which is locked.
    sent_on = client.post("/admin/login/", {"username": "alice", "password": TEST_PASSWORD})
    response = client.post("/login/", {"username": "alice", "password": TEST_PASSWORD})

    assert (sent_on.status_code, sent_on["Location"]) == (302, "/login/")
    assert "_auth_user_id" not in client.session
    assert response.status_code == 429
    assert_retry_after_the_lockout(response)


def test_the_purge_keeps_known_addresses_and_running_windows(staff_member):
    now = timezone.now()
    ui_login(Client(REMOTE_ADDR="203.0.113.5"), "alice", TEST_PASSWORD)
    lock_out("alice", "192.0.2.1", count=2)
    LoginAttempt.objects.update(window_ends=now - dt.timedelta(seconds=1))
    lock_out("bob", "192.0.2.1", count=1)

    deleted = lockout.login_attempts_purge(now=now)

    assert deleted == 2  # alice's window from 192.0.2.1 and her username row: over
    assert sorted(LoginAttempt.objects.values_list("username", "address")) == [
        ("alice", "203.0.113.5"), ("bob", "*"), ("bob", "192.0.2.1")]
    assert lockout.login_attempts_purge(now=now + dt.timedelta(days=91)) == 3
    beat_entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-login-attempts-hourly"]
    lock_out("carol", "192.0.2.1", count=1)
    LoginAttempt.objects.update(window_ends=timezone.now() - dt.timedelta(seconds=1))
    assert celery_app.tasks[beat_entry["task"]]() == 2  # the beat's task is the purge: carol's two rows


def test_a_lock_is_in_the_accounts_history_once_and_no_password_is_recorded(staff_member):
    before = AuditEvent.objects.count()
    lock_out("alice", "192.0.2.1", count=7)  # five checked, two refused

    events = list(AuditEvent.objects.filter(pk__gt=0).order_by("id")[before:])

    assert [(e.object_id, e.object_repr, e.action, e.detail, e.chain) for e in events] == [
        (str(staff_member.pk), "alice", "transition",
         {"transition": "lock_sign_in", "reason": "5 failed sign-ins from 192.0.2.1"}, "platform")]
    locked_until = LoginAttempt.objects.get(username="alice", address="192.0.2.1").window_ends
    assert (events[0].before, events[0].after) == (
        {"sign_in_locked_until": None}, {"sign_in_locked_until": locked_until.isoformat()})
    assert "wrong-password" not in str(AuditEvent.objects.values_list("before", "after", "detail"))
    assert verify_chain(chain="platform") is None  # an event like any other in the chain


def test_a_lock_of_a_username_that_names_no_account_is_only_logged(db, caplog):
    lock_out("nobody", "192.0.2.1")

    assert not AuditEvent.objects.filter(detail__transition="lock_sign_in").exists()
    assert [r.getMessage() for r in caplog.records if r.name == "qgov.identity.lockout"][-1].startswith(
        "Sign-in locked for 'nobody' from 192.0.2.1 until ")


def test_any_username_is_counted_without_error(db):
    username = "ü" * 5000 + "\u202e'; --"

    responses = [token_request(APIClient(), username, "wrong-password").status_code for _ in range(6)]

    assert responses == [400, 400, 400, 400, 429, 429]
    assert LoginAttempt.objects.get(address="127.0.0.1").username == username[:150]


def test_the_async_authenticate_counts_too(staff_member):
    request = RequestFactory().post("/login/", REMOTE_ADDR="192.0.2.1")
    for attempt in range(5):
        assert async_to_sync(aauthenticate)(request, username="alice", password=f"wrong-{attempt}") is None

    assert async_to_sync(aauthenticate)(request, username="alice", password=TEST_PASSWORD) is None
    assert lockout.locked_out(request) is not None
    assert failures("alice", "192.0.2.1") == 5


def test_the_admin_lists_attempts_read_only_and_unlocks_with_an_event_in_the_history(staff_member, client,
                                                                                       superuser):
    from django.contrib.messages import get_messages

    from qgov.choices import AuditSourceChoices
    from qgov.testing import events_for

    lock_out("alice", "192.0.2.1")
    lock_out("nobody", "192.0.2.1", count=2)
    locked = LoginAttempt.objects.get(username="alice", address="192.0.2.1")
    client.force_login(superuser)

    page = client.get("/admin/qgov/loginattempt/?q=alice")
    assert page.status_code == 200
    assert [(row.username, row.address, row.failures) for row in page.context["cl"].result_list] == [
        ("alice", "*", 5), ("alice", "192.0.2.1", 5)]
    assert page.context["cl"].list_display == [
        "action_checkbox", "username", "address", "failures", "window_ends", "last_success"]
    assert client.get(f"/admin/qgov/loginattempt/{locked.pk}/change/").context["has_change_permission"] is False
    assert client.get("/admin/qgov/loginattempt/add/").status_code == 403
    assert client.post(f"/admin/qgov/loginattempt/{locked.pk}/delete/", {"post": "yes"}).status_code == 403

    nobody = LoginAttempt.objects.get(username="nobody", address="192.0.2.1")
    response = client.post("/admin/qgov/loginattempt/", {
        "action": "unlock", "_selected_action": [locked.pk, nobody.pk]}, follow=True)

    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Cleared the failed sign-ins of 2 rows."]
    assert sorted(LoginAttempt.objects.values_list("username", "address", "failures")) == [
        ("alice", "*", 5), ("alice", "192.0.2.1", 0), ("nobody", "*", 2), ("nobody", "192.0.2.1", 0)]
    event = events_for(type(staff_member), staff_member.pk).order_by("seq").last()
    assert (event.action, event.detail, event.source, event.actor, event.before, event.after) == (
        "transition", {"transition": "unlock_sign_in",
                       "reason": f"5 failed sign-ins from 192.0.2.1 cleared by {superuser.username}"},
        AuditSourceChoices.ADMIN, superuser,
        {"sign_in_failures": 5, "counted_until": locked.window_ends.isoformat()},
        {"sign_in_failures": 0, "counted_until": None})
    assert ui_login(Client(REMOTE_ADDR="192.0.2.1"), "alice", TEST_PASSWORD).status_code == 302
