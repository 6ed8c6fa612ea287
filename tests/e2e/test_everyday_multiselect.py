"""Choosing threat vectors from a long list: a searchable multi-select, driven from the keyboard,
where a stray click never drops the choices already made. Tom Select, served locally."""

import pytest
from playwright.sync_api import expect

from qgov.choices import RoleChoices
from risks.services import risk_matrix_ensure
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory
from tests.risks.factories import RiskFactory, ThreatVectorFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def choose(page, select_id, text):
    """Picks the option matching `text` in the searchable multi-select of `select_id`, by keyboard."""
    page.locator(f"#{select_id}-ts-control").click()
    page.keyboard.type(text)
    expect(page.locator(f"#{select_id}-ts-dropdown .option.active")).to_contain_text(text)
    page.keyboard.press("Enter")
    expect(page.locator(f"#{select_id}-ts-control").locator("xpath=..").locator(".item", has_text=text)).to_be_visible()
    page.keyboard.press("Escape")


def test_pick_a_threat_vector_by_typing_and_the_keyboard(page, screenshot, live_server):
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    risk_matrix_ensure(agency)
    MembershipFactory(agency=agency, role=RoleChoices.EDITOR, user=UserFactory(username="ed"))
    vectors = [ThreatVectorFactory(code=f"GEN-{n:02d}", title=f"Generic threat {n}") for n in range(38)]
    harvest = ThreatVectorFactory(code="QOP-03", title="Harvest now, decrypt later")
    risk = RiskFactory(agency=agency, title="Archive of tax returns")
    risk.threat_vectors.set(vectors[:2])

    sign_in(page, "ed", TEST_PASSWORD)
    page.goto(f"/risks/register/{risk.pk}/edit/")
    box = page.locator(".ts-wrapper", has=page.locator("#id_threat_vectors-ts-control"))
    expect(box.locator(".item")).to_have_count(2)  # the choices already made show as removable items
    page.locator("#id_threat_vectors-ts-control").click()
    page.keyboard.type("harv")
    options = page.locator("#id_threat_vectors-ts-dropdown .option")
    expect(options).to_have_text([str(harvest)])
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(box.locator(".item")).to_have_count(3)
    # Stray clicks (on a chosen item's name, on the box's empty end, on another field) keep every choice;
    # only an item's × removes it.
    box.locator(".item").first.click(position={"x": 5, "y": 5})
    control = box.locator(".ts-control")
    control.click(position={"x": control.bounding_box()["width"] - 5, "y": 5})
    page.get_by_label("Title").click()
    expect(box.locator(".item")).to_have_count(3)
    screenshot(page, "everyday_threat_vector_multiselect")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(f"{live_server.url}{risk.get_absolute_url()}")

    assert sorted(v.code for v in risk.threat_vectors.all()) == ["GEN-00", "GEN-01", "QOP-03"]
    assert not [failed for failed in page.failed_responses if "/static/" in failed]


def test_filter_sidebar_multiselect_is_searchable(page, live_server):
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    risk_matrix_ensure(agency)
    MembershipFactory(agency=agency, role=RoleChoices.VIEWER, user=UserFactory(username="vi"))
    harvest = ThreatVectorFactory(code="QOP-03", title="Harvest now, decrypt later")
    ThreatVectorFactory(code="SIG-01", title="Forged signatures")
    RiskFactory(agency=agency, title="Archive").threat_vectors.set([harvest])
    RiskFactory(agency=agency, title="Code signing")

    sign_in(page, "vi", TEST_PASSWORD)
    page.goto("/risks/register/")
    page.locator("#id_threat_vector-ts-control").click()
    page.keyboard.type("harv")
    page.locator(".ts-dropdown .option", has_text="QOP-03").first.wait_for()  # the search has answered
    page.keyboard.press("Enter")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    assert page.url.endswith(f"threat_vector={harvest.pk}") or f"threat_vector={harvest.pk}" in page.url
    assert page.locator("table.table tbody tr").all_inner_texts()[0].split("\t")[1].startswith("Archive")
