"""The role x action table, checked exhaustively against a literal copy of the policy."""

import pytest

from qgov.choices import RoleChoices
from qgov.models import Agency, AuditEvent, ExternalIdentity, IdentityProvider, Membership
from qgov.roles import APP_ACTIONS, ROLE_ACTIONS, Action, all_actions, role_allows, roles_for
from qgov.services import user_can

# The policy as agreed with the product owner: written out, not derived from the code.
EXPECTED = {
    "viewer": {"view"},
    "editor": {"view", "add", "change", "export", "transition"},
    "auditor": {"view", "export", "request_report", "view_audit"},
    "admin": {"view", "add", "change", "delete", "export", "request_report", "view_audit", "manage_members",
              "manage_webhooks", "manage_identity", "transition", "approve", "manage_requirements",
              "manage_crypto_policy", "manage_playbooks", "manage_regimes"},
}
ALL_ACTIONS = ["view", "add", "change", "delete", "export", "request_report", "view_audit", "manage_members",
               "manage_webhooks", "manage_identity", "transition", "approve", "manage_requirements",
               "manage_crypto_policy", "manage_playbooks", "manage_regimes"]


def test_the_table_covers_every_role_and_action():
    assert set(ROLE_ACTIONS) == set(RoleChoices.values)
    # certification and procurement add one action each, incidents two: only admins set the schemes
    # an agency requires, the post-quantum migration policy it follows, its own playbooks and the
    # regulator regimes it reports under.
    assert sorted([*Action.values, "manage_requirements", "manage_crypto_policy", "manage_playbooks",
                   "manage_regimes"]) == sorted(ALL_ACTIONS)
    assert APP_ACTIONS == {"manage_requirements": "Set the schemes devices and staff must hold",
                           "manage_crypto_policy": "Choose the post-quantum migration policy",
                           "manage_playbooks": "Adapt the agency's incident playbooks",
                           "manage_regimes": "Choose the regulator regimes the agency reports under"}
    assert sorted(all_actions()) == sorted(ALL_ACTIONS)
    assert {role: set(actions) for role, actions in ROLE_ACTIONS.items()} == EXPECTED


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_role_allows(role, action):
    assert role_allows(role, action) is (action in EXPECTED[role])


@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_roles_for(action):
    assert sorted(roles_for(action)) == sorted(role for role, actions in EXPECTED.items() if action in actions)


def test_unknown_action_is_an_error():
    with pytest.raises(ValueError):
        roles_for("approve_everything")


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_user_can_through_a_real_membership(role, action, agency, other_agency, member_of):
    user = member_of(agency, role)
    assert user_can(user, agency.pk, action) is (action in EXPECTED[role])
    assert user_can(user, other_agency.pk, action) is False


@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_platform_admin_may_do_everything(action, agency, superuser):
    assert user_can(superuser, agency.pk, action) is True


@pytest.mark.parametrize("action", ALL_ACTIONS)
def test_inactive_and_anonymous_users_may_do_nothing(action, agency, member_of):
    from django.contrib.auth.models import AnonymousUser

    user = member_of(agency, RoleChoices.ADMIN)
    user.is_active = False
    user.save()
    assert user_can(user, agency.pk, action) is False
    assert user_can(AnonymousUser(), agency.pk, action) is False


@pytest.mark.parametrize(
    ("model", "action", "required"),
    [
        (Agency, "add", None),
        (Agency, "delete", None),
        (Agency, "change", "manage_members"),
        (Agency, "view", "view"),
        (Membership, "view", "manage_members"),
        (Membership, "add", "manage_members"),
        (Membership, "change", "manage_members"),
        (Membership, "delete", "manage_members"),
        (IdentityProvider, "view", "manage_identity"),
        (IdentityProvider, "add", "manage_identity"),
        (IdentityProvider, "change", "manage_identity"),
        (IdentityProvider, "delete", "manage_identity"),
        (ExternalIdentity, "view", "manage_identity"),
        (ExternalIdentity, "add", None),
        (ExternalIdentity, "change", None),
        (ExternalIdentity, "delete", None),
        (AuditEvent, "view", "view_audit"),
        (AuditEvent, "export", "view_audit"),
        (AuditEvent, "change", None),
        (AuditEvent, "delete", None),
    ],
)
def test_model_action_maps(model, action, required):
    assert model.permission_action(action) == required


@pytest.mark.parametrize("role", list(EXPECTED))
def test_restrict_scopes_querysets_by_role(role, agency, other_agency, member_of):
    user = member_of(agency, role)
    assert list(Agency.objects.restrict(user, "view")) == [agency]
    assert list(Agency.objects.restrict(user, "change")) == ([agency] if role == "admin" else [])
    assert Agency.objects.restrict(user, "add").count() == 0
    memberships = Membership.objects.restrict(user, "view")
    assert memberships.count() == (1 if role == "admin" else 0)
    assert not memberships.filter(agency=other_agency).exists()


def test_restrict_gives_nothing_to_anonymous(agency):
    from django.contrib.auth.models import AnonymousUser

    assert Agency.objects.restrict(AnonymousUser()).count() == 0
    assert Agency.objects.restrict(None).count() == 0
