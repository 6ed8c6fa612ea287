import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from certification.tables import theme_colour
from procurement.choices import (
    AuthenticityResultChoices,
    ContractStatusChoices,
    ReviewOutcomeChoices,
    ReviewStatusChoices,
    SupplierStatusChoices,
)
from procurement.models import (
    Component,
    Contract,
    CryptoPolicy,
    CryptoPolicyAdoption,
    DueDiligenceAnswer,
    DueDiligenceReview,
    Questionnaire,
    Supplier,
)
from qgov.exports import ExportColumn
from qgov.tables import BadgeColumn, QgovTable

SUPPLIER_STATUS_COLOURS = {
    SupplierStatusChoices.CANDIDATE: "info",
    SupplierStatusChoices.APPROVED: "success",
    SupplierStatusChoices.CONDITIONAL: "warning",
    SupplierStatusChoices.SUSPENDED: "danger",
    SupplierStatusChoices.EXITED: "secondary",
}
OUTCOME_COLOURS = {
    ReviewOutcomeChoices.APPROVE: "success",
    ReviewOutcomeChoices.CONDITIONAL: "warning",
    ReviewOutcomeChoices.REJECT: "danger",
    ReviewOutcomeChoices.ESCALATE: "danger",
}
REVIEW_STATUS_COLOURS = {
    ReviewStatusChoices.DRAFT: "secondary",
    ReviewStatusChoices.SENT: "info",
    ReviewStatusChoices.ANSWERED: "primary",
    ReviewStatusChoices.SUBMITTED: "success",
    ReviewStatusChoices.SUPERSEDED: "dark",
}
CONTRACT_STATUS_COLOURS = {
    ContractStatusChoices.DRAFT: "secondary",
    ContractStatusChoices.ACTIVE: "success",
    ContractStatusChoices.UNDER_REEVALUATION: "info",
    ContractStatusChoices.RENEWED: "success",
    ContractStatusChoices.EXITING: "warning",
    ContractStatusChoices.ENDED: "dark",
}
AUTHENTICITY_COLOURS = {
    AuthenticityResultChoices.NOT_CHECKED: "secondary",
    AuthenticityResultChoices.VERIFIED: "success",
    AuthenticityResultChoices.FAILED: "danger",
}


def status_badge(colours, field="status"):
    def badge(record, table):
        value = getattr(record, field)
        if not value:
            return None
        return getattr(record, f"get_{field}_display")(), theme_colour(colours.get(value))
    return badge


def _rating(record, table):
    if record.rating_score is None:
        return None
    return f"{record.rating_score} · {record.get_rating_outcome_display()}", theme_colour(
        OUTCOME_COLOURS.get(record.rating_outcome))


def _vulnerable(record, table):
    return (_("Quantum-vulnerable"), theme_colour("danger")) if record.quantum_vulnerable else None


class QuestionnaireTable(QgovTable):
    code = tables.Column(linkify=True)

    class Meta(QgovTable.Meta):
        model = Questionnaire
        fields = ("code", "title", "series", "edition")

    export_columns = (ExportColumn("code"), ExportColumn("title"), ExportColumn("series"), ExportColumn("edition"))


class CryptoPolicyTable(QgovTable):
    code = tables.Column(linkify=True)

    class Meta(QgovTable.Meta):
        model = CryptoPolicy
        fields = ("code", "name", "issuer")

    export_columns = (ExportColumn("code"), ExportColumn("name"), ExportColumn("issuer"),
                      ExportColumn("description"))


class CryptoPolicyAdoptionTable(QgovTable):
    policy = tables.Column(linkify=lambda record: record.get_absolute_url())

    class Meta(QgovTable.Meta):
        model = CryptoPolicyAdoption
        fields = ("policy", "adopted_on", "notes")

    export_columns = (ExportColumn("policy__code"), ExportColumn("policy__name"), ExportColumn("adopted_on"),
                      ExportColumn("notes"))


class SupplierTable(QgovTable):
    name = tables.Column(linkify=True)
    status = BadgeColumn(status_badge(SUPPLIER_STATUS_COLOURS), order_by=("status",))
    rating = BadgeColumn(_rating, order_by=("rating_score",), verbose_name=_("Rating"))

    class Meta(QgovTable.Meta):
        model = Supplier
        fields = ("name", "country", "criticality", "rating", "status", "owner", "rated_on")

    export_columns = (
        ExportColumn("name"), ExportColumn("country"), ExportColumn("criticality"), ExportColumn("status"),
        ExportColumn("rating_score"), ExportColumn("rating_outcome"), ExportColumn("rated_on"),
        ExportColumn("owner__username", _("Owner")), ExportColumn("contact_name"), ExportColumn("contact_email"),
        ExportColumn("beneficial_ownership"), ExportColumn("foreign_control_notes"),
        ExportColumn("export_control_notes"),
    )


