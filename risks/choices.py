from django.db import models
from django.utils.translation import gettext_lazy as _


class ThreatVectorCategoryChoices(models.TextChoices):
    CRYPTANALYTIC = "cryptanalytic", _("Cryptanalytic")
    QKD_IMPLEMENTATION = "qkd_implementation", _("QKD implementation")
    QKD_OPERATIONAL = "qkd_operational", _("QKD operational")
    SUPPLY_CHAIN = "supply_chain", _("Supply chain")
    PQC_MIGRATION = "pqc_migration", _("PQC migration")


class RiskMatrixSizeChoices(models.IntegerChoices):
    THREE = 3, _("3 × 3")
    FOUR = 4, _("4 × 4")
    FIVE = 5, _("5 × 5")


class AssetTypeChoices(models.TextChoices):
    QKD_LINK = "qkd_link", _("QKD link")
    TRUSTED_NODE = "trusted_node", _("Trusted node")
    KEY_MANAGEMENT = "key_management", _("Key management system")
    NETWORK_SEGMENT = "network_segment", _("Network segment")
    SYSTEM = "system", _("System")
    DATA_SET = "data_set", _("Data set")


class AssetProtectsChoices(models.TextChoices):
    """What the asset's cryptography protects: harvest-now-decrypt-later threatens confidentiality;
    signatures and authentication cannot be recorded today and broken later to any gain."""

    CONFIDENTIALITY = "confidentiality", _("Confidentiality (and integrity)")
    INTEGRITY = "integrity", _("Integrity only (signatures, authentication)")


class AssetCriticalityChoices(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class MoscaBandChoices(models.TextChoices):
    """Urgency bands of the Mosca gap x + y − z (years); see risks.mosca."""

    LOW = "low", _("Low")
    MODERATE = "moderate", _("Moderate")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


MOSCA_BAND_COLOURS = {
    MoscaBandChoices.LOW: "#2e7d32",
    MoscaBandChoices.MODERATE: "#f9a825",
    MoscaBandChoices.HIGH: "#ef6c00",
    MoscaBandChoices.CRITICAL: "#c62828",
}


class RiskTreatmentChoices(models.TextChoices):
    MITIGATE = "mitigate", _("Mitigate")
    ACCEPT = "accept", _("Accept")
    TRANSFER = "transfer", _("Transfer")
    AVOID = "avoid", _("Avoid")


class RiskStatusChoices(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ASSESSED = "assessed", _("Assessed")
    IN_TREATMENT = "in_treatment", _("In treatment")
    ACCEPTED = "accepted", _("Accepted")
    CLOSED = "closed", _("Closed")


class ControlTypeChoices(models.TextChoices):
    PREVENTIVE = "preventive", _("Preventive")
    DETECTIVE = "detective", _("Detective")
    CORRECTIVE = "corrective", _("Corrective")
    DIRECTIVE = "directive", _("Directive")


class ControlStatusChoices(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    IMPLEMENTED = "implemented", _("Implemented")
    RETIRED = "retired", _("Retired")


class ControlEffectivenessChoices(models.TextChoices):
    NOT_ASSESSED = "not_assessed", _("Not assessed")
    INEFFECTIVE = "ineffective", _("Ineffective")
    PARTIAL = "partial", _("Partially effective")
    EFFECTIVE = "effective", _("Effective")


class RiskAcceptanceStatusChoices(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    REAPPROVAL_REQUIRED = "reapproval_required", _("Re-approval required")
    LAPSED = "lapsed", _("Lapsed")


# Default rating bands per matrix size: (name, lowest score, colour). Scores are likelihood × impact.
DEFAULT_BANDS = {
    3: [("Low", 1, "#2e7d32"), ("Medium", 3, "#f9a825"), ("High", 6, "#c62828")],
    4: [("Low", 1, "#2e7d32"), ("Medium", 4, "#f9a825"), ("High", 8, "#ef6c00"), ("Critical", 12, "#c62828")],
    5: [("Low", 1, "#2e7d32"), ("Medium", 5, "#f9a825"), ("High", 10, "#ef6c00"), ("Critical", 17, "#c62828")],
}
DEFAULT_LIKELIHOOD_LABELS = {
    3: ["Unlikely", "Possible", "Likely"],
    4: ["Rare", "Unlikely", "Likely", "Almost certain"],
    5: ["Rare", "Unlikely", "Possible", "Likely", "Almost certain"],
}
DEFAULT_IMPACT_LABELS = {
    3: ["Minor", "Moderate", "Severe"],
    4: ["Minor", "Moderate", "Major", "Severe"],
    5: ["Negligible", "Minor", "Moderate", "Major", "Severe"],
}
