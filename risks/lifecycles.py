"""The lifecycles of the register: a risk moves from draft to closed and reaches "accepted" only
through an approved acceptance; an acceptance is requested, then approved or rejected, needs
re-approval when it or its risk changes materially, and lapses at its date."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qgov.lifecycle import Lifecycle, Transition
from qgov.permissions import users_who_can
from qgov.roles import Action
from qgov.services import notify, object_transition
from risks.choices import RiskAcceptanceStatusChoices as AcceptanceState
from risks.choices import RiskStatusChoices as RiskState
from risks.choices import RiskTreatmentChoices

# A change to any of these after an acceptance was approved means the decision must be taken again.
MATERIAL_RISK_FIELDS = frozenset({
    "inherent_likelihood", "inherent_impact", "current_likelihood", "current_impact",
    "residual_likelihood", "residual_impact", "treatment",
})

OPEN_RISK_STATES = (RiskState.DRAFT, RiskState.ASSESSED, RiskState.IN_TREATMENT, RiskState.ACCEPTED)


# --- risks ---------------------------------------------------------------------------------------

def _accept_risk(risk, *, user, reason):
    risk.treatment = RiskTreatmentChoices.ACCEPT


def _risk_acceptances_need_reapproval(risk, *, user, reason):
    """After a material change of an accepted risk, its approved acceptances are decided again."""
    for acceptance in risk.acceptances.filter(status=AcceptanceState.APPROVED):
        object_transition(instance=acceptance, name="require_reapproval", user=user, reason=reason, system=True)


RISK_LIFECYCLE = Lifecycle(
    field="status",
    note_field="status_note",
    on_edit={RiskState.ACCEPTED: ("revoke_acceptance", MATERIAL_RISK_FIELDS)},
    transitions=[
        Transition("assess", gettext_lazy("Mark assessed"), source=(RiskState.DRAFT,), target=RiskState.ASSESSED),
        Transition("start_treatment", gettext_lazy("Start treatment"),
                   source=(RiskState.DRAFT, RiskState.ASSESSED), target=RiskState.IN_TREATMENT),
        Transition("close", gettext_lazy("Close"), source=OPEN_RISK_STATES, target=RiskState.CLOSED,
                   reason_required=True, style="secondary",
                   help_text=gettext_lazy("A closed risk leaves the open register; say why it no longer applies.")),
        Transition("reopen", gettext_lazy("Reopen"), source=(RiskState.CLOSED,), target=RiskState.ASSESSED,
                   reason_required=True, style="outline-primary"),
        # Only an approved acceptance moves a risk to "accepted", and only its end moves it back.
        Transition("accept", gettext_lazy("Accept"), source=OPEN_RISK_STATES, target=RiskState.ACCEPTED,
                   effect=_accept_risk, system=True),
        Transition("revoke_acceptance", gettext_lazy("Revoke acceptance"), source=(RiskState.ACCEPTED,),
                   target=RiskState.ASSESSED, after=_risk_acceptances_need_reapproval, system=True),
    ],
)


# --- acceptances ---------------------------------------------------------------------------------

def _not_the_requester(acceptance, user):
    if user is not None and acceptance.requested_by_id == user.pk:
        return [_("The approver must be someone other than the requester.")]
    return []


def _still_valid(acceptance, user):
    if acceptance.valid_until <= timezone.localdate():
        return [_("This acceptance expired on %(date)s; request a new one.") % {
            "date": acceptance.valid_until.isoformat()}]
    return []


def _record_decision(acceptance, *, user, reason):
    risk = acceptance.risk
    acceptance.approved_by = user
    acceptance.approved_at = timezone.now()
    acceptance.decision_note = reason
    acceptance.residual_score_at_decision = risk.residual_score or risk.rating_score
    band = risk.matrix.band_for(acceptance.residual_score_at_decision)
    acceptance.rating_at_decision = band["name"] if band else ""


def _record_rejection(acceptance, *, user, reason):
    acceptance.approved_by = None
    acceptance.approved_at = timezone.now()
    acceptance.decision_note = reason


def _people_to_tell(acceptance):
    people = {acceptance.requested_by}
    if acceptance.risk.owner_id:
        people.add(acceptance.risk.owner)
    return [person for person in people if person.is_active]


def _accept_the_risk(acceptance, *, user, reason):
    risk = acceptance.risk
    object_transition(instance=risk, name="accept", user=user, system=True, reason=_(
        "Accepted by %(user)s until %(date)s.") % {"user": user.get_username(),
                                                   "date": acceptance.valid_until.isoformat()})
    notify(users=_people_to_tell(acceptance), agency=acceptance.agency,
           title=_("Risk %(ref)s accepted until %(date)s") % {"ref": risk.reference,
                                                              "date": acceptance.valid_until.isoformat()},
           url=acceptance.get_absolute_url())


def _tell_rejection(acceptance, *, user, reason):
    notify(users=_people_to_tell(acceptance), agency=acceptance.agency,
           title=_("Acceptance of risk %(ref)s rejected") % {"ref": acceptance.risk.reference},
           body=reason, url=acceptance.get_absolute_url())


def _release_the_risk(acceptance, reason):
    """The risk stays accepted only while one of its acceptances is approved."""
    risk = acceptance.risk
    risk.refresh_from_db()
    still_approved = risk.acceptances.filter(status=AcceptanceState.APPROVED).exclude(pk=acceptance.pk).exists()
    if risk.status == RiskState.ACCEPTED and not still_approved:
        object_transition(instance=risk, name="revoke_acceptance", reason=reason, system=True)


def _clear_decision(acceptance, *, user, reason):
    # The earlier decision stays in the audit trail; the record no longer claims an approval.
    acceptance.approved_by = None
    acceptance.approved_at = None
    acceptance.decision_note = ""
    acceptance.residual_score_at_decision = None
    acceptance.rating_at_decision = ""


def _after_reapproval_required(acceptance, *, user, reason):
    _release_the_risk(acceptance, _("Its acceptance needs re-approval. %(reason)s") % {"reason": reason})
    ask_for_approval(acceptance, title=_("Risk %(ref)s changed: its acceptance needs re-approval") % {
        "ref": acceptance.risk.reference}, body=reason, exclude=user)


def _after_lapse(acceptance, *, user, reason):
    _release_the_risk(acceptance, reason)
    risk = acceptance.risk
    notify(users=[risk.owner if risk.owner_id else acceptance.requested_by], agency=acceptance.agency,
           title=_("Risk %(ref)s reopened: its acceptance lapsed") % {"ref": risk.reference},
           body=reason, url=risk.get_absolute_url())


def ask_for_approval(acceptance, *, title, body="", exclude=None):
    """Tell the agency's approvers (not the requester) that a decision waits for them."""
    from risks.models import RiskAcceptance

    approvers = users_who_can(acceptance.agency_id, Action.APPROVE, RiskAcceptance).exclude(
        pk=acceptance.requested_by_id)
    if exclude is not None:
        approvers = approvers.exclude(pk=exclude.pk)
    notify(users=list(approvers), agency=acceptance.agency, title=title, body=body,
           url=acceptance.get_absolute_url())


