"""An editor imports a CBOM through the component list's button, sees the run, then a
quantum-vulnerable component's deadline and the risk links. In a real browser."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from procurement import catalog
from procurement.models import Component
from qgov.choices import RoleChoices
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory
from tests.risks.factories import ThreatVectorFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CBOM = (Path(__file__).parent.parent / "procurement" / "fixtures" / "cbom-qkd-node.json").read_bytes()


@pytest.fixture
def editor(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    catalog.load()
    ThreatVectorFactory(code="CRY-01", title="Harvest now, decrypt later")
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    return MembershipFactory(agency=agency, role=RoleChoices.EDITOR, user=UserFactory(username="ed")).user


def test_import_a_cbom_and_follow_a_vulnerable_component(page, editor, screenshot, live_server):
    sign_in(page, "ed", TEST_PASSWORD)
    page.goto("/procurement/components/")
    page.get_by_role("link", name="Import a CycloneDX BOM").click()
    screenshot(page, "cyclonedx-import-page")
    page.get_by_label("File").set_input_files({"name": "qkd-node.json", "mimeType": "application/json",
                                               "buffer": CBOM})
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported: 9 created, 0 updated, 0 unchanged.")).to_be_visible()
    screenshot(page, "cyclonedx-import-run")
    rsa = Component.objects.get(bom_ref="alg-rsa")
    page.goto(rsa.get_absolute_url())
    expect(page.get_by_test_id("quantum-vulnerable")).to_contain_text("2030-12-31")
    screenshot(page, "cyclonedx-component-vulnerable")
    page.get_by_test_id("raise-risk").click()
    expect(page.locator("input[name=title]")).to_have_value("Quantum-vulnerable cryptography: RSA-2048")
    assert page.failed_responses == []
