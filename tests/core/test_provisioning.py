"""What a sign-in through an agency's identity provider does (qgov.identity.provisioning): accounts
created just in time only with a mapping, roles from the allow-list in the provider's own agency
only, only the provider's memberships recomputed, people keyed on (issuer, subject), every change
audited, and the step-ups the flow acts on."""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from qgov.choices import RoleChoices
from qgov.identity.provisioning import (
    ACR_MISSING,
    AUTH_TOO_OLD,
    NO_ACCESS,
    NO_ACCOUNT,
    NO_MAPPED_GROUP,
    PROVIDER_INACTIVE,
    SignInRefused,
    sync_provider_memberships,
)
from qgov.models import AuditEvent, ExternalIdentity, IdentityProvider, Membership
from qgov.testing import events_for
from tests.concurrency import run_at_once
from tests.core.test_identity_providers import make_provider
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def provider(agency):
    return make_provider(agency, jit_provisioning=True, role_mappings=[
        {"claim_value": "qkd-staff", "role": "viewer"}, {"claim_value": "qkd-auditors", "role": "auditor"},
        {"claim_value": "qkd-editors", "role": "editor"}])


def claims(*groups, **more):
    return {"sub": "alice-123", "email": "alice@dqn.example.gov", "preferred_username": "alice",
            "given_name": "Alice", "family_name": "Adams", "groups": list(groups), **more}


def sign_in(provider, *groups, subject="alice-123", **more):
    identity = ExternalIdentity.objects.filter(provider=provider, subject=subject).first()
    return sync_provider_memberships(provider, identity.user if identity else None, subject,
                                     claims(*groups, sub=subject, **more))


def test_a_first_sign_in_with_a_mapped_group_creates_the_account_and_membership(agency, provider):
    result = sign_in(provider, "qkd-staff", "unrelated-group")

    user = User.objects.get(pk=result.user.pk)
    assert (result.user_created, result.role, result.changes) == (True, "viewer", ["membership created (viewer)"])
    assert (user.username, user.email, user.first_name, user.last_name, user.has_usable_password()) == (
        "alice+dqn", "alice@dqn.example.gov", "Alice", "Adams", False)
    identity = ExternalIdentity.objects.get()
    assert (identity.provider, identity.subject, identity.user) == (provider, "alice-123", user)
    membership = Membership.objects.get(user=user)
    assert (membership.agency, membership.role, membership.source, membership.provider) == (
        agency, "viewer", "provider", provider)


def test_every_change_is_audited_with_the_provider_as_actor_before_the_account_exists(agency, provider):
    result = sign_in(provider, "qkd-staff")

    membership = Membership.objects.get(user=result.user)
    created = events_for(membership).get()
    assert (created.action, created.agency_id, created.after["role"], created.after["source"],
            created.after["provider_id"]) == ("create", agency.pk, "viewer", "provider", provider.pk)
    assert (created.actor, created.actor_repr) == (None, "identity provider Agency IdP (DQN)")
    assert events_for(result.user).get().action == "create"
    assert events_for(result.identity).get().after["subject"] == "alice-123"

    sign_in(provider, "qkd-editors")
    updated = events_for(membership).order_by("id").last()
    assert (updated.action, updated.before["role"], updated.after["role"], updated.actor) == (
        "update", "viewer", "editor", result.user)

    with pytest.raises(SignInRefused):  # no mapped group left: the role goes, then the sign-in is refused
        sign_in(provider)
    removed = events_for(membership).order_by("id").last()
    assert (removed.action, removed.before["role"], removed.after) == ("delete", "editor", None)


def test_no_account_is_created_without_a_mapped_group(provider):
    with pytest.raises(SignInRefused) as refused:
        sign_in(provider, "somebody-elses-group")

    assert refused.value.reason == NO_MAPPED_GROUP
    assert "none of your groups there gives access to qgov" in refused.value.message
    assert (User.objects.count(), ExternalIdentity.objects.count(), AuditEvent.objects.filter(
        content_type__model__in=["user", "externalidentity", "membership"]).count()) == (0, 0, 0)


def test_no_account_is_created_when_the_provider_does_not_create_accounts(provider):
    provider.jit_provisioning = False
    provider.save()

    with pytest.raises(SignInRefused) as refused:
        sign_in(provider, "qkd-editors")

    assert refused.value.reason == NO_ACCOUNT and "you have no qgov account yet" in refused.value.message
    assert (User.objects.count(), ExternalIdentity.objects.count()) == (0, 0)


def test_an_inactive_provider_signs_nobody_in(provider):
    provider.is_active = False
    provider.save()

    with pytest.raises(SignInRefused) as refused:
        sign_in(provider, "qkd-editors")

    assert refused.value.reason == PROVIDER_INACTIVE and User.objects.count() == 0


