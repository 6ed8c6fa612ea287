import django_tables2 as tables
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from qgov.tables import BadgeColumn, QgovTable
from risks.models import Asset, Control, Risk, RiskAcceptance, RiskMatrix, ThreatVector


def _exposure_badge(record, table):
    exposure = record.exposure(table.matrix)
    return exposure["band_label"], exposure["colour"]


def _rating_badge(record, table):
    band = table.matrix.band_for(record.rating_score) if table.matrix else None
    return f"{record.rating} ({record.rating_score})", band["colour"] if band else None


class ThreatVectorTable(QgovTable):
    code = tables.Column(linkify=True)

    class Meta(QgovTable.Meta):
        model = ThreatVector
        fields = ("code", "title", "category", "default_likelihood", "default_impact")


class RiskMatrixTable(QgovTable):
    name = tables.Column(linkify=True)

    class Meta(QgovTable.Meta):
        model = RiskMatrix
        fields = ("name", "size", "z_optimistic", "z_central", "z_policy", "agency")


class AssetTable(QgovTable):
    """With the Mosca columns: margin x + y − z (central) and the urgency band."""

    name = tables.Column(linkify=True)
    margin = tables.Column(empty_values=(), orderable=False, verbose_name=_("x + y − z"))
    exposure = BadgeColumn(_exposure_badge, orderable=False, verbose_name=_("Quantum exposure"))

    class Meta(QgovTable.Meta):
        model = Asset
        fields = ("name", "asset_type", "criticality", "owner", "shelf_life_years", "migration_years", "harvestable",
                  "margin", "exposure")

    def __init__(self, *args, matrix=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.matrix = matrix

    def render_margin(self, record):
        margin = record.exposure(self.matrix)["margin_central"]
        return f"{margin:+.1f}"


class ControlTable(QgovTable):
    title = tables.Column(linkify=True)

    class Meta(QgovTable.Meta):
        model = Control
        fields = ("title", "control_type", "status", "effectiveness", "owner", "due_date")


class RiskTable(QgovTable):
    reference = tables.Column(linkify=True)
    title = tables.Column(linkify=True)
    rating = BadgeColumn(_rating_badge, order_by=("rating_score",))
    threat_vectors = tables.Column(empty_values=(), orderable=False, verbose_name=_("Threats"))
    review_date = tables.DateColumn(format="Y-m-d")

    class Meta(QgovTable.Meta):
        model = Risk
        fields = ("reference", "title", "rating", "inherent_score", "residual_score", "threat_vectors", "status",
                  "treatment", "owner", "review_date")

    def __init__(self, *args, matrix=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.matrix = matrix

    def value_rating(self, record):
        return record.rating  # exports give the band; the score has its own column

    def render_threat_vectors(self, record):
        return format_html_join(" ", '<span class="badge text-bg-light border" title="{}">{}</span>',
                                ((tv.title, tv.code) for tv in record.threat_vectors.all()))

    def value_threat_vectors(self, record):
        return "; ".join(tv.code for tv in record.threat_vectors.all())

    def render_review_date(self, record, value):
        if value is None:
            return "—"
        if record.is_overdue:
            return format_html('<span class="text-danger fw-semibold">{} · {}</span>', f"{value:%Y-%m-%d}",
                               _("overdue"))
        return f"{value:%Y-%m-%d}"


class RiskAcceptanceTable(QgovTable):
    risk = tables.Column(linkify=lambda record: record.get_absolute_url())

    class Meta(QgovTable.Meta):
        model = RiskAcceptance
        fields = ("risk", "status", "valid_until", "requested_by", "approved_by", "rating_at_decision")
