import django_tables2 as tables
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from qgov.exports import ExportColumn
from qgov.tables import BadgeColumn, QgovTable
from risks.choices import RiskAcceptanceStatusChoices
from risks.models import Asset, Control, Risk, RiskAcceptance, RiskMatrix, ThreatVector


def _exposure_badge(record, table):
    if table.matrix is None:
        return None  # no matrix, no z to compare with: "—"
    exposure = record.exposure(table.matrix)
    return exposure["band_label"], exposure["colour"]


def _rating_badge(record, table):
    band = table.matrix.band_for(record.rating_score) if table.matrix else None
    return f"{record.rating} ({record.rating_score})", band["colour"] if band else None


def _margin(record, table):
    return record.exposure(table.matrix)["margin_central"] if table.matrix else None


def _exposure_band(record, table):
    return record.exposure(table.matrix)["band_label"] if table.matrix else None


def _latest_acceptance(field):
    """The value of `field` of the risk's most recent acceptance, as a subquery."""
    return Subquery(RiskAcceptance.objects.filter(risk=OuterRef("pk")).order_by("-pk").values(field)[:1])


class ThreatVectorTable(QgovTable):
    code = tables.Column(linkify=True)

    class Meta(QgovTable.Meta):
        model = ThreatVector
        fields = ("code", "title", "category", "default_likelihood", "default_impact")

    export_columns = (
        ExportColumn("code"), ExportColumn("title"), ExportColumn("category"), ExportColumn("description"),
        ExportColumn("default_likelihood"), ExportColumn("default_impact"), ExportColumn("rationale"),
        ExportColumn("citations"),
    )


class RiskMatrixTable(QgovTable):
    name = tables.Column(linkify=True)

    class Meta(QgovTable.Meta):
        model = RiskMatrix
        fields = ("name", "size", "z_optimistic", "z_central", "policy_deadline_year", "agency")

    export_columns = (
        ExportColumn("agency__code"), ExportColumn("name"), ExportColumn("size"), ExportColumn("z_optimistic"),
        ExportColumn("z_central"), ExportColumn("policy_deadline_year"), ExportColumn("last_updated"),
    )


class AssetTable(QgovTable):
    """With the Mosca columns: margin x + y − z (central) and the urgency band."""

    name = tables.Column(linkify=True)
    margin = tables.Column(empty_values=(), orderable=False, verbose_name=_("x + y − z"), attrs={"th": {"title": _(
        "Margin in years: shelf-life x plus migration time y minus z, the central estimate of the years until a "
        "CRQC (cryptographically relevant quantum computer). Positive: exposed.")}})
    exposure = BadgeColumn(_exposure_badge, orderable=False, verbose_name=_("Quantum exposure"))

    class Meta(QgovTable.Meta):
        model = Asset
        fields = ("name", "asset_type", "criticality", "owner", "shelf_life_years", "migration_years", "harvestable",
                  "margin", "exposure")

    export_columns = (
        ExportColumn("name"), ExportColumn("asset_type"), ExportColumn("description"), ExportColumn("criticality"),
        ExportColumn("owner"), ExportColumn("shelf_life_years"), ExportColumn("migration_years"),
        ExportColumn("harvestable"), ExportColumn(header=_("x + y − z"), value=_margin),
        ExportColumn(header=_("Quantum exposure"), value=_exposure_band),
    )

    def __init__(self, *args, matrix=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.matrix = matrix

    def render_margin(self, record):
        if self.matrix is None:
            return format_html('<span class="text-muted" title="{}">—</span>',
                               _("The agency has no risk matrix, so no years to a CRQC to compare with."))
        margin = record.exposure(self.matrix)["margin_central"]
        return f"{margin:+.1f}"


class ControlTable(QgovTable):
    title = tables.Column(linkify=True)

    class Meta(QgovTable.Meta):
        model = Control
        fields = ("title", "control_type", "status", "effectiveness", "owner", "due_date")

    export_columns = (
        ExportColumn("title"), ExportColumn("description"), ExportColumn("control_type"), ExportColumn("status"),
        ExportColumn("effectiveness"), ExportColumn("owner"), ExportColumn("due_date"),
    )


class RiskTable(QgovTable):
    reference = tables.Column(linkify=True)
    title = tables.Column(linkify=True)
    rating = BadgeColumn(_rating_badge, order_by=("rating_score",), verbose_name=_("Current rating"))
    threat_vectors = tables.Column(empty_values=(), orderable=False, verbose_name=_("Threats"))
    review_date = tables.DateColumn(format="Y-m-d")

    class Meta(QgovTable.Meta):
        model = Risk
        fields = ("reference", "title", "rating", "inherent_score", "residual_score", "threat_vectors", "status",
                  "treatment", "owner", "review_date")

    related_values = {"threat_vectors": ("code", "title")}
    export_columns = (
        ExportColumn("reference"), ExportColumn("title"), ExportColumn("description"),
        ExportColumn("threat_vectors__code"), ExportColumn("assets__name"), ExportColumn("controls__title"),
        ExportColumn("inherent_likelihood"), ExportColumn("inherent_impact"), ExportColumn("inherent_score"),
        ExportColumn("current_likelihood"), ExportColumn("current_impact"),
        ExportColumn("rating", _("Current rating")), ExportColumn("rating_score", _("Current score")),
        ExportColumn("residual_likelihood"), ExportColumn("residual_impact"), ExportColumn("residual_score"),
        ExportColumn("status"), ExportColumn("treatment"), ExportColumn("owner__username"),
        ExportColumn("review_date"),
        ExportColumn("acceptance_status", _("Acceptance"), annotate=_latest_acceptance("status"),
                     choices=RiskAcceptanceStatusChoices.choices),
        ExportColumn("acceptance_valid_until", _("Acceptance valid until"), annotate=_latest_acceptance("valid_until")),
    )

    def __init__(self, *args, matrix=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.matrix = matrix

    @cached_property
    def today(self):
        return timezone.localdate()  # once per table, not once per row

    def render_threat_vectors(self, record):
        # As format_html_join(" ", '<span …title="{}">{}</span>', …) writes it, a fifth of the cost.
        return mark_safe(" ".join(  # noqa: S308 — the title and code are escaped
            f'<span class="badge text-bg-light border" title="{escape(title)}">{escape(code)}</span>'
            for code, title in self.related_values_of(record, "threat_vectors")))

    def render_review_date(self, record, value):
        if value is None:
            return "—"
        if record.overdue_on(self.today):
            return format_html('<span class="text-danger fw-semibold">{} · {}</span>', f"{value:%Y-%m-%d}",
                               _("overdue"))
        return f"{value:%Y-%m-%d}"


class RiskAcceptanceTable(QgovTable):
    risk = tables.Column(linkify=lambda record: record.get_absolute_url())

    class Meta(QgovTable.Meta):
        model = RiskAcceptance
        fields = ("risk", "status", "valid_until", "requested_by", "approved_by", "rating_at_decision")

    export_columns = (
        ExportColumn("risk__reference"), ExportColumn("risk__title", _("Risk title")), ExportColumn("status"),
        ExportColumn("rationale"), ExportColumn("valid_until"), ExportColumn("requested_by"),
        ExportColumn("approved_by"), ExportColumn("approved_at"), ExportColumn("decision_note"),
        ExportColumn("residual_score_at_decision"), ExportColumn("rating_at_decision"), ExportColumn("created"),
    )
