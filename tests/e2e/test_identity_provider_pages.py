"""An agency admin registers the agency's identity provider in headless Chromium: a mapping to admin
and an http issuer are shown as form errors, the corrected form saves, the provider's page shows the
mappings and the redirect URI to register, and the client secret appears nowhere."""

import pytest

from qgov.choices import RoleChoices
from qgov.models import IdentityProvider
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SECRET = "client-secret-typed-once"


def test_an_admin_registers_the_agencys_provider(page, screenshot):
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    MembershipFactory(agency=agency, role=RoleChoices.ADMIN, user=UserFactory(username="ada"))
    sign_in(page, "ada", TEST_PASSWORD)

    page.goto(f"/agencies/{agency.pk}/")
    page.get_by_role("link", name="Identity providers").click()
    page.get_by_role("link", name="Add").first.click()
    page.get_by_label("Name").fill("Entra ID")
    page.get_by_label("Issuer").fill("http://login.dqn.example.gov")
    page.get_by_label("Client ID").fill("qgov-prod")
    page.get_by_label("Client secret").fill(SECRET)
    page.get_by_label("Role mappings").fill("qkd-editors = editor\nqgov-admins = admin")
    page.get_by_role("button", name="Save").click()

    assert page.get_by_text("a provider never grants the admin role").is_visible()
    assert page.get_by_text("The issuer must be an https:// URL").is_visible()
    screenshot(page, "identity-provider-form-errors")
    assert SECRET not in page.content() and not IdentityProvider.objects.exists()

    page.get_by_label("Issuer").fill("https://login.dqn.example.gov/tenant")
    page.get_by_label("Client secret").fill(SECRET)  # a password field is not filled in again
    page.get_by_label("Role mappings").fill("qkd-editors = editor\nqkd-staff = viewer")
    page.get_by_role("button", name="Save").click()

    page.get_by_test_id("redirect-uri").wait_for()
    assert page.get_by_test_id("redirect-uri").inner_text().endswith("/login/sso/DQN/callback/")
    assert page.get_by_role("cell", name="qkd-editors").is_visible()
    screenshot(page, "identity-provider-detail")
    assert SECRET not in page.content() and page.failed_responses == []
    assert IdentityProvider.objects.get().client_secret == SECRET
