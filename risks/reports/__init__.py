"""The risk register's section of the reports (qgov.reports): its builder per report kind, the
register report's filters, and the open risks as POA&M findings. Declared in risks.app."""

from django.utils.translation import gettext_lazy as _

from qgov.reports.choices import ReportKindChoices
from qgov.reports.sections import ReportSection
from risks.reports.compliance import compliance_section
from risks.reports.register import poam_entries, register_section, validate_parameters
from risks.reports.review import sunset_section, transparency_section

RISKS_SECTION = ReportSection(
    key="risks",
    title=_("Risks"),
    order=10,
    builders={
        ReportKindChoices.COMPLIANCE: compliance_section,
        ReportKindChoices.SUNSET_REVIEW: sunset_section,
        ReportKindChoices.RISK_REGISTER: register_section,
        ReportKindChoices.TRANSPARENCY: transparency_section,
    },
    validate_parameters=validate_parameters,
    poam_entries=poam_entries,
)

__all__ = ["RISKS_SECTION", "compliance_section", "poam_entries", "register_section", "sunset_section",
           "transparency_section", "validate_parameters"]
