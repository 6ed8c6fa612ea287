"""An agency editor reports a severity-2 key compromise from the board, works its playbook's
checklist phase by phase (a move on with a mandatory step open is refused, saying which), writes the
post-incident review, raises the follow-up risk and closes the incident. In a real browser, with
screenshots; the handling marking is on every page."""

from pathlib import Path

import pytest

from incidents.models import Incident
from qgov.choices import RoleChoices
from qgov.models import Notification
from risks.services import risk_matrix_ensure
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory
from tests.incidents.factories import playbook_with_steps

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots-incidents")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def agency_with_playbook():
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    risk_matrix_ensure(agency)
    MembershipFactory(agency=agency, role=RoleChoices.EDITOR, user=UserFactory(username="eve"))
    MembershipFactory(agency=agency, role=RoleChoices.ADMIN, user=UserFactory(username="ada"))
    return agency, playbook_with_steps(code="PB-01")


def marking_everywhere(page):
    for where in ("top", "bottom"):
        assert page.get_by_test_id(f"marking-{where}").inner_text() == "TLP:AMBER · OFFICIAL-SENSITIVE"


def transition(page, label):
    page.locator("h1").locator("xpath=..").get_by_role("link", name=label).click()
    page.locator("form").get_by_role("button", name=label).click()
    page.wait_for_load_state("load")


def complete_steps(page, positions):
    for position in positions:
        page.get_by_test_id(f"complete-{position}").click()
        page.wait_for_load_state("load")


def test_report_work_the_checklist_review_and_close(page, agency_with_playbook, live_server):
    agency, playbook = agency_with_playbook
    sign_in(page, "eve", TEST_PASSWORD)
    page.goto("/incidents/board/")
    page.get_by_role("link", name="Report an incident").click()
    page.get_by_label("Title").fill("Keys delivered to an unknown SAE")
    page.get_by_label("Incident type").select_option("key_compromise")
    page.get_by_label("Severity").select_option("2")
    page.get_by_label("Marking").select_option("TLP:AMBER")
    page.get_by_label("Classification").fill("OFFICIAL-SENSITIVE")
    page.get_by_label("Playbook").select_option(str(playbook.pk))
    page.get_by_role("button", name="Save").click()
    incident = Incident.objects.get()
    assert page.url == f"{live_server.url}{incident.get_absolute_url()}"
    assert incident.reference.startswith("INC-")
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["ada"]
    marking_everywhere(page)
    assert page.get_by_test_id("step").count() == 6
    shot(page, "01-reported")

    transition(page, "Start triage")
    # Contain is offered disabled while the mandatory detect step is open; its confirm page says why.
    page.goto(f"{incident.get_absolute_url()}contain/")
    assert "Step 1 (Detect & analyse): Detect step 1" in page.locator("main").inner_text()
    marking_everywhere(page)
    shot(page, "02-contain-refused")
    page.goto(incident.get_absolute_url())
    complete_steps(page, [1])
    transition(page, "Mark contained")
    complete_steps(page, [3])
    transition(page, "Mark eradicated")
    complete_steps(page, [4])
    transition(page, "Mark recovered")
    complete_steps(page, [5, 6])
    shot(page, "03-recovered-checklist-done")

    page.get_by_label("Review summary").fill("Contained within the hour; no key used.")
    page.get_by_label("Root cause").fill("An SAE certificate leaked from a test system.")
    page.get_by_label("Lessons learned").fill("Separate test and production SAE certificates.")
    page.get_by_test_id("save-review").click()
    page.wait_for_load_state("load")
    page.get_by_test_id("raise-risk").click()
    assert page.get_by_label("Title").input_value() == f"Follow-up of {incident.reference}: Keys delivered to " \
                                                       "an unknown SAE"
    page.get_by_label("Owner").select_option(label="eve")
    page.get_by_label("Inherent likelihood").select_option("3")
    page.get_by_label("Inherent impact").select_option("4")
    shot(page, "04-raise-follow-up-risk")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("load")
    assert page.url.startswith(f"{live_server.url}{incident.get_absolute_url()}")
    transition(page, "Close")
    incident.refresh_from_db()
    assert incident.status == "closed"
    assert incident.follow_up_risks.count() == 1
    assert page.locator("h1 .badge").inner_text() == "Closed"
    marking_everywhere(page)
    shot(page, "05-closed")

    page.goto("/incidents/board/")
    assert page.get_by_test_id("column-closed").get_by_test_id("card").count() == 1
    shot(page, "06-board")
    assert [r for r in page.failed_responses if not r.startswith("404 ")] == []
