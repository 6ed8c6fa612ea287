"""Pages that fit each role, in a real browser: a viewer and an editor are not offered the audit
trail, and typing its address shows the styled 403 page with the reason and a way back; an editor
reads the history of a risk in labels and names; the audit table fits its box on a desktop and
on a 390 px phone; the dashboard loads its favicon without a console error. Screenshots in
artifacts/screenshots/."""

import pytest

from qgov import services
from qgov.audit import audit_context
from qgov.choices import AuditSourceChoices, RoleChoices
from risks.services import risk_matrix_ensure
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory
from tests.risks.factories import ControlFactory, RiskAcceptanceFactory, RiskFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def agency_with_history():
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    risk_matrix_ensure(agency)
    users = {}
    for role, username in ((RoleChoices.VIEWER, "vic"), (RoleChoices.EDITOR, "ed"),
                           (RoleChoices.AUDITOR, "aud"), (RoleChoices.ADMIN, "ada")):
        users[role] = UserFactory(username=username, first_name=username.title(), last_name="Member")
        MembershipFactory(agency=agency, role=role, user=users[role])
    controls = [ControlFactory(agency=agency, title=title) for title in (
        "Detector blinding countermeasures on every receiver of the Capital–Northgate link",
        "Quarterly key rotation")]
    risk = RiskFactory(agency=agency, title="Detector blinding on the Capital–Northgate quantum key distribution link")
    editor = users[RoleChoices.EDITOR]
    with audit_context(source=AuditSourceChoices.UI, actor=editor):  # as from the web UI, with a request id
        services.object_update(instance=risk, user=editor, data={"owner": editor, "controls": controls})
        services.object_update(instance=risk, user=editor, data={
            "description": "Bright light blinds the single-photon detectors.", "inherent_likelihood": 4,
            "inherent_impact": 5, "residual_likelihood": 2, "residual_impact": 3})
    RiskAcceptanceFactory(agency=agency, risk=risk, requested_by=users[RoleChoices.EDITOR])
    return risk


def watch_console(page):
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def nav_labels(page):
    return page.locator("#mainnav .navbar-nav a.nav-link").all_inner_texts()


@pytest.mark.parametrize("username", ["vic", "ed"])
def test_no_audit_link_and_the_styled_refusal(username, page, agency_with_history, screenshot, live_server):
    sign_in(page, username, TEST_PASSWORD)
    assert nav_labels(page) == ["Dashboard", "Due soon", "Risks", "Certification", "Procurement",
                                "Incidents", "Reports"]
    assert page.get_by_role("link", name="Audit", exact=True).count() == 0

    page.goto("/risks/register/")
    response = page.goto("/audit/", referer=f"{live_server.url}/risks/register/")
    assert response.status == 403
    assert page.title() == "Not allowed · qgov"
    assert page.locator("h1").inner_text() == "You may not open this page"
    assert page.get_by_test_id("error-reason").inner_text() == "Your role does not include this list."
    # Inside the layout: the navigation and Bootstrap's styles are there.
    assert nav_labels(page) == ["Dashboard", "Due soon", "Risks", "Certification", "Procurement",
                                "Incidents", "Reports"]
    assert page.locator("nav.navbar").evaluate("element => getComputedStyle(element).display") == "flex"
    screenshot(page, f"pages-403-{username}")

    page.get_by_role("link", name="Back to the previous page").click()
    page.wait_for_load_state("load")
    assert page.url == f"{live_server.url}/risks/register/"
    page.goto("/audit/")
    page.get_by_role("link", name="Go to the dashboard").click()
    page.wait_for_load_state("load")
    assert page.url == f"{live_server.url}/"


def test_editor_reads_a_risks_history_in_labels_and_names(page, agency_with_history, screenshot):
    risk = agency_with_history
    sign_in(page, "ed", TEST_PASSWORD)
    page.goto(risk.get_absolute_url())
    page.get_by_role("link", name="History", exact=True).click()
    page.wait_for_load_state("load")
    changes = page.locator("main table tbody").inner_text()
    assert "Owner: — → ed" in changes
    assert ("Controls: — → Detector blinding countermeasures on every receiver of the Capital–Northgate link, "
            "Quarterly key rotation") in changes
    assert "owner_id" not in page.content()
    assert page.locator("main a[href^='/audit/']").count() == 0  # the event pages are the auditors'
    screenshot(page, "pages-history-editor")


@pytest.mark.parametrize(("viewport", "name"), [
    ({"width": 1280, "height": 800}, "desktop"), ({"width": 1024, "height": 768}, "small-desktop"), (PHONE, "phone")])
def test_audit_table_fits_its_box(viewport, name, page, agency_with_history, screenshot):
    sign_in(page, "aud", TEST_PASSWORD)
    page.set_viewport_size(viewport)
    page.goto("/audit/")
    assert page.get_by_role("cell", name="Risk acceptance", exact=True).count() >= 1
    assert page.get_by_role("cell", name="Controls, Owner", exact=True).count() == 1
    sizes = page.evaluate("""() => {
        const box = document.querySelector('main .table-responsive');
        return {page: document.documentElement.scrollWidth, window: window.innerWidth,
                table: box.scrollWidth, box: box.clientWidth};
    }""")
    assert sizes["page"] <= sizes["window"], sizes  # the page never scrolls sideways
    if name != "phone":
        assert sizes["table"] <= sizes["box"], sizes  # on a desktop the whole table shows, no scrolling
    screenshot(page, f"pages-audit-{name}")


def test_dashboard_has_a_favicon_and_no_console_errors(page, agency_with_history, screenshot, live_server):
    errors = watch_console(page)
    sign_in(page, "ada", TEST_PASSWORD)
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(f"{live_server.url}{icon}").status == 200
    assert page.request.get(f"{live_server.url}/favicon.ico").status == 200  # redirects followed
    page.reload()
    page.wait_for_load_state("networkidle")
    assert errors == []
    assert page.failed_responses == []
    screenshot(page, "pages-dashboard-admin")
