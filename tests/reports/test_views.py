"""The reports pages: navigation, history with hashes, request form, run page, retry, downloads,
verify, schedules for admins and the others."""

import hashlib
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from qgov.choices import RoleChoices
from qgov.reports.models import ReportRun, ReportSchedule
from qgov.reports.sections import sections_for
from risks.filters import RiskFilterSet
from tests.reports.factories import make_run, make_schedule

CSV = b"section,metric,value\nrisks,open,3\n"
# Until the register's section is registered (risks.app), the register takes no filters at all.
REGISTER_REFUSES_COLOUR = (
    "Not a parameter of this report: filters." if not sections_for("risk_register")
    else "“colour” is not a filter of the risk register; filters: " + ", ".join(sorted(
        set(RiskFilterSet.base_filters) - {"agency"})) + ".")
ROLES = list(RoleChoices.values)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", ROLES)
def test_every_member_has_reports_in_the_navigation_and_only_auditors_and_admins_may_request(
        role, client, agency, member_of):
    page = signed_in(client, member_of(agency, role)).get("/reports/")
    assert page.status_code == 200
    labels = [item["label"] for item in page.context["navigation"]]
    # After the domain apps, before the audit trail and agency admin (where the role sees them).
    assert set(labels[labels.index("Reports") + 1:]) <= {"Audit", "Agency admin"}
    assert labels.index("Reports") > labels.index("Risks")
    may_request = role in (RoleChoices.AUDITOR, RoleChoices.ADMIN)
    assert ('data-testid="request-report"' in page.content.decode()) is may_request
    assert client.get("/reports/request/").status_code == (200 if may_request else 403)


@pytest.mark.parametrize("role", [RoleChoices.VIEWER, RoleChoices.EDITOR])
def test_viewers_and_editors_cannot_post_a_request(role, client, agency, member_of):
    response = signed_in(client, member_of(agency, role)).post("/reports/request/", {
        "kind": "compliance", "marking": "OFFICIAL", "page_size": "A4"})
    assert response.status_code == 403
    assert ReportRun.objects.count() == 0


def test_history_lists_runs_with_shortened_hashes_and_the_whole_value_in_the_title(client, agency, member_of):
    run = make_run(agency, status="succeeded", files={"csv": CSV})
    digest = hashlib.sha256(CSV).hexdigest()
    page = signed_in(client, member_of(agency, RoleChoices.VIEWER)).get("/reports/")
    html = page.content.decode()
    assert f'<code class="qgov-hash d-block text-nowrap" title="SHA-256 {digest}">CSV {digest[:12]}' in html
    assert f'href="/reports/{run.pk}/"' in html


def test_request_form_queues_the_run_and_leads_to_its_page(client, agency, member_of,
                                                           django_capture_on_commit_callbacks):
    user = member_of(agency, RoleChoices.AUDITOR)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = signed_in(client, user).post("/reports/request/", {
            "kind": "sunset_review", "horizon_months": "24", "marking": "TLP:AMBER", "page_size": "Letter"})
    run = ReportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/reports/{run.pk}/"
    assert len(queued) == 1
    assert (run.kind, run.parameters, run.marking, run.page_size, run.requested_by) == (
        "sunset_review", {"horizon_months": 24}, "TLP:AMBER", "Letter", user)


def test_request_form_as_of_a_past_day_is_the_end_of_that_day_in_the_agencys_zone(client, agency, member_of):
    signed_in(client, member_of(agency, RoleChoices.AUDITOR)).post("/reports/request/", {
        "kind": "compliance", "as_of": "2026-03-31", "marking": "OFFICIAL", "page_size": "A4"})
    as_of = timezone.localtime(ReportRun.objects.get().as_of, timezone=ZoneInfo(agency.time_zone))
    assert (as_of.date().isoformat(), as_of.strftime("%H:%M:%S")) == ("2026-03-31", "23:59:59")


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"kind": "sunset_review", "horizon_months": "0"}, "horizon_months",
     "Ensure this value is greater than or equal to 1."),
    ({"kind": "compliance", "as_of": "2999-01-01"}, "as_of",
     "A report describes data that exists: the time cannot be in the future."),
    ({"kind": "risk_register", "register_filters": "colour=red"}, "register_filters", REGISTER_REFUSES_COLOUR),
    ({"kind": "weather"}, "kind", "Select a valid choice. weather is not one of the available choices."),
], ids=["horizon-0", "future", "register-filters", "kind"])
def test_bad_input_shows_the_form_again_with_the_message_and_queues_nothing(data, field, message, client, agency,
                                                                            member_of):
    response = signed_in(client, member_of(agency, RoleChoices.AUDITOR)).post("/reports/request/", {
        "marking": "OFFICIAL", "page_size": "A4", **data})
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert escape(message) in response.content.decode()
    assert ReportRun.objects.count() == 0