def test_the_strongest_mapped_role_wins_and_admin_is_never_granted(agency, provider):
    # A mapping to admin cannot be saved; one written into the column behind the model's back is ignored.
    IdentityProvider.objects.filter(pk=provider.pk).update(
        role_mappings=[*provider.role_mappings, {"claim_value": "qgov-admins", "role": "admin"}])
    provider.refresh_from_db()

    result = sign_in(provider, "qkd-staff", "qkd-auditors", "qkd-editors", "qgov-admins")
    assert result.role == "editor"
    assert Membership.objects.get(user=result.user).role == "editor"



def test_a_group_mapped_twice_gives_its_strongest_role(provider):
    provider.role_mappings = [{"claim_value": "qkd", "role": "viewer"}, {"claim_value": "qkd", "role": "editor"}]
    provider.full_clean()
    provider.save()

    assert sign_in(provider, "qkd").role == "editor"


def test_a_group_giving_only_admin_gives_nothing(provider):
    IdentityProvider.objects.filter(pk=provider.pk).update(
        role_mappings=[{"claim_value": "qgov-admins", "role": "admin"}])
    provider.refresh_from_db()

    with pytest.raises(SignInRefused) as refused:
        sign_in(provider, "qgov-admins")

    assert refused.value.reason == NO_MAPPED_GROUP
    assert not Membership.objects.filter(role=RoleChoices.ADMIN, source="provider").exists()


def test_a_removed_group_downgrades_then_removes_the_role_at_the_next_sign_in(agency, provider):
    user = sign_in(provider, "qkd-editors", "qkd-staff").user

    downgraded = sign_in(provider, "qkd-staff")
    assert (downgraded.changes, Membership.objects.get(user=user).role) == (["membership role editor → viewer"],
                                                                             "viewer")
    unchanged = sign_in(provider, "qkd-staff")
    assert (unchanged.changes, Membership.objects.get(user=user).version) == ([], 2)

    with pytest.raises(SignInRefused) as refused:
        sign_in(provider, "unmapped")
    assert refused.value.reason == NO_ACCESS
    # The refusal came after the commit: the role is gone, the account stays (for its history).
    assert not Membership.objects.filter(user=user).exists()
    assert User.objects.filter(pk=user.pk).exists()


def test_a_manual_membership_in_the_agency_is_left_as_it_is(agency, provider):
    user = sign_in(provider, "qkd-staff").user
    Membership.objects.filter(user=user).delete()
    manual = MembershipFactory(agency=agency, user=user, role=RoleChoices.AUDITOR)

    for groups in (("qkd-editors",), ()):
        result = sign_in(provider, *groups)
        manual.refresh_from_db()
        assert (manual.role, manual.source, manual.provider, manual.version) == ("auditor", "manual", None, 1)
        assert (result.membership, result.kept_elsewhere, result.changes) == (manual, True, [])


def test_the_provider_changes_only_its_own_agency_whatever_the_claims_say(agency, other_agency, provider):
    MembershipFactory(agency=other_agency, role=RoleChoices.ADMIN)  # the other agency's own admin
    result = sign_in(provider, "qkd-editors", "MOT", "MOT:editor", agency="MOT", agencies=["MOT"],
                     organization="MOT")

    assert list(Membership.objects.filter(user=result.user).values_list("agency__code", "role")) == [
        ("DQN", "editor")]
    assert not Membership.objects.filter(agency=other_agency, user=result.user).exists()


def test_another_agencys_provider_cannot_touch_this_agencys_memberships(agency, other_agency, provider):
    user = sign_in(provider, "qkd-editors").user
    theirs = make_provider(other_agency, jit_provisioning=True,
                           role_mappings=[{"claim_value": "qkd-editors", "role": "viewer"}])

    # The same person's subject at the other agency's provider is another account, with its own membership.
    other = sign_in(theirs, "qkd-editors").user

    assert other != user
    assert list(Membership.objects.filter(user=user).values_list("agency__code", "role", "provider")) == [
        ("DQN", "editor", provider.pk)]
    assert list(Membership.objects.filter(user=other).values_list("agency__code", "role", "provider")) == [
        ("MOT", "viewer", theirs.pk)]


