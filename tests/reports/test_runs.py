"""The report machinery: a request is checked and queued on commit, the run builds its files once
(idempotent), a run whose worker vanished is queued again and ends succeeded, a failure keeps its
error and can be retried, schedules queue their runs, and an uploaded file is verified."""

import datetime as dt
import hashlib
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from qgov.choices import ImportRunStatusChoices as RunStatus
from qgov.choices import RoleChoices
from qgov.models import AuditEvent, Notification, ReportFile, ReportRun, ReportSchedule
from qgov.reports import services
from qgov.reports.choices import ReportKindChoices, ScheduleFrequencyChoices
from risks.services import risk_matrix_ensure
from tests.risks.factories import RiskFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC


@pytest.fixture
def reporting_agency(agency):
    risk_matrix_ensure(agency)
    RiskFactory(agency=agency, title="Harvest-now-decrypt-later on the backbone")
    return agency


@pytest.fixture
def request_report(django_capture_on_commit_callbacks):
    """request_report(user, agency, kind, **fields) -> the run, executed (eager Celery) on commit."""

    def make(user, agency, kind=ReportKindChoices.COMPLIANCE, **fields):
        with django_capture_on_commit_callbacks(execute=True):
            run = services.report_run_request(user=user, agency=agency, kind=kind, **fields)
        run.refresh_from_db()
        return run

    return make


def stored_bytes(report_file: ReportFile) -> bytes:
    with report_file.file.open("rb") as handle:
        return handle.read()


def test_an_auditors_request_is_built_on_commit_into_signed_pdf_csv_json_and_oscal(
        reporting_agency, member_of, request_report, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    auditor = member_of(reporting_agency, RoleChoices.AUDITOR)

    run = request_report(auditor, reporting_agency)

    assert (run.status, run.progress, run.error, run.requested_by, run.attempts) == (
        RunStatus.SUCCEEDED, 100, "", auditor, 1)
    assert run.started <= run.finished
    files = {report_file.format: report_file for report_file in run.files.all()}
    assert sorted(files) == ["csv", "json", "oscal", "pdf"]
    for report_file in files.values():
        content = stored_bytes(report_file)
        assert (report_file.sha256, report_file.size) == (hashlib.sha256(content).hexdigest(), len(content))
    pdf = stored_bytes(files["pdf"])
    assert pdf.startswith(b"%PDF-")
    assert files["pdf"].pages == len(PdfReader(io.BytesIO(pdf)).pages)
    assert files["pdf"].filename == f"qgov-compliance-DQN-{run.pk}.pdf"
    assert files["oscal"].filename == f"qgov-compliance-DQN-{run.pk}-oscal-poam.json"
    # Created, then finished by the task in the requester's name.
    events = AuditEvent.objects.filter(content_type__model="reportrun", object_id=str(run.pk)).order_by("id")
    assert [(event.action, event.source) for event in events] == [("create", "system"), ("update", "task")]
    assert events.last().actor == auditor
    assert {"status", "finished"} <= set(events.last().changed_fields)


@pytest.mark.parametrize("role", [RoleChoices.VIEWER, RoleChoices.EDITOR])
def test_viewers_and_editors_may_not_request_reports(reporting_agency, member_of, role):
    with pytest.raises(PermissionDenied):
        services.report_run_request(user=member_of(reporting_agency, role), agency=reporting_agency,
                                    kind=ReportKindChoices.COMPLIANCE)
    assert ReportRun.objects.count() == 0


def test_members_of_another_agency_may_not_request_its_reports(reporting_agency, other_agency, member_of):
    with pytest.raises(PermissionDenied):
        services.report_run_request(user=member_of(other_agency, RoleChoices.ADMIN), agency=reporting_agency,
                                    kind=ReportKindChoices.COMPLIANCE)


@pytest.mark.parametrize(("fields", "errors"), [
    ({"kind": "annual"}, {"kind"}),
    ({"kind": ReportKindChoices.SUNSET_REVIEW, "parameters": {"horizon_months": 0}}, {"horizon_months"}),
    ({"kind": ReportKindChoices.SUNSET_REVIEW, "parameters": {"horizon_months": "12"}}, {"horizon_months"}),
    ({"kind": ReportKindChoices.SUNSET_REVIEW, "parameters": {"horizon_months": 61}}, {"horizon_months"}),
    ({"kind": ReportKindChoices.COMPLIANCE, "parameters": {"colour": "red"}}, {"parameters"}),
    ({"kind": ReportKindChoices.COMPLIANCE, "as_of": timezone.now() + dt.timedelta(days=2)}, {"as_of"}),
    ({"kind": ReportKindChoices.COMPLIANCE, "as_of": dt.datetime(2026, 1, 1)}, {"as_of"}),  # noqa: DTZ001 - naive on purpose
])
def test_bad_parameters_are_refused_by_field_and_nothing_is_queued(reporting_agency, member_of, fields, errors,
                                                                   django_capture_on_commit_callbacks):
    auditor = member_of(reporting_agency, RoleChoices.AUDITOR)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(ValidationError) as refused:
        services.report_run_request(user=auditor, agency=reporting_agency, **fields)
    assert set(refused.value.message_dict) == errors
    assert (ReportRun.objects.count(), callbacks) == (0, [])


def test_a_sunset_review_keeps_its_horizon_and_a_public_summary_is_always_tlp_clear(
        reporting_agency, member_of, django_capture_on_commit_callbacks):
    auditor = member_of(reporting_agency, RoleChoices.AUDITOR)
    with django_capture_on_commit_callbacks():
        sunset = services.report_run_request(user=auditor, agency=reporting_agency,
                                             kind=ReportKindChoices.SUNSET_REVIEW, parameters={"horizon_months": 6})
        public = services.report_run_request(user=auditor, agency=reporting_agency,
                                             kind=ReportKindChoices.TRANSPARENCY, marking="TLP:RED")
    assert (sunset.parameters, sunset.marking, public.marking) == (
        {"horizon_months": 6}, "OFFICIAL-SENSITIVE", "TLP:CLEAR")


def test_running_a_finished_run_again_changes_nothing(reporting_agency, member_of, request_report, settings,
                                                      tmp_path):
    settings.MEDIA_ROOT = tmp_path
    run = request_report(member_of(reporting_agency, RoleChoices.AUDITOR), reporting_agency)
    before = sorted(run.files.values_list("pk", "sha256"))

    again = services.report_run_execute(run_id=run.pk)

    assert (again.status, again.attempts, sorted(again.files.values_list("pk", "sha256"))) == (
        RunStatus.SUCCEEDED, 1, before)


def lost_run(agency, user, *, heartbeat_age, attempts=1):
    """A run left "running" by a worker that died `heartbeat_age` ago."""
    now = timezone.now()
    run = ReportRun.objects.create(agency=agency, kind=ReportKindChoices.COMPLIANCE, as_of=now, requested_by=user)
    ReportRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, started=now - heartbeat_age,
                                               heartbeat=now - heartbeat_age, attempts=attempts, progress=40)
    return run


