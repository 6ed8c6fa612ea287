"""What incidents contributes to the reports (qgov.reports): the "Incidents" section.

- compliance: the incidents open as of the report, the regulator deadlines met or missed, the
  incidents closed and the post-incident reviews recorded in the twelve months before it, and the
  evidence files of the open incidents (by name and SHA-256 only: an incident's handling marking may
  be stricter than the one the requester chose for the report);
- sunset review: the regulator deadlines falling due in the window and not sent, with their owner;
- transparency summary: counts only (incidents per quarter by type and severity, the share of
  regulator deadlines met), every key one that qgov.reports.transparency declares public.

Everything is read as of `context.as_of`, an exact instant: a notification sent at or before its due
instant is met, one sent after it is missed; one not sent by the as-of instant is open, and overdue
once the as-of instant is past its due instant. Each builder costs a fixed number of queries,
whatever the numbers.
"""

import datetime as dt
from collections import Counter

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, F, Q
from django.db.models.functions import TruncQuarter
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.choices import IncidentStatusChoices, IncidentTypeChoices, MarkingChoices, SeverityChoices
from incidents.deadlines import add_months
from incidents.models import Incident, RegulatorNotification
from qgov.models import EvidenceFile
from qgov.reports.choices import ReportKindChoices
from qgov.reports.document import Column, EvidenceReference, Figure, ReportContext, ReportTable, SectionData
from qgov.reports.sections import ReportSection

SECTION_KEY = "incidents"
LOOKBACK_MONTHS = 12  # "in the last 12 months": calendar months on the agency's wall clock

# The outcome of a regulator deadline as of the report.
MET, MISSED, OPEN_OVERDUE, OPEN = "met", "missed", "open-overdue", "open"



# TLP:RED is for named recipients and TLP:AMBER+STRICT for the agency only; a report goes wider (to
# auditors, or whoever its own marking allows), so such an incident is listed by reference, its
# title withheld.
WITHHELD_MARKINGS = frozenset({MarkingChoices.RED, MarkingChoices.AMBER_STRICT})


def title_in_reports(incident) -> str:
    if incident.marking in WITHHELD_MARKINGS:
        return _("[title withheld: %(marking)s]") % {"marking": incident.marking}
    return incident.title


def deadline_outcome(*, due_at: dt.datetime | None, sent_at: dt.datetime | None, as_of: dt.datetime) -> str:
    """Met (sent at or before the due instant), missed (sent after it), open-overdue (not sent by
    `as_of`, which is past the due instant) or open (not sent, not yet due, or no due instant known
    yet). A notification sent after `as_of` had not been sent as of the report."""
    if sent_at is not None and sent_at <= as_of:
        return MET if due_at is None or sent_at <= due_at else MISSED
    if due_at is not None and as_of > due_at:
        return OPEN_OVERDUE
    return OPEN


def _lookback_start(context: ReportContext) -> dt.datetime:
    return add_months(context.as_of, -LOOKBACK_MONTHS, context.zone)


def _open_as_of(context: ReportContext) -> Q:
    """Aware by the as-of instant and not closed by then (an incident closed later was still open;
    a reopened one has no closing time)."""
    closed_by_then = Q(status=IncidentStatusChoices.CLOSED) & (
        Q(closed_at__isnull=True) | Q(closed_at__lte=context.as_of))
    return Q(detected_at__lte=context.as_of) & ~closed_by_then


def _not_sent_as_of(as_of: dt.datetime) -> Q:
    return Q(sent_at__isnull=True) | Q(sent_at__gt=as_of)


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


# --- compliance --------------------------------------------------------------------------------


