"""Due-diligence reviews: scoring (one function, review_score, used by the submit transition and by
the pages that show a running score), answers, sending and submitting."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from procurement.choices import (
    ANSWER_POINTS,
    REVIEW_INTERVAL_MONTHS,
    AnswerChoices,
    PortalLinkStatusChoices,
    ReviewOutcomeChoices,
    ReviewStatusChoices,
)
from qgov.roles import Action


@dataclass(frozen=True)
class ReviewScore:
    score: Decimal  # 0.0 – 100.0
    outcome: str  # a ReviewOutcomeChoices value
    escalation_reasons: list[str]  # why the review escalates; empty when it does not
    answered: int  # questions with an answer other than "unknown"
    total: int


def review_score(questionnaire, answers: dict[str, str], criticality: str) -> ReviewScore:
    """Score `answers` ({question code: AnswerChoices value}) against `questionnaire`: each answer
    earns weight × points / 2 (unknown 0, partial 1, evidenced 2), so a fully evidenced
    questionnaire scores 100. The outcome is that of the highest band whose minimum the score
    reaches, unless the escalation rule applies: an unknown answer to one of its questions from a
    supplier of one of its criticalities escalates, whatever the score."""
    unknown_codes = set(answers) - set(questionnaire.question_codes())
    if unknown_codes:
        raise ValueError(f"Answers to questions not in {questionnaire.code}: {sorted(unknown_codes)}")
    bad_values = {code: value for code, value in answers.items() if value not in ANSWER_POINTS}
    if bad_values:
        raise ValueError(f"Answers must be one of {', '.join(AnswerChoices.values)}: {bad_values}")
    points = 0
    for question in questionnaire.questions:
        points += question["weight"] * ANSWER_POINTS[answers.get(question["code"], AnswerChoices.UNKNOWN)]
    score = (Decimal(points) / 2).quantize(Decimal("0.1"))
    bands = sorted(questionnaire.outcome_bands, key=lambda band: band["min_score"], reverse=True)
    outcome = next(band["outcome"] for band in bands if score >= Decimal(str(band["min_score"])))
    rule = questionnaire.escalation or {}
    reasons = []
    if criticality in rule.get("criticality", ()):
        texts = {q["code"]: q["text"] for q in questionnaire.questions}
        for code in rule.get("questions", ()):
            if answers.get(code, AnswerChoices.UNKNOWN) == AnswerChoices.UNKNOWN:
                reasons.append(_("%(code)s unknown for a %(criticality)s supplier: %(text)s") % {
                    "code": code, "criticality": criticality, "text": texts[code]})
    if reasons:
        outcome = ReviewOutcomeChoices.ESCALATE
    answered = sum(1 for code in questionnaire.question_codes()
                   if answers.get(code, AnswerChoices.UNKNOWN) != AnswerChoices.UNKNOWN)
    return ReviewScore(score=score, outcome=outcome, escalation_reasons=reasons, answered=answered,
                       total=len(questionnaire.questions))


def answers_of(review) -> dict[str, str]:
    return dict(review.answers.values_list("question", "answer"))


def review_running_score(review) -> ReviewScore:
    """The score the review's current answers would get (reads `review.answers.all()`, so a
    prefetch of the answers makes it free)."""
    answers = {answer.question: answer.answer for answer in review.answers.all()}
    return review_score(review.questionnaire, answers, review.supplier.criticality)


# The reviewer edits answers while the review is with the agency; at the portal the supplier does
# (state "sent"); submitted and superseded reviews are frozen, their answers with them.
REVIEWER_ANSWER_STATES = (ReviewStatusChoices.DRAFT, ReviewStatusChoices.ANSWERED)


def answers_frozen_message(review) -> str | None:
    """Why the review's answers cannot change any more, or None while they can."""
    from procurement.lifecycles import REVIEW_LIFECYCLE

    if REVIEW_LIFECYCLE.is_frozen(review):
        return _("This review is “%(state)s”: its answers can no longer change. Start a new review instead.") % {
            "state": review.get_status_display().lower()}
    return None


def answers_locked_message(review, *, at_portal: bool = False) -> str | None:
    """Why the review's answers cannot change now, or None while they can: never once frozen, and
    while the review is with the supplier ("sent") only through the portal (`at_portal`), never by
    the agency's reviewers underneath the supplier."""
    frozen = answers_frozen_message(review)
    if frozen or at_portal or review.status in REVIEWER_ANSWER_STATES:
        return frozen
    return _("This review is with the supplier (“%(state)s”): recall it before changing its answers.") % {
        "state": review.get_status_display().lower()}