def test_a_run_whose_worker_vanished_is_queued_again_and_ends_succeeded(
        reporting_agency, member_of, django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    auditor = member_of(reporting_agency, RoleChoices.AUDITOR)
    lost = lost_run(reporting_agency, auditor, heartbeat_age=dt.timedelta(minutes=11))
    busy = lost_run(reporting_agency, auditor, heartbeat_age=dt.timedelta(minutes=2))

    with django_capture_on_commit_callbacks(execute=True):
        requeued = services.report_runs_requeue()

    assert requeued == [lost.pk]
    lost.refresh_from_db()
    busy.refresh_from_db()
    assert (lost.status, lost.attempts, lost.files.count()) == (RunStatus.SUCCEEDED, 2, 4)
    assert (busy.status, busy.progress) == (RunStatus.RUNNING, 40)  # slow, not lost: left alone


def test_a_run_lost_too_often_fails_with_a_reason_instead_of_looping(reporting_agency, member_of):
    auditor = member_of(reporting_agency, RoleChoices.AUDITOR)
    run = lost_run(reporting_agency, auditor, heartbeat_age=dt.timedelta(hours=1), attempts=services.MAX_ATTEMPTS)

    assert services.report_runs_requeue() == []

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "started 5 times" in run.error


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a worker's claim is a PostgreSQL advisory lock")
@pytest.mark.django_db(transaction=True)
def test_a_run_held_by_a_live_worker_is_not_queued_twice_however_old_its_heartbeat(reporting_agency, member_of):
    from django.db import connections

    from qgov.runs import REPORT_LOCK_CLASS

    run = lost_run(reporting_agency, member_of(reporting_agency, RoleChoices.AUDITOR),
                   heartbeat_age=dt.timedelta(hours=1))
    current = connections["default"]
    other = type(current)(dict(current.settings_dict), alias="default")
    try:
        with other.cursor() as cursor:  # another worker's session holds the run
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [REPORT_LOCK_CLASS, run.pk])
        assert services.report_runs_requeue() == []
        assert services.report_run_execute(run_id=run.pk).status == RunStatus.RUNNING
    finally:
        other.close()
    assert services.report_runs_requeue() == [run.pk]