def _open_incidents_part(context: ReportContext):
    incidents = list(Incident.objects.filter(_open_as_of(context), agency=context.agency)
                     .only("pk", "reference", "title", "incident_type", "severity", "status", "detected_at",
                           "marking", "classification")
                     .order_by("severity", "detected_at", "pk"))
    by_severity = Counter(incident.severity for incident in incidents)
    by_status = Counter(incident.status for incident in incidents)
    figures = [Figure("open", _("Open incidents"), len(incidents))]
    figures += [Figure(f"open_severity_{severity.value}", _("Open, severity %(severity)s") % {
        "severity": severity.label}, by_severity[severity.value]) for severity in SeverityChoices]
    figures += [Figure(f"open_{status.value}", _("Open, now %(status)s") % {"status": status.label.lower()},
                       by_status[status.value])
                for status in IncidentStatusChoices if status != IncidentStatusChoices.CLOSED]
    if closed_since := by_status[IncidentStatusChoices.CLOSED]:
        figures.append(Figure("open_closed_since", _("Open then, closed since"), closed_since))
    table = ReportTable(
        key="open_incidents", title=_("Open incidents"),
        columns=[Column("reference", _("Reference")), Column("title", _("Title")), Column("type", _("Type")),
                 Column("severity", _("Severity")), Column("status", _("Status")),
                 Column("detected", _("Detected"), "datetime"), Column("marking", _("Marking"))],
        rows=[{"reference": incident.reference, "title": title_in_reports(incident),
               "type": str(IncidentTypeChoices(incident.incident_type).label),
               "severity": str(SeverityChoices(incident.severity).label),
               "status": str(IncidentStatusChoices(incident.status).label),
               "detected": incident.detected_at, "marking": incident.handling_marking} for incident in incidents],
        note=_("Aware by the as-of time and not closed by then, most severe first; the status is the current one."),
        empty_text=_("No incident was open."))
    return incidents, figures, table


def _deadlines_part(context: ReportContext):
    as_of = context.as_of
    # Due in the twelve months before the report, or not sent by then (overdue or still to come).
    rows = list(RegulatorNotification.objects.filter(agency=context.agency, incident__detected_at__lte=as_of)
                .filter(Q(due_at__gt=_lookback_start(context), due_at__lte=as_of) | _not_sent_as_of(as_of)
                        | Q(due_at__isnull=True))
                .select_related("incident", "regime", "clock")
                .only("due_at", "sent_at", "incident__reference", "regime__code", "clock__label")
                .order_by(F("due_at").asc(nulls_last=True), "incident__reference", "regime__code", "clock__position",
                          "pk"))
    outcomes = [deadline_outcome(due_at=row.due_at, sent_at=row.sent_at, as_of=as_of) for row in rows]
    counted = Counter(outcomes)
    figures = [Figure("deadlines_met", _("Regulator deadlines met"), counted[MET]),
               Figure("deadlines_missed", _("Regulator deadlines missed (sent late)"), counted[MISSED]),
               Figure("deadlines_open", _("Regulator deadlines open, not yet due"), counted[OPEN]),
               Figure("deadlines_overdue", _("Regulator deadlines open and overdue"), counted[OPEN_OVERDUE])]
    table = ReportTable(
        key="regulator_deadlines", title=_("Regulator deadlines"),
        columns=[Column("incident", _("Incident")), Column("regime", _("Regime")), Column("clock", _("Deadline")),
                 Column("due", _("Due"), "datetime"), Column("sent", _("Sent"), "datetime"),
                 Column("outcome", _("Outcome"))],
        rows=[{"incident": row.incident.reference, "regime": row.regime.code, "clock": row.clock.label,
               "due": row.due_at, "sent": row.sent_at if row.sent_at is not None and row.sent_at <= as_of else None,
               "outcome": outcome} for row, outcome in zip(rows, outcomes, strict=True)],
        note=_("Due in the 12 months before the as-of time, or not sent by then. Met: sent at or before the due "
               "instant; missed: sent after it; open-overdue: not sent and past due."),
        empty_text=_("No regulator deadline."))
    return figures, table


