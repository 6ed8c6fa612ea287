"""An agency admin registers a QKD transmitter, certifies it under the scheme the agency requires,
confirms the certificate, sees the device compliant; revokes the certificate and finds the device
non-compliant on the compliance dashboard, with the reason and its dependent link flagged. In a
real browser, with screenshots."""

import datetime
import hashlib

import pytest
from django.utils import timezone

from certification.models import Device, DeviceCertification
from qgov.choices import RoleChoices
from qgov.models import EvidenceFile
from risks.services import risk_matrix_ensure
from tests.certification.factories import RequiredSchemeFactory, SchemeFactory
from tests.e2e.test_everyday_multiselect import choose
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory
from tests.risks.factories import AssetFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CERTIFICATE_PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


@pytest.fixture
def agency_that_requires_cc():
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    risk_matrix_ensure(agency)  # as every agency has: the risk form rates on it
    MembershipFactory(agency=agency, role=RoleChoices.ADMIN, user=UserFactory(username="ada"))
    scheme = SchemeFactory(code="BSI-CC", name="BSI Common Criteria (QKD protection profile)")
    RequiredSchemeFactory(agency=agency, scheme=scheme, min_level="EAL4", device_kind="qkd_transmitter")
    return {"agency": agency, "scheme": scheme,
            "link": AssetFactory(agency=agency, name="Capital–Northgate QKD link", asset_type="qkd_link")}


def test_register_certify_revoke_and_see_it_non_compliant(page, agency_that_requires_cc, screenshot, live_server,
                                                          settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    scheme, link = agency_that_requires_cc["scheme"], agency_that_requires_cc["link"]
    sign_in(page, "ada", TEST_PASSWORD)

    page.goto("/certification/devices/add/")
    page.get_by_label("Name").fill("Capital QKD transmitter A")
    page.get_by_label("Kind").select_option("qkd_transmitter")
    page.get_by_label("Vendor").fill("Photonica")
    page.locator("#id_model").fill("QX-100")
    page.get_by_label("Serial number").fill("PX-000123")
    page.get_by_label("Firmware version").fill("2.1.0")
    page.get_by_label("Firmware hash").fill("ab" * 32)
    choose(page, "id_assets", link.name)
    page.get_by_role("button", name="Save").click()
    device = Device.objects.get()
    assert page.url == f"{live_server.url}{device.get_absolute_url()}"
    assert page.get_by_test_id("compliance").inner_text() == "Non-compliant"
    assert "No certificate under BSI-CC" in page.locator("#compliance-reasons").inner_text()

    page.get_by_role("link", name="Add certification").click()
    assert page.get_by_label("Device").input_value() == str(device.pk)
    page.get_by_label("Scheme").select_option(str(scheme.pk))
    level = page.get_by_label("Level")
    # The level select offers the chosen scheme's levels only (levels.js), lowest first.
    assert level.locator("option").all_inner_texts()[:3] == ["—", "EAL1", "EAL2"]
    level.select_option("EAL4+")
    page.get_by_label("Certificate id").fill("BSI-DSZ-CC-1234-2026")
    page.get_by_label("Firmware version covered").fill("2.1.0")
    page.get_by_label("Issued").fill((timezone.localdate() - datetime.timedelta(days=30)).isoformat())
    page.get_by_label("Expires").fill((timezone.localdate() + datetime.timedelta(days=3 * 365)).isoformat())
    page.get_by_role("button", name="Save").click()
    certification = DeviceCertification.objects.get()
    assert page.url == f"{live_server.url}{certification.get_absolute_url()}"
    assert page.locator("h1 .badge").inner_text() == "Pending"

    # The certificate itself goes on the record as evidence, hashed at upload.
    card = page.get_by_test_id("evidence-card")
    card.get_by_label("File").set_input_files({"name": "BSI-DSZ-CC-1234-2026.pdf", "mimeType": "application/pdf",
                                               "buffer": CERTIFICATE_PDF})
    card.get_by_label("Description").fill("Certificate as issued by BSI")
    card.get_by_role("button", name="Upload").click()
    sha256 = hashlib.sha256(CERTIFICATE_PDF).hexdigest()
    assert page.get_by_role("alert").first.inner_text().strip() == (
        f"Added “BSI-DSZ-CC-1234-2026.pdf” (SHA-256 {sha256}).")
    evidence = EvidenceFile.objects.get()
    assert (evidence.record, evidence.sha256, evidence.size) == (certification, sha256, len(CERTIFICATE_PDF))
    screenshot(page, "certification_evidence")

    page.get_by_role("link", name="Confirm valid").click()
    page.get_by_role("button", name="Confirm valid").click()
    assert page.locator("h1 .badge").inner_text() == "Valid"
    page.goto(device.get_absolute_url())
    assert page.get_by_test_id("compliance").inner_text() == "Compliant"
    assert "Met by BSI-CC EAL4+ (BSI-DSZ-CC-1234-2026)." in page.locator("#compliance-reasons").inner_text()
    screenshot(page, "certification_device_compliant")

    page.goto(certification.get_absolute_url())
    page.get_by_role("link", name="Revoke").click()
    page.get_by_label("Reason").fill("The vendor's evaluated configuration was withdrawn by the certification body.")
    screenshot(page, "certification_revoke_confirm")
    page.get_by_role("button", name="Revoke").click()
    assert page.locator("h1 .badge").inner_text() == "Revoked"
    assert "This certificate is revoked" in page.get_by_test_id("assets-flagged").inner_text()

    page.goto(device.get_absolute_url())
    banner = page.get_by_test_id("assets-flagged")
    assert "Capital–Northgate QKD link" in banner.inner_text()
    assert page.get_by_test_id("compliance").inner_text() == "Non-compliant"
    screenshot(page, "certification_device_revoked")

    page.goto("/certification/compliance/")
    assert page.locator('[data-compliance="non_compliant"]').first.inner_text().split()[0] == "1"
    devices = page.locator("section", has=page.get_by_role("heading", name="Non-compliant devices"))
    text = devices.inner_text()
    assert "Capital QKD transmitter A" in text
    assert "BSI-CC EAL4+ (BSI-DSZ-CC-1234-2026) is revoked." in text
    screenshot(page, "certification_compliance_dashboard")

    page.goto(device.get_absolute_url())
    page.get_by_role("link", name="Open a register risk").click()
    assert page.get_by_label("Title").input_value() == (
        "Capital QKD transmitter A: BSI-CC certificate BSI-DSZ-CC-1234-2026 revoked")
    assert page.locator("select#id_assets").evaluate("s => [...s.selectedOptions].map(o => o.text)") == [
        "Capital–Northgate QKD link"]
    screenshot(page, "certification_risk_prefilled")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(device.get_absolute_url())
    screenshot(page, "certification_device_narrow")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto("/certification/compliance/")
    screenshot(page, "certification_compliance_narrow")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.failed_responses == []
