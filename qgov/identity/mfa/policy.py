"""Who needs which second factor. Platform admins always need MFA; members of an agency that
requires phishing-resistant MFA need a passkey (or a provider sign-in that was phishing-resistant);
TOTP only where every agency of the user allows it and none requires phishing resistance."""

from dataclasses import dataclass

from django.db.models import Count, Q

from qgov.identity.mfa.models import AuthenticatorKindChoices


@dataclass(frozen=True)
class UserPolicy:
    """The user's MFA policy, from the agencies of all their memberships (one query)."""

    phishing_resistant_required: bool
    totp_allowed: bool
    mfa_required: bool


def policy_of(user) -> UserPolicy:
    counts = user.memberships.aggregate(
        strict=Count("pk", filter=Q(agency__phishing_resistant_required=True)),
        without_totp=Count("pk", filter=Q(agency__totp_allowed=False)))
    strict = counts["strict"] > 0
    return UserPolicy(phishing_resistant_required=strict, totp_allowed=not strict and not counts["without_totp"],
                      mfa_required=user.is_superuser or user.is_staff or strict)


def phishing_resistant_required(user) -> bool:
    return policy_of(user).phishing_resistant_required


def totp_allowed(user) -> bool:
    return policy_of(user).totp_allowed


def mfa_required(user) -> bool:
    return policy_of(user).mfa_required


@dataclass(frozen=True)
class SecondStep:
    """What a sign-in still needs. `kinds`: the authenticators that may complete it (enrolled ones, or
    those the user may enrol when `enrol`); `refused`: no way on (a page says why)."""

    kinds: tuple[str, ...]
    enrol: bool = False
    refused: str = ""


def second_step_for(user, *, method: str, phishing_resistant: bool) -> SecondStep | None:
    """None: the first factor suffices. Passwords always take the user's second factor when they have
    one; a provider's sign-in is trusted for MFA unless the policy needs more than it proved."""
    user_policy = policy_of(user)
    pr_required, required = user_policy.phishing_resistant_required, user_policy.mfa_required
    enrolled = set(user.authenticators.values_list("kind", flat=True))
    usable = {AuthenticatorKindChoices.PASSKEY} if pr_required else {AuthenticatorKindChoices.PASSKEY} | (
        {AuthenticatorKindChoices.TOTP} if user_policy.totp_allowed else set())
    kinds = tuple(kind for kind in AuthenticatorKindChoices.values if kind in enrolled & usable)
    if method == "provider":
        if phishing_resistant or not required:
            return None
        if kinds:
            return SecondStep(kinds=kinds)
        return SecondStep(kinds=(), refused="no_passkey" if pr_required else "no_authenticator")
    if kinds:
        return SecondStep(kinds=kinds)
    if required or enrolled:
        return SecondStep(kinds=tuple(kind for kind in AuthenticatorKindChoices.values if kind in usable), enrol=True)
    return None