class DueDiligenceReviewTable(QgovTable):
    supplier = tables.Column(linkify=lambda record: record.get_absolute_url(), order_by=("supplier__name",))
    status = BadgeColumn(status_badge(REVIEW_STATUS_COLOURS), order_by=("status",))
    outcome = BadgeColumn(status_badge(OUTCOME_COLOURS, "outcome"), order_by=("outcome",))

    class Meta(QgovTable.Meta):
        model = DueDiligenceReview
        fields = ("supplier", "questionnaire", "reviewer", "status", "score", "outcome", "submitted_at",
                  "next_review_due")

    export_columns = (
        ExportColumn("supplier__name"), ExportColumn("questionnaire__code"), ExportColumn("reviewer__username",
                                                                                         _("Reviewer")),
        ExportColumn("status"), ExportColumn("score"), ExportColumn("outcome"), ExportColumn("escalation_reasons"),
        ExportColumn("submitted_at"), ExportColumn("next_review_due"), ExportColumn("conclusion"),
    )


class SupplierReviewTable(DueDiligenceReviewTable):
    """A supplier's reviews on its page: the supplier goes without saying; each row links by its date."""

    started = tables.DateTimeColumn(accessor="created", linkify=lambda record: record.get_absolute_url(),
                                    verbose_name=_("Started"))

    class Meta(DueDiligenceReviewTable.Meta):
        fields = ("started", "questionnaire", "reviewer", "status", "score", "outcome", "submitted_at",
                  "next_review_due")
        exclude = ("supplier",)
        sequence = ("started", "...")


class DueDiligenceAnswerTable(QgovTable):
    question = tables.Column(linkify=True)
    review = tables.Column(linkify=True, order_by=("review__supplier__name",))

    class Meta(QgovTable.Meta):
        model = DueDiligenceAnswer
        fields = ("question", "review", "answer", "comment")

    export_columns = (ExportColumn("review__supplier__name"), ExportColumn("question"), ExportColumn("answer"),
                      ExportColumn("comment"))


class ComponentTable(QgovTable):
    name = tables.Column(linkify=True)
    supplier = tables.Column(linkify=True, order_by=("supplier__name",))
    quantum_vulnerable = BadgeColumn(_vulnerable, order_by=("quantum_vulnerable",),
                                     verbose_name=_("Quantum-vulnerable"))
    authenticity_result = BadgeColumn(status_badge(AUTHENTICITY_COLOURS, "authenticity_result"),
                                      order_by=("authenticity_result",), verbose_name=_("Authenticity"))

    class Meta(QgovTable.Meta):
        model = Component
        fields = ("name", "component_version", "component_type", "supplier", "algorithm", "parameter_set_identifier",
                  "nist_quantum_security_level", "quantum_vulnerable", "policy_deadline", "authenticity_result")

    export_columns = (
        ExportColumn("name"), ExportColumn("component_version"), ExportColumn("component_type"),
        ExportColumn("supplier__name"), ExportColumn("part_number"), ExportColumn("purl"),
        ExportColumn("origin_country"), ExportColumn("firmware_sha256"), ExportColumn("authenticity_method"),
        ExportColumn("authenticity_checked_on"), ExportColumn("authenticity_result"), ExportColumn("device__name"),
        ExportColumn("asset__name"), ExportColumn("crypto_asset_type"), ExportColumn("primitive"),
        ExportColumn("algorithm"), ExportColumn("parameter_set_identifier"),
        ExportColumn("classical_security_level"), ExportColumn("nist_quantum_security_level"),
        ExportColumn("certification_level"), ExportColumn("key_state"), ExportColumn("quantum_vulnerable"),
        ExportColumn("policy_deadline"), ExportColumn("bom_serial"), ExportColumn("bom_version"),
        ExportColumn("bom_ref"),
    )


NOWRAP = {"td": {"class": "text-nowrap"}}  # a date or reference broken over two lines is hard to read


class ContractTable(QgovTable):
    reference = tables.Column(linkify=True, attrs=NOWRAP)
    start = tables.DateColumn(attrs=NOWRAP)
    end = tables.DateColumn(attrs=NOWRAP)
    sunset_date = tables.DateColumn(attrs=NOWRAP)
    next_reevaluation = tables.DateColumn(attrs=NOWRAP)
    supplier = tables.Column(linkify=True, order_by=("supplier__name",))
    status = BadgeColumn(status_badge(CONTRACT_STATUS_COLOURS), order_by=("status",))

    class Meta(QgovTable.Meta):
        model = Contract
        fields = ("reference", "title", "supplier", "status", "start", "end", "sunset_date", "next_reevaluation",
                  "owner")

    export_columns = (
        ExportColumn("reference"), ExportColumn("title"), ExportColumn("supplier__name"), ExportColumn("status"),
        ExportColumn("value"), ExportColumn("currency"), ExportColumn("start"), ExportColumn("end"),
        ExportColumn("sunset_date"), ExportColumn("reevaluation_months"), ExportColumn("next_reevaluation"),
        ExportColumn("open_interfaces"), ExportColumn("devices__name"), ExportColumn("assets__name"),
        ExportColumn("owner__username", _("Owner")), ExportColumn("exit_plan"),
    )
