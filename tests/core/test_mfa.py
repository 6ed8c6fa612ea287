"""MFA (issue #15, §3): who must take a second step, TOTP accepted once per time step (also by two
processes racing the same code), recovery codes (≥ 64 bits, hashed, single-use, replaced),
fresh authentication before changing authenticators, notifications and the audit trail."""

import json
import re
import subprocess
import sys
import time

import pyotp
import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory
from django.utils import timezone
from django.utils.formats import date_format
from rest_framework.test import APIClient

from qgov.choices import RoleChoices
from qgov.identity import reauth, signin
from qgov.identity.mfa import policy, services
from qgov.identity.mfa.models import Authenticator, AuthenticatorKindChoices, RecoveryCode
from qgov.identity.store import SessionStore
from qgov.models import AuditEvent, Notification
from tests.factories import TEST_PASSWORD, UserFactory

PASSKEY, TOTP = AuthenticatorKindChoices.PASSKEY, AuthenticatorKindChoices.TOTP


@pytest.fixture(autouse=True)
def no_counted_failures():
    """Wrong-code counters live in the cache, keyed by user id: ids repeat from test to test."""
    cache.clear()
    yield
    cache.clear()


def add_totp(user, *, last_step=-1) -> tuple[Authenticator, str]:
    secret = services.totp_new_secret()
    return Authenticator.objects.create(user=user, kind=TOTP, name="Phone", totp_secret=secret,
                                        totp_last_step=last_step), secret


def add_passkey(user, name="Laptop") -> Authenticator:
    return Authenticator.objects.create(user=user, kind=PASSKEY, name=name, credential_id=f"cred-{user.pk}-{name}",
                                        public_key=b"\x00", user_verified=True)


def code_now(secret) -> str:
    return pyotp.TOTP(secret).now()


def password_step(user) -> tuple[Client, object]:
    client = Client()
    response = client.post("/login/", {"username": user.username, "password": TEST_PASSWORD})
    return client, response


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


# --- policy ----------------------------------------------------------------------------------------


@pytest.fixture
def strict_agency(agency):
    agency.phishing_resistant_required = True
    agency.save()
    return agency


def test_a_password_user_without_authenticators_and_no_policy_signs_straight_in(agency, member_of):
    user = member_of(agency)
    client, response = password_step(user)
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in_user_id(client) == str(user.pk)


def test_a_user_with_totp_is_not_signed_in_until_the_code(agency, member_of):
    user = member_of(agency)
    _totp, secret = add_totp(user)
    client, response = password_step(user)

    assert response["Location"] == "/login/mfa/"
    assert signed_in_user_id(client) is None
    assert client.get("/").status_code == 302  # nothing reachable yet
    page = client.get("/login/mfa/").content.decode()
    assert 'data-testid="step-totp"' in page and 'data-testid="step-passkey"' not in page

    done = client.post("/login/mfa/", {"code": code_now(secret)})
    assert done.status_code == 302 and signed_in_user_id(client) == str(user.pk)
    assert client.session[signin.SIGN_IN_KEY] == {"method": "password", "phishing_resistant": False, "mfa": "totp"}


@pytest.mark.parametrize(("who", "has", "method", "pr", "expected"), [
    ("member", (), "password", False, None),
    ("member", ("totp",), "password", False, ("totp",)),
    ("member", ("passkey", "totp"), "password", False, ("passkey", "totp")),
    ("superuser", (), "password", False, "enrol:passkey,totp"),
    ("staff", ("totp",), "password", False, ("totp",)),
    ("strict", (), "password", False, "enrol:passkey"),
    ("strict", ("totp",), "password", False, "enrol:passkey"),  # TOTP does not count there
    ("strict", ("passkey", "totp"), "password", False, ("passkey",)),
    ("strict", (), "provider", True, None),
    ("strict", ("passkey",), "provider", False, ("passkey",)),
    ("strict", (), "provider", False, "refused:no_passkey"),
    ("member", ("totp",), "provider", False, None),  # the provider did the MFA the policy asks
    ("superuser", (), "provider", False, "refused:no_authenticator"),
    ("superuser", ("passkey",), "provider", False, ("passkey",)),
])
def test_second_step_decisions(agency, member_of, who, has, method, pr, expected):
    if who == "strict":
        agency.phishing_resistant_required = True
        agency.save()
    user = member_of(agency, is_superuser=who == "superuser", is_staff=who == "staff")
    for kind in has:
        add_totp(user) if kind == "totp" else add_passkey(user)

    step = policy.second_step_for(user, method=method, phishing_resistant=pr)

    if expected is None or isinstance(expected, tuple):
        assert (step.kinds if step else None) == expected and not (step and (step.enrol or step.refused))
    elif expected.startswith("enrol:"):
        assert step.enrol and step.kinds == tuple(expected[6:].split(","))
    else:
        assert step.refused == expected[8:]


