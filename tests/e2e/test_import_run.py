"""An editor imports a register file through the page, and a run's page follows a run that is
still queued when it opens until a worker finishes it, without reloading. In a real browser."""

import hashlib

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from qgov.choices import RoleChoices
from qgov.imports.tasks import import_run_execute
from qgov.models import ImportRun
from risks.models import Risk
from risks.services import risk_matrix_ensure
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

GOOD = (b"reference,title,inherent_likelihood,inherent_impact\n"
        b"R-0100,Harvested WAN traffic,4,5\n,Detector blinding,3,5\n")
BAD = b"title,inherent_likelihood,inherent_impact\n,2,x\n"


@pytest.fixture
def editor(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    risk_matrix_ensure(agency)
    return MembershipFactory(agency=agency, role=RoleChoices.EDITOR, user=UserFactory(username="ed")).user


def queued_run(editor, content):
    """A run as the upload leaves it, before any worker has taken it."""
    membership = editor.memberships.get()
    run = ImportRun(agency=membership.agency, content_type=ContentType.objects.get_for_model(Risk),
                    requested_by=editor, file=SimpleUploadedFile("register.csv", content), file_name="register.csv",
                    sha256=hashlib.sha256(content).hexdigest(), size=len(content), format="csv")
    run.save()
    return run


def test_import_through_the_page(page, editor, screenshot, live_server):
    sign_in(page, "ed", TEST_PASSWORD)
    page.goto("/risks/register/")
    page.get_by_role("link", name="Import CSV / XLSX").click()
    page.get_by_label("File").set_input_files(
        {"name": "register.csv", "mimeType": "text/csv", "buffer": GOOD})
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("Imported: 2 created, 0 updated, 0 unchanged.")).to_be_visible()
    screenshot(page, "import-run-succeeded")
    assert sorted(Risk.objects.values_list("reference", flat=True)) == ["R-0100", "R-0101"]
    assert page.failed_responses == []


def test_the_run_page_follows_a_queued_run_until_it_succeeds(page, editor, live_server):
    run = queued_run(editor, GOOD)
    sign_in(page, "ed", TEST_PASSWORD)
    page.goto(f"/imports/{run.pk}/")
    expect(page.get_by_text("Waiting for the import to finish…")).to_be_visible()
    assert import_run_execute.delay(run.pk).get() == "succeeded"
    expect(page.get_by_text("Imported: 2 created, 0 updated, 0 unchanged.")).to_be_visible()
    expect(page.locator('[data-field="status"]')).to_have_text("Succeeded")
    expect(page.locator('[data-field="rows_processed"]')).to_have_text("2")


def test_the_run_page_shows_the_report_of_a_run_that_fails(page, editor, live_server):
    run = queued_run(editor, BAD)
    sign_in(page, "ed", TEST_PASSWORD)
    page.goto(f"/imports/{run.pk}/")
    expect(page.locator('[data-field="status"]')).to_have_text("Queued")
    assert import_run_execute.delay(run.pk).get() == "failed"
    expect(page.get_by_text("Nothing was imported: 2 problems found.")).to_be_visible()
    rows = page.locator('[data-field="errors"] tbody tr')
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_text("2inherent_impactEnter a whole number.")
    expect(rows.nth(1)).to_have_text("2titleThis field cannot be blank.")
    assert Risk.objects.count() == 0
