"""Sign-in through the agency's provider in headless Chromium: the login page's "Sign in with your
agency" box, the provider's (panva oidc-provider's development) login and consent screens, back on the
dashboard; and the refusal page of a person whose groups give no access. The provider is started by the
fixture (tests/integration/oidc_provider.py)."""

import pytest

from qgov.models import ExternalIdentity, Membership
from tests.integration.oidc_provider import register, run_openid_provider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def openid_provider(live_server, tmp_path_factory):
    yield from run_openid_provider(live_server, tmp_path_factory)


@pytest.fixture
def dqn(openid_provider, settings):
    settings.QGOV_OIDC_ALLOW_HTTP_LOOPBACK = True
    return register(openid_provider, "DQN", "Department of Quantum Networks", email_domains=["dqn.example.gov"])


def through_the_provider(page, screenshot, email, login, name):
    page.goto("/login/")
    page.get_by_label("Work e-mail address or agency code").fill(email)
    screenshot(page, f"oidc-{name}-1-login-page")
    page.get_by_role("button", name="Continue to your agency's sign-in").click()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    screenshot(page, f"oidc-{name}-2-provider-login")
    page.get_by_role("button", name="Sign-in").click()
    page.get_by_role("button", name="Continue").click()  # the provider's consent screen
    page.wait_for_load_state("load")


def test_sign_in_with_the_agency_provider_from_the_login_page(page, openid_provider, dqn, screenshot, live_server):
    openid_provider.set_account("erin", email="erin@dqn.example.gov", given_name="Erin", family_name="Evans",
                                groups=["qkd-editors"])

    through_the_provider(page, screenshot, "erin@dqn.example.gov", "erin", "signed-in")
    screenshot(page, "oidc-signed-in-3-dashboard")

    assert page.url == f"{live_server.url}/"
    assert page.locator("h1").inner_text() == "Dashboard"
    user = ExternalIdentity.objects.get(provider=dqn, subject="erin").user
    assert Membership.objects.get(user=user).role == "editor"


def test_a_person_without_a_mapped_group_sees_why_and_what_to_do(page, openid_provider, dqn, screenshot,
                                                                 live_server):
    openid_provider.set_account("frank", email="frank@dqn.example.gov", groups=["catering"])

    through_the_provider(page, screenshot, "frank@dqn.example.gov", "frank", "refused")
    screenshot(page, "oidc-refused-3-refusal-page")

    assert page.url.startswith(f"{live_server.url}/login/sso/DQN/callback/")
    assert page.locator("h1").inner_text() == "You are not signed in"
    assert page.get_by_role("alert").inner_text() == (
        "You signed in at DQN login, but none of your groups there gives access to qgov. Ask your agency's "
        "qgov administrator.")
    assert page.get_by_role("link", name="Back to sign-in").is_visible()
    assert ExternalIdentity.objects.count() == 0
