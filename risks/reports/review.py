"""The sunset-review section (what falls due over the horizon) and the public transparency summary
(aggregates only: counts by band, status, category and quarter)."""

from datetime import date

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from qgov.reports.document import Column, Figure, ReportContext, ReportTable, SectionData
from risks.choices import (
    ControlStatusChoices,
    MoscaBandChoices,
    RiskAcceptanceStatusChoices,
    RiskStatusChoices,
    ThreatVectorCategoryChoices,
)
from risks.models import Asset, Control, Risk, RiskAcceptance, ThreatVector
from risks.reports.common import ACTIVE_ACCEPTANCE_STATES, band_name, open_risks, person_fields, person_of
from risks.selectors import matrix_of

# --- sunset review -----------------------------------------------------------------------------


def sunset_section(context: ReportContext) -> SectionData:
    agency, start = context.agency, context.as_of_date
    end = context.window_end
    acceptances = RiskAcceptance.objects.filter(agency=agency, status__in=ACTIVE_ACCEPTANCE_STATES,
                                                valid_until__gte=start, valid_until__lte=end)
    reviews = open_risks(agency).filter(review_date__gte=start, review_date__lte=end)

    def acceptance_rows():
        for row in acceptances.order_by("valid_until", "risk__reference", "pk").values(
                "risk__reference", "risk__title", "status", "valid_until", *person_fields("risk__owner"),
                *person_fields("approved_by")).iterator(chunk_size=1000):
            yield {"risk": row["risk__reference"], "title": row["risk__title"],
                   "owner": person_of(row, "risk__owner"), "accepted_by": person_of(row, "approved_by"),
                   "status": str(RiskAcceptanceStatusChoices(row["status"]).label), "due": row["valid_until"],
                   "days_left": (row["valid_until"] - start).days}

    def review_rows():
        for row in reviews.order_by("review_date", "reference").values(
                "reference", "title", "status", "review_date", *person_fields("owner")).iterator(chunk_size=1000):
            yield {"risk": row["reference"], "title": row["title"], "owner": person_of(row, "owner"),
                   "status": str(RiskStatusChoices(row["status"]).label), "due": row["review_date"],
                   "days_left": (row["review_date"] - start).days}

    window = {"start": start.isoformat(), "end": end.isoformat()}
    return SectionData(
        key="risks", title=_("Risk acceptances and reviews"),
        intro=_("Risk acceptances that end, and open risks whose review falls due, between %(start)s and %(end)s, "
                "each with its owner and due date.") % window,
        figures=[Figure("acceptances_expiring", _("Acceptances ending"), acceptances.count()),
                 Figure("reviews_due", _("Risk reviews due"), reviews.count())],
        tables=[
            ReportTable(key="acceptances_expiring", title=_("Risk acceptances ending"),
                        columns=[Column("risk", _("Risk")), Column("title", _("Title")), Column("owner", _("Owner")),
                                 Column("accepted_by", _("Accepted by")), Column("status", _("Status")),
                                 Column("due", _("Ends"), "date"), Column("days_left", _("Days left"), "number")],
                        rows=acceptance_rows, note=_("Acceptances in force whose date falls in the window; soonest "
                                                     "first. Past it, the risk reopens."),
                        empty_text=_("No acceptance ends in this window.")),
            ReportTable(key="reviews_due", title=_("Risk reviews due"),
                        columns=[Column("risk", _("Risk")), Column("title", _("Title")), Column("owner", _("Owner")),
                                 Column("status", _("Status")), Column("due", _("Review due"), "date"),
                                 Column("days_left", _("Days left"), "number")],
                        rows=review_rows, note=_("Open risks whose next review falls in the window; soonest first."),
                        empty_text=_("No review falls due in this window.")),
        ])


