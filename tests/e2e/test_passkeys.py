"""Passkeys in Chromium with its virtual authenticator (DevTools WebAuthn domain): registration from
the account security page, sign-in with password + passkey, user verification off → refused by the
server, and the backup flags recorded."""

import pytest
from django.contrib.sessions.models import Session

from qgov.choices import RoleChoices
from qgov.identity.mfa.models import Authenticator
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ada():
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    user = UserFactory(username="ada", first_name="Ada", last_name="Admin")
    MembershipFactory(agency=agency, user=user, role=RoleChoices.ADMIN)
    return user


def virtual_authenticator(page, *, user_verified=True, backed_up=True, can_verify=True):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": can_verify,
        "isUserVerified": user_verified, "automaticPresenceSimulation": True,
        "defaultBackupEligibility": backed_up, "defaultBackupState": backed_up}})
    return cdp, added["authenticatorId"]


def password_sign_in(page, *, lands_on="**/"):
    page.goto("/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lands_on)


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/**")


def register_passkey(page):
    page.goto("/account/security/")
    page.get_by_role("link", name="Add a passkey").click()
    page.get_by_label("Name").fill("Work laptop")
    page.get_by_test_id("passkey-register").click()
    page.wait_for_url("**/account/security/recovery-codes/")
    assert page.get_by_test_id("recovery-codes").locator("li").count() == 10


def signed_in_sessions(user) -> int:
    return sum(1 for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk))


def test_register_a_passkey_then_sign_in_with_password_and_passkey(page, live_server, ada, screenshot):
    virtual_authenticator(page)
    password_sign_in(page)
    register_passkey(page)

    passkey = Authenticator.objects.get(user=ada)
    assert (passkey.kind, passkey.name, passkey.user_verified) == ("passkey", "Work laptop", True)
    assert (passkey.backup_eligible, passkey.backup_state) == (True, True)
    assert passkey.transports == ["internal"]
    page.get_by_role("link", name="I have kept them").click()
    security = page.get_by_test_id("authenticators")
    assert "Work laptop" in security.inner_text() and "yes (synced)" in security.inner_text()
    screenshot(page, "account-security")

    sign_out(page)
    password_sign_in(page, lands_on="**/login/mfa/")
    assert signed_in_sessions(ada) == 0
    screenshot(page, "mfa-second-step")
    page.get_by_test_id("passkey-sign-in").click()
    page.wait_for_url(f"{live_server.url}/")

    assert page.get_by_role("button", name="Sign out").is_visible()
    passkey.refresh_from_db()
    assert passkey.last_used is not None
    assert not [failed for failed in page.failed_responses if "/login/mfa/" in failed]

    # The same (discoverable) passkey alone, from the login page.
    sign_out(page)
    page.get_by_test_id("passkey-only-sign-in").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("button", name="Sign out").is_visible() and signed_in_sessions(ada) == 1


def test_a_passkey_without_user_verification_is_refused_by_the_server(page, live_server, ada):
    cdp, authenticator_id = virtual_authenticator(page)
    password_sign_in(page)
    register_passkey(page)
    sign_out(page)

    cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator_id, "isUserVerified": False})

    # The browser would refuse by itself when asked for verification: ask it not to, so that only the
    # server's check stands between an unverified passkey and a sign-in.
    def without_verification(route):
        response = route.fetch()
        route.fulfill(response=response, body=response.text().replace('"required"', '"discouraged"'))

    page.route("**/login/mfa/passkey/options/", without_verification)
    password_sign_in(page, lands_on="**/login/mfa/")
    page.get_by_test_id("passkey-sign-in").click()

    status = page.locator("[data-passkey-status]")
    status.filter(has_text="was not accepted").wait_for()
    assert "User verification is required" in status.inner_text()
    assert page.url.endswith("/login/mfa/") and signed_in_sessions(ada) == 0


def test_a_passkey_registered_without_user_verification_is_refused(page, live_server, ada):
    # An authenticator that cannot verify its user at all (a bare security key).
    virtual_authenticator(page, user_verified=False, backed_up=False, can_verify=False)
    password_sign_in(page)

    def without_verification(route):
        response = route.fetch()
        route.fulfill(response=response, body=response.text().replace('"required"', '"discouraged"'))

    def without_verification_nor_resident_key(route):
        response = route.fetch()
        body = response.text().replace('"required"', '"discouraged"').replace('"preferred"', '"discouraged"')
        route.fulfill(response=response, body=body.replace('"requireResidentKey": true', '"requireResidentKey": false'))

    page.route("**/login/mfa/passkey/register/options/", without_verification_nor_resident_key)
    page.goto("/account/security/passkey/")
    page.get_by_test_id("passkey-register").click()
    status = page.locator("[data-passkey-status]")
    status.filter(has_text="was not registered").wait_for()
    assert "User verification is required" in status.inner_text()
    assert not Authenticator.objects.filter(user=ada).exists()


def test_a_member_of_a_strict_agency_enrols_a_passkey_before_anything_else(page, live_server, ada, screenshot):
    agency = ada.memberships.get().agency
    agency.phishing_resistant_required = True
    agency.save()
    virtual_authenticator(page)

    password_sign_in(page, lands_on="**/login/mfa/enrol/")
    assert signed_in_sessions(ada) == 0
    assert page.get_by_text("authenticator app").count() == 0  # passkeys only there
    screenshot(page, "mfa-enrol")
    page.get_by_test_id("passkey-register").click()
    page.wait_for_url("**/account/security/recovery-codes/")

    assert signed_in_sessions(ada) == 1
    assert Authenticator.objects.get(user=ada).kind == "passkey"


def test_fresh_authentication_with_the_passkey(page, live_server, ada, screenshot):
    from django.conf import settings

    from qgov.identity.reauth import AUTH_TIME_KEY

    virtual_authenticator(page)
    password_sign_in(page)
    register_passkey(page)
    for session in Session.objects.all():  # the sign-in is no longer recent
        data = session.get_decoded()
        data[AUTH_TIME_KEY] -= settings.QGOV_REAUTH_SECONDS + 1
        Session.objects.filter(pk=session.pk).update(session_data=Session.objects.encode(data))

    page.goto("/account/security/passkey/")
    page.wait_for_url("**/account/confirm/?next=%2Faccount%2Fsecurity%2Fpasskey%2F")
    screenshot(page, "mfa-confirm")
    page.get_by_test_id("passkey-sign-in").click()
    page.wait_for_url(f"{live_server.url}/account/security/passkey/")
    assert page.get_by_test_id("passkey-register").is_visible()
