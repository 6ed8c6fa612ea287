"""A policy officer records a risk, rates it, finds it in the heat map and asks to accept it;
a second admin approves. In a real browser, with screenshots."""

import datetime

import pytest
from django.utils import timezone

from qgov.choices import RoleChoices
from risks.models import Risk, RiskAcceptance
from risks.services import risk_matrix_ensure
from tests.e2e.test_everyday_multiselect import choose
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory
from tests.risks.factories import ThreatVectorFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def register():
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    risk_matrix_ensure(agency)
    for role, username in ((RoleChoices.EDITOR, "ed"), (RoleChoices.ADMIN, "ada")):
        MembershipFactory(agency=agency, role=role, user=UserFactory(username=username))
    return {"blinding": ThreatVectorFactory(code="QIM-01", title="Detector blinding",
                                            category="qkd_implementation")}


def test_create_rate_find_in_heat_map_and_accept(page, register, screenshot, live_server):
    sign_in(page, "ed", TEST_PASSWORD)
    page.goto("/risks/register/add/")
    page.get_by_label("Title").fill("Detector blinding on the Capital–Northgate link")
    choose(page, "id_threat_vectors", "Detector blinding")
    page.get_by_label("Inherent likelihood").select_option("4")
    page.get_by_label("Inherent impact").select_option("5")
    page.get_by_label("Residual likelihood").select_option("2")
    page.get_by_label("Residual impact").select_option("3")
    page.get_by_role("button", name="Save").click()

    risk = Risk.objects.get()
    assert page.url == f"{live_server.url}{risk.get_absolute_url()}"
    assert page.locator("h1").inner_text() == "R-0001 Detector blinding on the Capital–Northgate link Draft"
    page.get_by_role("link", name="Mark assessed").click()
    page.get_by_role("button", name="Mark assessed").click()
    assert page.locator("h1 .badge").inner_text() == "Assessed"
    ratings = page.locator("section.card table").first
    assert ratings.locator("tr", has_text="Inherent").locator(".badge").inner_text() == "Critical (20)"
    assert ratings.locator("tr", has_text="Residual").locator(".badge").inner_text() == "Medium (6)"

    page.goto("/risks/register/")
    page.get_by_role("tab", name="Inherent").click()  # the current map is shown first
    cell = page.get_by_role("link", name="1 risks at likelihood 4, impact 5 (Critical)")
    cell.focus()  # keyboard users reach cells too
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/risks/register/?inherent_likelihood=4&inherent_impact=5")
    assert page.locator("table.table tbody tr").all_inner_texts()[0].startswith("R-0001")
    screenshot(page, "risk_heatmap")

    page.goto(risk.get_absolute_url())
    page.get_by_role("link", name="Request acceptance").click()
    until = timezone.localdate() + datetime.timedelta(days=90)
    page.get_by_label("Rationale").fill("Isolators fitted; exploitation needs access to the transmitter room.")
    page.get_by_label("Valid until").fill(until.isoformat())
    page.get_by_role("button", name="Save").click()
    acceptance = RiskAcceptance.objects.get()
    assert acceptance.requested_by.username == "ed"
    assert page.get_by_role("link", name="Approve").count() == 0  # editors do not approve

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "ada", TEST_PASSWORD)
    page.goto(acceptance.get_absolute_url())
    page.get_by_role("link", name="Approve").click()
    page.get_by_label("Reason").fill("Compensating controls verified on site.")
    screenshot(page, "acceptance_confirm")
    page.get_by_role("button", name="Approve").click()
    acceptance.refresh_from_db()
    assert page.locator(".alert-success").inner_text() == f"“{acceptance}” is now approved."
    page.goto(risk.get_absolute_url())
    assert page.locator("tr", has_text="Status").first.locator("td").inner_text() == "Accepted"
    assert page.locator("h1 .badge").inner_text() == "Accepted"
    screenshot(page, "risk_accepted")
    assert page.failed_responses == []
    risk.refresh_from_db()
    assert (risk.status, risk.treatment) == ("accepted", "accept")
