"""The compliance report's risk posture: headline figures, the three heat maps, top risks, overdue
reviews, acceptances and their expiry, the assets' Mosca exposure, and the evidence relied on."""

from datetime import timedelta
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q
from django.utils.translation import gettext as _

from qgov.models import EvidenceFile
from qgov.reports.document import Chart, Column, EvidenceReference, Figure, ReportContext, ReportTable, SectionData
from risks.choices import AssetTypeChoices, RiskAcceptanceStatusChoices, RiskStatusChoices, RiskTreatmentChoices
from risks.heatmap import heatmap_svg
from risks.models import Asset, Risk, RiskAcceptance
from risks.reports.common import (
    ACTIVE_ACCEPTANCE_STATES,
    EXPIRY_WARNING_DAYS,
    RATING_FIELDS,
    band_key,
    open_risks,
    person_fields,
    person_of,
    rating_columns,
    rating_values,
)
from risks.selectors import all_heatmap_counts, matrix_of

TOP_RISKS = 10

# The register's ranking, worst first: the current score (inherent while none is given), then the
# residual score (none last), then the inherent score; the reference breaks ties.
RANKING = ("-rating_score", F("residual_score").desc(nulls_last=True), "-inherent_score", "reference")

HEATMAP_TITLES = (
    ("inherent", lambda: _("Inherent risk (open risks)")),
    ("current", lambda: _("Current risk (open risks; inherent while no current rating is given)")),
    ("residual", lambda: _("Residual risk (open risks with a residual rating)")),
)

def compliance_section(context: ReportContext) -> SectionData:
    agency, today = context.agency, context.as_of_date
    matrix = matrix_of(agency)
    risks = open_risks(agency)
    overdue = risks.filter(review_date__lt=today)
    warn_until = today + timedelta(days=EXPIRY_WARNING_DAYS)
    by_band = dict(risks.values_list("rating").annotate(n=Count("pk")).order_by())

    figures = [Figure("open_risks", _("Open risks"), sum(by_band.values()))]
    for band in reversed(matrix.bands if matrix else []):  # highest band first, as the dashboard lists them
        figures.append(Figure(f"open_{band_key(band['name'])}", _("Open risks rated %(band)s") % {
            "band": band["name"]}, by_band.get(band["name"], 0)))
    acceptance_counts = RiskAcceptance.objects.filter(agency=agency).aggregate(
        active=Count("pk", filter=Q(status__in=ACTIVE_ACCEPTANCE_STATES, valid_until__gte=today)),
        expiring=Count("pk", filter=Q(status__in=ACTIVE_ACCEPTANCE_STATES, valid_until__gte=today,
                                      valid_until__lte=warn_until)),
        expired=Count("pk", filter=Q(status__in=ACTIVE_ACCEPTANCE_STATES, valid_until__lt=today)
                      | Q(status=RiskAcceptanceStatusChoices.LAPSED) & ~Q(risk__status=RiskStatusChoices.CLOSED)))
    figures += [
        Figure("overdue_reviews", _("Reviews overdue"), overdue.count(), note=_("open risks reviewed before %(day)s")
               % {"day": today.isoformat()}),
        Figure("acceptances_active", _("Acceptances in force"), acceptance_counts["active"]),
        Figure("acceptances_expiring", _("Acceptances expiring within %(days)s days") % {
            "days": EXPIRY_WARNING_DAYS}, acceptance_counts["expiring"]),
        Figure("acceptances_expired", _("Acceptances expired"), acceptance_counts["expired"],
               note=_("past their date, of risks still open (as listed below)")),
    ]
    charts = []
    if matrix is not None:
        counts = all_heatmap_counts(risks)  # one grouped query for the three maps, as the register's page
        charts = [Chart(f"heatmap_{kind}", title(), heatmap_svg(matrix=matrix, counts=counts[kind], title=title(),
                                                                 link=None))
                  for kind, title in HEATMAP_TITLES]

    top = list(risks.order_by(*RANKING).values(
        "pk", "reference", "title", "status", "treatment", "review_date", *RATING_FIELDS,
        *person_fields("owner"))[:TOP_RISKS])
    tables = [
        top_risks_table(top, matrix),
        overdue_table(overdue, today),
        acceptances_table(agency, today, warn_until),
        mosca_table(agency, matrix, today),
    ]
    shown = Q(pk__in=[row["pk"] for row in top]) | Q(pk__in=overdue.values("pk")) | Q(
        pk__in=acceptances_shown(agency).values("risk_id"))
    evidence = evidence_of(Risk.objects.filter(Q(agency=agency) & shown), context)
    return SectionData(
        key="risks", title=_("Risk posture"),
        intro=_("The agency's risk register as of %(day)s: open risks by rating, the three heat maps, the highest "
                "risks, reviews overdue, risk acceptances and when they end, and each asset's exposure under Mosca's "
                "inequality (x + y > z).") % {"day": today.isoformat()},
        figures=figures, charts=charts, tables=tables, evidence=evidence)


