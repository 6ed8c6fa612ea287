"""What SCIM requests do, as services the views call (one transaction each, audited as one change).

- A SCIM user is an ExternalIdentity of the provider plus a Django account. Its subject is the SCIM
  `externalId` when the identity provider sends one (the IdP's immutable id, which is also what its
  OpenID Connect `sub` carries when the IdP is configured to send it), else the SCIM id qgov assigns.
  A POST whose externalId is already the subject of one of this provider's identities (someone who
  signed in through it before) links that identity instead of creating a second account. Nothing is
  ever matched by e-mail, and never across providers.
- `active=false` (or DELETE) deactivates the account, ends every session and revokes every API token.
- Groups reach memberships only through the provider's role mappings: the strongest mapped role of the
  user's groups is their SCIM-kept membership in the provider's agency; manual and provider-kept
  memberships are left alone; admin is never granted (the mappings cannot say it).
"""

import hmac
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from qgov import tokens
from qgov.audit import one_change
from qgov.choices import MembershipSourceChoices
from qgov.identity.choices import UserSessionEndReasonChoices
from qgov.identity.providers.choices import PROVIDER_GRANTABLE_ROLES
from qgov.identity.providers.models import ExternalIdentity, IdentityProvider
from qgov.identity.provisioning import _free_username
from qgov.identity.scim.models import ScimGroup, ScimUser
from qgov.identity.sessions import user_session_end
from qgov.models import ApiToken, Membership, hash_token_key


class ScimConflict(Exception):
    """A uniqueness rule of the provider's users or groups (HTTP 409)."""


class ScimInvalid(Exception):
    """A value qgov cannot take (HTTP 400); `scim_type` is the SCIM error type."""

    def __init__(self, message: str, scim_type: str = "invalidValue"):
        super().__init__(message)
        self.scim_type = scim_type


# --- the provider's bearer token ----------------------------------------------------------


def scim_token_issue(*, provider: IdentityProvider) -> str:
    """A new token for the provider (the previous one stops working); the secret is returned once."""
    key = tokens.generate_secret()
    with transaction.atomic(), one_change():
        provider = IdentityProvider.objects.select_for_update().get(pk=provider.pk)
        provider.scim_token_hash = hash_token_key(key)
        provider.scim_token_prefix = key[:tokens.PREFIX_LENGTH]
        provider.scim_token_issued = timezone.now()
        provider.save(update_fields=["scim_token_hash", "scim_token_prefix", "scim_token_issued"])
    return key


def scim_token_revoke(*, provider: IdentityProvider) -> None:
    with transaction.atomic(), one_change():
        provider = IdentityProvider.objects.select_for_update().get(pk=provider.pk)
        provider.scim_token_hash = provider.scim_token_prefix = ""
        provider.scim_token_issued = None
        provider.save(update_fields=["scim_token_hash", "scim_token_prefix", "scim_token_issued"])


def scim_token_matches(provider: IdentityProvider, key: str) -> bool:
    return bool(provider.scim_token_hash) and hmac.compare_digest(provider.scim_token_hash, hash_token_key(key))


# --- users --------------------------------------------------------------------------------


@dataclass
class UserData:
    """The SCIM User attributes qgov keeps (already checked by qgov.identity.scim.representation)."""

    user_name: str
    external_id: str | None = None  # None: not sent
    given_name: str = ""
    family_name: str = ""
    email: str = ""
    active: bool = True


def _apply_user(scim_user: ScimUser, data: UserData) -> None:
    if ScimUser.objects.filter(provider=scim_user.provider_id, user_name__iexact=data.user_name).exclude(
            pk=scim_user.pk).exists():
        raise ScimConflict(f"The provider already has a user named {data.user_name!r}.")
    subject = scim_user.identity.subject
    if data.external_id is not None and data.external_id != scim_user.external_id and (
            scim_user.external_id or subject != data.external_id):
        raise ScimInvalid("externalId is the person's subject at the provider and cannot change.", "mutability")
    scim_user.user_name = data.user_name
    scim_user.full_clean(exclude=["provider", "identity"])
    scim_user.save()
    user = scim_user.identity.user
    user.first_name, user.last_name, user.email = data.given_name, data.family_name, data.email
    user.full_clean(exclude=["password", "username"])
    user.save(update_fields=["first_name", "last_name", "email"])