def test_totp_is_offered_only_where_every_agency_allows_it(agency, other_agency, member_of):
    user = member_of(agency)
    assert policy.totp_allowed(user)
    other_agency.totp_allowed = False
    other_agency.save()
    from tests.factories import MembershipFactory
    MembershipFactory(agency=other_agency, user=user)
    assert not policy.totp_allowed(user)
    add_totp(user)
    _client, response = password_step(user)
    assert response["Location"] == "/login/mfa/enrol/"  # a TOTP app it no longer accepts: a passkey first


def test_a_user_who_must_enrol_reaches_nothing_else(strict_agency, member_of):
    user = member_of(strict_agency)
    client, response = password_step(user)
    assert response["Location"] == "/login/mfa/enrol/"
    page = client.get("/login/mfa/enrol/").content.decode()
    assert 'data-testid="enrol-passkey"' in page and "authenticator app" not in page
    assert client.get("/login/mfa/totp/enrol/").status_code == 404  # no TOTP where passkeys are required
    assert client.get("/").status_code == 302 and signed_in_user_id(client) is None


def test_a_platform_admin_enrols_totp_at_first_sign_in_and_sees_recovery_codes_once(db):
    admin = UserFactory(is_superuser=True, is_staff=True)
    client, response = password_step(admin)
    assert response["Location"] == "/login/mfa/enrol/"
    page = client.get("/login/mfa/totp/enrol/")
    secret = client.session["qgov_totp_enrol_secret"]
    assert secret in page.content.decode() and "<svg" in page.content.decode()

    wrong = client.post("/login/mfa/totp/enrol/", {"code": "000000" if code_now(secret) != "000000" else "111111"})
    assert wrong.status_code == 200 and not admin.authenticators.exists()
    enrolment_code = code_now(secret)
    done = client.post("/login/mfa/totp/enrol/", {"code": enrolment_code})

    assert done["Location"] == "/account/security/recovery-codes/"
    assert signed_in_user_id(client) == str(admin.pk)
    codes = client.get(done["Location"])
    assert codes.status_code == 200 and len(codes.context["codes"]) == 10
    assert client.get(done["Location"]).status_code == 302  # shown once
    totp = admin.authenticators.get()
    assert totp.kind == TOTP and totp.totp_secret == secret
    assert totp.totp_last_step == int(time.time() // 30) or totp.totp_last_step == int(time.time() // 30) - 1
    # The enrolment code is spent: it cannot sign in again (the same code, even when the clock has moved
    # on to the next 30-second step meanwhile).
    assert not services.totp_verify(authenticator=totp, code=enrolment_code)


def test_the_secret_is_sealed_in_the_database(agency, member_of):
    _totp, secret = add_totp(member_of(agency))
    with connection.cursor() as cursor:
        cursor.execute("SELECT totp_secret FROM qgov_authenticator")
        stored = cursor.fetchone()[0]
    assert secret not in stored and len(stored) > 60


def test_a_provider_sign_in_without_phishing_resistance_is_refused_with_a_page(strict_agency, member_of):
    user = member_of(strict_agency)
    request = RequestFactory().get("/login/sso/DQN/callback/")
    request.session = SessionStore()
    response = signin.complete_sign_in(request, user, method="provider", phishing_resistant=False,
                                       backend=settings.AUTHENTICATION_BACKENDS[0])
    assert response.status_code == 403
    assert "phishing-resistant" in response.content.decode()
    assert "_auth_user_id" not in request.session


def test_a_provider_sign_in_that_was_phishing_resistant_signs_in_with_its_auth_time(strict_agency, member_of):
    user = member_of(strict_agency)
    request = RequestFactory().get("/login/sso/DQN/callback/")
    request.session, request.user = SessionStore(), None
    auth_time = time.time() - 30
    assert signin.complete_sign_in(request, user, method="provider", phishing_resistant=True, auth_time=auth_time,
                                   backend=settings.AUTHENTICATION_BACKENDS[0]) is None
    assert request.session["_auth_user_id"] == str(user.pk)
    assert request.session[reauth.AUTH_TIME_KEY] == int(auth_time)


def test_a_pending_sign_in_expires_and_too_many_wrong_codes_start_over(agency, member_of, monkeypatch):
    user = member_of(agency)
    _totp, secret = add_totp(user)
    client, _ = password_step(user)
    for _attempt in range(signin.PENDING_FAILURES - 1):
        assert client.post("/login/mfa/", {"code": "12345x"}).status_code == 200
    assert client.post("/login/mfa/", {"code": "12345x"})["Location"] == "/login/"
    assert client.post("/login/mfa/", {"code": code_now(secret)})["Location"] == "/login/"
    assert signed_in_user_id(client) is None

    client, _ = password_step(user)
    monkeypatch.setattr(signin, "PENDING_SECONDS", -1)
    client, _ = password_step(user)
    assert client.post("/login/mfa/", {"code": code_now(secret)})["Location"] == "/login/"
    assert signed_in_user_id(client) is None


# --- TOTP replay ------------------------------------------------------------------------------------


def test_a_totp_code_counts_once_and_older_steps_never_after(agency, member_of):
    user = member_of(agency)
    totp, secret = add_totp(user)
    now = time.time()
    code = pyotp.TOTP(secret).at(now)
    previous = pyotp.TOTP(secret).at(now - 30)

    assert services.totp_verify(authenticator=totp, code=code, at=now)
    assert not services.totp_verify(authenticator=totp, code=code, at=now)
    assert not services.totp_verify(authenticator=totp, code=previous, at=now)  # within the window, but older
    assert not services.totp_verify(authenticator=totp, code=pyotp.TOTP(secret).at(now - 120), at=now)


def test_a_code_used_in_one_sign_in_is_refused_in_another(agency, member_of):
    user = member_of(agency)
    _totp, secret = add_totp(user)
    first, _ = password_step(user)
    second, _ = password_step(user)
    code = code_now(secret)
    assert first.post("/login/mfa/", {"code": code}).status_code == 302
    replay = second.post("/login/mfa/", {"code": code})
    assert replay.status_code == 200 and "used already" in replay.content.decode()
    assert signed_in_user_id(second) is None


RACE = """
import json, sys, time
import django
from django.conf import settings
settings.DATABASES["default"]["NAME"] = sys.argv[1]
django.setup()
import pyotp
from qgov.identity.mfa import services
from qgov.identity.mfa.models import Authenticator
totp = Authenticator.objects.get(pk=int(sys.argv[2]))
start, rounds, results = float(sys.argv[3]), int(sys.argv[4]), []
for i in range(rounds):
    at = (int(start // 30) + 10 + i) * 30 + 1  # a fresh step each round
    code = pyotp.TOTP(totp.totp_secret).at(at)
    time.sleep(max(0, start + i * 0.25 - time.time()))
    results.append(services.totp_verify(authenticator=totp, code=code, at=at))
print(json.dumps(results))
"""


@pytest.mark.django_db(transaction=True)
def test_two_processes_racing_the_same_code_accept_it_once(agency, member_of):
    totp, _secret = add_totp(member_of(agency))
    rounds = 8
    start = time.time() + 6  # both processes are up and have read the authenticator by then
    processes = [subprocess.Popen(
        [sys.executable, "-c", RACE, connection.settings_dict["NAME"], str(totp.pk), str(start), str(rounds)],
        cwd=settings.BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=120) for process in processes]
    results = [json.loads(out.strip().splitlines()[-1]) for out, err in outputs]

    assert [a + b for a, b in zip(*results, strict=True)] == [1] * rounds, outputs
    totp.refresh_from_db()
    assert totp.totp_last_step == int(start // 30) + 10 + rounds - 1


# --- recovery codes ---------------------------------------------------------------------------------


def test_recovery_codes_have_at_least_64_bits_and_are_stored_hashed(agency, member_of):
    user = member_of(agency)
    codes = services.recovery_codes_replace(user=user)
    plain = [code.replace("-", "") for code in codes]
    assert len(codes) == 10 and len(set(plain)) == 10
    assert all(len(code) == 16 and set(code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for code in plain)  # 80 bits
    stored = list(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert len(stored) == 10 and len({h.split("$")[1] for h in stored}) == 10  # a salt each
    assert not any(code in h or code.lower() in h for code in plain for h in stored)


def test_a_recovery_code_signs_in_once_and_the_set_is_replaced(agency, member_of):
    user = member_of(agency)
    add_totp(user)
    codes = services.recovery_codes_replace(user=user)
    client, _ = password_step(user)
    used = client.post("/login/mfa/", {"recovery-code": codes[3].lower()})

    assert used["Location"] == "/account/security/recovery-codes/"
    assert signed_in_user_id(client) == str(user.pk)
    new_codes = client.get(used["Location"]).context["codes"]
    assert set(new_codes).isdisjoint(codes) and len(new_codes) == 10
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 10

    again, _ = password_step(user)
    for code in (codes[3], codes[4]):  # neither the used code nor the rest of the old set
        assert again.post("/login/mfa/", {"recovery-code": code}).status_code == 200
    assert signed_in_user_id(again) is None
    assert Notification.objects.filter(user=user, title__contains="recovery code was used").count() == 1
    assert AuditEvent.objects.filter(object_id=str(user.pk), detail__transition="use_recovery_code").count() == 1


# --- the account security page -------------------------------------------------------------------


def signed_in(user, *, fresh=True) -> Client:
    client = Client()
    client.force_login(user)
    session = client.session
    session[reauth.AUTH_TIME_KEY] = int(time.time()) - (0 if fresh else settings.QGOV_REAUTH_SECONDS + 1)
    session.save()
    return client


def test_the_security_page_lists_authenticators(agency, member_of):
    user = member_of(agency)
    passkey = add_passkey(user)
    Authenticator.objects.filter(pk=passkey.pk).update(backup_eligible=True, backup_state=True)
    add_totp(user)
    page = signed_in(user).get("/account/security/").content.decode()
    assert "Laptop" in page and "Phone" in page and "yes (synced)" in page
    assert "Add an authenticator app" in page
    assert 'href="/account/security/"' in signed_in(user).get("/account/sessions/").content.decode()


# Session, user, agency, recovery codes, 4 policy checks, roles, unread count, authenticators, linked accounts.
SECURITY_PAGE_QUERIES = 9  # the MFA policy in one query


def test_the_security_page_lists_the_users_linked_provider_accounts_read_only(agency, other_agency, member_of,
                                                                              django_assert_num_queries):
    import datetime as dt

    from qgov.identity.scim.services import UserData, scim_user_create
    from qgov.models import ExternalIdentity
    from tests.core.test_identity_providers import make_provider

    user = member_of(agency)
    entra = make_provider(agency, name="Entra ID")
    shared = make_provider(other_agency, name="Gov IdP", is_active=False)
    signed_in_at = dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC)
    ExternalIdentity.objects.create(provider=entra, subject="entra-oid-7f3a", user=user, last_sign_in=signed_in_at)
    provisioned = scim_user_create(provider=shared, data=UserData(user_name="ada@gov.example", external_id="gov-42"))
    ExternalIdentity.objects.filter(pk=provisioned.identity.pk).update(user=user)
    ExternalIdentity.objects.create(provider=entra, subject="someone-else", user=member_of(agency))
    client = signed_in(user)

    with django_assert_num_queries(SECURITY_PAGE_QUERIES):
        page = client.get("/account/security/")

    assert [(i.provider.name, i.subject) for i in page.context["external_identities"]] == [
        ("Entra ID", "entra-oid-7f3a"), ("Gov IdP", "gov-42")]
    table = page.content.decode().split('data-testid="external-identities"')[1].split("</table>")[0]
    rows = [[re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)]
    linked = timezone.localtime(ExternalIdentity.objects.get(subject="gov-42").created)
    assert rows == [
        ["Entra ID", agency.code, "entra-oid-7f3a", date_format(timezone.localtime(
            ExternalIdentity.objects.get(subject="entra-oid-7f3a").created), "SHORT_DATETIME_FORMAT"),
         date_format(timezone.localtime(signed_in_at), "SHORT_DATETIME_FORMAT")],
        ["Gov IdP inactive provisioned by SCIM", other_agency.code, "gov-42",
         date_format(linked, "SHORT_DATETIME_FORMAT"), "never"]]
    assert "<form" not in table  # read-only
    nobody = signed_in(member_of(agency)).get("/account/security/").content.decode()
    assert "None: you sign in with your qgov password." in nobody


def test_changing_authenticators_needs_a_fresh_sign_in(agency, member_of):
    user = member_of(agency)
    totp, _ = add_totp(user)
    client = signed_in(user, fresh=False)

    removal = client.post(f"/account/security/{totp.pk}/remove/")
    regenerate = client.post("/account/security/recovery-codes/new/")
    add_page = client.get("/account/security/passkey/")
    options = client.post("/login/mfa/passkey/register/options/")
    totp_page = client.get("/account/security/totp/")

    wanted = "/account/reauth/?next=%2Faccount%2Fsecurity%2F"
    assert removal["Location"] == wanted and regenerate["Location"] == wanted
    assert add_page["Location"] == "/account/reauth/?next=%2Faccount%2Fsecurity%2Fpasskey%2F"
    assert options.status_code == 403 and totp_page.status_code == 302
    assert Authenticator.objects.filter(pk=totp.pk).exists() and not RecoveryCode.objects.filter(user=user).exists()


def test_removing_notifies_audits_and_keeps_the_last_one_of_who_must_have_mfa(strict_agency, member_of):
    user = member_of(strict_agency)
    first, second = add_passkey(user, "One"), add_passkey(user, "Two")
    client = signed_in(user)

    assert client.post(f"/account/security/{first.pk}/remove/").status_code == 302
    kept = client.post(f"/account/security/{second.pk}/remove/", follow=True)

    assert list(user.authenticators.values_list("name", flat=True)) == ["Two"]
    assert "at least one sign-in method" in kept.content.decode()
    assert Notification.objects.filter(user=user, title="A sign-in method was removed from your account").count() == 1
    event = AuditEvent.objects.get(object_id=str(user.pk), detail__transition="remove_authenticator")
    assert event.before == {"authenticators": ["passkey:One", "passkey:Two"]}
    assert event.after == {"authenticators": ["passkey:Two"]}


def test_nobody_removes_another_users_authenticator(agency, member_of):
    owner, other = member_of(agency), member_of(agency)
    totp, _ = add_totp(owner)
    assert signed_in(other).post(f"/account/security/{totp.pk}/remove/").status_code == 404
    assert Authenticator.objects.filter(pk=totp.pk).exists()


def test_adding_totp_from_the_account_page_notifies_and_audits(agency, member_of):
    user = member_of(agency)
    client = signed_in(user)
    client.get("/account/security/totp/")
    secret = client.session["qgov_totp_enrol_secret"]
    response = client.post("/account/security/totp/", {"code": code_now(secret)})

    assert response["Location"] == "/account/security/recovery-codes/"  # the first factor brings codes
    assert user.authenticators.get().kind == TOTP
    assert Notification.objects.filter(user=user, title="A sign-in method was added to your account").count() == 1
    event = AuditEvent.objects.get(object_id=str(user.pk), detail__transition="add_authenticator")
    assert event.after == {"authenticators": ["totp:Authenticator app"]}
    assert secret not in json.dumps([event.before, event.after, event.detail])


def test_regenerating_recovery_codes_replaces_the_set(agency, member_of):
    user = member_of(agency)
    old = services.recovery_codes_replace(user=user)
    client = signed_in(user)
    response = client.post("/account/security/recovery-codes/new/")
    new = client.get(response["Location"]).context["codes"]
    assert set(new).isdisjoint(old) and RecoveryCode.objects.filter(user=user).count() == 10


def test_totp_is_not_offered_where_the_agency_forbids_it(agency, member_of):
    agency.totp_allowed = False
    agency.save()
    user = member_of(agency)
    client = signed_in(user)
    assert "Add an authenticator app" not in client.get("/account/security/").content.decode()
    assert client.get("/account/security/totp/").status_code == 404


# --- the agency's policy ---------------------------------------------------------------------------


def test_agency_admins_set_the_mfa_policy_through_the_api_with_a_fresh_sign_in(agency, member_of):
    admin = member_of(agency, RoleChoices.ADMIN)
    client = APIClient()
    client.force_login(admin)
    session = client.session
    session[reauth.AUTH_TIME_KEY] = int(time.time()) - settings.QGOV_REAUTH_SECONDS - 1
    session.save()
    stale = client.patch(f"/api/agencies/{agency.pk}/", {"phishing_resistant_required": True}, format="json")
    agency.refresh_from_db()
    assert stale.status_code == 403 and not agency.phishing_resistant_required

    session = client.session
    session[reauth.AUTH_TIME_KEY] = int(time.time())
    session.save()
    fresh = client.patch(f"/api/agencies/{agency.pk}/", {"phishing_resistant_required": True, "totp_allowed": False},
                         format="json")
    agency.refresh_from_db()
    assert fresh.status_code == 200 and fresh.json()["phishing_resistant_required"] is True
    assert (agency.phishing_resistant_required, agency.totp_allowed) == (True, False)


def test_the_agency_form_has_the_mfa_policy(agency, member_of):
    admin = member_of(agency, RoleChoices.ADMIN)
    page = signed_in(admin).get(f"/agencies/{agency.pk}/edit/").content.decode()
    assert 'name="phishing_resistant_required"' in page and 'name="totp_allowed"' in page


def test_the_admin_sites_login_form_cannot_skip_the_second_step(db):
    admin = UserFactory(is_superuser=True, is_staff=True)
    add_totp(admin)
    client = Client()
    posted = client.post("/admin/login/?next=/admin/", {"username": admin.username, "password": TEST_PASSWORD,
                                                        "next": "/admin/"})
    assert posted.status_code == 302 and posted["Location"] == "/login/?next=/admin/"
    assert signed_in_user_id(client) is None


def test_a_platform_admins_sign_in_is_audited_as_break_glass(strict_agency, member_of):
    admin = member_of(strict_agency, is_superuser=True, is_staff=True)
    _totp, secret = add_totp(admin)
    add_passkey(admin)
    client, response = password_step(admin)
    # Where the agency requires phishing resistance, the TOTP app is not offered: only the passkey.
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="step-passkey"' in page and 'data-testid="step-totp"' not in page
    assert client.post("/login/mfa/", {"code": code_now(secret)}).status_code == 200
    assert signed_in_user_id(client) is None

    strict_agency.phishing_resistant_required = False
    strict_agency.save()
    client, _ = password_step(admin)
    client.post("/login/mfa/", {"code": code_now(secret)})
    assert signed_in_user_id(client) == str(admin.pk)
    event = AuditEvent.objects.get(object_id=str(admin.pk), detail__transition="sign_in")
    assert event.after == {"signed_in_with": "password + totp"}
    assert event.detail["reason"] == "platform admin signed in with password + totp"


def test_wrong_codes_across_sign_ins_lock_the_users_codes_for_a_while(agency, member_of):
    user = member_of(agency)
    _totp, secret = add_totp(user)
    codes = services.recovery_codes_replace(user=user)
    for _sign_in in range(signin.USER_FAILURES // (signin.PENDING_FAILURES - 1) + 1):
        client, _ = password_step(user)
        for _attempt in range(signin.PENDING_FAILURES - 1):
            client.post("/login/mfa/", {"code": "12345x"})
    client, _ = password_step(user)

    refused = client.post("/login/mfa/", {"code": code_now(secret)})
    recovery = client.post("/login/mfa/", {"recovery-code": codes[0]})

    assert "Too many wrong codes for this account" in refused.content.decode()
    assert "Too many wrong codes for this account" in recovery.content.decode()
    assert signed_in_user_id(client) is None
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 10
    cache.delete(f"qgov:mfa-failures:{user.pk}")
    assert client.post("/login/mfa/", {"code": code_now(secret)}).status_code == 302


# --- fresh authentication with the second factor ----------------------------------------------------


def test_users_with_a_second_factor_confirm_with_it_not_the_password(agency, member_of):
    user = member_of(agency)
    totp, secret = add_totp(user)
    client = signed_in(user, fresh=False)

    asked = client.get("/account/reauth/?next=/account/security/passkey/")
    password = client.post("/account/reauth/", {"password": TEST_PASSWORD, "next": "/account/security/passkey/"})
    assert asked["Location"] == "/account/confirm/?next=%2Faccount%2Fsecurity%2Fpasskey%2F"
    assert password["Location"] == asked["Location"]
    assert client.get("/account/security/passkey/").status_code == 302  # the password made nothing fresh

    page = client.get(asked["Location"]).content.decode()
    assert 'data-testid="confirm-totp"' in page and 'data-testid="confirm-passkey"' not in page
    wrong = client.post("/account/confirm/", {"code": "12345x", "next": "/account/security/passkey/"})
    assert wrong.status_code == 200 and client.get("/account/security/passkey/").status_code == 302
    right = client.post("/account/confirm/", {"code": code_now(secret), "next": "/account/security/passkey/"})
    assert right["Location"] == "/account/security/passkey/"
    assert client.get("/account/security/passkey/").status_code == 200
    totp.refresh_from_db()
    assert totp.totp_last_step >= int(time.time() // 30) - 1  # the code is spent like any other


def test_users_without_a_second_factor_still_confirm_with_their_password(agency, member_of):
    user = member_of(agency)
    client = signed_in(user, fresh=False)
    right = client.post("/account/reauth/", {"password": TEST_PASSWORD, "next": "/account/security/passkey/"})
    assert right["Location"] == "/account/security/passkey/"
