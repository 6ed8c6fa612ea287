"""An auditor requests a compliance report through the pages, follows a run that is still queued
when its page opens until a worker has built it, without reloading, and downloads the PDF. In a
real browser."""

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from qgov.choices import RoleChoices
from qgov.reports.models import ReportFile, ReportRun
from qgov.reports.tasks import report_run_execute
from risks.services import risk_matrix_ensure
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory
from tests.reports.factories import make_run

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def auditor(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    risk_matrix_ensure(agency)
    return MembershipFactory(agency=agency, role=RoleChoices.AUDITOR, user=UserFactory(username="aud")).user


def test_an_auditor_requests_a_compliance_report_through_the_pages(page, auditor, screenshot, live_server):
    sign_in(page, "aud", TEST_PASSWORD)
    page.locator("#mainnav").get_by_role("link", name="Reports", exact=True).click()
    page.get_by_test_id("request-report").click()
    page.locator("#id_kind").select_option("compliance")
    screenshot(page, "report-request")
    page.get_by_role("button", name="Request the report").click()
    run = ReportRun.objects.get()
    expect(page).to_have_url(f"{live_server.url}/reports/{run.pk}/")
    # Tests run Celery eagerly: the report was built when the request committed.
    status = page.locator('[data-field="status"]')
    expect(status).to_have_text("Succeeded")
    with page.expect_download() as download:
        page.get_by_test_id("download-pdf").click()
    content = Path(download.value.path()).read_bytes()
    assert content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == ReportFile.objects.get(run=run, format="pdf").sha256
    assert download.value.suggested_filename == f"qgov-compliance-DQN-{run.pk}.pdf"
    # The file as downloaded is recognised on the verify page: this run, signed and unchanged.
    page.goto("/reports/verify/")
    page.get_by_label("Report file").set_input_files(download.value.path())
    page.get_by_role("button", name="Verify").click()
    result = page.get_by_test_id("verify-result")
    expect(result).to_contain_text("Valid.")
    expect(result.get_by_role("link", name=str(run))).to_have_attribute("href", f"/reports/{run.pk}/")
    expect(page.get_by_test_id("verify-signature")).not_to_contain_text("✘")
    screenshot(page, "report-verify")
    page.goto(f"/reports/{run.pk}/")
    screenshot(page, "report-run-finished")
    page.goto("/reports/")
    expect(page.locator("table tbody tr")).to_have_count(1)
    screenshot(page, "report-history")
    assert [url for url in page.failed_responses if "/download/" not in url] == []


def test_the_run_page_follows_a_queued_run_until_it_is_built(page, auditor, screenshot, live_server):
    run = make_run(auditor.memberships.get().agency, user=auditor, kind="compliance")
    sign_in(page, "aud", TEST_PASSWORD)
    page.goto(f"/reports/{run.pk}/")
    expect(page.locator('[data-field="status"]')).to_have_text("Queued")
    expect(page.get_by_text("Waiting for a worker…")).to_be_visible()
    expect(page.locator('[data-field="error-box"]')).to_be_hidden()
    screenshot(page, "report-run-queued")
    # The task, run as a worker would (eagerly, here); the page has not been reloaded.
    assert report_run_execute.delay(run.pk).get() == "succeeded"
    expect(page.locator('[data-field="status"]')).to_have_text("Succeeded")
    expect(page.get_by_text("The report is ready.")).to_be_visible()
    # PDF, CSV, JSON, and OSCAL for a compliance report
    expect(page.locator('[data-field="files"] tbody tr')).to_have_count(4)
    stored = ReportFile.objects.get(run=run, format="pdf")
    expect(page.locator('[data-field="files"]')).to_contain_text(stored.sha256)
    with page.expect_download() as download:
        page.get_by_test_id("download-pdf").click()
    assert hashlib.sha256(Path(download.value.path()).read_bytes()).hexdigest() == stored.sha256
    bar = page.locator('[data-field="progress"] .progress-bar')
    expect(bar).not_to_have_class("progress-bar-animated")
    page.wait_for_timeout(800)  # the bar's width eases to its value (Bootstrap's transition)
    screenshot(page, "report-run-followed")
