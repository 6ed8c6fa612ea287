"""Sign in through the real login page in a real browser and land on the agency's dashboard;
five wrong passwords lock the account."""

import pytest

from qgov.choices import RoleChoices
from qgov.models import Agency
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# The dashboard, each installed domain app's section, then the audit trail and agency admin.
NAVIGATION = ["Dashboard", "Due soon", "Risks", "Certification", "Procurement", "Incidents", "Reports", "Audit",
              "Agency admin"]


@pytest.fixture
def admin_user():
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    user = UserFactory(username="ada", first_name="Ada", last_name="Admin")
    MembershipFactory(agency=agency, user=user, role=RoleChoices.ADMIN)
    return user


def sign_in(page, username, password):
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")


def test_sign_in_lands_on_the_agency_dashboard(page, admin_user, screenshot, live_server):
    sign_in(page, "ada", TEST_PASSWORD)

    assert page.url == f"{live_server.url}/"
    assert page.title() == "Dashboard · qgov"
    assert page.locator("h1").inner_text() == "Dashboard"
    working_in = page.locator("main p.text-muted").first
    assert working_in.inner_text() == "Working in Department of Quantum Networks · role: admin"
    agency_link = page.get_by_role("link", name="DQN", exact=True)
    assert agency_link.get_attribute("href") == f"/agencies/{Agency.objects.get(code='DQN').pk}/"
    assert page.locator("#mainnav .navbar-nav .nav-item").all_inner_texts() == NAVIGATION
    assert page.locator("#mainnav .navbar-nav a.nav-link").all_inner_texts() == NAVIGATION
    assert page.get_by_role("link", name="Audit", exact=True).get_attribute("href") == "/audit/"
    assert page.get_by_role("link", name="Agency admin", exact=True).get_attribute("href") == "/agency/"
    # Bootstrap arrived from our own static files and styles the page.
    navbar_display = page.locator("nav.navbar").evaluate("element => getComputedStyle(element).display")
    assert navbar_display == "flex"
    assert page.evaluate("() => typeof window.bootstrap") == "object"
    assert page.failed_responses == []

    path = screenshot(page, "dashboard")
    assert path.stat().st_size > 10_000


def test_five_wrong_passwords_lock_the_account(page, admin_user, screenshot):
    for attempt in range(1, 5):
        sign_in(page, "ada", f"not-the-password-{attempt}")
        assert page.locator(".alert-danger").inner_text() == (
            "Please enter a correct username and password. Note that both fields may be case-sensitive."
        )

    sign_in(page, "ada", "not-the-password-5")

    assert page.title() == "Account locked · qgov"
    assert page.locator("h1").inner_text() == "Too many failed sign-in attempts"
    screenshot(page, "locked_out")

    sign_in(page, "ada", TEST_PASSWORD)

    assert page.title() == "Account locked · qgov"
    assert page.locator("h1").inner_text() == "Too many failed sign-in attempts"
