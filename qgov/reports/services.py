"""The one report service: request a run, execute it (the Celery task calls this), retry it, pick up
runs whose worker vanished, queue the agencies' scheduled reports, and verify an uploaded file."""

import datetime as dt
import hashlib
import io
import logging
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qgov.audit import audit_context
from qgov.choices import AuditSourceChoices
from qgov.choices import ImportRunStatusChoices as RunStatus
from qgov.integrations.events import REPORT_READY, emit, record_data
from qgov.reports import build
from qgov.reports.choices import ReportFormatChoices, ReportKindChoices, ReportMarkingChoices
from qgov.reports.models import ReportFile, ReportRun, ReportSchedule
from qgov.reports.sections import sections_for
from qgov.roles import Action
from qgov.runs import REPORT_LOCK_CLASS, ProgressWriter, run_claimed, run_is_claimed
from qgov.services import object_create, require

logger = logging.getLogger(__name__)

HORIZON_MONTHS = (1, 60)  # a sunset review looks from 1 month to 5 years ahead
# A running run whose heartbeat is older than this has lost its worker (the run writes one at least
# every section and every few hundred rows; see ProgressWriter).
STALE_AFTER = dt.timedelta(minutes=10)
# Queued runs are picked up by a worker within seconds; one still queued after this lost its task
# (a broker restart before the worker took it, say) and is queued again.
UNCLAIMED_AFTER = dt.timedelta(minutes=15)
MAX_ATTEMPTS = 5


# --- requesting ---------------------------------------------------------------------------------


def report_parameters_clean(*, kind: str, parameters: dict | None, agency) -> dict:
    """The run's parameters, checked: raises ValidationError({"field": [messages]}) and queues nothing."""
    parameters = dict(parameters or {})
    if kind not in ReportKindChoices.values:
        raise ValidationError({"kind": [_("Choose one of: %(kinds)s.") % {
            "kinds": ", ".join(ReportKindChoices.values)}]})
    cleaned, errors = {}, {}
    if kind == ReportKindChoices.SUNSET_REVIEW:
        months = parameters.pop("horizon_months", 12)
        low, high = HORIZON_MONTHS
        if isinstance(months, bool) or not isinstance(months, int) or not low <= months <= high:
            errors["horizon_months"] = [_("A whole number of months from %(low)s to %(high)s.") % {
                "low": HORIZON_MONTHS[0], "high": HORIZON_MONTHS[1]}]
        else:
            cleaned["horizon_months"] = months
    for section in sections_for(kind):
        if section.validate_parameters is None:
            continue
        try:
            cleaned.update(section.validate_parameters(kind, parameters, agency))
        except ValidationError as error:
            errors.update(error.message_dict)
    unknown = sorted(set(parameters) - set(cleaned) - set(errors))
    if unknown:
        errors.setdefault("parameters", []).append(
            _("Not a parameter of this report: %(names)s.") % {"names": ", ".join(unknown)})
    if errors:
        raise ValidationError(errors)
    return cleaned


def _as_of_clean(as_of, now) -> dt.datetime:
    if as_of is None:
        return now
    if isinstance(as_of, dt.date) and not isinstance(as_of, dt.datetime):
        raise ValidationError({"as_of": [_("Give a date and time.")]})
    if timezone.is_naive(as_of):
        raise ValidationError({"as_of": [_("Give the time with its offset or zone.")]})
    if as_of > now + dt.timedelta(minutes=5):
        raise ValidationError({"as_of": [_("A report describes data that exists: the time cannot be in the future.")]})
    return as_of


@transaction.atomic
def report_run_request(*, user, agency, kind: str, parameters: dict | None = None, as_of=None,
                       marking: str | None = None, page_size: str = "A4") -> ReportRun:
    """Queue a report for `agency` (needs REQUEST_REPORT there); the task runs once this commits.
    The data is read as it stands when the run executes, and the report says so; `as_of` (not in
    the future) sets the date the report counts overdue reviews and expiries from."""
    require(user, agency.pk, Action.REQUEST_REPORT, ReportRun)
    now = timezone.now()
    errors = {}
    try:
        cleaned = report_parameters_clean(kind=kind, parameters=parameters, agency=agency)
    except ValidationError as error:
        errors.update(error.message_dict)
        cleaned = {}
    try:
        as_of = _as_of_clean(as_of, now)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    run = object_create(model=ReportRun, user=user, data={
        "agency": agency, "kind": kind, "parameters": cleaned, "as_of": as_of,
        "marking": _marking_for(kind, marking), "page_size": page_size,
        "generator_version": build.generator_version()})
    _queue_on_commit(run.pk)
    return run