def test_one_issuer_registered_by_two_agencies_is_one_person_with_a_role_in_each(agency, other_agency, provider):
    # A shared government IdP: the same issuer, the same `sub`, is the same person in both agencies.
    shared = make_provider(other_agency, issuer=provider.issuer, jit_provisioning=False,
                           role_mappings=[{"claim_value": "qkd-editors", "role": "auditor"}])
    user = sign_in(provider, "qkd-editors").user

    linked = sign_in(shared, "qkd-editors")
    assert (linked.user, linked.user_created) == (user, False)
    assert sorted(Membership.objects.filter(user=user).values_list("agency__code", "role", "provider")) == [
        ("DQN", "editor", provider.pk), ("MOT", "auditor", shared.pk)]

    sign_in(shared)  # the group gone at the shared provider: only that agency's role goes
    assert list(Membership.objects.filter(user=user).values_list("agency__code", "role")) == [("DQN", "editor")]
    assert User.objects.count() == 1


def test_the_same_email_from_another_provider_is_another_user(agency, provider, member_of):
    local = member_of(agency, RoleChoices.ADMIN, username="alice", email="alice@dqn.example.gov")
    second = make_provider(agency, name="Backup IdP", issuer="https://backup.dqn.example.gov", jit_provisioning=True)

    first = sign_in(provider, "qkd-staff", subject="alice-123")
    again = sign_in(second, "qkd-editors", subject="alice-123")

    assert len({local.pk, first.user.pk, again.user.pk}) == 3
    assert (first.user.username, again.user.username) == ("alice+dqn", "alice+dqn-2")
    assert Membership.objects.get(user=local).role == "admin"  # the local account gained nothing
    assert ExternalIdentity.objects.filter(user=local).count() == 0


def test_a_known_subject_must_come_with_its_own_user(provider, member_of, agency):
    sign_in(provider, "qkd-staff")
    stranger = member_of(agency, RoleChoices.VIEWER)

    with pytest.raises(ValueError):
        sync_provider_memberships(provider, stranger, "alice-123", claims("qkd-editors"))
    with pytest.raises(ValueError):
        sync_provider_memberships(provider, stranger, "never-seen", claims("qkd-editors"))
    assert Membership.objects.get(user=stranger).role == "viewer"


def test_a_disabled_account_is_refused_and_keeps_its_membership(provider):
    user = sign_in(provider, "qkd-staff").user
    User.objects.filter(pk=user.pk).update(is_active=False)

    with pytest.raises(SignInRefused) as refused:
        sign_in(provider, "qkd-editors")

    assert refused.value.reason == "account_disabled"
    assert Membership.objects.get(user=user).role == "viewer"


def test_a_missing_acr_asks_for_a_step_up_and_changes_nothing(provider):
    provider.required_acr = "phr"
    provider.save()

    result = sign_in(provider, "qkd-editors", acr="pwd")

    assert (result.step_up.reason, result.step_up.acr_values, result.user) == (ACR_MISSING, "phr", None)
    assert (User.objects.count(), Membership.objects.filter(source="provider").count()) == (0, 0)
    assert sign_in(provider, "qkd-editors", acr="phr").step_up is None


def test_an_old_authentication_asks_for_a_fresh_one(provider):
    provider.max_auth_age = 300
    provider.save()
    now = timezone.now()

    stale = sign_in(provider, "qkd-editors", auth_time=int((now - dt.timedelta(seconds=301)).timestamp()))
    missing = sign_in(provider, "qkd-editors")
    fresh = sign_in(provider, "qkd-editors", auth_time=int((now - dt.timedelta(seconds=10)).timestamp()))

    assert (stale.step_up.reason, stale.step_up.max_age, missing.step_up.reason) == (AUTH_TOO_OLD, 0, AUTH_TOO_OLD)
    assert (fresh.step_up, fresh.role, fresh.user_created) == (None, "editor", True)


def test_a_groups_claim_of_another_name_or_a_single_string_is_read(provider):
    provider.groups_claim = "roles"
    provider.save()

    result = sign_in(provider, roles="qkd-auditors")

    assert result.role == "auditor"


@pytest.mark.django_db(transaction=True)
def test_two_first_sign_ins_of_one_person_at_once_make_one_account():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises the whole database)")
    from tests.factories import AgencyFactory

    provider = make_provider(AgencyFactory(name="Department of Quantum Networks", code="DQN"),
                             jit_provisioning=True, role_mappings=[{"claim_value": "qkd-staff", "role": "viewer"}])
    results, errors = run_at_once(
        lambda: sync_provider_memberships(provider, None, "alice-123", claims("qkd-staff")), 4)

    # The provider's row is locked for the sign-in: the others wait, then find the account.
    assert errors == []
    assert sorted(result.user_created for result in results) == [False, False, False, True]
    assert len({result.user.pk for result in results}) == 1
    assert (User.objects.count(), ExternalIdentity.objects.count(), Membership.objects.count()) == (1, 1, 1)
