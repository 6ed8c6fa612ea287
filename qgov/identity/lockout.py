"""Failed sign-ins: each password check takes a slot before it runs, so the limit holds at any
concurrency and across processes and machines. Re-exported (the model) by qgov.models.

Why not django-axes: axes reads the lock before the (slow, argon2) password check and counts the
failure after it, from the `user_login_failed` signal, so N concurrent guesses all pass the read
and are all checked — 7 checks per lockout at a limit of 5 under 3 gunicorn workers, and a right
password sent 6th got a token. Fixing that inside axes means replacing its handler, its counting
and its lockout key (its AccessAttempt row is per user agent too), i.e. everything but the name;
this module is that, in one place, on a table whose updates are atomic on SQLite and PostgreSQL.

How (docs/rate-limits.md says it for operators):

- Before the check, one conditional UPDATE takes a slot in the row of (username, client address):
  `failures < QGOV_LOGIN_FAILURE_LIMIT` within the window, else the attempt is refused before any
  password is read. A row is the same whatever the user agent. Each slot taken moves the window's
  end QGOV_LOGIN_LOCKOUT_MINUTES ahead, so a lock lasts that long after the last checked attempt.
- A right password gives the slot back and clears the pair's failures; the address becomes known
  for that user (`last_success`) for QGOV_LOGIN_KNOWN_ADDRESS_DAYS.
- From an address where the user has not signed in lately, the attempt also takes a slot in the
  username's own row (a higher ceiling, QGOV_LOGIN_USERNAME_FAILURE_LIMIT): guesses from many
  addresses are capped too, but they cannot lock the user out at an address they are known at.
- The client address is `qgov.ratelimit.client_ip` (trusted proxies) and nothing else.
- Refusals are answered by `LockoutMiddleware` (429, `Retry-After` = the seconds left):
  JSON under /api/, the lockout page elsewhere (the admin's sign-in included).
"""

import hashlib
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from asgiref.sync import sync_to_async
from celery import shared_task
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)

USERNAME_ROW_ADDRESS = "*"  # the address column of a username's own row: no address is written so
REQUEST_ATTRIBUTE = "qgov_locked_out"


class LoginAttempt(models.Model):
    """The failed sign-ins of one username from one client address, or (address "*") of one
    username from addresses where it has not signed in lately. One row per key, whatever the user
    agent; deleted by the purge once its window is over and its address no longer known."""

    key = models.CharField(max_length=64, unique=True, editable=False,
                           help_text=_("SHA-256 of the username and address (usernames may hold anything)."))
    username = models.CharField(_("username"), max_length=150, editable=False)
    address = models.CharField(_("client address"), max_length=45, blank=True, editable=False)
    failures = models.PositiveIntegerField(_("failures"), default=0, editable=False)
    window_ends = models.DateTimeField(_("counts until"), db_index=True, editable=False,
                                       help_text=_("Failures count until then; while they are at the limit, "
                                                   "sign-in is refused until then."))
    last_success = models.DateTimeField(_("last sign-in"), null=True, editable=False,
                                        help_text=_("The user signed in from this address (a known address)."))
    # Taken by the one failure that reports the current lock (the audit event is written once).
    lock_recorded = models.BooleanField(default=False, editable=False)

    class Meta:
        verbose_name = _("login attempt")
        verbose_name_plural = _("login attempts")

    def __str__(self):
        return f"{self.username} from {self.address or '?'}"


@dataclass(frozen=True)
class Policy:
    pair_limit: int
    username_limit: int
    window: timedelta
    known_for: timedelta

    @classmethod
    def from_settings(cls):
        return cls(pair_limit=settings.QGOV_LOGIN_FAILURE_LIMIT,
                   username_limit=settings.QGOV_LOGIN_USERNAME_FAILURE_LIMIT,
                   window=timedelta(minutes=settings.QGOV_LOGIN_LOCKOUT_MINUTES),
                   known_for=timedelta(days=settings.QGOV_LOGIN_KNOWN_ADDRESS_DAYS))


class LockedOut(PermissionDenied):
    """Refused before the password check. PermissionDenied: Django's authenticate() then asks no
    other backend and sends `user_login_failed` (with the password masked)."""

    def __init__(self, until: datetime):
        self.until = until
        super().__init__("Too many failed sign-in attempts.")

    @property
    def retry_after(self) -> int:
        """Whole seconds until the lock ends (at least 1)."""
        return max(1, math.ceil((self.until - timezone.now()).total_seconds()))


def _key(username: str, address: str) -> str:
    return hashlib.sha256(f"{username}\x00{address}".encode()).hexdigest()