def _closed_and_reviewed(context: ReportContext) -> list[Figure]:
    since = _lookback_start(context)
    reviewed = ~Q(review_summary="") & ~Q(root_cause="") & ~Q(lessons="")
    closed_in_window = Q(status=IncidentStatusChoices.CLOSED, closed_at__gt=since, closed_at__lte=context.as_of)
    counts = Incident.objects.filter(agency=context.agency, detected_at__lte=context.as_of).aggregate(
        closed=Count("pk", filter=closed_in_window),
        reviewed=Count("pk", filter=reviewed & (closed_in_window | _open_as_of(context))))
    return [Figure("closed_12_months", _("Incidents closed in the last 12 months"), counts["closed"]),
            Figure("reviews_done", _("Post-incident reviews recorded"), counts["reviewed"],
                   note=_("Summary, root cause and lessons filled in, of the incidents open or closed in the "
                          "last 12 months."))]


def _evidence_of(context: ReportContext, incidents) -> list[EvidenceReference]:
    """The files kept as evidence on the incidents listed, as of the report: named by file name and
    SHA-256 and the incident's reference, never by its title."""
    references = {incident.pk: incident.reference for incident in incidents}
    if not references:
        return []
    listed = Incident.objects.filter(_open_as_of(context), agency=context.agency).values("pk")
    incident_type = ContentType.objects.get_for_model(Incident)
    files = (EvidenceFile.objects.filter(agency=context.agency, content_type=incident_type, object_id__in=listed,
                                         uploaded_at__lte=context.as_of)
             .exclude(withdrawn_at__lte=context.as_of)
             .only("object_id", "file_name", "sha256", "uploaded_at").order_by("uploaded_at", "pk"))
    by_incident = sorted(files, key=lambda file: references[file.object_id])  # stable: then by upload
    return [EvidenceReference(sha256=file.sha256, name=file.file_name, record=references[file.object_id],
                              uploaded=file.uploaded_at) for file in by_incident]


def compliance_section(context: ReportContext) -> SectionData:
    incidents, incident_figures, incidents_table = _open_incidents_part(context)
    deadline_figures, deadlines_table = _deadlines_part(context)
    return SectionData(
        key=SECTION_KEY, title=_("Incidents"),
        intro=_("Incidents open as of the report, the regulator deadlines of the agency's incidents and whether "
                "they were met, and the incidents closed and reviewed in the 12 months before it. Evidence files "
                "are listed by name and SHA-256 only; each incident keeps its own handling marking."),
        figures=[*incident_figures, *deadline_figures, *_closed_and_reviewed(context)],
        tables=[incidents_table, deadlines_table], evidence=_evidence_of(context, incidents))


# --- sunset review -----------------------------------------------------------------------------


def _window_end(context: ReportContext) -> dt.datetime:
    """The first instant after the window: midnight at the start of the day after its last day, in
    the agency's time zone."""
    day_after = context.window_end + dt.timedelta(days=1)
    return dt.datetime.combine(day_after, dt.time.min, tzinfo=context.zone).astimezone(dt.UTC)


def sunset_review_section(context: ReportContext) -> SectionData:
    as_of = context.as_of
    unsent = RegulatorNotification.objects.filter(_not_sent_as_of(as_of), agency=context.agency,
                                                  incident__detected_at__lte=as_of)
    rows = list(unsent.filter(due_at__gte=as_of, due_at__lt=_window_end(context))
                .select_related("incident__reported_by", "regime", "clock")
                .only("due_at", "incident__reference", "incident__title", "incident__marking",
                      "incident__reported_by__username",
                      "incident__reported_by__first_name", "incident__reported_by__last_name", "regime__code",
                      "clock__label")
                .order_by("due_at", "incident__reference", "regime__code", "clock__position", "pk"))
    overdue = unsent.filter(due_at__lt=as_of).count()
    table = ReportTable(
        key="regulator_deadlines_due", title=_("Regulator deadlines falling due"),
        columns=[Column("incident", _("Incident")), Column("title", _("Title")), Column("regime", _("Regime")),
                 Column("clock", _("Deadline")), Column("due", _("Due"), "datetime"),
                 Column("owner", _("Owner (reporter)"))],
        rows=[{"incident": row.incident.reference, "title": title_in_reports(row.incident), "regime": row.regime.code,
               "clock": row.clock.label, "due": row.due_at, "owner": _person(row.incident.reported_by)}
              for row in rows],
        note=_("Not sent by the start of the window; the owner is the incident's reporter, whom the reminders "
               "go to."),
        empty_text=_("No regulator deadline falls due in the window."))
    return SectionData(
        key=SECTION_KEY, title=_("Incidents"),
        intro=_("Regulator notifications of the agency's incidents that fall due in the window and have not "
                "been sent."),
        figures=[Figure("deadlines_due", _("Regulator deadlines falling due"), len(rows)),
                 Figure("deadlines_overdue", _("Regulator deadlines already overdue"), overdue)],
        tables=[table])