COMMENT_MAX_LENGTH = 10_000  # DueDiligenceAnswer.comment's cap (LongTextField)


def _answer_items_errors(review, items) -> dict[str, list[str]]:
    """Messages keyed "<index>.<field>" (the item's place in the list) for every bad item."""
    errors: dict[str, list[str]] = {}
    codes = set(review.questionnaire.question_codes())
    seen: dict[str, int] = {}
    if not isinstance(items, list) or not items:
        return {"non_field_errors": [_("Send a list of answers: "
                                       "[{\"question\": \"Q1\", \"answer\": \"evidenced\", \"comment\": \"…\"}, …].")]}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors[f"{index}"] = [_("Each answer is an object with question, answer and comment.")]
            continue
        unknown_keys = set(item) - {"question", "answer", "comment"}
        if unknown_keys:
            errors[f"{index}.non_field_errors"] = [_("Unknown fields: %(names)s.") % {
                "names": ", ".join(sorted(map(str, unknown_keys)))}]
        code = item.get("question")
        if not isinstance(code, str) or code not in codes:
            errors[f"{index}.question"] = [_("%(code)s is not a question of %(questionnaire)s.") % {
                "code": code if code not in (None, "") else _("(none)"), "questionnaire": review.questionnaire.code}]
        elif code in seen:
            errors[f"{index}.question"] = [_("%(code)s is answered twice (items %(first)s and %(second)s).") % {
                "code": code, "first": seen[code], "second": index}]
        else:
            seen[code] = index
        if item.get("answer") not in AnswerChoices.values:
            errors[f"{index}.answer"] = [_("“%(value)s” is not one of %(choices)s.") % {
                "value": item.get("answer"), "choices": ", ".join(AnswerChoices.values)}]
        if "comment" in item and not isinstance(item["comment"], str):
            errors[f"{index}.comment"] = [_("Give the comment as text.")]
        elif len(item.get("comment") or "") > COMMENT_MAX_LENGTH:
            errors[f"{index}.comment"] = [_("At most %(max)s characters (it has %(length)s).") % {
                "max": COMMENT_MAX_LENGTH, "length": len(item["comment"])}]
    return errors


@transaction.atomic
def review_answers_save(*, review, user, items: list[dict]):
    """The reviewer's answers to a review, all in one transaction: `items` is
    [{"question": "Q1", "answer": "evidenced", "comment": "…"}, …] (a missing comment is left as it
    is). Any bad item, or a review whose answers may not change now, writes nothing: a
    ValidationError keyed "<index>.<field>" says what. Each changed answer is one audited update.
    Returns the review."""
    from procurement.models import DueDiligenceAnswer, DueDiligenceReview
    from qgov.permissions import require
    from qgov.services import object_update

    require(user, review.agency_id, Action.CHANGE, DueDiligenceAnswer)
    # The review row is locked first, so that a submit cannot slip in between the check and the writes.
    review = (DueDiligenceReview.objects.restrict(user, Action.VIEW).select_related("questionnaire", "supplier")
              .select_for_update(of=("self",)).filter(pk=review.pk).first())
    if review is None:
        raise PermissionDenied(_("You do not have permission to do this."))
    locked = answers_locked_message(review)
    if locked:
        raise ValidationError({"non_field_errors": [locked]})
    errors = _answer_items_errors(review, items)
    if errors:
        raise ValidationError(errors)
    from qgov.services import object_create

    current = {answer.question: answer for answer in review.answers.all()}
    for index, item in enumerate(items):
        answer = current.get(item["question"])
        data = {"answer": item["answer"]}
        if "comment" in item:
            data["comment"] = item["comment"].strip()
        try:
            if answer is None:  # a review made before an answer row existed: create it now
                object_create(model=DueDiligenceAnswer, user=user,
                              data={"agency": review.agency, "review": review, "question": item["question"], **data})
            elif any(getattr(answer, name) != value for name, value in data.items()):
                object_update(instance=answer, user=user, data=data)
        except ValidationError as error:  # the whole list rolls back; say which item failed
            raise ValidationError({f"{index}.{name}": messages for name, messages in
                                   getattr(error, "message_dict", {"non_field_errors": error.messages}).items()}
                                  ) from error
    return review


