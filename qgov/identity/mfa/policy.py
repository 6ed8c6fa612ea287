"""Who needs which second factor. Platform admins always need MFA; members of an agency that
requires phishing-resistant MFA need a passkey (or a provider sign-in that was phishing-resistant);
TOTP only where every agency of the user allows it and none requires phishing resistance."""

from dataclasses import dataclass

from qgov.identity.mfa.models import AuthenticatorKindChoices


def phishing_resistant_required(user) -> bool:
    return user.memberships.filter(agency__phishing_resistant_required=True).exists()


def totp_allowed(user) -> bool:
    return not user.memberships.filter(agency__phishing_resistant_required=False, agency__totp_allowed=False).exists() \
        and not phishing_resistant_required(user)


def mfa_required(user) -> bool:
    return user.is_superuser or user.is_staff or phishing_resistant_required(user)


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
    pr_required = phishing_resistant_required(user)
    required = user.is_superuser or user.is_staff or pr_required
    enrolled = set(user.authenticators.values_list("kind", flat=True))
    usable = {AuthenticatorKindChoices.PASSKEY} if pr_required else {AuthenticatorKindChoices.PASSKEY} | (
        {AuthenticatorKindChoices.TOTP} if totp_allowed(user) else set())
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
