"""The agency's reviewer rates a critical supplier: starts a due-diligence review from the supplier's
page, answers the questionnaire on the review page (the running score and the escalation follow),
completes and submits it, and approves the supplier — in a real browser, with screenshots."""

import pytest

from procurement import catalog
from procurement.models import DueDiligenceReview, Supplier
from qgov.choices import RoleChoices
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory
from tests.procurement.factories import ContractFactory, CryptoComponentFactory, SupplierFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def critical_supplier():
    catalog.load()
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    MembershipFactory(agency=agency, role=RoleChoices.ADMIN, user=UserFactory(username="ada"))
    supplier = SupplierFactory(agency=agency, name="Photonica AG", criticality="critical", country="CH")
    CryptoComponentFactory(agency=agency, supplier=supplier, name="RSA-2048 firmware signing key",
                           quantum_vulnerable=True)
    ContractFactory(agency=agency, supplier=supplier, reference="CT-2026-001", title="Metro QKD links")
    return supplier


def test_review_a_critical_supplier_and_approve_it(page, critical_supplier, screenshot, live_server):
    sign_in(page, "ada", TEST_PASSWORD)
    page.goto(critical_supplier.get_absolute_url())
    assert page.get_by_test_id("vulnerable-count").inner_text() == "1 component"
    assert "Not yet rated" in page.get_by_test_id("rating").inner_text()
    screenshot(page, "procurement-supplier-before")

    page.get_by_role("button", name="Start due-diligence review").click()
    review = DueDiligenceReview.objects.get()
    assert page.url == f"{live_server.url}{review.get_absolute_url()}"
    assert page.get_by_test_id("progress").inner_text() == "0 of 18 answered"
    assert page.get_by_test_id("outcome").inner_text() == "Escalate"

    for n in range(1, 19):
        page.locator(f"#answer-Q{n}").get_by_label("Evidenced").check()
    page.locator("#answer-Q6").get_by_label("Unknown").check()
    page.get_by_label("Comment on Q6").fill("No signing procedure supplied yet.")
    page.get_by_role("button", name="Save answers").click()
    assert page.get_by_test_id("progress").inner_text() == "17 of 18 answered"
    assert page.get_by_test_id("score").inner_text() == "93.0"
    assert "Q6 unknown for a critical supplier" in page.get_by_test_id("escalation").inner_text()
    screenshot(page, "procurement-review-escalated")

    page.locator("#answer-Q6").get_by_label("Partial").check()
    page.get_by_role("button", name="Save answers").click()
    assert page.get_by_test_id("score").inner_text() == "96.5"
    assert page.get_by_test_id("outcome").inner_text() == "Approve"
    assert page.get_by_test_id("escalation").count() == 0

    page.get_by_role("link", name="Mark answered").click()
    page.get_by_role("button", name="Mark answered").click()
    page.get_by_role("link", name="Submit").click()
    page.get_by_role("button", name="Submit").click()
    assert "can no longer change" in page.content()
    assert page.get_by_role("button", name="Save answers").count() == 0
    screenshot(page, "procurement-review-submitted")

    page.get_by_role("link", name="Photonica AG").first.click()
    assert page.get_by_test_id("rating").inner_text().startswith("96.5 · Approve")
    page.get_by_role("link", name="Approve", exact=True).click()
    page.get_by_role("button", name="Approve", exact=True).click()
    assert Supplier.objects.get().status == "approved"
    screenshot(page, "procurement-supplier-approved")

    page.goto(review.questionnaire.get_absolute_url())
    assert "from 50 to below 75" in page.get_by_test_id("bands").inner_text()
    screenshot(page, "procurement-questionnaire")
    assert not page.failed_responses
