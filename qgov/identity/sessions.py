"""Browser sessions that end: the idle and absolute limits (the platform's, or an agency's stricter
ones), the record of each sign-in, and ending a session from anywhere.

What the server keeps in the session itself (read by the middleware without a query):
- SIGNED_IN_KEY: when the user signed in (the absolute limit counts from it);
- LAST_SEEN_KEY: the last page view, written at most once per QGOV_SESSION_TOUCH_SECONDS;
- LIMITS_KEY: [idle, absolute] in seconds, read from the user's agencies at sign-in and at each touch,
  so an agency's stricter policy reaches open sessions within one touch interval.
"""

import dataclasses
import datetime as dt
import time

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models import Min
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from qgov.identity.choices import UserSessionEndReasonChoices
from qgov.identity.store import hash_session_key

SIGNED_IN_KEY = "qgov_signed_in"
LAST_SEEN_KEY = "qgov_last_seen"
LIMITS_KEY = "qgov_limits"
USER_AGENT_LENGTH = 300


@dataclasses.dataclass(frozen=True)
class SessionLimits:
    idle: int  # seconds without a page view
    absolute: int  # seconds since sign-in


def platform_limits() -> SessionLimits:
    return SessionLimits(idle=settings.QGOV_SESSION_IDLE_SECONDS, absolute=settings.QGOV_SESSION_ABSOLUTE_SECONDS)


def limits_for(user) -> SessionLimits:
    """The strictest of the platform's limits and those of every agency the user is a member of."""
    from qgov.models import Agency

    platform = platform_limits()
    strictest = Agency.objects.filter(qgov_membership_set__user=user).aggregate(
        idle=Min("session_idle_minutes"), absolute=Min("session_absolute_minutes"))
    idle, absolute = platform.idle, platform.absolute
    if strictest["idle"] is not None:
        idle = min(idle, strictest["idle"] * 60)
    if strictest["absolute"] is not None:
        absolute = min(absolute, strictest["absolute"] * 60)
    return SessionLimits(idle=idle, absolute=absolute)


def expiry_reason(session, now: float) -> str | None:
    """Why this signed-in session must end now, or None. A session without the times qgov writes at
    sign-in cannot show it is within its limits, so it ends too."""
    signed_in, last_seen, limits = session.get(SIGNED_IN_KEY), session.get(LAST_SEEN_KEY), session.get(LIMITS_KEY)
    if signed_in is None or last_seen is None or limits is None:
        return UserSessionEndReasonChoices.ABSOLUTE
    idle, absolute = limits
    if now - signed_in >= absolute:
        return UserSessionEndReasonChoices.ABSOLUTE
    if now - last_seen >= idle:
        return UserSessionEndReasonChoices.IDLE
    return None