def top_risks_table(rows, matrix) -> ReportTable:
    return ReportTable(
        key="top_risks", title=_("Top risks"),
        columns=[Column("reference", _("Reference")), Column("title", _("Title")), Column("owner", _("Owner")),
                 Column("status", _("Status")), Column("treatment", _("Treatment")), *rating_columns(),
                 Column("review_date", _("Review due"), "date")],
        rows=[{"reference": row["reference"], "title": row["title"], "owner": person_of(row, "owner"),
               "status": str(RiskStatusChoices(row["status"]).label),
               "treatment": str(RiskTreatmentChoices(row["treatment"]).label),
               **rating_values(row, matrix), "review_date": row["review_date"]} for row in rows],
        note=_("The %(n)s highest open risks: by current score, then residual, then inherent.") % {"n": TOP_RISKS},
        empty_text=_("No open risks."))


def overdue_table(overdue, today) -> ReportTable:
    def rows():
        for row in overdue.order_by("review_date", "reference").values(
                "reference", "title", "review_date", *person_fields("owner")).iterator(chunk_size=1000):
            yield {"reference": row["reference"], "title": row["title"], "owner": person_of(row, "owner"),
                   "review_date": row["review_date"], "days_overdue": (today - row["review_date"]).days}

    return ReportTable(
        key="overdue_reviews", title=_("Reviews overdue"),
        columns=[Column("reference", _("Reference")), Column("title", _("Title")), Column("owner", _("Owner")),
                 Column("review_date", _("Review due"), "date"), Column("days_overdue", _("Days overdue"), "number")],
        rows=rows, note=_("Open risks whose review date has passed, longest overdue first."),
        empty_text=_("No review is overdue."))


def acceptances_shown(agency):
    """Acceptances in force (whatever their date: one past it lapses overnight) and those that lapsed
    while their risk is still open."""
    return RiskAcceptance.objects.filter(agency=agency).filter(
        Q(status__in=ACTIVE_ACCEPTANCE_STATES)
        | Q(status=RiskAcceptanceStatusChoices.LAPSED) & ~Q(risk__status=RiskStatusChoices.CLOSED))


def expiry_of(status, valid_until, today, warn_until) -> str:
    if status == RiskAcceptanceStatusChoices.LAPSED or valid_until < today:
        return _("Expired")
    if valid_until <= warn_until:
        return _("Expires within %(days)s days") % {"days": EXPIRY_WARNING_DAYS}
    return _("In force")


