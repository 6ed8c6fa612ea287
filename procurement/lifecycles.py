"""The lifecycles of procurement records.

- A supplier is a candidate until its latest submitted due-diligence review lets it be approved
  (with or without conditions): the review's outcome decides, so anyone who moves records through
  their lifecycle may approve; an escalated review only an approver may overrule. It may be
  suspended and reinstated (approvers), and finally exited (kept as it was).
- A due-diligence review is drafted, sent to the supplier through a portal link (the send service,
  not a bare transition), answered (by the supplier at the portal, or completed by the reviewer),
  then submitted: scored, frozen, and superseding the supplier's previous submitted review.
- A contract is drafted, becomes active, is re-evaluated (renewed, or kept active), and exits and
  ends. Renewal is refused while its sunset or end date has passed (edit the new dates in first,
  then renew); renewing moves the next re-evaluation on by the interval.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from procurement.choices import ContractStatusChoices as ContractState
from procurement.choices import ReviewOutcomeChoices as Outcome
from procurement.choices import ReviewStatusChoices as ReviewState
from procurement.choices import SupplierStatusChoices as SupplierState
from qgov.lifecycle import Lifecycle, Transition
from qgov.roles import Action

# --- suppliers -------------------------------------------------------------------------------------

def latest_submitted_review(supplier):
    return supplier.reviews.filter(status=ReviewState.SUBMITTED).order_by("-submitted_at", "-pk").first()


def _review_allows(*outcomes):
    """The supplier's latest submitted review must recommend one of `outcomes`; an escalated review
    (an unknown answer on a question the escalation rule names) may be overruled by an approver only."""
    def guard(supplier, user):
        from qgov.permissions import user_can

        def is_approver():
            return user is None or user_can(user, supplier.agency_id, Action.APPROVE, type(supplier))

        if supplier.status == SupplierState.SUSPENDED and not is_approver():
            return [_("An approver suspended this supplier: only an approver may reinstate it.")]
        review = latest_submitted_review(supplier)
        if review is None:
            return [_("Submit a due-diligence review of this supplier first.")]
        if review.outcome == Outcome.ESCALATE:
            if not is_approver():
                return [_("The latest review (score %(score)s) is escalated: only an approver may decide.") % {
                    "score": review.score}]
            return []
        if review.outcome not in outcomes:
            return [_("The latest review (score %(score)s) recommends “%(outcome)s”.") % {
                "score": review.score, "outcome": review.get_outcome_display().lower()}]
        return []
    return guard


SUPPLIER_LIFECYCLE = Lifecycle(
    field="status",
    note_field="status_note",
    frozen_states=(SupplierState.EXITED,),
    deletable_states=(SupplierState.CANDIDATE,),
    transitions=[
        # The review's outcome decides (guard); an escalated review may still end in approval, but
        # only by an approver (the same guard).
        Transition("approve", gettext_lazy("Approve"),
                   source=(SupplierState.CANDIDATE, SupplierState.CONDITIONAL, SupplierState.SUSPENDED),
                   target=SupplierState.APPROVED, guards=(_review_allows(Outcome.APPROVE),),
                   style="success"),
        Transition("approve_with_conditions", gettext_lazy("Approve with conditions"),
                   source=(SupplierState.CANDIDATE, SupplierState.APPROVED, SupplierState.SUSPENDED),
                   target=SupplierState.CONDITIONAL, reason_required=True,
                   guards=(_review_allows(Outcome.APPROVE, Outcome.CONDITIONAL),),
                   style="outline-success", help_text=gettext_lazy("State the conditions.")),
        Transition("suspend", gettext_lazy("Suspend"), permission=Action.APPROVE,
                   source=(SupplierState.APPROVED, SupplierState.CONDITIONAL), target=SupplierState.SUSPENDED,
                   reason_required=True, style="outline-warning"),
        Transition("exit", gettext_lazy("Exit"), permission=Action.APPROVE,
                   source=(SupplierState.CANDIDATE, SupplierState.APPROVED, SupplierState.CONDITIONAL,
                           SupplierState.SUSPENDED),
                   target=SupplierState.EXITED, reason_required=True, style="outline-danger",
                   help_text=gettext_lazy("The supplier's record is then kept as it is.")),
    ],
)


# --- due-diligence reviews -------------------------------------------------------------------------

def _all_answered(review, user):
    missing = [a.question for a in review.answers.all() if not a.answer]
    return [_("Unanswered: %(codes)s.") % {"codes": ", ".join(missing)}] if missing else []


def _score_on_submit(review, *, user, reason):
    from procurement.services import review_score_apply

    review_score_apply(review, user=user)


def _after_submit(review, *, user, reason):
    from procurement.services import review_after_submit

    review_after_submit(review, user=user)


def _revoke_links(review, *, user, reason):
    from procurement.services import portal_links_close

    portal_links_close(review, user=user)


REVIEW_LIFECYCLE = Lifecycle(
    field="status",
    note_field="status_note",
    owned_fields=("score", "outcome", "escalation_reasons", "submitted_at", "submitted_by", "supersedes",
                  "next_review_due"),
    frozen_states=(ReviewState.SUBMITTED, ReviewState.SUPERSEDED),
    deletable_states=(ReviewState.DRAFT,),
    transitions=[
        # Done by procurement.services.review_send, which issues the portal link.
        Transition("send", gettext_lazy("Send to supplier"), source=(ReviewState.DRAFT,), target=ReviewState.SENT,
                   system=True),
        Transition("recall", gettext_lazy("Recall from supplier"), source=(ReviewState.SENT,),
                   target=ReviewState.DRAFT, reason_required=True, after=_revoke_links, style="outline-secondary",
                   help_text=gettext_lazy("The supplier's link stops working; answers saved so far are kept.")),
        # The supplier submits at the portal.
        Transition("supplier_submit", gettext_lazy("Answered by supplier"), source=(ReviewState.SENT,),
                   target=ReviewState.ANSWERED, system=True, after=_revoke_links),
        Transition("complete", gettext_lazy("Mark answered"), source=(ReviewState.DRAFT,),
                   target=ReviewState.ANSWERED, style="outline-primary",
                   help_text=gettext_lazy("The reviewer recorded the answers (e.g. from an audit visit).")),
        Transition("return_to_draft", gettext_lazy("Reopen answers"), source=(ReviewState.ANSWERED,),
                   target=ReviewState.DRAFT, reason_required=True, style="outline-secondary"),
        Transition("submit", gettext_lazy("Submit"), source=(ReviewState.ANSWERED,), target=ReviewState.SUBMITTED,
                   guards=(_all_answered,), effect=_score_on_submit, after=_after_submit, style="success",
                   help_text=gettext_lazy("Scores the answers and freezes the review; it becomes the supplier's "
                                          "rating and supersedes the previous review.")),
        Transition("supersede", gettext_lazy("Supersede"), source=(ReviewState.SUBMITTED,),
                   target=ReviewState.SUPERSEDED, system=True),
    ],
)


# --- contracts -------------------------------------------------------------------------------------

def _renewal_dates_ahead(contract, user):
    from procurement.services import contract_renewal_problems

    return contract_renewal_problems(contract)


def _renew_moves_reevaluation(contract, *, user, reason):
    from procurement.services import contract_renew_apply

    contract_renew_apply(contract)


CONTRACT_LIFECYCLE = Lifecycle(
    field="status",
    note_field="status_note",
    frozen_states=(ContractState.ENDED,),
    deletable_states=(ContractState.DRAFT,),
    transitions=[
        Transition("activate", gettext_lazy("Activate"), source=(ContractState.DRAFT,), target=ContractState.ACTIVE,
                   style="success"),
        Transition("start_reevaluation", gettext_lazy("Start re-evaluation"),
                   source=(ContractState.ACTIVE, ContractState.RENEWED), target=ContractState.UNDER_REEVALUATION,
                   style="outline-primary"),
        Transition("renew", gettext_lazy("Renew"), source=(ContractState.UNDER_REEVALUATION,),
                   target=ContractState.RENEWED, reason_required=True, permission=Action.APPROVE, style="success",
                   guards=(_renewal_dates_ahead,), effect=_renew_moves_reevaluation,
                   help_text=gettext_lazy("Record the decision. The next re-evaluation moves on by the interval; "
                                          "a sunset or end date that has passed must be edited first.")),
        Transition("begin_exit", gettext_lazy("Begin exit"),
                   source=(ContractState.ACTIVE, ContractState.UNDER_REEVALUATION, ContractState.RENEWED),
                   target=ContractState.EXITING, reason_required=True, permission=Action.APPROVE,
                   style="outline-warning", help_text=gettext_lazy("The exit plan now applies.")),
        Transition("end", gettext_lazy("End"), source=(ContractState.EXITING,), target=ContractState.ENDED,
                   reason_required=True, style="outline-danger"),
    ],
)
