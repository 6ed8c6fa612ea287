"""The supplier portal end to end, in Chromium: a reviewer sends a due-diligence questionnaire from
the send form; the supplier's contact opens the one-time link in a browser of their own without an
account, answers, saves, comes back and finds the answers kept, uploads evidence and submits once;
the reviewer finds the review answered, submits it and reads the score. With screenshots."""

import re

import pytest
from django.core import mail
from django.core.cache import cache

from procurement.models import DueDiligenceReview, PortalLink
from qgov.choices import RoleChoices
from qgov.models import AuditEvent, EvidenceFile
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory
from tests.procurement.factories import DueDiligenceReviewFactory, QuestionnaireFactory, SupplierFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EVIDENCE_PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
QUESTIONS = [
    {"code": "Q1", "weight": 40, "text": "Who ultimately owns the company, and does any foreign government own, "
                                         "control or influence it?",
     "guidance": "Ownership register extract, group structure chart."},
    {"code": "Q2", "weight": 35, "text": "How is firmware signed, and who holds the signing keys?",
     "guidance": "Signing procedure, key custody records."},
    {"code": "Q3", "weight": 25, "text": "Which independent laboratory tested the implementation?",
     "guidance": "Test reports."},
]


@pytest.fixture
def draft_review():
    cache.clear()  # rate-limit counters of earlier tests
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    reviewer = UserFactory(username="rita")
    MembershipFactory(agency=agency, role=RoleChoices.EDITOR, user=reviewer)
    supplier = SupplierFactory(agency=agency, name="Photonica AG", criticality="high", contact_name="Dana Vogt",
                               contact_email="dana@photonica.example")
    SupplierFactory(agency=agency, name="Secret Other Supplier Ltd")
    questionnaire = QuestionnaireFactory(code="QKD-E2E-1", title="Quantum supplier due diligence",
                                         questions=QUESTIONS, escalation={})
    return DueDiligenceReviewFactory(agency=agency, supplier=supplier, questionnaire=questionnaire,
                                     reviewer=reviewer)


def test_send_answer_without_an_account_submit_and_score(page, browser, live_server, draft_review, screenshot,
                                                          settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    review = draft_review

    # The reviewer sends the questionnaire from the send form.
    sign_in(page, "rita", TEST_PASSWORD)
    page.goto(f"/procurement/reviews/{review.pk}/send/")
    card = page.get_by_test_id("review-send-card")
    assert card.get_by_label("Contact e-mail").input_value() == "dana@photonica.example"
    card.get_by_label("Days").fill("21")
    card.get_by_role("button", name="Send to supplier").click()
    sent = page.get_by_test_id("portal-link-sent")
    sent.wait_for()
    portal_url = page.get_by_test_id("portal-url").input_value()
    assert re.fullmatch(rf"{re.escape(live_server.url)}/portal/[0-9]+\.[A-Za-z0-9_-]{{22}}\.[A-Za-z0-9_-]{{43}}/",
                        portal_url)
    assert page.get_by_test_id("review-status").inner_text() == "Sent to supplier"
    screenshot(page, "procurement-portal-1-sent")
    [message] = mail.outbox
    assert portal_url in message.body and "Department of Quantum Networks" in message.subject

    # The contact, in a browser of their own, without an account.
    supplier_context = browser.new_context(viewport={"width": 1100, "height": 900})
    portal = supplier_context.new_page()
    portal.set_default_timeout(15_000)
    try:
        portal.goto(portal_url)
        assert portal.get_by_test_id("portal-agency").inner_text() == "Department of Quantum Networks"
        assert portal.get_by_test_id("portal-supplier").inner_text() == "Photonica AG"
        assert portal.get_by_test_id("portal-progress").inner_text() == "0 of 3 answered"
        content = portal.content()
        assert "Secret Other Supplier Ltd" not in content and "rita" not in content
        assert portal.locator("nav").count() == 0 and portal.locator("a").count() == 0
        screenshot(portal, "procurement-portal-2-questionnaire")

        q1 = portal.get_by_test_id("question-Q1")
        q1.get_by_label("Evidenced").check()
        q1.get_by_label("Comment").fill("Ownership register extract of March 2026 attached.")
        q1.get_by_label("Add evidence files").set_input_files({
            "name": "ownership-register.pdf", "mimeType": "application/pdf", "buffer": EVIDENCE_PDF})
        q2 = portal.get_by_test_id("question-Q2")
        q2.get_by_label("Partial").check()
        q2.get_by_label("Comment").fill("Keys held in an HSM at the factory; procedure being written.")
        portal.get_by_role("button", name="Save and continue later").click()
        portal.get_by_text("Your answers are saved").wait_for()

        # Come back later: the answers and the file are kept.
        portal.reload()
        assert portal.get_by_test_id("portal-progress").inner_text() == "2 of 3 answered"
        assert portal.get_by_test_id("question-Q1").get_by_label("Evidenced").is_checked()
        assert portal.get_by_test_id("question-Q2").get_by_label("Partial").is_checked()
        assert "Keys held in an HSM" in portal.get_by_test_id("question-Q2").get_by_label("Comment").input_value()
        assert "ownership-register.pdf" in portal.get_by_test_id("files-Q1").inner_text()
        screenshot(portal, "procurement-portal-3-saved")
        portal.set_viewport_size({"width": 390, "height": 844})  # a phone: nothing wider than the screen
        assert portal.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(portal, "procurement-portal-3-saved-phone")
        portal.set_viewport_size({"width": 1100, "height": 900})

        portal.get_by_test_id("question-Q3").get_by_label("Evidenced").check()
        portal.get_by_label("I confirm these answers are complete").check()
        portal.get_by_role("button", name="Submit answers").click()
        portal.get_by_test_id("portal-submitted").wait_for()
        screenshot(portal, "procurement-portal-4-submitted")

        # Once only: the link now says so.
        response = portal.goto(portal_url)
        assert response.status == 410
        assert portal.get_by_test_id("portal-refused").inner_text() == "Already submitted"
        screenshot(portal, "procurement-portal-5-used")
    finally:
        supplier_context.close()

    review.refresh_from_db()
    assert review.status == "answered"
    assert PortalLink.objects.get().status == "submitted"
    evidence = EvidenceFile.objects.get()
    assert evidence.file_name == "ownership-register.pdf" and evidence.uploader_name.startswith("Dana Vogt")
    assert AuditEvent.objects.filter(source="portal", actor_repr__startswith="Dana Vogt").exists()

    # The reviewer finds the review answered and submits it: the score is shown.
    page.goto(f"/procurement/reviews/{review.pk}/")
    assert "Answered" in page.locator("h1").inner_text()
    page.get_by_role("link", name="Submit", exact=True).click()
    page.get_by_role("button", name="Submit").click()
    page.wait_for_load_state("load")
    review.refresh_from_db()
    assert review.status == "submitted"
    assert str(review.score) == "82.5"  # (40 × 2 + 35 × 1 + 25 × 2) / 2
    assert "82.5" in page.locator("main").inner_text()
    screenshot(page, "procurement-portal-6-scored")
    assert DueDiligenceReview.objects.get(pk=review.pk).outcome == "approve"
