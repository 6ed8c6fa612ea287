"""'Your sessions' in a real browser: signed in from two browsers, the first lists both, marks
itself, and ends the other, which is signed out at its next page."""

import pytest

from qgov.choices import RoleChoices
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"


@pytest.fixture
def admin_user():
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    user = UserFactory(username="ada", first_name="Ada", last_name="Admin")
    MembershipFactory(agency=agency, user=user, role=RoleChoices.ADMIN)
    return user


def sign_in(page):
    page.goto("/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


def test_sessions_page_lists_both_browsers_and_ends_the_other(page, browser, live_server, admin_user, screenshot):
    phone_context = browser.new_context(base_url=live_server.url, user_agent=PHONE)
    phone = phone_context.new_page()
    try:
        sign_in(phone)
        sign_in(page)

        page.get_by_role("link", name="Ada Admin", exact=True).click()  # the header's account link: full name
        page.wait_for_url("**/account/security/")
        page.get_by_role("link", name="Your sessions").click()
        page.wait_for_url("**/account/sessions/")
        assert page.locator("h1").inner_text() == "Your sessions"
        assert page.locator("main p.text-muted").inner_text() == (
            "Where you are signed in. A session ends after 1 hour without activity and 12 hours after signing in; "
            "end any you do not recognise. Account security")
        rows = page.locator("[data-testid=sessions] tbody tr")
        assert rows.count() == 2
        current = page.locator("[data-testid=sessions] tbody tr[aria-current=true]")
        assert current.locator(".badge").inner_text() == "This browser"
        assert current.get_by_role("button").inner_text() == "Sign out here"
        other = rows.filter(has_text="iPhone")
        assert other.locator("td").nth(2).inner_text() == "127.0.0.1"
        path = screenshot(page, "sessions-page")
        assert path.stat().st_size > 10_000

        other.get_by_role("button", name="End session").click()
        page.wait_for_load_state("load")

        assert page.locator(".alert-success").inner_text() == (
            "That session has ended: the browser it was in is signed out.")
        assert page.locator("[data-testid=sessions] tbody tr").count() == 1
        phone.goto("/")
        assert phone.url == f"{live_server.url}/login/?next=/"
        assert page.failed_responses == []
    finally:
        phone_context.close()
