"""Choices of the regulator clocks, timeline and key actions (kept apart from incidents/choices.py,
which holds the incident's own)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents import deadlines

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
