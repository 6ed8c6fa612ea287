"""What a sign-in through an agency's identity provider does to the person's account and
memberships. The sign-in flow validates the ID token, then calls `sync_provider_memberships` with
its claims and acts on the result (a step-up, a refusal page, or signing the user in).

Rules (issue #15, §2):
- The agency is the provider's own, never taken from a claim: a provider grants roles in its agency only.
- The groups claim goes through the provider's allow-list (`role_mappings`); unmapped groups give
  nothing, admin is never granted, and of several matches the strongest role wins.
- Only memberships the provider itself keeps (source "provider", this provider) are recomputed: a
  group removed at the provider takes the role away at the next sign-in; a manual (or SCIM)
  membership in the agency is left as it is.
- A person is keyed on (provider, subject), never matched by e-mail. An account is created just in
  time only when the provider allows it and a mapping matches; otherwise the sign-in is refused.
- One transaction; every change is an audit event whose actor is the user (or, before the account
  exists, the provider).
"""

import datetime as dt
import re
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qgov.audit import audit_context, current_context, one_change
from qgov.choices import MembershipSourceChoices
from qgov.identity.providers.models import ExternalIdentity, IdentityProvider
from qgov.models import Membership

# Why a sign-in is refused (SignInRefused.reason) or must go back to the provider (StepUp.reason).
PROVIDER_INACTIVE = "provider_inactive"
ACCOUNT_DISABLED = "account_disabled"
NO_ACCOUNT = "no_account"  # unknown person, and the provider does not create accounts
NO_MAPPED_GROUP = "no_mapped_group"  # unknown person whose groups match no mapping
NO_ACCESS = "no_access"  # known person left with no membership at all
ACR_MISSING = "acr"
AUTH_TOO_OLD = "auth_age"


class SignInRefused(Exception):
    """The sign-in is refused; `message` is for the person, `reason` for the flow and the logs."""

    def __init__(self, message: str, *, reason: str):
        super().__init__(message)
        self.message, self.reason = message, reason


@dataclass(frozen=True)
class StepUp:
    """Send the person back to the provider: with `acr_values` for a stronger authentication, or
    `max_age=0` for a fresh one. Nothing was changed."""

    reason: str
    message: str
    acr_values: str = ""
    max_age: int | None = None


@dataclass
class ProvisioningResult:
    user: object | None = None
    identity: ExternalIdentity | None = None
    role: str | None = None  # what the provider's mappings give in its agency (None: nothing)
    membership: Membership | None = None  # the user's membership in the provider's agency, whoever keeps it
    user_created: bool = False
    # What changed: "membership created", "membership role viewer → editor", "membership removed", …
    changes: list[str] = field(default_factory=list)
    step_up: StepUp | None = None

    @property
    def kept_elsewhere(self) -> bool:
        """The agency membership is manual or SCIM: the provider's mappings did not touch it."""
        return self.membership is not None and self.membership.source != MembershipSourceChoices.PROVIDER


def groups_of(provider: IdentityProvider, claims: dict) -> list[str]:
    """The provider's groups claim as a list of strings (a single string counts as one group)."""
    value = claims.get(provider.groups_claim)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, str)]
    return []


def required_step_up(provider: IdentityProvider, claims: dict, *, now: dt.datetime | None = None) -> StepUp | None:
    """Whether the authentication the claims describe falls short of the provider's requirements."""
    if provider.required_acr and claims.get("acr") != provider.required_acr:
        return StepUp(ACR_MISSING, _("Your agency requires a stronger sign-in at its identity provider."),
                      acr_values=provider.required_acr)
    if provider.max_auth_age is not None:
        auth_time = claims.get("auth_time")
        now = now or timezone.now()
        if not isinstance(auth_time, int | float) or isinstance(auth_time, bool) or (
                now.timestamp() - auth_time > provider.max_auth_age):
            return StepUp(AUTH_TOO_OLD, _("Please sign in again at your agency's identity provider."), max_age=0)
    return None