def test_run_page_shows_progress_stage_and_follows_the_api(client, agency, member_of):
    run = make_run(agency, status="running", progress=40, stage="Risks")
    html = signed_in(client, member_of(agency, RoleChoices.VIEWER)).get(f"/reports/{run.pk}/").content.decode()
    assert f'data-status-url="/api/reports/{run.pk}/"' in html
    assert 'aria-valuenow="40"' in html and "width: 40%" in html
    assert '<span data-field="stage">Risks</span>' in html
    assert "/static/qgov/report-run.js" in html


def test_failed_run_shows_the_error_and_retry_to_those_who_may_request(client, agency, member_of):
    run = make_run(agency, status="failed", error="The register could not be read.")
    viewer_page = signed_in(client, member_of(agency, RoleChoices.VIEWER)).get(f"/reports/{run.pk}/")
    assert "The register could not be read." in viewer_page.content.decode()
    assert 'data-testid="retry"' not in viewer_page.content.decode()
    assert client.post(f"/reports/{run.pk}/retry/").status_code == 403
    assert ReportRun.objects.get(pk=run.pk).status == "failed"
    auditor_page = signed_in(client, member_of(agency, RoleChoices.AUDITOR)).get(f"/reports/{run.pk}/")
    assert 'data-testid="retry"' in auditor_page.content.decode()


def test_retry_from_the_page_queues_the_run_again(client, agency, member_of, django_capture_on_commit_callbacks):
    run = make_run(agency, status="failed", error="boom")
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = signed_in(client, member_of(agency, RoleChoices.ADMIN)).post(f"/reports/{run.pk}/retry/")
    assert response.status_code == 302
    assert len(queued) == 1
    run.refresh_from_db()
    assert (run.status, run.error) == ("queued", "")


def test_downloads_from_the_page(client, agency, other_agency, member_of):
    run = make_run(agency, status="succeeded", files={"csv": CSV})
    theirs = make_run(other_agency, status="succeeded", files={"csv": CSV})
    signed_in(client, member_of(agency, RoleChoices.VIEWER))
    page = client.get(f"/reports/{run.pk}/").content.decode()
    assert f'href="/reports/{run.pk}/download/csv/"' in page
    assert hashlib.sha256(CSV).hexdigest() in page
    response = client.get(f"/reports/{run.pk}/download/csv/")
    assert b"".join(response.streaming_content) == CSV
    assert response["Content-Disposition"] == f'attachment; filename="qgov-compliance-DQN-{run.pk}.csv"'
    assert client.get(f"/reports/{run.pk}/download/pdf/").status_code == 404
    assert client.get(f"/reports/{theirs.pk}/download/csv/").status_code == 404
    assert client.get(f"/reports/{theirs.pk}/").status_code == 404


def test_verify_page_says_valid_and_which_run_or_not_valid(client, agency, member_of):
    run = make_run(agency, status="succeeded", files={"csv": CSV})
    signed_in(client, member_of(agency, RoleChoices.VIEWER))
    assert client.get("/reports/verify/").status_code == 200
    valid = client.post("/reports/verify/", {"file": SimpleUploadedFile("r.csv", CSV)})
    assert valid.context["result"].valid is True
    assert f'<a href="/reports/{run.pk}/">{run}</a>' in valid.content.decode()
    changed = client.post("/reports/verify/", {"file": SimpleUploadedFile("r.csv", CSV + b"\n")})
    assert changed.context["result"].valid is False
    assert "Not valid" in changed.content.decode()
    empty = client.post("/reports/verify/", {})
    assert empty.context["form"].errors == {"file": ["This field is required."]}


