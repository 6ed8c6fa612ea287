"""The register's asset filter at scale: an autocomplete picker, not a select of every asset. Typing
asks the server (records of the active agency only), picking one and filtering shows its risks."""

import pytest
from playwright.sync_api import expect

from qgov.choices import RoleChoices
from risks.models import Asset
from risks.services import risk_matrix_ensure
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory
from tests.risks.factories import AssetFactory, RiskFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_register_asset_autocomplete_picks_and_filters(page, screenshot, live_server):
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    other = AgencyFactory(name="Ministry of Other Things", code="MOT")
    risk_matrix_ensure(agency)
    MembershipFactory(agency=agency, role=RoleChoices.VIEWER, user=UserFactory(username="vi"))
    Asset.objects.bulk_create([Asset(agency=agency, name=f"Fleet link {n:04d}", asset_type="qkd_link",
                                     shelf_life_years=10, migration_years=3) for n in range(250)])
    target = AssetFactory(agency=agency, name="Trusted node Kraków")
    AssetFactory(agency=other, name="Trusted node Elsewhere")  # another agency's: never offered
    linked = RiskFactory(agency=agency, title="Node key compromise")
    linked.assets.add(target)
    RiskFactory(agency=agency, title="Unrelated risk")

    sign_in(page, "vi", TEST_PASSWORD)
    page.goto("/risks/register/")
    assert page.locator("select[name=asset]").count() == 0
    control = page.locator("#id_asset-ts-control")
    control.click()
    page.keyboard.type("trusted node")
    options = page.locator("#id_asset-ts-dropdown .option")
    expect(options).to_have_text(["Trusted node Kraków"])  # the other agency's is not offered
    page.keyboard.press("Enter")
    expect(page.locator(".ts-wrapper", has=control).locator(".item")).to_have_text("Trusted node Kraków")
    screenshot(page, "register_asset_autocomplete_picked")
    page.get_by_role("button", name="Filter", exact=True).click()
    page.wait_for_url(lambda url: f"asset={target.pk}" in url)
    expect(page.locator(".qgov-results tbody tr")).to_have_count(1)
    expect(page.locator(".qgov-results tbody")).to_contain_text("Node key compromise")
    # After the reload the picker shows the chosen asset by name.
    expect(page.locator(".ts-wrapper", has=page.locator("#id_asset-ts-control")).locator(".item")).to_have_text(
        "Trusted node Kraków")
    screenshot(page, "register_asset_autocomplete")
    assert not page.failed_responses
