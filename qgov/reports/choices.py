from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportKindChoices(models.TextChoices):
    COMPLIANCE = "compliance", _("Compliance report")
    SUNSET_REVIEW = "sunset_review", _("Sunset-review report")
    RISK_REGISTER = "risk_register", _("Risk register")
    TRANSPARENCY = "transparency", _("Public transparency summary")


class ReportFormatChoices(models.TextChoices):
    PDF = "pdf", _("PDF (signed, PDF/A-3b)")
    CSV = "csv", _("CSV")
    JSON = "json", _("JSON")
    OSCAL = "oscal", _("OSCAL POA&M (JSON)")


class ReportMarkingChoices(models.TextChoices):
    """The handling marking printed at the top and bottom of every page."""

    OFFICIAL = "OFFICIAL", "OFFICIAL"
    OFFICIAL_SENSITIVE = "OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE"
    TLP_CLEAR = "TLP:CLEAR", "TLP:CLEAR"
    TLP_GREEN = "TLP:GREEN", "TLP:GREEN"
    TLP_AMBER = "TLP:AMBER", "TLP:AMBER"
    TLP_AMBER_STRICT = "TLP:AMBER+STRICT", "TLP:AMBER+STRICT"
    TLP_RED = "TLP:RED", "TLP:RED"


class PageSizeChoices(models.TextChoices):
    A4 = "A4", "A4"
    LETTER = "Letter", _("US Letter")


class ScheduleFrequencyChoices(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