# --- transparency ------------------------------------------------------------------------------
# Keys are those of qgov.reports.transparency.PUBLIC_KEYS ("band", "status", "count", …): this
# section gives aggregates only, and the allow-list would drop anything else.


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def transparency_section(context: ReportContext) -> SectionData:
    agency = context.agency
    matrix = matrix_of(agency)
    risks = Risk.objects.filter(agency=agency)
    live = open_risks(agency)
    totals = risks.aggregate(open_count=Count("pk", filter=~Q(status=RiskStatusChoices.CLOSED)),
                             closed_count=Count("pk", filter=Q(status=RiskStatusChoices.CLOSED)),
                             overdue_count=Count("pk", filter=~Q(status=RiskStatusChoices.CLOSED)
                                                 & Q(review_date__lt=context.as_of_date)))
    bands = list(reversed(matrix.bands)) if matrix else []  # highest first

    current = dict(live.values_list("rating").annotate(n=Count("pk")).order_by())
    residual = {}
    for score, n in live.values_list("residual_score").annotate(n=Count("pk")).order_by():
        name = band_name(matrix, score) or _("Not rated")
        residual[name] = residual.get(name, 0) + n
    by_status = dict(risks.values_list("status").annotate(n=Count("pk")).order_by())
    # A risk counts once under each category of its threat vectors.
    by_category = dict(ThreatVector.objects.filter(risks__in=live).values_list("category").annotate(
        n=Count("risks", distinct=True)).order_by())

    exposures = [asset.exposure(matrix, context.as_of_date) for asset in Asset.objects.filter(agency=agency)] \
        if matrix else []
    mosca_bands = {}
    for exposure in exposures:
        mosca_bands[exposure["band"]] = mosca_bands.get(exposure["band"], 0) + 1
    exposed = sum(1 for exposure in exposures if exposure["exposed"])

    milestones = {}
    for due, status in Control.objects.filter(agency=agency, due_date__isnull=False).exclude(
            status=ControlStatusChoices.RETIRED).values_list("due_date", "status").iterator(chunk_size=1000):
        key = (quarter_of(due), status == ControlStatusChoices.IMPLEMENTED)
        milestones[key] = milestones.get(key, 0) + 1

    def band_rows(counts):
        names = [band["name"] for band in bands] + [name for name in counts if name not in
                                                     {band["name"] for band in bands}]
        return [{"band": name, "count": counts.get(name, 0)} for name in names]

    band_columns = [Column("band", _("Band"), "band"), Column("count", _("Risks"), "number")]
    return SectionData(
        key="risks", title=_("Quantum risk register"),
        intro=_("Aggregates of the agency's quantum risk register and the exposure of its assets under Mosca's "
                "inequality, as of %(day)s. No risk, asset or person is named.") % {
            "day": context.as_of_date.isoformat()},
        figures=[
            Figure("open_count", _("Open risks"), totals["open_count"]),
            Figure("closed_count", _("Closed risks"), totals["closed_count"]),
            Figure("overdue_count", _("Open risks past their review date"), totals["overdue_count"]),
            Figure("assets_count", _("Assets assessed under Mosca's inequality"), len(exposures)),
            Figure("assets_exposed_count", _("Assets exposed (x + y > z)"), exposed),
            Figure("assets_not_exposed_count", _("Assets not exposed"), len(exposures) - exposed),
        ],
        tables=[
            ReportTable(key="current_band", title=_("Open risks by current rating"), columns=band_columns,
                        rows=band_rows(current)),
            ReportTable(key="residual_band", title=_("Open risks by residual rating"), columns=band_columns,
                        rows=band_rows(residual)),
            ReportTable(key="status", title=_("Risks by status"),
                        columns=[Column("status", _("Status")), Column("count", _("Risks"), "number")],
                        rows=[{"status": str(label), "count": by_status.get(value, 0)}
                              for value, label in RiskStatusChoices.choices]),
            ReportTable(key="category", title=_("Open risks by threat category"),
                        columns=[Column("category", _("Category")), Column("count", _("Risks"), "number")],
                        rows=[{"category": str(label), "count": by_category.get(value, 0)}
                              for value, label in ThreatVectorCategoryChoices.choices],
                        note=_("A risk counts once under each category of its threat vectors.")),
            ReportTable(key="mosca_band", title=_("Assets by quantum-exposure urgency (Mosca)"),
                        columns=[Column("band", _("Urgency"), "band"), Column("count", _("Assets"), "number")],
                        rows=[{"band": str(label), "count": mosca_bands.get(value, 0)}
                              for value, label in reversed(MoscaBandChoices.choices)]),
            ReportTable(key="milestones", title=_("Planned controls by quarter due"),
                        columns=[Column("quarter", _("Quarter")), Column("status", _("Status")),
                                 Column("count", _("Controls"), "number")],
                        rows=[{"quarter": quarter, "status": _("Implemented") if done else _("Not yet implemented"),
                               "count": n} for (quarter, done), n in sorted(milestones.items())],
                        note=_("Controls by the quarter of their due date, retired ones left out."),
                        empty_text=_("No control has a due date.")),
        ])

