"""An editor looks through the agency's contracts in a real browser: the contract list, a contract's
page (supplier, covered devices and assets, interface badges, terms, due dates with days left,
transition buttons), the contracts due list reached from the section navigation, and the dashboard's
procurement panel. With screenshots."""

import datetime

import pytest
from django.utils import timezone

from procurement.models import Contract
from qgov.choices import RoleChoices
from risks.services import risk_matrix_ensure
from tests.certification.factories import DeviceFactory
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory
from tests.procurement.factories import ContractFactory, CryptoComponentFactory, CryptoPolicyFactory, SupplierFactory
from tests.risks.factories import AssetFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def days(n):
    return timezone.localdate() + datetime.timedelta(days=n)


@pytest.fixture
def contracts():
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    risk_matrix_ensure(agency)
    editor = UserFactory(username="eddie")
    MembershipFactory(agency=agency, role=RoleChoices.EDITOR, user=editor)
    CryptoPolicyFactory()
    photonica = SupplierFactory(agency=agency, name="Photonica Quantum AG", country="CH")
    liberty = SupplierFactory(agency=agency, name="Liberty Quantum Networks Inc.", country="US")
    CryptoComponentFactory(agency=agency, supplier=photonica, name="RSA-2048 firmware signing key")
    tx = DeviceFactory(agency=agency, name="QKD-TX-CN-A", kind="qkd_transmitter")
    rx = DeviceFactory(agency=agency, name="QKD-RX-CN-B", kind="qkd_receiver")
    link = AssetFactory(agency=agency, name="QKD link Capital–Northgate", asset_type="qkd_link")
    backbone = ContractFactory(
        agency=agency, supplier=photonica, reference="CT-2023-014", owner=editor,
        title="QKD backbone Capital–Northgate: supply, maintenance and firmware", value=1850000, currency="EUR",
        start=days(-1050), end=days(200), sunset_date=days(45), reevaluation_months=12, next_reevaluation=days(320),
        open_interfaces=["ETSI GS QKD 004", "ETSI GS QKD 014", "ETSI GS QKD 015"],
        multi_vendor_terms="Key delivery over ETSI GS QKD 014 so that a second vendor's modules can join the KMS.",
        escrow_terms="Firmware source deposited with an escrow agent; released on insolvency or end of support.",
        exit_plan="Six months' parallel run with the replacement link; keys re-established over ML-KEM-768.")
    backbone.devices.set([tx, rx])
    backbone.assets.set([link])
    late = ContractFactory(agency=agency, supplier=liberty, reference="CT-2024-007", owner=editor,
                           title="Northgate–Riverside QKD link", start=days(-500), end=days(700), sunset_date=days(400),
                           reevaluation_months=12, next_reevaluation=days(-20), open_interfaces=["ITU-T Y.3800 series"])
    Contract.objects.filter(pk__in=[backbone.pk, late.pk]).update(status="active")
    return {"backbone": backbone, "late": late}


def test_an_editor_reads_contracts_their_due_dates_and_the_panel(page, contracts, screenshot, live_server):
    backbone = contracts["backbone"]
    sign_in(page, "eddie", TEST_PASSWORD)

    page.goto("/procurement/contracts/")
    assert page.get_by_role("link", name="CT-2023-014").is_visible()
    assert page.get_by_role("link", name="CT-2024-007").is_visible()
    screenshot(page, "procurement-contract-list")

    page.get_by_role("link", name="CT-2023-014").click()
    assert page.url == f"{live_server.url}{backbone.get_absolute_url()}"
    badges = page.get_by_test_id("contract-interfaces").locator(".badge").all_inner_texts()
    assert badges == ["ETSI GS QKD 004 (application interface)", "ETSI GS QKD 014 (REST key delivery API)",
                      "ETSI GS QKD 015 (control interface for SDN)"]
    dues = page.get_by_test_id("contract-dues").inner_text()
    assert "Contract sunset" in dues and "45 days left" in dues and "200 days left" in dues
    covered = page.get_by_test_id("contract-covered").inner_text()
    assert "QKD-TX-CN-A" in covered and "QKD link Capital–Northgate" in covered
    assert page.get_by_text("Firmware source deposited with an escrow agent").is_visible()
    # An editor may start a re-evaluation; beginning an exit is for approvers.
    assert page.get_by_role("link", name="Start re-evaluation").is_visible()
    assert page.get_by_role("link", name="Begin exit").count() == 0
    screenshot(page, "procurement-contract-detail")

    page.get_by_role("link", name="Edit").click()
    assert page.get_by_label("ETSI GS QKD 014 (REST key delivery API)").is_checked()
    assert not page.get_by_label("ETSI GS QKD 018 (orchestration interface for SDN)").is_checked()
    screenshot(page, "procurement-contract-edit")
    page.go_back()

    page.get_by_role("link", name="Contracts due").click()
    assert page.url == f"{live_server.url}/procurement/contracts/due/"
    rows = page.get_by_test_id("contracts-due").locator("tbody tr")
    assert rows.count() == 2
    assert "CT-2024-007" in rows.nth(0).inner_text() and "20 days overdue" in rows.nth(0).inner_text()
    assert "CT-2023-014" in rows.nth(1).inner_text()
    screenshot(page, "procurement-contracts-due")
    page.get_by_label("Within").select_option("30")
    page.get_by_role("button", name="Show").click()
    assert page.get_by_test_id("contracts-due").locator("tbody tr").count() == 1

    page.goto("/")
    panel = page.locator("section, .card").filter(has=page.get_by_test_id("procurement-sunset")).last
    assert "1 contract reaches its sunset within 180 days" in panel.inner_text()
    assert "1 quantum-vulnerable component" in panel.inner_text()
    panel.scroll_into_view_if_needed()
    screenshot(page, "procurement-dashboard")
    assert page.failed_responses == []
