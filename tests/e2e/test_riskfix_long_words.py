"""A 300-character word (a pasted hash, a URL, a key) in a description, a title, a name or a
rationale wraps on the detail pages instead of widening them, on a desktop and on a phone."""

import datetime

import pytest
from django.utils import timezone

from qgov.choices import RoleChoices
from risks.services import risk_matrix_ensure
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory
from tests.risks.factories import AssetFactory, ControlFactory, RiskAcceptanceFactory, RiskFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WORD = "Q" * 300


@pytest.fixture
def records():
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    risk_matrix_ensure(agency)
    editor = MembershipFactory(agency=agency, role=RoleChoices.EDITOR, user=UserFactory(username="ed")).user
    asset = AssetFactory(agency=agency, name="A" * 200, description=WORD)
    control = ControlFactory(agency=agency, title="C" * 200, description=WORD)
    risk = RiskFactory(agency=agency, title="R" * 200, description=WORD, owner=editor)
    risk.assets.add(asset)
    risk.controls.add(control)
    acceptance = RiskAcceptanceFactory(agency=agency, risk=risk, requested_by=editor, rationale=WORD,
                                       valid_until=timezone.localdate() + datetime.timedelta(days=30))
    return [risk, asset, control, acceptance]


@pytest.mark.parametrize(("width", "height"), [(1400, 900), (390, 844)])
def test_long_words_wrap_on_detail_pages(width, height, page, records, screenshot):
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, "ed", TEST_PASSWORD)
    for record in records:
        page.goto(record.get_absolute_url())
        assert page.get_by_text(WORD).first.is_visible()
        scroll, viewport = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        name = record._meta.model_name
        screenshot(page, f"riskfix_long_word_{name}_{width}")
        assert scroll <= viewport, f"{name} page is {scroll}px wide in a {viewport}px window"


def test_the_mosca_panel_and_matrix_explain_their_numbers(page, screenshot):
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    matrix = risk_matrix_ensure(agency)
    MembershipFactory(agency=agency, role=RoleChoices.EDITOR, user=UserFactory(username="ed"))
    AssetFactory(agency=agency, name="Cabinet archive", shelf_life_years=20, migration_years=3)
    sign_in(page, "ed", TEST_PASSWORD)
    panel = page.locator(".card", has_text="Quantum-exposed assets")
    assert "margin x + y − z: +8.0 y" in panel.inner_text()
    assert panel.locator("abbr", has_text="CRQC").get_attribute("title").startswith(
        "cryptographically relevant quantum computer")
    screenshot(page, "riskfix_mosca_panel")
    page.goto(matrix.get_absolute_url())
    assert f"the end of 2035 (31 December), {matrix.policy_years()} years from today" in page.inner_text("main")
    screenshot(page, "riskfix_matrix_timeline")
