from django.db import models
from django.utils.translation import gettext_lazy as _


class SchemeKindChoices(models.TextChoices):
    DEVICE = "device", _("Device")
    PERSONNEL = "personnel", _("Personnel")


class SchemeValidityRuleChoices(models.TextChoices):
    """How a scheme bounds the life of its certificates; the default expiry of a new certification."""

    FIXED = "fixed", _("Expires a fixed time after issue")  # CMVP: active list for 5 years
    MAXIMUM = "maximum", _("Valid at most a fixed time")  # EUCC: at most 5 years, the certificate may say less
    REVIEW = "review", _("No expiry; review after a time")  # CCRA: no fixed expiry, archived after ~5 years
    PER_CERTIFICATE = "per_certificate", _("Each certificate states its own date")  # clearances: review dates vary


class DeviceKindChoices(models.TextChoices):
    QKD_TRANSMITTER = "qkd_transmitter", _("QKD transmitter")
    QKD_RECEIVER = "qkd_receiver", _("QKD receiver")
    TRUSTED_NODE = "trusted_node", _("Trusted node")
    KEY_MANAGEMENT = "key_management", _("Key management entity")
    QRNG = "qrng", _("Quantum random number generator")
    PQC_HSM = "pqc_hsm", _("PQC hardware security module")
    ENCRYPTOR = "encryptor", _("Encryptor")
    OTHER = "other", _("Other")


class DeviceStatusChoices(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_SERVICE = "in_service", _("In service")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DISPOSED = "disposed", _("Disposed")


class CertificationStatusChoices(models.TextChoices):
    """Shared by device certifications and personnel accreditations."""

    PENDING = "pending", _("Pending")
    VALID = "valid", _("Valid")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


class PersonnelRoleChoices(models.TextChoices):
    QKD_OPERATOR = "qkd_operator", _("QKD operator")
    KEY_CUSTODIAN = "key_custodian", _("Key custodian")
    SECURITY_OFFICER = "security_officer", _("Security officer")
    AUDITOR = "auditor", _("Auditor")
    INCIDENT_RESPONDER = "incident_responder", _("Incident responder")
    ADMINISTRATOR = "administrator", _("System administrator")
    OTHER = "other", _("Other")


class ComplianceChoices(models.TextChoices):
    COMPLIANT = "compliant", _("Compliant")
    EXPIRING = "expiring", _("Expiring soon")
    NON_COMPLIANT = "non_compliant", _("Non-compliant")
    NOT_REQUIRED = "not_required", _("Nothing required")


COMPLIANCE_COLOURS = {
    ComplianceChoices.COMPLIANT: "success",
    ComplianceChoices.EXPIRING: "warning",
    ComplianceChoices.NON_COMPLIANT: "danger",
    ComplianceChoices.NOT_REQUIRED: "secondary",
}


class ComplianceReasonChoices(models.TextChoices):
    MISSING = "missing", _("No certificate under a required scheme")
    LEVEL_TOO_LOW = "level_too_low", _("Level below the required minimum")
    PENDING = "pending", _("Certificate still pending")
    EXPIRED = "expired", _("Certificate expired")
    SUSPENDED = "suspended", _("Certificate suspended")
    REVOKED = "revoked", _("Certificate revoked")
    FIRMWARE_MISMATCH = "firmware_mismatch", _("Firmware not covered by the certificate")
    NOT_RECOGNISED = "not_recognised", _("Certificate not recognised in this jurisdiction at this level")
    EXPIRING = "expiring", _("Certificate expires within the warning window")


# The role-table action (registered in certification/app.py) that sets an agency's required schemes.
MANAGE_REQUIREMENTS = "manage_requirements"
