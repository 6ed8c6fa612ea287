"""The supplier portal: signed one-time links, and what a supplier may do through one."""

import datetime
import hashlib
import re
import secrets
import zoneinfo

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from procurement.choices import (
    AnswerChoices,
    PortalLinkStatusChoices,
    ReviewStatusChoices,
)
from procurement.services.reviews import portal_links_close
from qgov.roles import Action

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