def scim_user_create(*, provider: IdentityProvider, data: UserData) -> ScimUser:
    from django.contrib.auth import get_user_model

    with transaction.atomic(), one_change():
        provider = IdentityProvider.objects.select_related("agency").select_for_update().get(pk=provider.pk)
        scim_id = uuid.uuid4()
        subject = data.external_id or str(scim_id)
        identity = ExternalIdentity.objects.select_related("user").filter(provider=provider, subject=subject).first()
        if identity is not None and hasattr(identity, "scim"):
            raise ScimConflict(f"The provider already has a user with externalId {subject!r}.")
        if identity is None:
            User = get_user_model()
            user = User(username=_free_username(provider, {"preferred_username": data.user_name}, subject))
            user.set_unusable_password()  # signs in through the provider only
            user.full_clean(exclude=["password"])
            user.save()
            identity = ExternalIdentity(provider=provider, subject=subject, user=user)
            identity.full_clean()
            identity.save()
        scim_user = ScimUser(scim_id=scim_id, provider=provider, identity=identity,
                             external_id=data.external_id or "", user_name=data.user_name)
        _apply_user(scim_user, data)
        _set_active(scim_user, data.active)
    return scim_user


def scim_user_replace(*, scim_user: ScimUser, data: UserData) -> ScimUser:
    with transaction.atomic(), one_change():
        scim_user = _locked_user(scim_user)
        _apply_user(scim_user, data)
        _set_active(scim_user, data.active)
    return scim_user


def scim_user_set_active(*, scim_user: ScimUser, active: bool) -> ScimUser:
    with transaction.atomic(), one_change():
        scim_user = _locked_user(scim_user)
        _set_active(scim_user, active)
    return scim_user


def scim_user_delete(*, scim_user: ScimUser) -> None:
    """DELETE deactivates (the account and its history stay); the user leaves the provider's groups and
    the memberships those gave, and the SCIM record goes, so a new POST may provision the person again."""
    with transaction.atomic(), one_change():
        scim_user = _locked_user(scim_user)
        _set_active(scim_user, False)
        for group in list(scim_user.groups.all()):
            group.members.remove(scim_user)
        user = scim_user.identity.user
        scim_user.delete()
        _sync_scim_membership(scim_user.provider, user)


def _locked_user(scim_user: ScimUser) -> ScimUser:
    return ScimUser.objects.select_related("provider__agency", "identity__user").select_for_update(
        of=("self",)).get(pk=scim_user.pk)


def _set_active(scim_user: ScimUser, active: bool) -> None:
    """Deactivation takes everything away at once: the account, its sessions, its API tokens."""
    user = scim_user.identity.user
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
    if active:
        return
    from qgov.identity.models import UserSession

    for record in UserSession.objects.open().filter(user=user):
        user_session_end(record=record, reason=UserSessionEndReasonChoices.DEPROVISIONED)
    now = timezone.now()
    for token in ApiToken.objects.filter(user=user, revoked_at__isnull=True):
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])


# --- groups -------------------------------------------------------------------------------


@dataclass
class GroupData:
    display_name: str
    external_id: str | None = None
    member_ids: list[str] | None = None  # SCIM ids; None: not sent


def _members_of(provider, member_ids) -> list[ScimUser]:
    wanted = set(member_ids)
    valid = set()
    for value in wanted:
        try:
            valid.add(uuid.UUID(value))
        except (ValueError, TypeError, AttributeError):
            raise ScimInvalid(f"No user {value!r} of this provider.") from None
    members = list(ScimUser.objects.filter(provider=provider, scim_id__in=valid).select_related("identity__user"))
    if len(members) != len(valid):
        found = {str(member.scim_id) for member in members}
        missing = sorted(str(value) for value in valid if str(value) not in found)
        raise ScimInvalid(f"No user {missing[0]!r} of this provider.")
    return members