@pytest.mark.parametrize("role", ROLES)
def test_schedules_are_listed_to_members_and_edited_by_admins(role, client, agency, member_of):
    schedule = make_schedule(agency)
    signed_in(client, member_of(agency, role))
    page = client.get("/reports/schedules/")
    assert page.status_code == 200
    is_admin = role == RoleChoices.ADMIN
    assert (page.context["add_url"] is not None) is is_admin
    assert client.get(f"/reports/schedules/{schedule.pk}/edit/").status_code == (200 if is_admin else 403)


def test_run_list_query_count_does_not_grow_with_runs(client, agency, member_of):
    signed_in(client, member_of(agency, RoleChoices.AUDITOR))
    counts = []
    for _ in range(2):
        for _ in range(5):
            make_run(agency, status="succeeded", files={"csv": CSV, "json": b"{}"})
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/reports/").status_code == 200
        counts.append(len(queries))
    assert counts == [10, 10], [q["sql"][:120] for q in queries.captured_queries]


def test_schedule_page_shows_its_parameters_and_latest_runs(client, agency, member_of):
    schedule = make_schedule(agency, kind="sunset_review", parameters={"horizon_months": 6})
    run = make_run(agency, kind="sunset_review", schedule=schedule, status="succeeded")
    html = signed_in(client, member_of(agency, RoleChoices.VIEWER)).get(f"/reports/schedules/{schedule.pk}/")
    assert "Horizon: 6 months" in html.content.decode()
    assert f'<a href="/reports/{run.pk}/">{run}</a>' in html.content.decode()


def test_admins_create_a_schedule_through_the_form(client, agency, member_of):
    signed_in(client, member_of(agency, RoleChoices.ADMIN))
    response = client.post("/reports/schedules/add/", {
        "kind": "sunset_review", "frequency": "weekly", "horizon_months": "3", "marking": "OFFICIAL",
        "page_size": "A4", "enabled": "on", "next_run_at": "2030-01-06T08:00"})
    schedule = ReportSchedule.objects.get()
    assert response.status_code == 302
    assert (schedule.parameters, schedule.frequency) == ({"horizon_months": 3}, "weekly")
    bad = client.post("/reports/schedules/add/", {
        "kind": "risk_register", "frequency": "weekly", "register_filters": "colour=red", "marking": "OFFICIAL",
        "page_size": "A4", "next_run_at": "2030-01-06T08:00"})
    assert bad.status_code == 200
    assert bad.context["form"].errors == {"register_filters": [REGISTER_REFUSES_COLOUR]}
    assert ReportSchedule.objects.count() == 1


@pytest.mark.parametrize(("role", "offered"), [(RoleChoices.AUDITOR, True), (RoleChoices.ADMIN, True),
                                               (RoleChoices.EDITOR, False), (RoleChoices.VIEWER, False)])
def test_the_register_offers_a_report_of_the_list_as_filtered(role, offered, client, agency, member_of):
    from risks.services import risk_matrix_ensure

    risk_matrix_ensure(agency)
    response = signed_in(client, member_of(agency, role)).get("/risks/register/", {
        "status": ["draft", "assessed"], "q": "HNDL", "page": "2", "sort": "-reference", "owner": ""})

    link = ('/reports/request/?kind=risk_register&amp;register_filters='
            'status%3Ddraft%26status%3Dassessed%26q%3DHNDL')
    assert response.status_code == 200
    assert (link in response.content.decode()) is offered


def test_the_request_form_takes_the_registers_filters_from_the_link(client, agency, member_of,
                                                                   django_capture_on_commit_callbacks):
    from risks.services import risk_matrix_ensure

    risk_matrix_ensure(agency)
    user = member_of(agency, RoleChoices.AUDITOR)
    page = signed_in(client, user).get("/reports/request/", {"kind": "risk_register",
                                                             "register_filters": "status=draft&q=HNDL"})
    assert 'value="status=draft&amp;q=HNDL"' in page.content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        client.post("/reports/request/", {"kind": "risk_register", "register_filters": "status=draft&q=HNDL",
                                          "marking": "OFFICIAL", "page_size": "A4"})
    assert ReportRun.objects.get().parameters == {"filters": {"status": "draft", "q": "HNDL"}}