# --- transparency ------------------------------------------------------------------------------


def _quarter_label(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _quarters_start(context: ReportContext) -> dt.datetime:
    """The first instant of the quarter three quarters before the as-of quarter (agency's zone):
    the summary covers four calendar quarters, the last one up to the as-of time."""
    local = context.as_of_date
    first_month = (local.month - 1) // 3 * 3 + 1
    quarter_start = dt.datetime.combine(local.replace(month=first_month, day=1), dt.time.min, tzinfo=context.zone)
    return add_months(quarter_start, -9, context.zone)


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def transparency_section(context: ReportContext) -> SectionData:
    as_of, start = context.as_of, _quarters_start(context)
    grouped = (Incident.objects.filter(agency=context.agency, detected_at__gte=start, detected_at__lte=as_of)
               .annotate(quarter=TruncQuarter("detected_at", tzinfo=context.zone))
               .values("quarter", "incident_type", "severity").annotate(count=Count("pk"))
               .order_by("quarter", "incident_type", "severity"))
    rows = [{"quarter": _quarter_label(group["quarter"].date() if isinstance(group["quarter"], dt.datetime)
                                       else group["quarter"]),
             "type": str(IncidentTypeChoices(group["incident_type"]).label),
             "severity": str(SeverityChoices(group["severity"]).label), "count": group["count"]} for group in grouped]
    fell_due = RegulatorNotification.objects.filter(agency=context.agency, due_at__gte=start, due_at__lt=as_of)
    deadlines = fell_due.aggregate(
        due=Count("pk"), met=Count("pk", filter=Q(sent_at__lte=as_of) & Q(sent_at__lte=F("due_at"))))
    return SectionData(
        key=SECTION_KEY, title=_("Incidents"),
        intro=_("Incidents in the quantum network over the last four calendar quarters, by type and severity, and "
                "how many regulator notifications that fell due were sent on time."),
        figures=[Figure("total", _("Incidents in the four quarters"), sum(row["count"] for row in rows)),
                 Figure("deadlines_total", _("Regulator deadlines that fell due"), deadlines["due"]),
                 Figure("deadlines_met_count", _("Regulator deadlines met"), deadlines["met"]),
                 Figure("deadlines_met_percent", _("Share of regulator deadlines met (%)"),
                        _percent(deadlines["met"], deadlines["due"]))],
        tables=[ReportTable(
            key="incidents_per_quarter", title=_("Incidents per quarter"),
            columns=[Column("quarter", _("Quarter")), Column("type", _("Type")), Column("severity", _("Severity")),
                     Column("count", _("Incidents"), "number")],
            rows=rows, note=_("By the quarter in which the agency became aware of them."),
            empty_text=_("No incident in these quarters."))])


INCIDENTS_SECTION = ReportSection(
    key=SECTION_KEY, title=gettext_lazy("Incidents"), order=40,
    builders={ReportKindChoices.COMPLIANCE: compliance_section,
              ReportKindChoices.SUNSET_REVIEW: sunset_review_section,
              ReportKindChoices.TRANSPARENCY: transparency_section})
