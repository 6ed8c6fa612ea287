from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents import deadlines

# Playbook templates are platform reference data; an agency's admins adapt their own copies.
MANAGE_PLAYBOOKS = "manage_playbooks"


class IncidentTypeChoices(models.TextChoices):
    KEY_COMPROMISE = "key_compromise", _("Key compromise")
    EAVESDROPPING = "eavesdropping", _("Eavesdropping (QBER anomaly)")
    TRUSTED_NODE_BREACH = "trusted_node_breach", _("Trusted node breach")
    DEVICE_TAMPERING = "device_tampering", _("Device tampering")
    MALICIOUS_FIRMWARE = "malicious_firmware", _("Malicious firmware")
    PQC_BREAK = "pqc_break", _("PQC algorithm break")
    AUTH_KEY_COMPROMISE = "auth_key_compromise", _("Authentication key compromise")
    KEY_DELIVERY_API_BREACH = "key_delivery_api_breach", _("Key delivery API breach")
    OTHER = "other", _("Other")


class SeverityChoices(models.IntegerChoices):
    """1 is the most severe; 1 and 2 alert the agency's admins at once."""

    CRITICAL = 1, _("1 – Critical")
    HIGH = 2, _("2 – High")
    MEDIUM = 3, _("3 – Medium")
    LOW = 4, _("4 – Low")


# Severities that alert the agency's admins as soon as they are recorded.
ALERT_SEVERITIES = frozenset({SeverityChoices.CRITICAL, SeverityChoices.HIGH})

SEVERITY_COLOURS = {1: "danger", 2: "warning", 3: "info", 4: "secondary"}


class IncidentStatusChoices(models.TextChoices):
    REPORTED = "reported", _("Reported")
    TRIAGE = "triage", _("Triage")
    CONTAINED = "contained", _("Contained")
    ERADICATED = "eradicated", _("Eradicated")
    RECOVERED = "recovered", _("Recovered")
    CLOSED = "closed", _("Closed")


class MarkingChoices(models.TextChoices):
    """FIRST Traffic Light Protocol 2.0 labels: who the record may be shared with."""

    CLEAR = "TLP:CLEAR", "TLP:CLEAR"
    GREEN = "TLP:GREEN", "TLP:GREEN"
    AMBER = "TLP:AMBER", "TLP:AMBER"
    AMBER_STRICT = "TLP:AMBER+STRICT", "TLP:AMBER+STRICT"
    RED = "TLP:RED", "TLP:RED"


MARKING_COLOURS = {
    MarkingChoices.CLEAR: "light", MarkingChoices.GREEN: "success", MarkingChoices.AMBER: "warning",
    MarkingChoices.AMBER_STRICT: "warning", MarkingChoices.RED: "danger",
}


class PhaseChoices(models.TextChoices):
    """Playbook phases. The mapping to NIST SP 800-61 Rev. 3, which organises response by the CSF 2.0
    functions: detect -> DE.AE (adverse event analysis) and RS.MA/RS.AN (incident management and
    analysis); contain -> RS.MI (mitigation: containment); recover -> RS.MI (eradication) and RC.RP
    (recovery plan execution); forensics -> RS.AN (analysis, incl. RS.AN-07 data and metadata
    preservation); review -> ID.IM (improvement: lessons learned)."""

    DETECT = "detect", _("Detect & analyse")
    CONTAIN = "contain", _("Contain")
    RECOVER = "recover", _("Eradicate & recover")
    FORENSICS = "forensics", _("Forensics")
    REVIEW = "review", _("Post-incident review")


PHASE_CSF = {
    PhaseChoices.DETECT: "DE.AE, RS.MA, RS.AN",
    PhaseChoices.CONTAIN: "RS.MI",
    PhaseChoices.RECOVER: "RS.MI, RC.RP",
    PhaseChoices.FORENSICS: "RS.AN",
    PhaseChoices.REVIEW: "ID.IM",
}


# --- regulator clocks, timeline and key actions ---------------------------------------------------
# Which regimes an agency reports under is its admins' decision.
MANAGE_REGIMES = "manage_regimes"


class RegulatorClockStartChoices(models.TextChoices):
    AWARENESS = deadlines.AWARENESS, _("Awareness (detected at)")
    CLASSIFICATION = deadlines.CLASSIFICATION, _("Classification (classified at)")
    EARLIEST = deadlines.EARLIEST, _("Earlier of: hours after classification, awareness hours after awareness")
    AFTER_CLOCK = deadlines.AFTER_CLOCK, _("After another clock's notification")


class TimelineEntryKindChoices(models.TextChoices):
    NOTE = "note", _("Note")
    LIFECYCLE = "lifecycle", _("Status change")
    STEP = "step", _("Checklist step")
    KEY_ACTION = "key_action", _("Key action")
    NOTIFICATION = "notification", _("Regulator notification")


class KeyActionChoices(models.TextChoices):
    """What was done to the keys (SP 800-57 key states: suspended, compromised/revoked, destroyed)."""

    SUSPEND = "suspend", _("Suspend")
    REVOKE = "revoke", _("Revoke (declare compromised)")
    ROTATE = "rotate", _("Rotate (re-key)")
    PURGE = "purge", _("Purge (destroy in the key stores)")


class KeyDeviationChoices(models.TextChoices):
    """Deviations of a key management entity from ETSI GS QKD 014 V1.1.1 seen in the incident."""

    UNNAMED_SAE = "unnamed_sae", _("Key delivered to an SAE not named in the request")
    KEY_REUSE = "key_reuse", _("key_ID delivered twice, or dec_keys served for a consumed key_ID")
    KEY_SIZE = "key_size", _("Key size outside the announced minimum/maximum")
    EXTENSION_IGNORED = "extension_ignored", _("Mandatory extension ignored instead of rejected")
    STATUS_MISREPORT = "status_misreport", _("Status misreports the key stock (buffer exhaustion masked)")
    AUTH_MISMATCH = "auth_mismatch", _("Access without mutual TLS, or certificate / SAE ID mismatch")
    UNMARKED_FALLBACK = "unmarked_fallback", _("Fallback (non-QKD) keys delivered without marking")
