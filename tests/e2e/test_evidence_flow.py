"""An editor attaches a test report to a risk from its page, verifies it, downloads it and hands
it over to a colleague; the custody log shows it all. In a real browser, with screenshots."""

import hashlib

import pytest
from django.db import transaction

from qgov.choices import RoleChoices
from qgov.models import EvidenceFile
from risks.services import risk_matrix_ensure
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory
from tests.risks.factories import RiskFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REPORT = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def test_attach_verify_download_and_hand_over(page, screenshot, live_server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with transaction.atomic():  # a risk takes the next reference under a row lock
        agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
        risk_matrix_ensure(agency)
        MembershipFactory(agency=agency, role=RoleChoices.EDITOR, user=UserFactory(username="ed"))
        MembershipFactory(agency=agency, role=RoleChoices.AUDITOR, user=UserFactory(username="audrey"))
        risk = RiskFactory(agency=agency, title="Detector blinding")
    sign_in(page, "ed", TEST_PASSWORD)

    page.goto(risk.get_absolute_url())
    card = page.get_by_test_id("evidence-card")
    assert card.get_by_text("No evidence files.").is_visible()
    card.get_by_label("File").set_input_files({"name": "pentest.pdf", "mimeType": "application/pdf",
                                               "buffer": REPORT})
    card.get_by_label("Description").fill("Blinding test, lab report")
    card.get_by_role("button", name="Upload").click()
    sha256 = hashlib.sha256(REPORT).hexdigest()
    assert page.get_by_role("alert").first.inner_text().strip() == f"Added “pentest.pdf” (SHA-256 {sha256})."
    row = page.get_by_test_id("evidence-row")
    assert row.count() == 1
    assert row.locator("code").get_attribute("title") == sha256
    screenshot(page, "evidence_card")

    row.get_by_role("button", name="Verify").click()
    assert page.get_by_role("alert").first.inner_text().strip() == (
        f"Match: the stored file has the SHA-256 recorded at upload. Expected {sha256}, actual {sha256}.")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download").first.click()
    assert download.value.suggested_filename == "pentest.pdf"
    assert download.value.path().read_bytes() == REPORT

    page.get_by_role("link", name="Hand over").click()
    page.get_by_label("Hand over to").select_option(label="audrey")
    page.get_by_label("Reason").fill("Annual audit")
    page.get_by_label("Where").fill("Audit room 3")
    page.get_by_label("Note").fill("For the annual audit")
    page.get_by_role("button", name="Hand over").click()
    assert page.get_by_role("alert").first.inner_text().strip() == "Handed over to audrey."
    log = page.get_by_test_id("custody-log").locator("tbody tr")
    assert [text.split("\t")[:1] + text.split("\t")[2:8] for text in log.all_inner_texts()] == [
        ["1", "Uploaded", "ed", "", "ed", "", ""],
        ["2", "Verified: hash matches\n" + sha256 + "\n", "ed", "", "", "", ""],
        ["3", "Downloaded", "ed", "", "", "", ""],
        ["4", "Handed over", "ed", "ed", "audrey", "Audit room 3", "Annual audit\nFor the annual audit"],
    ]
    assert page.get_by_test_id("chain-check").inner_text().startswith("Intact 4 entries, checked ")
    screenshot(page, "evidence_custody_log")
    assert EvidenceFile.objects.get().custodian.username == "audrey"
    page.set_viewport_size({"width": 390, "height": 844})  # the file page on a phone: no sideways scrolling
    screenshot(page, "evidence_custody_log_narrow")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.failed_responses == []