def _take_slot(*, username: str, address: str, limit: int, now: datetime, window: timedelta) -> datetime | None:
    """Count one attempt against the row of (username, address) if it is under `limit`: None, or
    when the row is full, the end of its window. Each step is one atomic statement, so concurrent
    attempts in any process take at most `limit` slots."""
    key = _key(username, address)
    rows = LoginAttempt.objects.filter(key=key)
    ends = now + window
    for _attempt in range(5):
        if rows.filter(window_ends__gt=now, failures__lt=limit).update(failures=F("failures") + 1, window_ends=ends):
            return None
        if rows.filter(window_ends__lte=now).update(failures=1, window_ends=ends, lock_recorded=False):
            return None
        current = rows.values_list("failures", "window_ends").first()
        if current is not None:
            failures, window_ends = current
            if failures >= limit and window_ends > now:
                return window_ends
            continue  # given back or expired meanwhile: try again
        try:
            with transaction.atomic():
                # The name is for people reading the rows (the key holds it whole); PostgreSQL text has no NUL.
                LoginAttempt.objects.create(key=key, username=username.replace("\x00", "")[:150], address=address,
                                            failures=1, window_ends=ends)
            return None
        except IntegrityError:
            continue  # a concurrent first attempt created it: count against that row
    return now + window  # rows changing under us five times: refuse rather than check unbounded


def _give_back(username: str, address: str) -> None:
    LoginAttempt.objects.filter(key=_key(username, address), failures__gt=0).update(
        failures=F("failures") - 1, lock_recorded=False)


def _is_known_address(username: str, address: str, now: datetime, policy: Policy) -> bool:
    return LoginAttempt.objects.filter(key=_key(username, address),
                                       last_success__gt=now - policy.known_for).exists()


@dataclass
class Attempt:
    """One password check that holds its slot(s); `succeeded()` or `failed()` after the check."""

    username: str
    address: str
    counts_for_username: bool
    policy: Policy

    def succeeded(self) -> None:
        LoginAttempt.objects.filter(key=_key(self.username, self.address)).update(
            failures=0, last_success=timezone.now(), lock_recorded=False)
        if self.counts_for_username:
            _give_back(self.username, USERNAME_ROW_ADDRESS)

    def failed(self) -> LockedOut | None:
        """Log the failure; the lock it completed, if the count is now full (so that the attempt that
        used the last slot already says so, rather than the next one)."""
        # Never the password; the username as typed (repr: it may hold anything).
        logger.warning("Failed sign-in for %r from %s", self.username, self.address or "an unknown address")
        now = timezone.now()
        rows = [(self.address, self.policy.pair_limit)]
        if self.counts_for_username:
            rows.append((USERNAME_ROW_ADDRESS, self.policy.username_limit))
        for address, limit in rows:
            full = LoginAttempt.objects.filter(key=_key(self.username, address), failures__gte=limit,
                                               window_ends__gt=now)
            until = full.values_list("window_ends", flat=True).first()
            if until is None:
                continue
            # Audit material is data, in one language: not translated.
            where = ("addresses where the user had not signed in lately" if address == USERNAME_ROW_ADDRESS
                     else address or "an unknown address")
            # Of concurrent failures that see the count full, one reports the lock.
            if full.filter(lock_recorded=False).update(lock_recorded=True):
                logger.warning("Sign-in locked for %r from %s until %s", self.username, where, until.isoformat())
                _audit_lock(self.username, limit=limit, where=where, until=until)
            return LockedOut(until)
        return None


def _audit_lock(username: str, *, limit: int, where: str, until: datetime) -> None:
    """An account's lock in its history (the audit trail's platform chain, like the account): an
    explicit transition, so that it reads as what happened, with no field of the user changed.
    Usernames that name no account get no event: the log says it, and nothing bounds how many
    names a guesser tries."""
    from django.contrib.auth import get_user_model

    from qgov.audit import mark_transition, record_event
    from qgov.choices import AuditActionChoices

    user = get_user_model()._default_manager.filter(**{get_user_model().USERNAME_FIELD: username}).first()
    if user is None:
        return
    mark_transition(user, "lock_sign_in", reason=f"{limit} failed sign-ins from {where}")
    record_event(user, action=AuditActionChoices.UPDATE, before={"sign_in_locked_until": None},
                 after={"sign_in_locked_until": until.isoformat()})