def expiry_message(reason: str, session) -> str:
    idle, absolute = session.get(LIMITS_KEY) or (0, 0)
    if reason == UserSessionEndReasonChoices.IDLE:
        return _("You were signed out after %(minutes)d minutes without activity. Please sign in again.") % {
            "minutes": idle // 60}
    return _("Your session reached its limit of %(duration)s and has ended. Please sign in again.") % {
        "duration": duration_text(absolute)}


def duration_text(seconds: int) -> str:
    if seconds == 3600:
        return _("1 hour")
    if seconds and seconds % 3600 == 0:
        return _("%(hours)d hours") % {"hours": seconds // 3600}
    return _("%(minutes)d minutes") % {"minutes": seconds // 60}


def session_touch(request, now: float) -> None:
    """Record a page view: at most once per QGOV_SESSION_TOUCH_SECONDS, the session's last-seen time,
    the current limits and the record's last-seen time are written. Between touches nothing is, so
    idle time counts from the last touch: a session ends at most one interval early, never late."""
    from qgov.identity.models import UserSession

    session = request.session
    if now - session.get(LAST_SEEN_KEY, 0) < settings.QGOV_SESSION_TOUCH_SECONDS:
        return
    limits = limits_for(request.user)
    session[LAST_SEEN_KEY] = int(now)
    session[LIMITS_KEY] = [limits.idle, limits.absolute]
    # The stored session expires with its limits too (and the cookie with it), whatever the browser does.
    session.set_expiry(max(1, min(limits.idle, int(session[SIGNED_IN_KEY] + limits.absolute - now))))
    UserSession.objects.filter(key_hash=hash_session_key(session.session_key)).update(
        last_seen=timezone.now())


# --- the record of each sign-in -------------------------------------------------------------


@receiver(user_logged_in, dispatch_uid="qgov_identity_session_started")
def session_started(sender, request, user, **kwargs):
    """A sign-in (any way in: the login page, a provider later, a test client): the session's times
    and limits, and its record."""
    from qgov.identity.models import UserSession
    from qgov.ratelimit import client_ip

    session = getattr(request, "session", None)
    if session is None:
        return
    if session.session_key is None:
        # A sign-in over another user's session flushed it: it gets its new key now, not at the response.
        session.save()
    now = time.time()
    limits = limits_for(user)
    session[SIGNED_IN_KEY] = int(now)
    session[LAST_SEEN_KEY] = int(now)
    session[LIMITS_KEY] = [limits.idle, limits.absolute]
    session.set_expiry(min(limits.idle, limits.absolute))
    from qgov.identity.reauth import mark_authenticated

    mark_authenticated(request, at=now)
    signed_in = timezone.now()
    UserSession.objects.update_or_create(
        key_hash=hash_session_key(session.session_key),
        defaults={"user": user, "created": signed_in, "last_seen": signed_in, "client_ip": client_ip(request)[:45],
                  "user_agent": request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH],
                  "ended_at": None, "end_reason": ""})


@receiver(user_logged_out, dispatch_uid="qgov_identity_session_signed_out")
def session_signed_out(sender, request, user, **kwargs):
    from qgov.identity.models import UserSession

    session = getattr(request, "session", None)
    if user is None or session is None or session.session_key is None:
        return
    record = UserSession.objects.open().filter(key_hash=hash_session_key(session.session_key), user=user).first()
    if record is not None:
        user_session_end(record=record, reason=UserSessionEndReasonChoices.SIGNED_OUT)


def user_session_end(*, record, reason: str, at=None) -> None:
    """End a session: its stored session is deleted (the cookie stops working with the next
    request), and the record says when (`at`, or now) and why, as one audited change."""
    from qgov.audit import record_event, snapshot
    from qgov.choices import AuditActionChoices
    from qgov.identity.models import UserSession

    with transaction.atomic():
        record = UserSession.objects.select_for_update().get(pk=record.pk)
        Session.objects.filter(session_key=record.key_hash).delete()
        if record.ended_at is not None:
            return
        before = snapshot(record, include_m2m=False)
        record.ended_at, record.end_reason = at or timezone.now(), reason
        record.save(update_fields=["ended_at", "end_reason"])
        record_event(record, action=AuditActionChoices.UPDATE, before=before, after=snapshot(record, include_m2m=False))


def user_sessions_end_expired(*, now: dt.datetime | None = None) -> int:
    """Close the records of sessions past their idle or absolute limit whose browser never came back to
    be told (the middleware ends the others at their next request), delete their stored sessions and
    every other expired one; returns how many records were closed. Run by Celery beat
    (qgov.tasks.end_expired_user_sessions).

    A stored session expires with its limits (session_touch sets its expiry), so the candidates are the
    open records without a live stored session. With the stored session at hand, its own times and
    limits say why it ended and its expiry says when; without it (deleted by something else), the
    record's times against the user's current limits do, and a record still within them is left open.
    """
    from qgov.identity.models import UserSession

    now = now or timezone.now()
    alive = Session.objects.filter(expire_date__gt=now).values("session_key")
    candidates = list(UserSession.objects.open().exclude(key_hash__in=alive).select_related("user"))
    stored = {session.session_key: session for session in
              Session.objects.filter(session_key__in=[record.key_hash for record in candidates])}
    limits_of: dict[int, SessionLimits] = {}
    closed = 0
    for record in candidates:
        session = stored.get(record.key_hash)
        if session is not None:
            # Whichever limit it reached when it expired (the idle one may have come before the absolute).
            at = min(session.expire_date, now)
            reason = expiry_reason(session.get_decoded(), at.timestamp()) or UserSessionEndReasonChoices.IDLE
        else:
            if record.user_id not in limits_of:
                limits_of[record.user_id] = limits_for(record.user)
            reason, at = _limit_reached(record, limits_of[record.user_id], now)
            if reason is None:
                continue
        user_session_end(record=record, reason=reason, at=at)
        closed += 1
    Session.objects.filter(expire_date__lte=now).delete()  # anonymous ones too: Django's clearsessions
    return closed


def _limit_reached(record, limits: SessionLimits, now: dt.datetime) -> tuple[str | None, dt.datetime | None]:
    """Which limit a record's own times reached first, and when; (None, None) while within both."""
    idle_end = record.last_seen + dt.timedelta(seconds=limits.idle)
    absolute_end = record.created + dt.timedelta(seconds=limits.absolute)
    if absolute_end <= now and absolute_end <= idle_end:
        return UserSessionEndReasonChoices.ABSOLUTE, absolute_end
    if idle_end <= now:
        return UserSessionEndReasonChoices.IDLE, idle_end
    return None, None


def user_sessions_of(user):
    """The user's sessions still in force, newest first: a browser closed and never back leaves its
    record open, but the stored session expires by itself (session_touch), and the record with it."""
    from qgov.identity.models import UserSession

    alive = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return UserSession.objects.open().filter(user=user, key_hash__in=alive)
