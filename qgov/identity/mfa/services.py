"""Adding, using and removing second factors. Every change is audited (the platform chain, like the
account) and the user is notified of added or removed authenticators and of used recovery codes."""

import hashlib
import hmac
import secrets
import time

import pyotp
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from qgov.identity.mfa.models import Authenticator, AuthenticatorKindChoices, RecoveryCode
from qgov.identity.mfa.policy import mfa_required

TOTP_PERIOD = 30
TOTP_DIGITS = 6
TOTP_WINDOW = 1  # steps either side of now that still count (clock drift)
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_CHARS = 16  # base32: 80 bits each
_BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


class CannotRemove(Exception):
    """Removing the authenticator would leave a user who must have MFA without any."""


def _audit_user(user, transition: str, reason: str, *, before: dict, after: dict) -> None:
    from django.contrib.auth import get_user_model

    from qgov.audit import mark_transition, record_event
    from qgov.choices import AuditActionChoices

    # The plain user (request.user is a lazy proxy, which the transition mark would not stick to).
    user = get_user_model()._default_manager.get(pk=user.pk)
    mark_transition(user, transition, reason=reason)
    record_event(user, action=AuditActionChoices.UPDATE, before=before, after=after)


def _notify(user, title: str, body: str) -> None:
    from qgov.services import notify

    notify(users=[user], title=title, body=body, url=reverse("qgov:account_security"))


def _kinds(user) -> list[str]:
    return sorted(f"{kind}:{name}" for kind, name in user.authenticators.values_list("kind", "name"))


# --- authenticators ---------------------------------------------------------------------------------


@transaction.atomic
def authenticator_add(*, user, kind: str, name: str, **fields) -> Authenticator:
    before = {"authenticators": _kinds(user)}
    authenticator = Authenticator.objects.create(user=user, kind=kind, name=name[:100], **fields)
    _audit_user(user, "add_authenticator", f"{authenticator.get_kind_display()} “{authenticator.name}” added",
                before=before, after={"authenticators": _kinds(user)})
    _notify(user, _("A sign-in method was added to your account"),
            _("%(kind)s “%(name)s” can now be used to sign in to your account. If this was not you, remove it "
              "and tell your agency's security officer.") % {"kind": authenticator.get_kind_display(),
                                                              "name": authenticator.name})
    return authenticator


@transaction.atomic
def authenticator_remove(*, authenticator) -> None:
    user = authenticator.user
    authenticator = Authenticator.objects.select_for_update().get(pk=authenticator.pk)
    others = Authenticator.objects.filter(user=user).exclude(pk=authenticator.pk)
    # Locked with the row: two removals at once cannot each leave the other as the last one.
    list(others.select_for_update())
    if mfa_required(user) and not others.exists():
        raise CannotRemove(_("Your account must keep at least one sign-in method: add another first."))
    before = {"authenticators": _kinds(user)}
    authenticator.delete()
    _audit_user(user, "remove_authenticator", f"{authenticator.get_kind_display()} “{authenticator.name}” removed",
                before=before, after={"authenticators": _kinds(user)})
    _notify(user, _("A sign-in method was removed from your account"),
            _("%(kind)s “%(name)s” can no longer be used to sign in to your account.")
            % {"kind": authenticator.get_kind_display(), "name": authenticator.name})


# --- TOTP -------------------------------------------------------------------------------------------


def totp_new_secret() -> str:
    return pyotp.random_base32(32)  # 160 bits, as RFC 4226 recommends


def totp_uri(secret: str, *, user, issuer: str = "qgov") -> str:
    return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD).provisioning_uri(
        name=user.get_username(), issuer_name=issuer)


def totp_matching_step(secret: str, code: str, *, at: float | None = None) -> int | None:
    """The time step whose code `code` is, within the drift window; None when none."""
    code = "".join((code or "").split())
    if len(code) != TOTP_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD)
    now_step = int((time.time() if at is None else at) // TOTP_PERIOD)
    matched = None
    for step in range(now_step - TOTP_WINDOW, now_step + TOTP_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            matched = step
    return matched


def totp_verify(*, authenticator, code: str, at: float | None = None) -> bool:
    """Whether `code` is good and not used yet: the step is taken by one conditional UPDATE, so of
    processes racing the same code exactly one gets it, and no older step counts afterwards."""
    step = totp_matching_step(authenticator.totp_secret, code, at=at)
    if step is None:
        return False
    return Authenticator.objects.filter(pk=authenticator.pk, kind=AuthenticatorKindChoices.TOTP,
                                        totp_last_step__lt=step).update(
        totp_last_step=step, last_used=timezone.now()) == 1


# --- recovery codes ---------------------------------------------------------------------------------


def _hash_code(code: str, salt: str) -> str:
    return f"sha256${salt}${hashlib.sha256(f'{salt}:{code}'.encode()).hexdigest()}"


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def format_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


@transaction.atomic
def recovery_codes_replace(*, user, reason: str = "regenerated") -> list[str]:
    """A new set of codes (the old set stops working); the plain codes are returned to be shown once."""
    codes = ["".join(secrets.choice(_BASE32) for _ in range(RECOVERY_CODE_CHARS)) for _ in range(RECOVERY_CODE_COUNT)]
    had = RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, code_hash=_hash_code(code, secrets.token_hex(16))) for code in codes])
    _audit_user(user, "replace_recovery_codes", reason, before={"recovery_codes_unused": had},
                after={"recovery_codes_unused": len(codes)})
    return [format_code(code) for code in codes]


def recovery_code_use(*, user, code: str) -> list[str] | None:
    """Uses one code: None when it is not a current code of the user; otherwise the replacement set
    (the whole set is replaced after a use, so a code seen once is never good again)."""
    code = _normalise_code(code)
    if len(code) != RECOVERY_CODE_CHARS:
        return None
    with transaction.atomic():
        for candidate in RecoveryCode.objects.select_for_update().filter(user=user, used_at__isnull=True):
            salt = candidate.code_hash.split("$")[1]
            if hmac.compare_digest(_hash_code(code, salt), candidate.code_hash):
                RecoveryCode.objects.filter(pk=candidate.pk).update(used_at=timezone.now())
                break
        else:
            return None
        _audit_user(user, "use_recovery_code", "signed in with a recovery code", before={"recovery_code_used": None},
                    after={"recovery_code_used": candidate.pk})
        new_codes = recovery_codes_replace(user=user, reason="replaced after a recovery code was used")
        _notify(user, _("A recovery code was used to sign in to your account"),
                _("Someone signed in with one of your recovery codes; your codes were replaced. If this was not "
                  "you, change your password and tell your agency's security officer."))
    return new_codes


def has_recovery_codes(user) -> bool:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).exists()
