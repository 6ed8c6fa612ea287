"""The rough edges a new user hit on the register (issue #12), in a real browser: the styled 404,
the asset list of an agency whose matrix was deleted, the current rating and its heat map, search
over threat vectors, invalid and empty filters, one date format, the acceptance page, a new risk
reviewed in the past or described at length, and the admin's name. Screenshots in
artifacts/screenshots/."""

import datetime
import re

import pytest

from qgov.choices import RoleChoices
from qgov.services import object_transition
from risks.models import RiskMatrix
from risks.services import risk_matrix_ensure
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory
from tests.risks.factories import AssetFactory, RiskAcceptanceFactory, RiskFactory, ThreatVectorFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

US_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")


@pytest.fixture
def register():
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN", time_zone="Europe/Brussels")
    risk_matrix_ensure(agency)
    people = {}
    for role, username in ((RoleChoices.EDITOR, "ed"), (RoleChoices.ADMIN, "ada")):
        people[username] = UserFactory(username=username)
        MembershipFactory(agency=agency, role=role, user=people[username])
    harvest = ThreatVectorFactory(code="QOP-03", title="Harvest now, decrypt later",
                                  description="Recorded traffic is decrypted once a quantum computer exists.")
    archive = RiskFactory(agency=agency, title="Archive of tax returns", review_date=datetime.date(2026, 12, 22),
                          current_likelihood=3, current_impact=3)
    archive.threat_vectors.set([harvest])
    RiskFactory(agency=agency, title="Code signing", current_likelihood=2, current_impact=2)
    acceptance = RiskAcceptanceFactory(agency=agency, requested_by=people["ed"],
                                       risk=RiskFactory(agency=agency, title="Accepted detector noise"))
    object_transition(instance=acceptance, name="approve", user=people["ada"])
    return {"agency": agency, "people": people, "archive": archive, "acceptance": acceptance}


def register_titles(page):
    return page.locator("main table.table tbody tr td:nth-child(2)").all_inner_texts()


def test_search_filters_and_their_messages(page, register, screenshot):
    sign_in(page, "ed", TEST_PASSWORD)
    for words in ("QOP-03", "harvest", "quantum computer"):  # a vector's code, title and description
        page.goto("/risks/register/")
        page.get_by_label("Search", exact=True).fill(words)
        page.get_by_label("Search", exact=True).press("Enter")
        page.wait_for_load_state("load")
        assert page.get_by_role("link", name="Archive of tax returns").count() == 1, words
        assert page.get_by_role("link", name="Code signing").count() == 0, words
    screenshot(page, "rough-edges-search-vector")

    page.goto("/risks/register/?inherent_likelihood=high&status=bogus")
    alert = page.get_by_test_id("filter-errors")
    assert "Some filters are not valid" in alert.inner_text()
    assert "No risks match these filters." not in page.content()
    screenshot(page, "rough-edges-invalid-filter")

    page.goto("/risks/register/?status=closed&q=nothing")
    assert page.get_by_text("No risks match these filters.").is_visible()
    page.get_by_role("link", name="Clear filters").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/risks/register/")
    assert page.get_by_role("link", name="Archive of tax returns").count() == 1


def test_the_current_rating_is_labelled_and_has_its_heat_map(page, register, screenshot):
    sign_in(page, "ed", TEST_PASSWORD)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto("/risks/register/")
    assert page.get_by_role("columnheader", name="Current rating").count() == 1
    tabs = page.locator("#heatmaps [role=tab]").all_inner_texts()
    assert tabs == ["Inherent", "Current", "Residual"]
    page.get_by_role("tab", name="Current").click()
    cell = page.locator("#heatmap-current [aria-label='1 risks at likelihood 3, impact 3 (Medium)']")
    assert cell.is_visible()
    screenshot(page, "rough-edges-current-heatmap")
    cell.click()
    page.wait_for_load_state("load")
    assert "current_likelihood=3" in page.url and "current_impact=3" in page.url
    assert page.get_by_role("link", name="Archive of tax returns").count() == 1
    assert page.get_by_role("link", name="Code signing").count() == 0


