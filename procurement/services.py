"""Procurement's write services. Scoring and escalation are one function (`review_score`), used by
the submit transition and by the pages that show a running score."""

import contextlib
import contextvars
import datetime
import hashlib
import re
import secrets
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, DateField, F, Q, When
from django.utils import timezone
from django.utils.translation import gettext as _

from procurement.choices import (
    ANSWER_POINTS,
    POST_QUANTUM_FAMILIES,
    QUANTUM_VULNERABLE_FAMILIES,
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


# --- components ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AlgorithmFamilies:
    """The families an algorithm's name belongs to (choices.QUANTUM_VULNERABLE_FAMILIES and
    choices.POST_QUANTUM_FAMILIES), by name, in the order the name gives them."""

    vulnerable: tuple[str, ...] = ()
    post_quantum: tuple[str, ...] = ()

    @property
    def hybrid(self) -> bool:
        return bool(self.vulnerable and self.post_quantum)

    def __add__(self, other):
        return AlgorithmFamilies(self.vulnerable + other.vulnerable, self.post_quantum + other.post_quantum)


# One pattern of named groups, post-quantum families first: "SLH-DSA" is read as SLH-DSA before
# its letters "DSA" could be.
_FAMILY_GROUPS = {f"family{index}": (family, kind) for index, (family, kind) in enumerate(
    [(family, "post_quantum") for family in POST_QUANTUM_FAMILIES]
    + [(family, "vulnerable") for family in QUANTUM_VULNERABLE_FAMILIES])}
_FAMILY_PATTERN = re.compile("|".join(f"(?P<{group}>{family.pattern})"
                                      for group, (family, _kind) in _FAMILY_GROUPS.items()))


def _name_words(name: str) -> tuple[str, list[int]]:
    """The name upper-cased without separators, and where its words start in that text: after a
    separator, at a lower-to-upper case change (sha256WithRSAEncryption) and where letters follow
    digits (X25519MLKEM768)."""
    text, starts, previous = [], [], " "
    for char in name:
        if not (char.isascii() and char.isalnum()):
            previous = " "
            continue
        if (previous == " " or (previous.islower() and char.isupper())
                or (previous.isdigit() and char.isalpha())):
            starts.append(len(text))
        text.append(char.upper())
        previous = char
    return "".join(text), starts


def algorithm_families(name: str) -> AlgorithmFamilies:
    """Which families `name` names, case and separators aside: each word of the name is matched
    against the families' patterns, and a match continues where the last one ended, so that glued
    hybrid names (X25519MLKEM768, SecP256r1MLKEM768) yield both parts. A word no family starts
    (Keccak, ECB, Draft00) is skipped, so "EC" inside another word is never read as a curve."""
    text, starts = _name_words(name or "")
    found = {"vulnerable": [], "post_quantum": []}
    at = 0 if text else None
    while at is not None:
        match = _FAMILY_PATTERN.match(text, at)
        if match:
            family, kind = _FAMILY_GROUPS[match.lastgroup]
            if family.name not in found[kind]:
                found[kind].append(family.name)
            at = match.end() if match.end() < len(text) else None
        else:
            at = next((start for start in starts if start > at), None)
    return AlgorithmFamilies(tuple(found["vulnerable"]), tuple(found["post_quantum"]))


def component_algorithm_families(component) -> AlgorithmFamilies:
    """The families of the component's algorithm and parameter set (where CBOMs often put the
    curve: algorithm "ECDH", parameter set "P-384")."""
    return algorithm_families(component.algorithm) + algorithm_families(component.parameter_set_identifier)


def is_quantum_vulnerable(component) -> bool:
    """A cryptographic asset that states NIST quantum security level 0, or whose algorithm (or
    parameter set) names a family Shor's algorithm breaks and no post-quantum family: a hybrid such
    as X25519MLKEM768 is not vulnerable as a whole. Reads only the component's fields, so the data
    migrations can call it on historical models."""
    if not component.crypto_asset_type:
        return False
    if component.nist_quantum_security_level == 0:
        return True
    families = component_algorithm_families(component)
    return bool(families.vulnerable) and not families.post_quantum


_policy_cache = contextvars.ContextVar("crypto_policy_cache", default=None)


@contextlib.contextmanager
def crypto_policy_held(agency_id):
    """Within the block, the agency's policy is read once (a bulk import saves thousands of
    components, each of which would otherwise look it up)."""
    token = _policy_cache.set(None)
    try:
        _policy_cache.set({agency_id: crypto_policy_of(agency_id)})
        yield
    finally:
        _policy_cache.reset(token)


def crypto_policy_of(agency_id):
    """The migration policy the agency adopted, or the default (NIST IR 8547)."""
    from procurement.models import DEFAULT_CRYPTO_POLICY, CryptoPolicy, CryptoPolicyAdoption

    held = _policy_cache.get()
    if held is not None and agency_id in held:
        return held[agency_id]

    adoption = CryptoPolicyAdoption.objects.select_related("policy").filter(agency_id=agency_id).first()
    if adoption is not None:
        return adoption.policy
    return CryptoPolicy.objects.filter(code=DEFAULT_CRYPTO_POLICY).first()


def component_classify(component, *, policy=None) -> None:
    """Set `quantum_vulnerable` and, for a vulnerable component, the date the agency's policy
    requires it gone (None when no policy is loaded)."""
    component.quantum_vulnerable = is_quantum_vulnerable(component)
    deadline = None
    if component.quantum_vulnerable:
        policy = policy or crypto_policy_of(component.agency_id)
        found = policy.deadline_for(component) if policy is not None else None
        deadline = found[0] if found else None
    component.policy_deadline = deadline


def policy_rule_for(component, *, policy=None) -> tuple[object, dict | None]:
    """(the agency's policy, the deadline rule that dates `component`), for showing why it has its
    deadline; the rule is None when the component is not vulnerable or no rule matches."""
    policy = policy or crypto_policy_of(component.agency_id)
    if policy is None or not component.quantum_vulnerable:
        return policy, None
    found = policy.deadline_for(component)
    if found is None:
        return policy, None
    date, label = found
    rule = next((rule for rule in policy.deadlines if rule.get("date") == date.isoformat()
                 and rule.get("label", "") == label), {"date": date.isoformat(), "label": label})
    return policy, rule


def components_reclassify(agency_id) -> int:
    """Recompute the policy deadline of every quantum-vulnerable component of the agency (after its
    policy choice changed); each changed component is saved, so audited. Joins the caller's
    transaction. Returns how many changed."""
    from procurement.models import Component

    policy = crypto_policy_of(agency_id)
    changed = 0
    for component in (Component.objects.select_for_update(of=("self",)).select_related("asset")
                      .filter(agency_id=agency_id, quantum_vulnerable=True)):
        before = component.policy_deadline
        component_classify(component, policy=policy)
        if component.policy_deadline != before:
            component.save(update_fields=["policy_deadline", "quantum_vulnerable"])
            changed += 1
    return changed


def _adoption_changed(sender, instance, **kwargs) -> None:
    # post_save / post_delete run inside the write service's transaction: the deadlines change with it.
    components_reclassify(instance.agency_id)


def connect_component_hooks() -> None:
    from django.db.models.signals import post_delete, post_save

    from procurement.models import CryptoPolicyAdoption

    post_save.connect(_adoption_changed, sender=CryptoPolicyAdoption, dispatch_uid="procurement-adoption-save")
    post_delete.connect(_adoption_changed, sender=CryptoPolicyAdoption, dispatch_uid="procurement-adoption-delete")


# --- components and register risks ---------------------------------------------------------------

@transaction.atomic
def component_risks_link(*, component, risks, user):
    """Link `risks` to the component, keeping the risks already linked: one audited update through
    the core service, which re-checks the user's right to change the component and refuses another
    agency's risk before anything is written."""
    from procurement.models import Component
    from qgov.services import object_update
    from risks.models import Risk

    # Read the linked risks under the component's lock: two people linking at once both count.
    Component.objects.select_for_update().filter(pk=component.pk).first()
    linked = list(Risk.objects.filter(components=component).only("pk", "agency_id"))
    known = {risk.pk for risk in linked}
    added = [risk for risk in risks if risk.pk not in known]
    if not added:
        return component
    return object_update(instance=component, user=user, data={"risks": [*linked, *added]})


@transaction.atomic
def component_risk_raise(*, component, user, data: dict):
    """Create a register risk for the component (`data` as the register's form or API gives it) and
    link it to the component; both or neither."""
    from qgov.services import object_create
    from risks.models import Risk

    risk = object_create(model=Risk, user=user, data=data)
    component_risks_link(component=component, risks=[risk], user=user)
    return risk


# --- the supplier portal -------------------------------------------------------------------------

PORTAL_LINK_DAYS = 14  # how long a questionnaire link works, unless the reviewer says otherwise


# A link's token is "<review id>.<random part>.<signature>": django.core.signing (HMAC-SHA256,
# salted for the portal) over the review id and 128 random bits, in URL-safe characters (about 70,
# so a link fits on one e-mail line). The signature refuses a guessed, altered or foreign token
# (another SECRET_KEY) before the database is asked; the random part keeps the token unguessable
# even to someone who holds the key; only the SHA-256 of the whole token is stored, and the link's
# row decides whether it still works (expiry, revocation, one submission). SECRET_KEY_FALLBACKS keeps
# links issued under a rotated key working.
PORTAL_TOKEN_SALT = "qgov.procurement.portal"
PORTAL_TOKEN_SEP = "."
PORTAL_TOKEN_RANDOM_BYTES = 16
PORTAL_TOKEN = re.compile(r"[1-9][0-9]{0,18}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}")


def portal_signer() -> signing.Signer:
    return signing.Signer(salt=PORTAL_TOKEN_SALT, sep=PORTAL_TOKEN_SEP, algorithm="sha256")


def portal_token_issue(review) -> str:
    """A new token naming `review`: shown once, stored only as its hash."""
    return portal_signer().sign(f"{review.pk}{PORTAL_TOKEN_SEP}{secrets.token_urlsafe(PORTAL_TOKEN_RANDOM_BYTES)}")


def portal_token_review_id(token) -> int | None:
    """The review a well-formed token with a good signature names; None for anything else. No
    database query."""
    if not isinstance(token, str) or not PORTAL_TOKEN.fullmatch(token):
        return None
    try:
        value = portal_signer().unsign(token)
    except signing.BadSignature:
        return None
    return int(value.split(PORTAL_TOKEN_SEP, 1)[0])


def portal_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def review_send(*, review, user, contact_name: str, contact_email: str, days: int = PORTAL_LINK_DAYS):
    """Send a draft review to a supplier contact: a new one-time portal link (the token is returned
    once and only its hash kept; earlier links of the review stop working) and the review moves to
    "sent". Returns (link, token)."""
    from procurement.models import DueDiligenceReview, PortalLink
    from qgov.permissions import require
    from qgov.services import object_transition

    # "send" is a system transition (only this service may do it): the permission is asked here.
    require(user, review.agency_id, Action.TRANSITION, DueDiligenceReview)
    review = object_transition(instance=review, name="send", user=user, system=True,
                               reason=_("Sent to %(name)s <%(email)s>.") % {"name": contact_name,
                                                                            "email": contact_email})
    portal_links_close(review, user=user)
    token = portal_token_issue(review)
    link = PortalLink(review=review, contact_name=contact_name, contact_email=contact_email,
                      token_hash=portal_token_hash(token), created_by=user,
                      expires_at=timezone.now() + datetime.timedelta(days=days))
    link.full_clean()
    link.save()
    return link, token


PORTAL_MAX_DAYS = 60


class PortalRefused(Exception):
    """A portal link that does not work: unknown (404), or expired, revoked or used (410)."""

    def __init__(self, status: int, title: str, message: str):
        self.status, self.title, self.message = status, title, message
        super().__init__(message)


def portal_actor_label(link) -> str:
    """How the audit trail names the contact who uses a link (they have no account)."""
    return f"{link.contact_name} <{link.contact_email}> (supplier portal)"


def portal_path(token: str) -> str:
    from django.urls import reverse

    return reverse("portal:questionnaire", args=[token])


def _portal_refusal(link) -> PortalRefused | None:
    """Why `link` no longer works, or None while it does."""
    if link.status == PortalLinkStatusChoices.SUBMITTED:
        return PortalRefused(410, _("Already submitted"), _(
            "The answers were submitted through this link on %(date)s; it cannot be used again. If something "
            "needs correcting, contact the agency that sent it.") % {
                "date": timezone.localtime(link.closed_at).strftime("%Y-%m-%d") if link.closed_at else "—"})
    if link.status == PortalLinkStatusChoices.REVOKED:
        return PortalRefused(410, _("Link withdrawn"), _(
            "The agency withdrew this link. If you still need to answer, ask them for a new one."))
    if link.status == PortalLinkStatusChoices.EXPIRED or link.expires_at <= timezone.now():
        return PortalRefused(410, _("Link expired"), _(
            "This link expired on %(date)s. Ask the agency that sent it for a new one; answers you saved are "
            "kept.") % {"date": timezone.localtime(link.expires_at).strftime("%Y-%m-%d")})
    if link.review.status != ReviewStatusChoices.SENT:
        return PortalRefused(410, _("Link withdrawn"), _(
            "The agency withdrew this questionnaire. If you still need to answer, ask them for a new link."))
    return None


def portal_link_find(token: str):
    """The active link with this token, its review, supplier, agency and questionnaire read with it.
    A malformed token, or one whose signature does not verify, is refused without a query. A signed
    one is looked up by its SHA-256 (never compared as typed) together with the review it names. An
    unknown token is a 404; an expired, revoked or used one a 410 (an expired link is marked so,
    audited as the system)."""
    from procurement.models import PortalLink

    refused = PortalRefused(404, _("Link not found"), _(
        "This questionnaire link is not valid. Check that you copied the whole address from the e-mail."))
    review_id = portal_token_review_id(token)
    if review_id is None:
        raise refused
    link = (PortalLink.objects.select_related("review__agency", "review__supplier", "review__questionnaire")
            .filter(token_hash=portal_token_hash(token), review_id=review_id).first())
    if link is None:
        raise refused
    problem = _portal_refusal(link)
    if problem is not None:
        if link.status == PortalLinkStatusChoices.ACTIVE and link.expires_at <= timezone.now():
            _portal_link_expire(link)
        raise problem
    return link


def _portal_link_expire(link) -> None:
    from procurement.models import PortalLink
    from qgov.audit import audit_context
    from qgov.choices import AuditSourceChoices

    with transaction.atomic(), audit_context(source=AuditSourceChoices.SYSTEM, label="link expiry"):
        locked = PortalLink.objects.select_for_update(of=("self",)).select_related("review").get(pk=link.pk)
        if locked.status == PortalLinkStatusChoices.ACTIVE:
            locked.status, locked.closed_at = PortalLinkStatusChoices.EXPIRED, timezone.now()
            locked.save(update_fields=["status", "closed_at"])
            link.status, link.closed_at = locked.status, locked.closed_at


def _portal_lock(link):
    """The link again, under lock, still usable (a second tab may have submitted meanwhile)."""
    from procurement.models import PortalLink

    locked = (PortalLink.objects.select_for_update(of=("self",))
              .select_related("review__agency", "review__supplier", "review__questionnaire").get(pk=link.pk))
    problem = _portal_refusal(locked)
    if problem is not None:
        raise problem
    return locked


def _portal_touch(locked) -> None:
    locked.last_used_at = timezone.now()
    locked.save(update_fields=["last_used_at"])


@transaction.atomic
def portal_open(link) -> None:
    """The contact opened the questionnaire: recorded as the link's last use (an audited change,
    run inside the contact's audit context by the portal view)."""
    _portal_touch(_portal_lock(link))


@transaction.atomic
def portal_answers_save(*, link, answers: dict[str, dict], uploads: dict | None = None) -> int:
    """Save the contact's answers ({question code: {"answer": …, "comment": …}}) and evidence files
    ({question code: [uploaded file, …]}) to the link's review, all or nothing. Answers to questions
    the questionnaire does not have are refused. Returns how many answers changed."""
    from procurement.models import DueDiligenceAnswer
    from qgov.audit import one_change, snapshot
    from qgov.evidence.services import evidence_attach

    locked = _portal_lock(link)
    review = locked.review
    codes = review.questionnaire.question_codes()
    uploads = uploads or {}
    unknown = sorted((set(answers) | set(uploads)) - set(codes))
    if unknown:
        raise ValidationError({"__all__": [_("Not questions of this questionnaire: %(codes)s.") % {
            "codes": ", ".join(unknown)}]})
    errors = {}
    for code, values in answers.items():
        if values.get("answer") not in AnswerChoices.values:
            errors[f"answer_{code}"] = [_("Choose unknown, partial or evidenced.")]
    if errors:
        raise ValidationError(errors)
    rows = {a.question: a for a in DueDiligenceAnswer.objects.select_for_update().filter(review=review)}
    changed = 0
    with one_change() as change:
        for code in codes:
            if code not in answers:
                continue
            row = rows.get(code) or DueDiligenceAnswer(agency_id=review.agency_id, review=review, question=code)
            answer, comment = answers[code]["answer"], (answers[code].get("comment") or "").strip()
            if row.pk is not None and row.answer == answer and row.comment == comment:
                continue
            if row.pk is not None:
                change.remember(row, before=snapshot(row))
            row.answer, row.comment = answer, comment
            row.written_at_portal = True  # the one writer of a review's answers while it is "sent"
            try:
                row.full_clean(exclude=["agency", "review"])
            except ValidationError as error:
                errors.update({f"{name}_{code}": messages for name, messages in error.message_dict.items()})
                continue
            row.save()
            rows[code] = row
            changed += 1
        if errors:
            raise ValidationError(errors)
        for code, files in uploads.items():
            row = rows.get(code)
            if row is None:
                row = DueDiligenceAnswer(agency_id=review.agency_id, review=review, question=code)
                row.save()
                rows[code] = row
            for upload in files:
                try:
                    evidence_attach(record=row, upload=upload, user=None, actor_name=portal_actor_label(locked),
                                    custodian=review.reviewer, description=_("Uploaded by the supplier."))
                except ValidationError as error:
                    raise ValidationError({f"file_{code}": error.messages}) from None
        _portal_touch(locked)
    return changed


@transaction.atomic
def portal_submit(*, link, answers: dict[str, dict] | None = None, uploads: dict | None = None):
    """The contact submits: the last answers are saved, the link is used up (it works no more) and
    the review moves to "answered" for the reviewer to score. Returns the review."""
    from qgov.services import object_transition

    if answers or uploads:
        portal_answers_save(link=link, answers=answers or {}, uploads=uploads)
    locked = _portal_lock(link)
    locked.status, locked.closed_at = PortalLinkStatusChoices.SUBMITTED, timezone.now()
    locked.last_used_at = locked.closed_at
    locked.save(update_fields=["status", "closed_at", "last_used_at"])
    return object_transition(instance=locked.review, name="supplier_submit", system=True,
                             reason=_("Submitted by %(name)s <%(email)s> through the supplier portal.") % {
                                 "name": locked.contact_name, "email": locked.contact_email})


def portal_invitation_send(*, link, url: str) -> None:
    """E-mail the contact their link: who asks (the agency), about which supplier, and until when."""
    from django.core.mail import send_mail

    review = link.review
    due = timezone.localtime(link.expires_at, zoneinfo.ZoneInfo(review.agency.time_zone))
    context = {"name": link.contact_name, "agency": review.agency.name, "supplier": review.supplier.name,
               "due": due.strftime("%Y-%m-%d"), "url": url, "count": len(review.questionnaire.questions)}
    body = _(
        "Dear %(name)s,\n\n%(agency)s asks %(supplier)s to answer its supplier due-diligence questionnaire "
        "(%(count)s questions). Answer it, and upload supporting documents, on this page; no account is "
        "needed:\n\n%(url)s\n\nYou can save and come back until %(due)s, when the link expires. Submit once "
        "when you are done: the link then stops working. Do not forward this e-mail: the link is for you "
        "alone.\n\n%(agency)s") % context
    send_mail(subject=_("Due-diligence questionnaire from %(agency)s (answer by %(due)s)") % context,
              message=body, from_email=None, recipient_list=[link.contact_email])


@transaction.atomic
def review_send_invite(*, review, user, contact_name: str, contact_email: str, days: int = PORTAL_LINK_DAYS,
                       base_url: str = ""):
    """Send the review (review_send) and e-mail the contact their link, as one step: when the mail
    cannot be handed over, nothing is sent. Returns (link, token, absolute URL)."""
    errors = {}
    contact_name, contact_email = (contact_name or "").strip(), (contact_email or "").strip()
    if not contact_name:
        errors["contact_name"] = [_("Name the supplier's contact.")]
    if not contact_email:
        errors["contact_email"] = [_("Give the contact's e-mail address.")]
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= PORTAL_MAX_DAYS:
        errors["days"] = [_("Give a number of days from 1 to %(max)s.") % {"max": PORTAL_MAX_DAYS}]
    if errors:
        raise ValidationError(errors)
    link, token = review_send(review=review, user=user, contact_name=contact_name, contact_email=contact_email,
                              days=days)
    url = base_url.rstrip("/") + portal_path(token)
    try:
        portal_invitation_send(link=link, url=url)
    except OSError as error:  # smtplib's errors are OSErrors
        raise ValidationError({"contact_email": [_("The e-mail could not be sent (%(error)s); nothing was sent.")
                                                 % {"error": error}]}) from None
    return link, token, url


@transaction.atomic
def portal_link_revoke(*, link, user, reason: str = ""):
    """Stop a link working now. A link of a review still with the supplier recalls the review to
    draft (the recall transition, which closes its links), so that it can be sent again; answers saved
    so far are kept."""
    from procurement.models import DueDiligenceReview, PortalLink
    from qgov.permissions import require
    from qgov.services import object_transition

    require(user, link.review.agency_id, Action.TRANSITION, DueDiligenceReview)
    reason = (reason or "").strip() or _("Link to %(email)s revoked.") % {"email": link.contact_email}
    locked = PortalLink.objects.select_for_update(of=("self",)).select_related("review").get(pk=link.pk)
    if locked.status != PortalLinkStatusChoices.ACTIVE:
        raise ValidationError(_("This link no longer works (%(status)s).") % {
            "status": locked.get_status_display().lower()})
    if locked.review.status == ReviewStatusChoices.SENT:
        object_transition(instance=locked.review, name="recall", user=user, reason=reason)
    else:
        portal_links_close(locked.review, user=user)
    locked.refresh_from_db()
    return locked
# --- contracts -------------------------------------------------------------------------------------

def contract_renewal_problems(contract, *, today: datetime.date | None = None) -> list[str]:
    """Why a contract may not be renewed yet: a renewal with its sunset or end date already behind
    it would be renewed into the past (and at once overdue), so the new dates are edited in first."""
    today = today or timezone.localdate()
    problems = []
    if contract.sunset_date and contract.sunset_date < today:
        problems.append(_("The sunset date (%(date)s) has passed: edit the contract to set the new sunset date, "
                          "then renew.") % {"date": contract.sunset_date.isoformat()})
    if contract.end and contract.end < today:
        problems.append(_("The end date (%(date)s) has passed: edit the contract to set the new end date, "
                          "then renew.") % {"date": contract.end.isoformat()})
    return problems


def contract_next_reevaluation(contract, *, today: datetime.date | None = None) -> datetime.date | None:
    """The first re-evaluation date after `today` on the contract's cycle: from the date that was
    due (or the start), on by whole intervals, so the cycle keeps its anchor. Without an interval,
    a date still ahead stays and one that has passed is cleared (the renewal was the re-evaluation)."""
    from procurement.models import add_months

    today = today or timezone.localdate()
    anchor = contract.next_reevaluation or contract.start
    if not contract.reevaluation_months:
        return contract.next_reevaluation if contract.next_reevaluation and contract.next_reevaluation > today \
            else None
    step = 1
    # Counted from the anchor each time (not month on month), so 31 January stays the 31st when it can.
    while (moved := add_months(anchor, step * contract.reevaluation_months)) <= today:
        step += 1
    return moved


def contract_renew_apply(contract, *, today: datetime.date | None = None) -> None:
    """The renew transition's effect: the next re-evaluation moves on by the interval."""
    contract.next_reevaluation = contract_next_reevaluation(contract, today=today)


@dataclass(frozen=True)
class ContractDue:
    """One of a contract's due dates, as the contract page and the contracts due list show it."""

    name: str  # the DueDate's name: "sunset", "reevaluation", "end"
    label: str
    due_on: datetime.date
    days_left: int  # negative when overdue

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return max(-self.days_left, 0)


CONTRACT_DUE_HORIZON_DAYS = 180  # the due list's and the dashboard panel's default horizon


def contract_due_annotations(horizon: datetime.date | None = None) -> dict:
    """One annotation per contract due date declared on the model (sunset, re-evaluation, end): the
    date while the contract's state keeps it open (and, with `horizon`, on or before it), else
    NULL. One query then lists every contract with something due, whatever the number of rows."""
    from procurement.models import Contract

    annotations = {}
    for due in Contract.due_dates:
        condition = Q(**{f"{due.field}__isnull": False})
        if due.open_condition() is not None:
            condition &= due.open_condition()
        if horizon is not None:
            condition &= Q(**{f"{due.field}__lte": horizon})
        annotations[f"due_{due.key}"] = Case(When(condition, then=F(due.field)), default=None,
                                              output_field=DateField())
    return annotations


def contract_dues(contract, *, today: datetime.date) -> list[ContractDue]:
    """The contract's open due dates, soonest first; read from `contract_due_annotations` when the
    contract was loaded with them, else from its fields and state."""
    from procurement.models import Contract

    dues = []
    for due in Contract.due_dates:
        key = f"due_{due.key}"
        if hasattr(contract, key):
            value = getattr(contract, key)
        else:
            value = getattr(contract, due.field) if contract_due_is_open(contract, due) else None
        if value is not None:
            dues.append(ContractDue(due.key, str(due.label), value, (value - today).days))
    return sorted(dues, key=lambda item: (item.due_on, item.name))


def contract_due_is_open(contract, due) -> bool:
    """Whether the contract's state keeps `due` open; the declarations' `open` are status filters."""
    from procurement.models import Contract

    condition = due.open_condition()
    return condition is None or Contract._base_manager.filter(pk=contract.pk).filter(condition).exists()


def contracts_due(queryset, *, within_days: int = CONTRACT_DUE_HORIZON_DAYS, today: datetime.date | None = None):
    """(contract, its open due dates within the horizon) of the contracts in `queryset` with a
    sunset, re-evaluation or end on or before today + `within_days` (overdue ones included), soonest
    first: one query."""
    today = today or timezone.localdate()
    annotations = contract_due_annotations(today + datetime.timedelta(days=within_days))
    any_due = Q()
    for key in annotations:
        any_due |= Q(**{f"{key}__isnull": False})
    rows = [(contract, contract_dues(contract, today=today))
            for contract in queryset.annotate(**annotations).filter(any_due)]
    return sorted(rows, key=lambda row: (row[1][0].due_on, row[0].reference))