AWAITING_DECISION = (AcceptanceState.REQUESTED, AcceptanceState.REAPPROVAL_REQUIRED)
# A risk has at most one acceptance in these states at a time.
OPEN_ACCEPTANCE_STATES = (*AWAITING_DECISION, AcceptanceState.APPROVED)

ACCEPTANCE_LIFECYCLE = Lifecycle(
    field="status",
    owned_fields=("approved_by", "approved_at", "decision_note", "residual_score_at_decision",
                  "rating_at_decision"),
    frozen_states=(AcceptanceState.REJECTED, AcceptanceState.LAPSED),
    # A request may be withdrawn by deleting it; decisions are records and stay.
    deletable_states=(AcceptanceState.REQUESTED,),
    on_edit={AcceptanceState.APPROVED: "require_reapproval"},
    transitions=[
        Transition("approve", gettext_lazy("Approve"), source=AWAITING_DECISION, target=AcceptanceState.APPROVED,
                   permission=Action.APPROVE, guards=(_not_the_requester, _still_valid),
                   effect=_record_decision, after=_accept_the_risk, style="success",
                   help_text=gettext_lazy("The risk is accepted until the acceptance's date.")),
        Transition("reject", gettext_lazy("Reject"), source=AWAITING_DECISION, target=AcceptanceState.REJECTED,
                   permission=Action.APPROVE, reason_required=True, guards=(_not_the_requester,),
                   effect=_record_rejection, after=_tell_rejection, style="outline-danger"),
        Transition("require_reapproval", gettext_lazy("Require re-approval"), source=(AcceptanceState.APPROVED,),
                   target=AcceptanceState.REAPPROVAL_REQUIRED, effect=_clear_decision,
                   after=_after_reapproval_required, system=True),
        Transition("lapse", gettext_lazy("Lapse"), source=(AcceptanceState.APPROVED,
                                                           AcceptanceState.REAPPROVAL_REQUIRED),
                   target=AcceptanceState.LAPSED, after=_after_lapse, system=True),
    ],
)