def _marking_for(kind: str, marking: str | None) -> str:
    # A public summary is public by definition: whatever was asked, it is marked TLP:CLEAR.
    if kind == ReportKindChoices.TRANSPARENCY:
        return ReportMarkingChoices.TLP_CLEAR
    return marking or ReportMarkingChoices.OFFICIAL_SENSITIVE


def _queue_on_commit(run_id: int) -> None:
    from qgov.reports.tasks import report_run_execute

    transaction.on_commit(lambda: report_run_execute.delay(run_id))


def report_run_retry(*, run: ReportRun, user) -> ReportRun:
    """Queue a failed run again (same parameters, same run)."""
    require(user, run.agency_id, Action.REQUEST_REPORT, ReportRun)
    with transaction.atomic():
        updated = ReportRun.objects.filter(pk=run.pk, status=RunStatus.FAILED).update(
            status=RunStatus.QUEUED, error="", progress=0, stage="", started=None, finished=None, heartbeat=None)
        if not updated:
            raise ValidationError({"status": [_("Only a failed run can be retried.")]})
        _queue_on_commit(run.pk)
    run.refresh_from_db()
    return run


# --- running ------------------------------------------------------------------------------------


def report_run_execute(*, run_id: int) -> ReportRun | None:
    """Build a queued report. Idempotent: a finished run is left as it is, a run another worker holds
    now is left to it, and a run found "running" whose worker died starts again from the beginning
    (nothing of it was stored: files are written when the run succeeds)."""
    with run_claimed(run_id, REPORT_LOCK_CLASS) as claimed:
        if not claimed:
            return ReportRun.objects.filter(pk=run_id).first()
        with transaction.atomic():
            run = ReportRun.objects.select_for_update(of=("self",)).filter(pk=run_id).first()
            if run is None or run.is_finished:
                return run
            now = timezone.now()
            ReportRun.objects.filter(pk=run.pk).update(
                status=RunStatus.RUNNING, started=now, heartbeat=now, finished=None, progress=0,
                stage=_("Reading the data"), attempts=run.attempts + 1, error="")
        run.refresh_from_db()
        progress = ProgressWriter(ReportRun, run.pk)
        try:
            with audit_context(source=AuditSourceChoices.TASK, actor=run.requested_by,
                               label="task:report_run_execute"):
                _build_and_store(run, progress)
        except Exception as error:  # noqa: BLE001 - whatever it was, the run must not stay "running"
            logger.exception("Report run %s failed", run.pk)
            _fail(run, error)
        finally:
            progress.close()
        run.refresh_from_db()
        if run.status == RunStatus.SUCCEEDED and run.schedule_id:
            _notify_ready(run)
        return run


