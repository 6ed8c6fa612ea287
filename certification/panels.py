"""Dashboard panels of certification."""

from django.utils.translation import gettext_lazy as _

from certification.choices import COMPLIANCE_COLOURS, ComplianceChoices
from certification.models import Device
from certification.selectors import compliance_summary
from certification.tables import theme_colour
from qgov.dashboard import Panel
from qgov.permissions import user_can
from qgov.roles import Action


def _compliance(request, agency):
    if not user_can(request.user, agency.pk, Action.VIEW, Device):
        return None
    summary = compliance_summary(agency=agency)
    rows = [(_("Devices"), summary["devices"]), (_("Personnel"), summary["people"])]
    return {
        "rows": [(label, [(value, choice_label, counts.get(value, 0), theme_colour(COMPLIANCE_COLOURS[value]))
                          for value, choice_label in ComplianceChoices.choices])
                 for label, counts in rows],
        "expiring": len(summary["expiring_certifications"]) + len(summary["expiring_accreditations"]),
        "days": summary["days"],
    }


COMPLIANCE_PANEL = Panel(title=_("Certification compliance"), template="certification/panels/compliance.html",
                         context=_compliance, order=30)
