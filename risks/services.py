"""Risk workflows: default matrices, approving risk acceptances, re-approval after material
changes, and lapsing acceptances."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qgov.choices import RoleChoices
from qgov.models import Membership
from qgov.roles import Action
from qgov.services import notify, require
from risks.choices import RiskAcceptanceStatusChoices, RiskStatusChoices
from risks.models import Risk, RiskAcceptance, RiskMatrix


def risk_matrix_ensure(agency) -> RiskMatrix:
    """Every agency rates on a matrix; a new agency starts with the 5 × 5 default."""
    matrix = RiskMatrix.objects.filter(agency=agency).first()
    if matrix is None:
        matrix = RiskMatrix(agency=agency, **RiskMatrix.defaults(5))
        matrix.full_clean()
        matrix.save()
    return matrix


def _is_agency_admin(user, agency_id) -> bool:
    return user.is_superuser or Membership.objects.filter(
        user=user, agency_id=agency_id, role=RoleChoices.ADMIN).exists()


@transaction.atomic
def acceptance_approve(*, acceptance: RiskAcceptance, user) -> RiskAcceptance:
    """An agency admin other than the requester accepts the risk until `valid_until`."""
    acceptance = RiskAcceptance.objects.restrict(user, Action.VIEW).select_for_update().filter(
        pk=acceptance.pk).first()
    if acceptance is None:
        raise PermissionDenied(_("You do not have permission to do this."))
    require(user, acceptance.agency_id, Action.CHANGE, RiskAcceptance)
    if not _is_agency_admin(user, acceptance.agency_id):
        raise PermissionDenied(_("Only an agency admin may approve a risk acceptance."))
    if acceptance.requested_by_id == user.pk:
        raise ValidationError({"approved_by": _("The approver must be someone other than the requester.")})
    if acceptance.status not in (RiskAcceptanceStatusChoices.REQUESTED,
                                 RiskAcceptanceStatusChoices.REAPPROVAL_REQUIRED):
        raise ValidationError({"status": _("Only requested acceptances, or those awaiting re-approval, can be "
                                           "approved; this one is %(status)s.")
                                         % {"status": acceptance.get_status_display().lower()}})
    if acceptance.valid_until <= timezone.localdate():
        raise ValidationError({"valid_until": _("This acceptance has already expired; request a new one.")})
    risk = Risk.objects.select_for_update().get(pk=acceptance.risk_id)
    acceptance.status = RiskAcceptanceStatusChoices.APPROVED
    acceptance.approved_by = user
    acceptance.approved_at = timezone.now()
    acceptance.residual_score_at_decision = risk.residual_score or risk.rating_score
    band = risk.matrix.band_for(acceptance.residual_score_at_decision)
    acceptance.rating_at_decision = band["name"] if band else ""
    acceptance.save()
    risk.status = RiskStatusChoices.ACCEPTED
    risk.treatment = "accept"
    risk.status_note = _("Accepted by %(user)s until %(date)s.") % {
        "user": user.get_username(), "date": acceptance.valid_until.isoformat()}
    # Saving through the model skips after_update: this change is the decision itself.
    risk.save()
    people = {acceptance.requested_by}
    if risk.owner:
        people.add(risk.owner)
    notify(users=list(people), agency=risk.agency,
           title=_("Risk %(ref)s accepted until %(date)s") % {"ref": risk.reference,
                                                              "date": acceptance.valid_until.isoformat()},
           url=risk.get_absolute_url())
    return acceptance


def acceptances_require_reapproval(*, risk: Risk, changed: set) -> int:
    """After a material change, approved acceptances of the risk must be decided again."""
    count = 0
    for acceptance in risk.acceptances.select_for_update().filter(status=RiskAcceptanceStatusChoices.APPROVED):
        acceptance.status = RiskAcceptanceStatusChoices.REAPPROVAL_REQUIRED
        acceptance.save()
        count += 1
    if count:
        admins = [m.user for m in Membership.objects.filter(agency_id=risk.agency_id, role=RoleChoices.ADMIN)
                  .select_related("user")]
        notify(users=admins, agency=risk.agency,
               title=_("Risk %(ref)s changed: its acceptance needs re-approval") % {"ref": risk.reference},
               body=_("Changed: %(fields)s") % {"fields": ", ".join(sorted(changed))},
               url=risk.get_absolute_url())
    return count


@transaction.atomic
def acceptances_lapse(*, today=None) -> int:
    """Acceptances past their date lapse; their risks reopen, with the reason, and owners are told."""
    today = today or timezone.localdate()
    lapsed = 0
    due = (RiskAcceptance.objects.select_for_update(of=("self",))
           .filter(status__in=[RiskAcceptanceStatusChoices.APPROVED, RiskAcceptanceStatusChoices.REAPPROVAL_REQUIRED],
                   valid_until__lt=today)
           .select_related("risk", "risk__owner", "requested_by", "agency"))
    for acceptance in due:
        acceptance.status = RiskAcceptanceStatusChoices.LAPSED
        acceptance.save()
        risk = acceptance.risk
        if risk.status == RiskStatusChoices.ACCEPTED:
            risk.status = RiskStatusChoices.ASSESSED
        risk.status_note = _("Reopened on %(today)s: the risk acceptance valid until %(until)s lapsed.") % {
            "today": today.isoformat(), "until": acceptance.valid_until.isoformat()}
        risk.save()
        notify(users=[risk.owner or acceptance.requested_by], agency=acceptance.agency,
               title=_("Risk %(ref)s reopened: its acceptance lapsed") % {"ref": risk.reference},
               body=risk.status_note, url=risk.get_absolute_url())
        lapsed += 1
    return lapsed