def questionnaire_current(series: str | None = None):
    """The latest edition of a questionnaire series (the highest edition of any series when none is
    named)."""
    from procurement.models import Questionnaire

    queryset = Questionnaire.objects.all()
    if series:
        queryset = queryset.filter(series=series)
    return queryset.order_by("-edition", "-created", "-pk").first()


def review_in_progress(supplier):
    """The supplier's review that is not yet submitted, if there is one."""
    return (supplier.reviews.exclude(status__in=(ReviewStatusChoices.SUBMITTED, ReviewStatusChoices.SUPERSEDED))
            .order_by("-created", "-pk").first())


def review_start(*, supplier, user, questionnaire=None):
    """A new draft review of `supplier` (one "unknown" answer per question), with the latest
    edition of the series its last review used, or of the newest questionnaire; the user reviews.
    Refused while another review of the supplier is in progress."""
    from procurement.models import DueDiligenceReview
    from qgov.services import object_create

    if review_in_progress(supplier) is not None:
        raise ValidationError({"supplier": [_("%(supplier)s already has a review in progress: finish it first.") % {
            "supplier": supplier}]})
    if questionnaire is None:
        last = supplier.reviews.select_related("questionnaire").order_by("-created", "-pk").first()
        questionnaire = questionnaire_current(last.questionnaire.series if last else None)
    if questionnaire is None:
        raise ValidationError({"questionnaire": [_("No questionnaire is loaded: run manage.py load_catalogs.")]})
    return object_create(model=DueDiligenceReview, user=user,
                         data={"agency": supplier.agency, "supplier": supplier, "questionnaire": questionnaire,
                               "reviewer": user})


def review_answers_create(review) -> None:
    """A new review gets one "unknown" answer per question of its questionnaire."""
    from procurement.models import DueDiligenceAnswer

    for code in review.questionnaire.question_codes():  # saved one by one: each is audited
        DueDiligenceAnswer(agency_id=review.agency_id, review=review, question=code).save()


def review_score_apply(review, *, user) -> None:
    """The submit transition's effect: score, outcome and escalation frozen on the review, with the
    date the next review is due (by the supplier's criticality)."""
    from procurement.models import add_months

    result = review_score(review.questionnaire, answers_of(review), review.supplier.criticality)
    review.score, review.outcome = result.score, result.outcome
    review.escalation_reasons = result.escalation_reasons
    review.submitted_at, review.submitted_by = timezone.now(), user
    review.next_review_due = add_months(timezone.localdate(),
                                        REVIEW_INTERVAL_MONTHS[review.supplier.criticality])


def review_after_submit(review, *, user) -> None:
    """The submitted review becomes the supplier's rating and supersedes the previous one."""
    from procurement.models import DueDiligenceReview, Supplier
    from qgov.services import object_transition

    previous = (DueDiligenceReview.objects.filter(supplier_id=review.supplier_id, status=ReviewStatusChoices.SUBMITTED)
                .exclude(pk=review.pk).order_by("-submitted_at", "-pk"))
    for old in previous:
        object_transition(instance=old, name="supersede", system=True,
                          reason=_("Superseded by the review submitted on %(date)s.") % {
                              "date": timezone.localdate().isoformat()})
        if review.supersedes_id is None:
            DueDiligenceReview.objects.filter(pk=review.pk).update(supersedes=old)
            review.supersedes = old
    supplier = Supplier.objects.select_for_update().get(pk=review.supplier_id)
    supplier_rating_set(supplier, score=review.score, outcome=review.outcome, on=timezone.localdate())


def supplier_rating_set(supplier, *, score, outcome, on: datetime.date) -> None:
    """The supplier's rating fields follow its latest submitted review (audited as an update)."""
    supplier.rating_score, supplier.rating_outcome, supplier.rated_on = score, outcome, on
    supplier.save(update_fields=["rating_score", "rating_outcome", "rated_on"])


@transaction.atomic
def portal_links_close(review, *, user=None, status=PortalLinkStatusChoices.REVOKED) -> int:
    """Every active portal link of the review stops working (each change audited)."""
    links = list(review.portal_links.select_for_update().filter(status=PortalLinkStatusChoices.ACTIVE))
    for link in links:
        link.status, link.closed_at = status, timezone.now()
        link.save(update_fields=["status", "closed_at"])
    return len(links)