def test_a_failure_keeps_its_error_and_the_run_can_be_retried(reporting_agency, member_of, request_report,
                                                              django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    auditor = member_of(reporting_agency, RoleChoices.AUDITOR)
    key = settings.QGOV_REPORT_SIGNING_KEY
    settings.QGOV_REPORT_SIGNING_KEY = str(tmp_path / "missing-key.pem")

    failed = request_report(auditor, reporting_agency)

    assert (failed.status, failed.files.count()) == (RunStatus.FAILED, 0)
    assert failed.error
    settings.QGOV_REPORT_SIGNING_KEY = key
    with django_capture_on_commit_callbacks(execute=True):
        services.report_run_retry(run=failed, user=auditor)
    failed.refresh_from_db()
    assert (failed.status, failed.error, failed.attempts, failed.files.count()) == (RunStatus.SUCCEEDED, "", 2, 4)
    with pytest.raises(ValidationError):
        services.report_run_retry(run=failed, user=auditor)  # only a failed run is retried
    with pytest.raises(PermissionDenied):
        services.report_run_retry(run=failed, user=member_of(reporting_agency, RoleChoices.VIEWER))


@pytest.mark.parametrize(("start", "frequency", "expected"), [
    (dt.datetime(2026, 1, 31, 6, tzinfo=UTC), ScheduleFrequencyChoices.MONTHLY,
     dt.datetime(2026, 2, 28, 6, tzinfo=UTC)),
    (dt.datetime(2026, 11, 30, 6, tzinfo=UTC), ScheduleFrequencyChoices.QUARTERLY,
     dt.datetime(2027, 2, 28, 6, tzinfo=UTC)),
    (dt.datetime(2026, 12, 1, 6, tzinfo=UTC), ScheduleFrequencyChoices.WEEKLY,
     dt.datetime(2026, 12, 8, 6, tzinfo=UTC)),
    (dt.datetime(2026, 12, 31, 6, tzinfo=UTC), ScheduleFrequencyChoices.DAILY,
     dt.datetime(2027, 1, 1, 6, tzinfo=UTC)),
])
def test_schedules_move_on_by_calendar_periods(start, frequency, expected):
    assert services.next_run_after(start, frequency) == expected


def test_a_due_schedule_queues_one_run_moves_on_and_tells_auditors_and_admins_when_ready(
        reporting_agency, member_of, django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    auditor = member_of(reporting_agency, RoleChoices.AUDITOR)
    admin = member_of(reporting_agency, RoleChoices.ADMIN)
    viewer = member_of(reporting_agency, RoleChoices.VIEWER)
    now = timezone.now()
    due = ReportSchedule.objects.create(agency=reporting_agency, kind=ReportKindChoices.SUNSET_REVIEW,
                                        frequency=ScheduleFrequencyChoices.WEEKLY, parameters={"horizon_months": 3},
                                        next_run_at=now - dt.timedelta(days=15))
    ReportSchedule.objects.create(agency=reporting_agency, kind=ReportKindChoices.COMPLIANCE,
                                  frequency=ScheduleFrequencyChoices.MONTHLY, next_run_at=now + dt.timedelta(hours=1))
    ReportSchedule.objects.create(agency=reporting_agency, kind=ReportKindChoices.COMPLIANCE, enabled=False,
                                  frequency=ScheduleFrequencyChoices.MONTHLY, next_run_at=now - dt.timedelta(days=1))

    with django_capture_on_commit_callbacks(execute=True):
        runs = services.report_schedules_run_due(now=now)

    assert [(run.kind, run.schedule_id, run.requested_by, run.parameters) for run in runs] == [
        (ReportKindChoices.SUNSET_REVIEW, due.pk, None, {"horizon_months": 3})]
    due.refresh_from_db()
    # Three weekly periods were missed: one run now, and the next one after now.
    assert due.next_run_at == now - dt.timedelta(days=15) + dt.timedelta(weeks=3)
    assert due.last_run_at == now
    run = ReportRun.objects.get(pk=runs[0].pk)
    assert run.status == RunStatus.SUCCEEDED
    told = set(Notification.objects.filter(url=run.get_absolute_url()).values_list("user", flat=True))
    assert told == {auditor.pk, admin.pk}
    assert viewer.pk not in told
    assert services.report_schedules_run_due(now=now) == []  # not again until the next period


def test_verify_names_the_run_of_a_stored_file_and_refuses_a_one_byte_change(
        reporting_agency, member_of, request_report, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    auditor = member_of(reporting_agency, RoleChoices.AUDITOR)
    run = request_report(auditor, reporting_agency)
    pdf = stored_bytes(run.files.get(format="pdf"))

    verified = services.report_verify(data=pdf, user=auditor)
    assert (verified.valid, verified.run, verified.report_file.format, verified.signature.valid) == (
        True, run, "pdf", True)
    assert f"run #{run.pk}" in verified.message

    middle = len(pdf) // 2
    changed = pdf[:middle] + bytes([pdf[middle] ^ 0x01]) + pdf[middle + 1:]
    refused = services.report_verify(data=changed, user=auditor)
    assert (refused.valid, refused.run) == (False, None)
    assert refused.message

    csv_file = run.files.get(format="csv")
    assert services.report_verify(data=stored_bytes(csv_file), user=auditor).valid
    assert not services.report_verify(data=b"not a report", user=auditor).valid