def sync_provider_memberships(provider: IdentityProvider, user, subject: str, claims: dict, *,
                              now: dt.datetime | None = None) -> ProvisioningResult:
    """Apply a validated sign-in through `provider` by `subject` (the ID token's `sub`) with its
    `claims`. `user` is the account already linked to (provider, subject), or None for a first
    sign-in. Returns the result (with `step_up` set, and nothing changed, when the authentication
    must be stronger or fresher); raises SignInRefused when the person may not sign in."""
    if not provider.is_active:
        raise SignInRefused(_("Sign-in through this identity provider is switched off. Ask your agency's qgov "
                              "administrator."), reason=PROVIDER_INACTIVE)
    step_up = required_step_up(provider, claims, now=now)
    if step_up is not None:
        return ProvisioningResult(user=user, step_up=step_up)
    with transaction.atomic():
        # The registration as it is now (mappings changed a moment ago count), locked until commit: the
        # same person signing in twice at once waits here and finds the account the first one made.
        provider = IdentityProvider.objects.select_related("agency").select_for_update(of=("self",)).get(
            pk=provider.pk)
        role = provider.role_for_groups(groups_of(provider, claims))
        result = ProvisioningResult(role=role)
        identity = (ExternalIdentity.objects.select_related("user").select_for_update(of=("self",))
                    .filter(provider=provider, subject=subject).first())
        if identity is None and user is not None:
            raise ValueError("This user is not linked to the provider's subject; accounts are never matched.")
        if identity is not None and user is not None and identity.user_id != user.pk:
            raise ValueError("The provider's subject belongs to another user.")
        context = current_context()
        with audit_context(source=context.source, request=context.request, request_id=context.request_id or None,
                           actor=identity.user if identity else context.actor,
                           label=_("identity provider %(name)s (%(agency)s)")
                           % {"name": provider.name, "agency": provider.agency.code}), one_change():
            if identity is None:
                identity, result.user_created = _link_or_provision_user(provider, subject, claims, role)
            user = identity.user
            if not user.is_active:
                raise SignInRefused(_("Your qgov account is disabled. Ask your agency's qgov administrator."),
                                    reason=ACCOUNT_DISABLED)
            result.membership = _sync_membership(provider, user, role, result.changes)
        ExternalIdentity.objects.filter(pk=identity.pk).update(last_sign_in=now or timezone.now())
        result.user, result.identity = user, identity
        has_access = user.is_superuser or Membership.objects.filter(user=user).exists()
    if not has_access:  # after the commit: the role the provider took away stays taken away
        raise SignInRefused(_("Your account at %(provider)s gives no role in qgov any more. Ask your agency's qgov "
                              "administrator.") % {"provider": provider.name}, reason=NO_ACCESS)
    return result


def _link_or_provision_user(provider, subject, claims, role) -> tuple[ExternalIdentity, bool]:
    """The identity of (provider, subject), new, and whether its user is new too. People are keyed on
    (issuer, subject): an OpenID provider's `sub` is unique within its issuer, so when another agency
    registered the same issuer (a shared government IdP) and knows this subject, it is the same person
    and the same account, given a membership here by this provider. Never matched by e-mail."""
    known = (ExternalIdentity.objects.select_related("user")
             .filter(provider__issuer=provider.issuer, subject=subject).exclude(provider=provider).first())
    if known is not None:
        identity = ExternalIdentity(provider=provider, subject=subject, user=known.user)
        identity.full_clean()
        identity.save()
        return identity, False
    return _provision_user(provider, subject, claims, role), True


def _provision_user(provider, subject, claims, role) -> ExternalIdentity:
    if not provider.jit_provisioning:
        raise SignInRefused(_("You signed in at %(provider)s, but you have no qgov account yet. Ask your agency's "
                              "qgov administrator for access.") % {"provider": provider.name}, reason=NO_ACCOUNT)
    if role is None:
        raise SignInRefused(_("You signed in at %(provider)s, but none of your groups there gives access to qgov. "
                              "Ask your agency's qgov administrator.") % {"provider": provider.name},
                            reason=NO_MAPPED_GROUP)
    User = get_user_model()
    user = User(username=_free_username(provider, claims, subject), email=_text(claims.get("email"), 254),
                first_name=_text(claims.get("given_name"), 150), last_name=_text(claims.get("family_name"), 150))
    user.set_unusable_password()  # signs in through the provider only
    user.full_clean(exclude=["password"])
    user.save()
    identity = ExternalIdentity(provider=provider, subject=subject, user=user)
    identity.full_clean()
    identity.save()
    return identity


def _sync_membership(provider, user, role, changes: list[str]) -> Membership | None:
    """Recompute the provider's own membership of `user` in the provider's agency."""
    membership = (Membership.objects.select_for_update(of=("self",))
                  .filter(user=user, agency=provider.agency).first())
    if membership is not None and not (membership.source == MembershipSourceChoices.PROVIDER
                                       and membership.provider_id == provider.pk):
        return membership  # manual or SCIM: not the provider's to change
    if role is None:
        if membership is not None:
            membership.delete()
            changes.append(f"membership removed ({membership.role})")
        return None
    if membership is None:
        membership = Membership(agency=provider.agency, user=user, role=role,
                                source=MembershipSourceChoices.PROVIDER, provider=provider)
        membership.full_clean()
        membership.save()
        changes.append(f"membership created ({role})")
    elif membership.role != role:
        changes.append(f"membership role {membership.role} → {role}")
        membership.role = role
        membership.full_clean()
        membership.save(update_fields=["role"])
    return membership


def _text(value, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _free_username(provider, claims, subject) -> str:
    """A readable, unique username: the person's provider name, suffixed with the agency code.
    It identifies nobody: the link is the external identity, not the name."""
    base = _text(claims.get("preferred_username"), 100) or _text(claims.get("email"), 100) or subject
    base = re.sub(r"[^\w.@+-]", "-", base)[:100].strip("-") or "user"
    stem = f"{base}+{provider.agency.code.lower()}"
    User = get_user_model()
    candidate, number = stem, 1
    while User.objects.filter(username=candidate).exists():
        number += 1
        candidate = f"{stem}-{number}"
    return candidate