def acceptances_table(agency, today, warn_until) -> ReportTable:
    def rows():
        for row in acceptances_shown(agency).order_by("valid_until", "risk__reference", "pk").values(
                "risk__reference", "risk__title", "status", "valid_until", "approved_at",
                *person_fields("approved_by")).iterator(chunk_size=1000):
            yield {"risk": row["risk__reference"], "risk_title": row["risk__title"],
                   "accepted_by": person_of(row, "approved_by"), "approved_at": row["approved_at"],
                   "valid_until": row["valid_until"], "days_left": (row["valid_until"] - today).days,
                   "status": str(RiskAcceptanceStatusChoices(row["status"]).label),
                   "expiry": expiry_of(row["status"], row["valid_until"], today, warn_until)}

    return ReportTable(
        key="acceptances", title=_("Risk acceptances and their expiry"),
        columns=[Column("risk", _("Risk")), Column("risk_title", _("Title")), Column("accepted_by", _("Accepted by")),
                 Column("approved_at", _("Accepted"), "datetime"), Column("valid_until", _("Until"), "date"),
                 Column("days_left", _("Days left"), "number"), Column("status", _("Status")),
                 Column("expiry", _("Expiry"))],
        rows=rows, note=_("Acceptances in force, and those that lapsed while their risk is still open; soonest end "
                          "first."),
        empty_text=_("No risk is accepted."))


def mosca_table(agency, matrix, today) -> ReportTable:
    """Every asset against Mosca's inequality, as the asset list computes it (Asset.exposure)."""
    columns = [Column("asset", _("Asset")), Column("type", _("Type")),
               Column("x", _("Shelf-life x (years)"), "number"), Column("y", _("Migration y (years)"), "number"),
               Column("x_plus_y", _("x + y"), "number"), Column("z", _("z, central (years)"), "number"),
               Column("margin", _("x + y − z (central)"), "number"),
               Column("margin_policy", _("x + y − z (policy)"), "number"),
               Column("exposed", _("Exposed")), Column("years_exposed", _("Years of exposure"), "number"),
               Column("band", _("Urgency"), "band")]
    if matrix is None:
        return ReportTable(key="mosca", title=_("Mosca exposure of assets"), columns=columns, rows=[],
                           empty_text=_("The agency has no risk matrix, so no years to a CRQC to compare with."))

    def rows():
        span = ExpressionWrapper(F("shelf_life_years") + F("migration_years"), output_field=DecimalField())
        for asset in Asset.objects.filter(agency=agency).order_by(span.desc(), "name").iterator(chunk_size=1000):
            exposure = asset.exposure(matrix, today)
            margin = exposure["margin_central"]
            yield {"asset": asset.name, "type": str(AssetTypeChoices(asset.asset_type).label),
                   "x": asset.shelf_life_years, "y": asset.migration_years,
                   "x_plus_y": asset.shelf_life_years + asset.migration_years, "z": matrix.z_central,
                   "margin": margin, "margin_policy": exposure["margin_policy"],
                   "exposed": _("Yes") if exposure["exposed"] else _("No"),
                   "years_exposed": max(margin, Decimal("0.0")), "band": str(exposure["band_label"])}

    return ReportTable(
        key="mosca", title=_("Mosca exposure of assets"), columns=columns, rows=rows,
        note=_("Exposed when shelf-life x plus migration time y exceeds z, the years to a cryptographically relevant "
               "quantum computer (central estimate %(z)s; the policy z counts to the end of %(year)s). Longest x + y "
               "first.") % {"z": matrix.z_central, "year": matrix.policy_deadline_year},
        empty_text=_("No assets are registered."))


def evidence_of(risks, context: ReportContext) -> list[EvidenceReference]:
    """The evidence files of `risks` the report relies on: uploaded by the as-of time and not
    withdrawn by then. Two queries, however many."""
    files = list(EvidenceFile.objects.filter(
        agency=context.agency, content_type=ContentType.objects.get_for_model(Risk),
        object_id__in=risks.values("pk"), uploaded_at__lte=context.as_of).filter(
        Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=context.as_of)).values(
        "object_id", "file_name", "sha256", "uploaded_at"))
    records = {pk: f"{reference} {title}".strip() for pk, reference, title in Risk.objects.filter(
        pk__in={row["object_id"] for row in files}).values_list("pk", "reference", "title")} if files else {}
    references = [EvidenceReference(sha256=row["sha256"], name=row["file_name"], record=records[row["object_id"]],
                                    uploaded=row["uploaded_at"])
                  for row in files if row["object_id"] in records]
    return sorted(references, key=lambda item: (item.record, item.name, item.sha256))