def _build_and_store(run: ReportRun, progress: ProgressWriter) -> None:
    from qgov.reports.pdf import Attachment, render_pdf
    from qgov.reports.signing import sign_pdf

    def section_done(number, total, title):
        progress.write(progress=min(80, round(70 * number / total)), stage=str(title)[:100],
                       heartbeat=timezone.now())

    document = build.report_document(run, progress=section_done)
    outputs: dict[str, tuple[bytes, int | None]] = {}
    text = io.StringIO()
    build.write_csv(document, text)
    outputs[ReportFormatChoices.CSV] = (text.getvalue().encode("utf-8"), None)
    text = io.StringIO()
    build.write_json(document, text)
    outputs[ReportFormatChoices.JSON] = (text.getvalue().encode("utf-8"), None)
    if run.kind == ReportKindChoices.COMPLIANCE:
        from qgov.reports.oscal import poam_json, registered_entries

        context = build.report_context(run)
        outputs[ReportFormatChoices.OSCAL] = (poam_json(context, registered_entries(context)), None)
    progress.write(progress=80, stage=_("Writing the PDF"), heartbeat=timezone.now())
    names = {fmt: ReportFile(run=run, format=fmt).filename for fmt in ReportFormatChoices.values}
    rendered = render_pdf(document, time_zone=run.agency.time_zone or "UTC", attachments=[
        Attachment(names[fmt], outputs[fmt][0], mime, description) for fmt, mime, description in (
            (ReportFormatChoices.CSV, "text/csv", _("The report's data as CSV")),
            (ReportFormatChoices.JSON, "application/json", _("The report's data as JSON")))])
    progress.write(progress=95, stage=_("Signing"), heartbeat=timezone.now())
    outputs[ReportFormatChoices.PDF] = (sign_pdf(rendered.data, run_id=run.pk), rendered.pages)
    with transaction.atomic():
        locked = ReportRun.objects.select_for_update().get(pk=run.pk)
        if locked.is_finished:  # another worker finished it meanwhile: keep theirs
            return
        locked.files.all().delete()  # left by an attempt that died between storing and finishing
        for fmt, (content, pages) in outputs.items():
            ReportFile.objects.create(run=locked, format=fmt, file=ContentFile(content, name=names[fmt]),
                                      sha256=hashlib.sha256(content).hexdigest(), size=len(content), pages=pages)
        locked.status, locked.finished, locked.progress, locked.stage = RunStatus.SUCCEEDED, timezone.now(), 100, ""
        locked.save()
        emit(agency_id=locked.agency_id, event_type=REPORT_READY, data=lambda: record_data(locked))


def _fail(run: ReportRun, error: Exception) -> None:
    message = "; ".join(error.messages) if isinstance(error, ValidationError) else _(
        "The report stopped on an unexpected error (%(error)s). Retry it, or tell an administrator.") % {
        "error": type(error).__name__}
    with transaction.atomic():
        locked = ReportRun.objects.select_for_update().get(pk=run.pk)
        locked.status, locked.finished, locked.error, locked.stage = RunStatus.FAILED, timezone.now(), message, ""
        locked.save()


def _notify_ready(run: ReportRun) -> None:
    """A scheduled report is ready: those who may request reports in the agency (its auditors and
    admins) are told."""
    from qgov.permissions import users_who_can
    from qgov.services import notify

    with audit_context(source=AuditSourceChoices.TASK, label="task:report_run_execute"):
        notify(users=list(users_who_can(run.agency_id, Action.REQUEST_REPORT, ReportRun)), agency=run.agency,
               url=run.get_absolute_url(), title=_("%(report)s is ready") % {"report": run.get_kind_display()},
               body=_("The scheduled %(report)s of %(agency)s (%(when)s) is ready to download.") % {
                   "report": run.get_kind_display().lower(), "agency": run.agency.name,
                   "when": timezone.localtime(run.as_of).strftime("%d %b %Y")})


def report_runs_requeue(*, now=None) -> list[int]:
    """Runs whose worker vanished: "running" with a stale heartbeat and no worker holding it, or
    still "queued" long after it was requested. Each is queued again (up to MAX_ATTEMPTS; after
    that it fails, with the error saying so). Called every few minutes by beat."""
    now = now or timezone.now()
    requeued = []
    running = ReportRun.objects.filter(status=RunStatus.RUNNING, heartbeat__lt=now - STALE_AFTER)
    queued = ReportRun.objects.filter(status=RunStatus.QUEUED, created__lt=now - UNCLAIMED_AFTER,
                                      last_updated__lt=now - UNCLAIMED_AFTER)
    for run in [*running, *queued]:
        if run_is_claimed(run.pk, REPORT_LOCK_CLASS):
            continue  # a worker holds it: slow, not lost
        if run.attempts >= MAX_ATTEMPTS:
            _fail(run, ValidationError(_("The report was started %(n)s times and its worker stopped each time; "
                                         "it will not be tried again automatically.") % {"n": run.attempts}))
            continue
        ReportRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED, last_updated=now)
        _queue_on_commit(run.pk)
        requeued.append(run.pk)
    return requeued