def login_attempts_unlock(*, attempts, by) -> int:
    """Clear the failures of these rows (a platform admin's "unlock" in the Django admin): sign-in is
    allowed again at once from there. Each account unlocked gets an event in its history, like its
    lock; rows of usernames that name no account are only logged. Returns how many rows had failures."""
    from django.contrib.auth import get_user_model

    from qgov.audit import mark_transition, record_event
    from qgov.choices import AuditActionChoices

    User = get_user_model()
    unlocked = 0
    with transaction.atomic():
        for attempt in LoginAttempt.objects.select_for_update().filter(
                pk__in=[row.pk for row in attempts], failures__gt=0).order_by("pk"):
            where = ("addresses where the user had not signed in lately" if attempt.address == USERNAME_ROW_ADDRESS
                     else attempt.address or "an unknown address")
            logger.warning("Sign-in unlocked for %r from %s by %s", attempt.username, where, by)
            was = {"sign_in_failures": attempt.failures, "counted_until": attempt.window_ends.isoformat()}
            LoginAttempt.objects.filter(pk=attempt.pk).update(failures=0, lock_recorded=False)
            unlocked += 1
            user = User._default_manager.filter(**{User.USERNAME_FIELD: attempt.username}).first()
            if user is not None:
                mark_transition(user, "unlock_sign_in", reason=f"{attempt.failures} failed sign-ins from {where} "
                                                               f"cleared by {by}")
                record_event(user, action=AuditActionChoices.UPDATE, before=was,
                             after={"sign_in_failures": 0, "counted_until": None})
    return unlocked


def begin(username: str, address: str, *, policy: Policy | None = None) -> Attempt:
    """Take the slots for one password check of `username` from `address`, or raise LockedOut."""
    policy = policy or Policy.from_settings()
    now = timezone.now()
    counts_for_username = not _is_known_address(username, address, now, policy)
    locked_until = _take_slot(username=username, address=address, limit=policy.pair_limit, now=now,
                              window=policy.window)
    if locked_until is None and counts_for_username:
        locked_until = _take_slot(username=username, address=USERNAME_ROW_ADDRESS, limit=policy.username_limit,
                                  now=now, window=policy.window)
        if locked_until is not None:
            _give_back(username, address)  # not checked: the pair's slot stays free
    if locked_until is not None:
        logger.warning("Sign-in refused for %r from %s: locked until %s", username,
                       address or "an unknown address", locked_until.isoformat())
        raise LockedOut(locked_until)
    return Attempt(username=username, address=address, counts_for_username=counts_for_username, policy=policy)


class LockoutModelBackend(ModelBackend):
    """Django's username and password backend, each check inside an attempt's slot. It replaces
    ModelBackend in AUTHENTICATION_BACKENDS: a second password backend would check again."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        from qgov.ratelimit import client_ip

        if username is None:
            username = kwargs.get(self.user_model_field())
        if username is None or password is None:
            return None  # no password check happens
        try:
            attempt = begin(str(username), client_ip(request) if request is not None else "")
        except LockedOut as locked:
            if request is not None:
                setattr(request, REQUEST_ATTRIBUTE, locked)
            raise
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            attempt.succeeded()
            return user
        locked = attempt.failed()
        if locked is not None and request is not None:
            setattr(request, REQUEST_ATTRIBUTE, locked)
        return None

    async def aauthenticate(self, request, **kwargs):
        # ModelBackend's own async version checks the password directly: go through the slots.
        return await sync_to_async(self.authenticate)(request, **kwargs)

    @staticmethod
    def user_model_field():
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


def locked_out(request) -> LockedOut | None:
    """The refusal of this request's sign-in, if it was refused."""
    return getattr(request, REQUEST_ATTRIBUTE, None)


class LockoutMiddleware:
    """Answers a request whose sign-in was refused with 429 and Retry-After, whichever view asked
    (the login page re-shows its form on any failed authenticate(); the admin's does too)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from qgov.api.exceptions import lockout_response

        response = self.get_response(request)
        locked = locked_out(request)
        if locked is not None and response.status_code != 429:
            return lockout_response(request, locked)
        return response


def login_attempts_purge(*, now: datetime | None = None, policy: Policy | None = None) -> int:
    """Delete rows whose window is over and whose address is no longer known; their number."""
    policy = policy or Policy.from_settings()
    now = now or timezone.now()
    stale = LoginAttempt.objects.filter(window_ends__lte=now).exclude(last_success__gt=now - policy.known_for)
    deleted, _by_model = stale.delete()
    return deleted


@shared_task(name="qgov.identity.lockout.login_attempts_purge_expired")
def login_attempts_purge_expired() -> int:
    return login_attempts_purge()