def test_dates_read_one_way_and_the_acceptance_page_says_who_decided(page, register, screenshot):
    sign_in(page, "ed", TEST_PASSWORD)
    page.goto("/risks/register/")
    assert "2026-12-22" in page.locator("main").inner_text()
    for url in ("/risks/register/", "/risks/acceptances/", register["archive"].get_absolute_url()):
        page.goto(url)
        assert not US_DATE.search(page.locator("main").inner_text()), url

    page.goto(register["acceptance"].get_absolute_url())
    rows = dict(zip(page.locator("main th[scope=row]").all_inner_texts(),
                    page.locator("main th[scope=row] + td").all_inner_texts(), strict=True))
    assert rows["Status"].strip() == "Approved"
    assert rows["Requested by"].strip() == "ed"
    assert rows["Approved by"].strip() == "ada"
    assert rows["Rating at decision"].strip() == "High"  # score 12 on the default 5×5 matrix
    assert rows["Score at decision"].strip() == "12"
    screenshot(page, "rough-edges-acceptance")


def test_a_new_risk_reviewed_in_the_past_or_described_at_length(page, register, screenshot):
    sign_in(page, "ed", TEST_PASSWORD)
    page.goto("/risks/register/add/")
    description = page.get_by_label("Description")
    assert description.get_attribute("maxlength") == "10000"
    description.fill("x" * 10_050)  # the browser keeps the first 10,000
    assert len(description.input_value()) == 10_000
    page.get_by_label("Title").fill("Detector blinding")
    page.get_by_label("Next review").fill("2020-01-01")
    page.get_by_role("button", name=re.compile("^(Save|Create)")).click()
    page.wait_for_load_state("load")
    assert page.get_by_text("A new risk's next review cannot be in the past; choose today or a later date.") \
        .is_visible()
    screenshot(page, "rough-edges-past-review")


def test_not_found_and_an_agency_without_a_matrix(page, register, screenshot, live_server):
    other = RiskFactory(agency=AgencyFactory(code="OTH"), title="Elsewhere")
    sign_in(page, "ada", TEST_PASSWORD)
    response = page.goto(other.get_absolute_url())
    assert response.status == 404
    assert page.title() == "Page not found · qgov"
    assert "or it belongs to another agency" in page.locator("main").inner_text()
    assert page.locator("nav.navbar").count() == 1
    screenshot(page, "rough-edges-404")

    # An agency deletes its matrix while no risk uses it (allowed): its asset list still answers.
    fresh = AgencyFactory(name="New Quantum Office", code="NQO")
    MembershipFactory(agency=fresh, role=RoleChoices.ADMIN, user=UserFactory(username="nia"))
    AssetFactory(agency=fresh, name="Tax archive")
    RiskMatrix.objects.filter(agency=fresh).delete()
    page.context.clear_cookies()
    sign_in(page, "nia", TEST_PASSWORD)
    response = page.goto("/risks/assets/")
    assert response.status == 200
    assert page.get_by_role("link", name="Tax archive").count() == 1
    screenshot(page, "rough-edges-assets-without-matrix")


def test_the_admin_carries_the_product_name(page, register, screenshot):
    import pyotp

    from qgov.identity.mfa import services as mfa_services
    from qgov.identity.mfa.models import Authenticator

    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    secret = mfa_services.totp_new_secret()  # platform admins always sign in with a second factor
    Authenticator.objects.create(user=root, kind="totp", name="Phone", totp_secret=secret)
    page.goto("/admin/")  # the admin site's own form sends people to the one sign-in
    page.wait_for_url("**/login/?next=/admin/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/login/mfa/")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/admin/")
    assert page.title() == "Platform administration | qgov administration"
    assert "Django" not in page.locator("body").inner_text()
    screenshot(page, "rough-edges-admin")
