"""The register on a 390 × 844 phone screen: nothing wider than the screen, results in the first
screen, filters and heat maps one tap away, the heat map whole."""

import pytest
from playwright.sync_api import expect

from qgov.choices import RoleChoices
from risks.services import risk_matrix_ensure
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory
from tests.risks.factories import RiskFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def page_width(page):
    return page.evaluate("document.scrollingElement.scrollWidth")


def test_register_fits_a_phone(browser, live_server, screenshot):
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    risk_matrix_ensure(agency)
    MembershipFactory(agency=agency, role=RoleChoices.EDITOR, user=UserFactory(username="ed"))
    for n in range(12):
        RiskFactory(agency=agency, title=f"Harvested archive number {n} of the tax administration",
                    inherent_likelihood=1 + n % 5, inherent_impact=5, residual_likelihood=1, residual_impact=5)
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, "ed", TEST_PASSWORD)
        page.goto("/risks/register/")
        screenshot(page, "everyday_phone_register")
        assert page_width(page) <= PHONE["width"]
        first_row = page.locator("table.table tbody tr").first.bounding_box()
        assert first_row["y"] + first_row["height"] <= PHONE["height"], first_row  # results in the first screen
        filters = page.locator("#list-filters")
        expect(filters).to_be_hidden()

        page.get_by_role("button", name="Filters").click()
        expect(filters).to_be_visible()
        expect(page.get_by_label("Search")).to_be_visible()
        assert page_width(page) <= PHONE["width"]

        page.get_by_role("button", name="Heat maps").click()
        heatmap = page.locator("#heatmaps svg.qgov-heatmap >> visible=true").first  # one map, or the shown tab
        expect(heatmap).to_be_visible()
        heatmap.scroll_into_view_if_needed()
        rights = heatmap.locator("rect").evaluate_all("rs => rs.map(r => r.getBoundingClientRect().right)")
        assert 0 < max(rights) <= PHONE["width"]  # the last impact column ("Severe") is on screen
        severe = heatmap.locator("text", has_text="Severe").bounding_box()
        assert severe["x"] + severe["width"] <= PHONE["width"]
        assert page_width(page) <= PHONE["width"]
        table_box = page.locator(".table-responsive").first.bounding_box()
        assert table_box["x"] + table_box["width"] <= PHONE["width"]  # the table scrolls inside its box
        screenshot(page, "everyday_phone_register_open")
    finally:
        context.close()