def _apply_group(group: ScimGroup, data: GroupData) -> None:
    if ScimGroup.objects.filter(provider=group.provider_id, display_name=data.display_name).exclude(
            pk=group.pk).exists():
        raise ScimConflict(f"The provider already has a group named {data.display_name!r}.")
    group.display_name = data.display_name
    if data.external_id is not None:
        group.external_id = data.external_id
    group.full_clean(exclude=["provider"])
    group.save()


def scim_group_create(*, provider: IdentityProvider, data: GroupData) -> ScimGroup:
    with transaction.atomic(), one_change():
        provider = IdentityProvider.objects.select_related("agency").select_for_update().get(pk=provider.pk)
        group = ScimGroup(provider=provider)
        _apply_group(group, data)
        members = _members_of(provider, data.member_ids or [])
        group.members.set(members)
        _sync_users(provider, [member.identity.user for member in members])
    return group


def scim_group_change(*, group: ScimGroup, data: GroupData | None = None, add: list[str] = (),
                      remove: list[str] = ()) -> ScimGroup:
    """Replace the group's attributes (and members, when `data.member_ids` is given), and/or add and
    remove members; every user whose groups changed has their SCIM membership recomputed."""
    with transaction.atomic(), one_change():
        group = ScimGroup.objects.select_related("provider__agency").select_for_update(of=("self",)).get(
            pk=group.pk)
        provider = group.provider
        before = list(group.members.select_related("identity__user"))
        members = {member.pk: member for member in before}
        if data is not None:
            _apply_group(group, data)
            if data.member_ids is not None:
                members = {member.pk: member for member in _members_of(provider, data.member_ids)}
        members.update({member.pk: member for member in _members_of(provider, add)})
        for member in _members_of(provider, remove):
            members.pop(member.pk, None)
        group.members.set(list(members.values()))
        _sync_users(provider, [member.identity.user for member in [*before, *members.values()]])
    return group


def scim_group_delete(*, group: ScimGroup) -> None:
    with transaction.atomic(), one_change():
        group = ScimGroup.objects.select_related("provider__agency").select_for_update(of=("self",)).get(
            pk=group.pk)
        users = [member.identity.user for member in group.members.select_related("identity__user")]
        group.members.clear()
        group.delete()
        _sync_users(group.provider, users)


# --- memberships --------------------------------------------------------------------------


def scim_role_in_agency(agency, user) -> str | None:
    """The strongest role the role mappings of the agency's providers give the user's SCIM groups."""
    best = None
    for scim_user in (ScimUser.objects.filter(identity__user=user, provider__agency=agency)
                      .select_related("provider").prefetch_related("groups")):
        values = set().union(*(group.claim_values for group in scim_user.groups.all()))
        role = scim_user.provider.role_for_groups(values)
        if role is not None and (best is None or PROVIDER_GRANTABLE_ROLES.index(role)
                                 > PROVIDER_GRANTABLE_ROLES.index(best)):
            best = role
    return best


def _sync_users(provider, users) -> None:
    seen = set()
    for user in users:
        if user.pk not in seen:
            seen.add(user.pk)
            _sync_scim_membership(provider, user)


def _sync_scim_membership(provider, user) -> Membership | None:
    """Recompute the SCIM-kept membership of `user` in the provider's agency."""
    role = scim_role_in_agency(provider.agency, user)
    membership = Membership.objects.select_for_update(of=("self",)).filter(user=user, agency=provider.agency).first()
    if membership is not None and membership.source != MembershipSourceChoices.SCIM:
        return membership  # manual or the provider's sign-in: not SCIM's to change
    if role is None:
        if membership is not None:
            membership.delete()
        return None
    if membership is None:
        membership = Membership(agency=provider.agency, user=user, role=role, source=MembershipSourceChoices.SCIM)
        membership.full_clean()
        membership.save()
    elif membership.role != role:
        membership.role = role
        membership.full_clean()
        membership.save(update_fields=["role"])
    return membership


def scim_memberships_resync(*, provider: IdentityProvider) -> None:
    """Recompute every SCIM user's membership of the provider (after its role mappings change)."""
    with transaction.atomic(), one_change():
        provider = IdentityProvider.objects.select_related("agency").get(pk=provider.pk)
        users = [scim_user.identity.user for scim_user in
                 ScimUser.objects.filter(provider=provider).select_related("identity__user")]
        _sync_users(provider, users)
