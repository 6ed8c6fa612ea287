"""SAML 2.0 sign-in in headless Chromium: the login page's "Sign in with your agency" box, pysaml2's IdP
(tests/integration/saml_provider.py, no login page of its own: it answers with a form that posts itself), back
on the dashboard; and the refusal page of a person whose groups give no access. The IdP listens on
127.0.0.1 and the live server on localhost, two sites: its form's POST to the assertion consumer service is
cross-site, so the browser leaves the SameSite=Lax session cookie off it, and only qgov's 303 to a GET of
itself brings the session (and with it the request the answer is for) back."""

import urllib.request
from urllib.parse import urlsplit

import pytest

from qgov.choices import RoleChoices
from qgov.models import ExternalIdentity, Membership
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, MembershipFactory, UserFactory
from tests.integration.saml_provider import register, run_saml_identity_provider

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="session")
def saml_idp(live_server, tmp_path_factory):
    assert live_server.url.startswith("http://localhost:")  # another site than the IdP's 127.0.0.1
    yield from run_saml_identity_provider(tmp_path_factory)


@pytest.fixture
def dqn(saml_idp, settings, live_server):
    settings.QGOV_OIDC_ALLOW_HTTP_LOOPBACK = True
    provider = register(saml_idp, "DQN", "Department of Quantum Networks", email_domains=["dqn.example.gov"])
    metadata_url = f"{live_server.url}/login/sso/saml/{provider.pk}/metadata/"
    with urllib.request.urlopen(metadata_url, timeout=30) as response:  # noqa: S310 - the live server
        saml_idp.trust(response.read())
    return provider


def through_the_idp(page, screenshot, live_server, email, name):
    """From the login page through the IdP's self-posting form; returns what the browser sent to the ACS."""
    acs_requests = []
    page.on("request", lambda request: acs_requests.append(request) if "/acs/" in request.url else None)
    page.goto("/login/")
    page.get_by_label("Work e-mail address or agency code").fill(email)
    screenshot(page, f"saml-{name}-1-login-page")
    page.get_by_role("button", name="Continue to your agency's sign-in").click()
    # Back from the IdP's site to qgov's, past the login page.
    page.wait_for_url(lambda url: url.startswith(live_server.url) and urlsplit(url).path != "/login/")
    page.wait_for_load_state("load")
    return acs_requests


def assert_cross_site_post_then_get(acs_requests, saml_idp, live_server, provider):
    """The IdP's page posted to the ACS without the session cookie; qgov's 303 sent the browser back with it."""
    acs = f"{live_server.url}/login/sso/saml/{provider.pk}/acs/"
    posted, came_back = acs_requests
    assert (posted.method, posted.url, posted.header_value("origin")) == ("POST", acs, saml_idp.base)
    assert "sessionid" not in (posted.header_value("cookie") or "")
    # …and its answer sets no cookie: a session made for the cookie-less POST would replace the browser's own.
    assert (posted.response().status, posted.response().header_value("set-cookie")) == (303, None)
    assert came_back.method == "GET" and came_back.url.startswith(f"{acs}?posted=")
    assert "sessionid=" in came_back.header_value("cookie")


def test_sign_in_through_the_saml_idp_from_the_login_page(page, saml_idp, dqn, screenshot, live_server):
    saml_idp.set_account("erin-0005", groups=["qkd-editors"], email="erin@dqn.example.gov", givenName="Erin",
                         sn="Evans")

    acs_requests = through_the_idp(page, screenshot, live_server, "erin@dqn.example.gov", "signed-in")
    screenshot(page, "saml-signed-in-2-dashboard")

    assert page.url == f"{live_server.url}/"
    assert page.locator("h1").inner_text() == "Dashboard"
    assert_cross_site_post_then_get(acs_requests, saml_idp, live_server, dqn)
    assert saml_idp.requests()[-1]["acs"] == f"{live_server.url}/login/sso/saml/{dqn.pk}/acs/"
    user = ExternalIdentity.objects.get(provider=dqn, subject="erin-0005").user
    assert user.email == "erin@dqn.example.gov"
    assert list(Membership.objects.values_list("user", "agency", "role", "source")) == [
        (user.pk, dqn.agency_id, "editor", "provider")]
    assert page.failed_responses == []


def test_a_person_without_a_mapped_group_sees_why_and_what_to_do(page, saml_idp, dqn, screenshot, live_server):
    saml_idp.set_account("frank-0006", groups=["catering"], email="frank@dqn.example.gov")

    acs_requests = through_the_idp(page, screenshot, live_server, "frank@dqn.example.gov", "refused")
    screenshot(page, "saml-refused-2-refusal-page")

    assert page.url.startswith(f"{live_server.url}/login/sso/saml/{dqn.pk}/acs/?posted=")
    assert_cross_site_post_then_get(acs_requests, saml_idp, live_server, dqn)
    assert page.locator("h1").inner_text() == "You are not signed in"
    assert page.get_by_role("alert").inner_text() == (
        "You signed in at DQN SAML, but none of your groups there gives access to qgov. Ask your agency's "
        "qgov administrator.")
    assert page.get_by_role("link", name="Back to sign-in").is_visible()
    assert (ExternalIdentity.objects.count(), Membership.objects.count()) == (0, 0)


def test_the_agency_admin_sees_what_to_register_at_the_idp(page, saml_idp, dqn, screenshot, live_server):
    MembershipFactory(agency=dqn.agency, role=RoleChoices.ADMIN, user=UserFactory(username="ada"))
    sign_in(page, "ada", TEST_PASSWORD)

    page.goto(dqn.get_absolute_url())
    screenshot(page, "saml-provider-detail")

    assert page.get_by_test_id("saml-metadata").inner_text() == (
        f"{live_server.url}/login/sso/saml/{dqn.pk}/metadata/")
    assert page.get_by_test_id("saml-acs").inner_text() == f"{live_server.url}/login/sso/saml/{dqn.pk}/acs/"
    assert page.failed_responses == []
