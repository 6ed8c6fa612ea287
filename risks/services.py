"""Risk workflows: default matrices, lapsing acceptances, the agency an import writes to. The
acceptance decisions themselves are lifecycle transitions (risks/lifecycles.py)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qgov.services import object_transition
from risks.choices import RiskAcceptanceStatusChoices
from risks.models import RiskAcceptance, RiskMatrix


def risk_matrix_ensure(agency) -> RiskMatrix:
    """Every agency rates on a matrix; a new agency starts with the 5 × 5 default."""
    matrix = RiskMatrix.objects.filter(agency=agency).first()
    if matrix is None:
        matrix = RiskMatrix(agency=agency, **RiskMatrix.defaults(5))
        matrix.full_clean()
        matrix.save()
    return matrix


@transaction.atomic
def acceptances_lapse(*, today=None) -> int:
    """Acceptances past their date lapse; their risks reopen, with the reason, and owners are told."""
    today = today or timezone.localdate()
    due = RiskAcceptance.objects.filter(
        status__in=[RiskAcceptanceStatusChoices.APPROVED, RiskAcceptanceStatusChoices.REAPPROVAL_REQUIRED],
        valid_until__lt=today).order_by("pk")
    lapsed = 0
    for acceptance in due:
        object_transition(instance=acceptance, name="lapse", system=True, reason=_(
            "Reopened on %(today)s: the risk acceptance valid until %(until)s lapsed.") % {
            "today": today.isoformat(), "until": acceptance.valid_until.isoformat()})
        lapsed += 1
    return lapsed