# --- schedules ----------------------------------------------------------------------------------


def next_run_after(when: dt.datetime, frequency: str) -> dt.datetime:
    """The run after `when`: a day or a week on, or the same day one or three months on (the last
    day of a shorter month), at the same time of day."""
    from qgov.dates import add_months
    from qgov.reports.choices import ScheduleFrequencyChoices as Frequency

    if frequency == Frequency.DAILY:
        return when + dt.timedelta(days=1)
    if frequency == Frequency.WEEKLY:
        return when + dt.timedelta(weeks=1)
    return dt.datetime.combine(add_months(when.date(), 1 if frequency == Frequency.MONTHLY else 3), when.timetz())


def report_schedules_run_due(*, now=None) -> list[ReportRun]:
    """Queue a run for each enabled schedule whose time has come, and move the schedule on (past
    missed periods too: one run, not a backlog). Two beat processes never queue one twice."""
    now = now or timezone.now()
    runs = []
    with transaction.atomic():
        due = (ReportSchedule.objects.select_for_update(skip_locked=True).select_related("agency")
               .filter(enabled=True, next_run_at__lte=now))
        for schedule in due:
            next_at = schedule.next_run_at
            while next_at <= now:
                next_at = next_run_after(next_at, schedule.frequency)
            try:
                parameters = report_parameters_clean(kind=schedule.kind, parameters=schedule.parameters,
                                                     agency=schedule.agency)
            except ValidationError as error:
                logger.warning("Report schedule %s has invalid parameters: %s", schedule.pk, error)
                parameters = None
            # last_updated too: list ETags and updated_after read it (docs/integrating.md).
            ReportSchedule.objects.filter(pk=schedule.pk).update(next_run_at=next_at, last_run_at=now, last_updated=now)
            if parameters is None:
                continue
            run = ReportRun.objects.create(
                agency=schedule.agency, kind=schedule.kind, parameters=parameters, as_of=now,
                marking=_marking_for(schedule.kind, schedule.marking), page_size=schedule.page_size,
                schedule=schedule, generator_version=build.generator_version())
            _queue_on_commit(run.pk)
            runs.append(run)
    return runs


# --- verifying ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportVerification:
    valid: bool
    message: str
    sha256: str
    run: ReportRun | None = None
    report_file: ReportFile | None = None
    signature: object = None  # qgov.reports.signing.SignatureCheck for a PDF


def report_verify(*, data: bytes, user=None) -> ReportVerification:
    """Is this file a report this platform issued, unchanged, and which run? The file must be one we
    stored (its SHA-256) and, for a PDF, carry an intact signature by our report certificate
    covering the whole file. `user` limits which runs are named to those they may see."""
    from qgov.reports.signing import check_signature

    sha256 = hashlib.sha256(data).hexdigest()
    files = ReportFile.objects.select_related("run", "run__agency").filter(sha256=sha256)
    if user is not None:
        files = files.filter(run__in=ReportRun.objects.restrict(user, Action.VIEW))
    stored = files.first()
    signature = check_signature(data) if data[:5] == b"%PDF-" else None
    if stored is None:
        reason = (signature.problem if signature is not None and not signature.valid
                  else _("No report issued by this platform has this content (SHA-256 %(hash)s).") % {"hash": sha256})
        return ReportVerification(valid=False, message=reason, sha256=sha256, signature=signature)
    if stored.format == ReportFormatChoices.PDF and (signature is None or not signature.valid):
        return ReportVerification(valid=False, sha256=sha256, signature=signature, message=_(
            "The file matches run #%(run)s but its signature does not verify: %(problem)s") % {
            "run": stored.run_id, "problem": signature.problem if signature else ""})
    return ReportVerification(valid=True, sha256=sha256, run=stored.run, report_file=stored, signature=signature,
                              message=_("Issued by this platform and unchanged: %(file)s of run #%(run)s "
                                        "(%(kind)s, %(agency)s).") % {
                                  "file": stored.get_format_display(), "run": stored.run_id,
                                  "kind": stored.run.get_kind_display(), "agency": stored.run.agency.name})
