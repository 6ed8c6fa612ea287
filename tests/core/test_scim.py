"""SCIM 2.0 of agency identity providers (qgov.identity.scim), in process: the token page, the
endpoints' scoping and errors, deactivation, and groups through the provider's role mappings. The
same behaviour against a live server with a SCIM client: tests/integration/test_scim_live.py."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from qgov.choices import MembershipSourceChoices, RoleChoices
from qgov.identity.choices import UserSessionEndReasonChoices
from qgov.identity.models import UserSession
from qgov.identity.providers.models import IdentityProvider
from qgov.identity.scim.services import scim_token_issue
from qgov.models import ApiToken, AuditEvent, ExternalIdentity, Membership, ScimGroup, ScimUser, hash_token_key
from qgov.testing import events_for
from tests.core.test_identity_providers import make_provider
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()
SCIM_JSON = "application/scim+json"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
MAPPINGS = [{"claim_value": "qkd-staff", "role": "viewer"}, {"claim_value": "qkd-auditors", "role": "auditor"},
            {"claim_value": "qkd-editors", "role": "editor"}, {"claim_value": "qkd-admins", "role": "viewer"}]


@pytest.fixture
def provider(agency):
    return make_provider(agency, role_mappings=MAPPINGS)


@pytest.fixture
def scim(provider):
    """scim(method, path, body=None, provider=provider, token=...) -> response, with the provider's token."""
    key = scim_token_issue(provider=provider)
    client = APIClient()

    def call(method, path, body=None, *, for_provider=None, token=key, content_type=SCIM_JSON):
        target = for_provider or provider
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        url = f"/scim/v2/{target.pk}/{path}"
        data = body if isinstance(body, str | bytes) or body is None else __import__("json").dumps(body)
        return getattr(client, method)(url, data=data, content_type=content_type)

    call.key = key
    return call


def user_body(user_name="alice@dqn.example.gov", external_id="entra-alice", **more):
    return {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": user_name,
            "externalId": external_id, "name": {"givenName": "Alice", "familyName": "Adams"},
            "emails": [{"value": user_name, "primary": True, "type": "work"}], "active": True, **more}


def create_user(scim, **more):
    response = scim("post", "Users", user_body(**more))
    assert response.status_code == 201, response.content
    return response.json()


def test_a_created_user_is_an_external_identity_keyed_on_the_external_id(scim, provider):
    created = create_user(scim)
    identity = ExternalIdentity.objects.get()
    scim_user = ScimUser.objects.get()
    assert (identity.provider, identity.subject, identity.user.email, identity.user.is_active) == (
        provider, "entra-alice", "alice@dqn.example.gov", True)
    assert identity.user.has_usable_password() is False
    assert created["id"] == str(scim_user.scim_id)
    assert (created["userName"], created["externalId"], created["active"], created["name"]) == (
        "alice@dqn.example.gov", "entra-alice", True, {"givenName": "Alice", "familyName": "Adams"})
    assert Membership.objects.count() == 0  # no group, no role
    assert events_for(ScimUser, scim_user.pk).count() == 1


def test_without_an_external_id_the_subject_is_the_id_qgov_assigns(scim):
    created = create_user(scim, external_id=None)
    assert ExternalIdentity.objects.get().subject == created["id"]
    assert "externalId" not in created


def test_a_provider_sign_in_identity_is_linked_not_duplicated(scim, provider):
    person = UserFactory(username="alice+dqn")
    ExternalIdentity.objects.create(provider=provider, subject="entra-alice", user=person)
    create_user(scim)
    assert (User.objects.count(), ScimUser.objects.get().identity.user) == (1, person)


def test_the_same_email_at_another_provider_is_another_user(scim, provider, other_agency):
    other = make_provider(other_agency)
    other_user = UserFactory(username="alice-mot", email="alice@dqn.example.gov")
    ExternalIdentity.objects.create(provider=other, subject="entra-alice", user=other_user)
    create_user(scim)
    assert ScimUser.objects.get().identity.user != other_user
    assert User.objects.filter(email="alice@dqn.example.gov").count() == 2


def test_a_duplicate_user_name_or_external_id_is_a_conflict(scim):
    create_user(scim)
    for body in (user_body(external_id="other"), user_body(user_name="ALICE@dqn.example.gov", external_id="x"),
                 user_body(user_name="someone-else")):
        response = scim("post", "Users", body)
        assert response.status_code == 409, body
        assert response.json()["scimType"] == "uniqueness"
    assert (ScimUser.objects.count(), User.objects.count()) == (1, 1)


def test_filters_and_pagination(scim):
    for number in range(3):
        create_user(scim, user_name=f"user{number}@dqn.example.gov", external_id=f"ext-{number}")
    found = scim("get", "Users?filter=" + "userName eq \"USER1@dqn.example.gov\"").json()
    assert (found["totalResults"], [r["externalId"] for r in found["Resources"]]) == (1, ["ext-1"])
    found = scim("get", 'Users?filter=externalId eq "ext-2"').json()
    assert [r["userName"] for r in found["Resources"]] == ["user2@dqn.example.gov"]
    page = scim("get", "Users?startIndex=2&count=1").json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"],
            page["Resources"][0]["userName"]) == (3, 2, 1, "user1@dqn.example.gov")
    response = scim("get", 'Users?filter=emails co "x"')
    assert (response.status_code, response.json()["scimType"]) == (400, "invalidFilter")


def sign_in_session(user):
    """A real signed-in browser session of `user` (the login signal records it)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client, UserSession.objects.get(user=user, ended_at__isnull=True)


def api_token(user):
    token = ApiToken(user=user, name="laptop", expires=timezone.now() + timezone.timedelta(days=30))
    token.set_key(ApiToken.generate_key())
    token.save()
    return token


@pytest.mark.parametrize("how", ["patch", "put", "delete"])
def test_deactivation_ends_every_session_and_revokes_every_token(scim, how):
    created = create_user(scim)
    user = ScimUser.objects.get().identity.user
    browser, record = sign_in_session(user)
    token = api_token(user)
    if how == "patch":  # as Microsoft Entra sends it
        response = scim("patch", f"Users/{created['id']}", {"schemas": [PATCH], "Operations": [
            {"op": "Replace", "path": "active", "value": "False"}]})
    elif how == "put":
        response = scim("put", f"Users/{created['id']}", user_body(active=False))
    else:
        response = scim("delete", f"Users/{created['id']}")
    assert response.status_code == (204 if how == "delete" else 200), response.content
    user.refresh_from_db()
    record.refresh_from_db()
    token.refresh_from_db()
    assert user.is_active is False
    assert (record.ended_at is not None, record.end_reason) == (True, UserSessionEndReasonChoices.DEPROVISIONED)
    assert not Session.objects.filter(session_key=record.key_hash).exists()
    assert token.revoked_at is not None
    assert browser.get("/").status_code == 302  # the browser is signed out
    deactivation = events_for(User, user.pk).order_by("seq").last()
    assert (deactivation.changed_fields, deactivation.after["is_active"], deactivation.actor) == (
        ["is_active"], False, None)
    assert "SCIM" in deactivation.actor_repr
    assert deactivation.request_id == events_for(ApiToken, token.pk).order_by("seq").last().request_id != ""
    revocation = events_for(ApiToken, token.pk).order_by("seq").last()
    assert revocation.changed_fields == ["revoked_at"]
    assert events_for(record).order_by("seq").last().after["end_reason"] == "deprovisioned"


def test_active_true_reactivates(scim):
    created = create_user(scim, active=False)
    user = ScimUser.objects.get().identity.user
    assert user.is_active is False
    response = scim("patch", f"Users/{created['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "value": {"active": True, "name.givenName": "Alicia"}}]})
    assert (response.status_code, response.json()["active"], response.json()["name"]["givenName"]) == (
        200, True, "Alicia")
    user.refresh_from_db()
    assert (user.is_active, user.first_name) == (True, "Alicia")


def group(scim, name, *members, external_id=None):
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name,
            "members": [{"value": member} for member in members]}
    if external_id:
        body["externalId"] = external_id
    response = scim("post", "Groups", body)
    assert response.status_code == 201, response.content
    return response.json()


def scim_membership(agency):
    return list(Membership.objects.filter(agency=agency).values_list("user__username", "role", "source"))


def test_groups_give_the_strongest_mapped_role_and_removal_recomputes_it(scim, agency):
    alice = create_user(scim)
    staff = group(scim, "qkd-staff", alice["id"])
    editors = group(scim, "Editors", alice["id"], external_id="qkd-editors")  # mapped by externalId
    assert [(role, source) for _u, role, source in scim_membership(agency)] == [
        ("editor", MembershipSourceChoices.SCIM)]
    response = scim("patch", f"Groups/{editors['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "remove", "path": f'members[value eq "{alice["id"]}"]'}]})
    assert response.status_code == 200, response.content
    assert [(role, source) for _u, role, source in scim_membership(agency)] == [("viewer", "scim")]
    assert scim("delete", f"Groups/{staff['id']}").status_code == 204
    assert scim_membership(agency) == []


def test_an_unmapped_group_gives_nothing_and_admin_is_never_granted(scim, agency, provider):
    alice = create_user(scim)
    group(scim, "admins", alice["id"])
    group(scim, "qkd-everyone", alice["id"])
    assert scim_membership(agency) == []
    assert not Membership.objects.filter(role=RoleChoices.ADMIN, source=MembershipSourceChoices.SCIM).exists()


def test_a_manual_membership_is_left_as_it_is(scim, agency):
    alice = create_user(scim)
    user = ScimUser.objects.get().identity.user
    MembershipFactory(user=user, agency=agency, role=RoleChoices.AUDITOR)
    editors = group(scim, "qkd-editors", alice["id"])
    scim("delete", f"Groups/{editors['id']}")
    assert [(role, source) for _u, role, source in scim_membership(agency)] == [("auditor", "manual")]


def test_group_patch_add_and_replace_members(scim, agency):
    alice, bob = create_user(scim), create_user(scim, user_name="bob@dqn.example.gov", external_id="entra-bob")
    staff = group(scim, "qkd-staff")
    scim("patch", f"Groups/{staff['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": alice["id"]}, {"value": bob["id"]}]}]})
    assert len(scim_membership(agency)) == 2
    response = scim("put", f"Groups/{staff['id']}", {"displayName": "qkd-staff", "members": [{"value": bob["id"]}]})
    assert [m["value"] for m in response.json()["members"]] == [bob["id"]]
    assert [u for u, _r, _s in scim_membership(agency)] == [ScimUser.objects.get(external_id="entra-bob")
                                                               .identity.user.username]


def test_another_providers_resources_are_not_found_and_not_changed(scim, provider, other_agency, agency):
    other = make_provider(other_agency, role_mappings=MAPPINGS)
    other_scim_key = scim_token_issue(provider=other)
    alice = create_user(scim)
    staff = group(scim, "qkd-staff", alice["id"])
    # The other provider's token, on the other provider's URL, names this provider's user and group.
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {other_scim_key}")
    for method, path in (("get", f"Users/{alice['id']}"), ("delete", f"Users/{alice['id']}"),
                         ("get", f"Groups/{staff['id']}"), ("delete", f"Groups/{staff['id']}")):
        response = getattr(client, method)(f"/scim/v2/{other.pk}/{path}")
        assert (response.status_code, response.json()["schemas"]) == (404, [ERROR]), path
    assert client.get(f"/scim/v2/{other.pk}/Users").json()["totalResults"] == 0
    # Nor can another provider's group take this provider's user.
    response = client.post(f"/scim/v2/{other.pk}/Groups", {"displayName": "qkd-editors",
                                                           "members": [{"value": alice["id"]}]}, format="json")
    assert response.status_code == 400
    # This provider's token on the other provider's URL is refused.
    assert scim("get", "Users", for_provider=other).status_code == 401
    assert ScimUser.objects.get().identity.user.is_active is True
    assert ScimGroup.objects.filter(provider=provider).count() == 1
    assert [(role, source) for _u, role, source in scim_membership(agency)] == [("viewer", "scim")]


def test_bad_tokens_are_refused_with_a_scim_error(scim, provider):
    for token in ("wrong", ""):
        response = scim("get", "Users", token=token)
        assert (response.status_code, response.json()["schemas"], response.json()["status"]) == (401, [ERROR], "401")
        assert response["WWW-Authenticate"].startswith("Bearer")
    response = APIClient().get(f"/scim/v2/{provider.pk}/Users")
    assert response.status_code == 401
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {scim.key}").get("/scim/v2/999999/Users").status_code == 401


def test_an_inactive_provider_is_refused_and_nothing_changes(scim, provider, agency):
    alice = create_user(scim)
    group = scim("post", "Groups", {"displayName": "qkd-editors", "members": [{"value": alice["id"]}]}).json()
    IdentityProvider.objects.filter(pk=provider.pk).update(is_active=False)
    events = AuditEvent.objects.count()

    for method, path, body in (
            ("get", "Users", None), ("get", f"Users/{alice['id']}", None), ("get", "ServiceProviderConfig", None),
            ("post", "Users", user_body(user_name="bob@dqn.example.gov", external_id="entra-bob")),
            ("put", f"Users/{alice['id']}", user_body(active=False)),
            ("patch", f"Users/{alice['id']}", {"schemas": [PATCH], "Operations": [
                {"op": "replace", "path": "active", "value": False}]}),
            ("delete", f"Users/{alice['id']}", None),
            ("patch", f"Groups/{group['id']}", {"schemas": [PATCH], "Operations": [
                {"op": "remove", "path": "members"}]}),
            ("delete", f"Groups/{group['id']}", None)):
        response = scim(method, path, body)
        assert (response.status_code, response.json()["schemas"], response.json()["status"],
                response.json()["detail"]) == (
            403, [ERROR], "403", "This identity provider is inactive in qgov: SCIM is refused until an agency "
                                 "admin makes it active again."), (method, path)

    assert (ScimUser.objects.count(), ScimGroup.objects.count(), User.objects.filter(is_active=True).count(),
            AuditEvent.objects.count()) == (1, 1, 1, events)
    assert [(role, source) for _u, role, source in scim_membership(agency)] == [("editor", "scim")]
    IdentityProvider.objects.filter(pk=provider.pk).update(is_active=True)
    assert scim("get", f"Users/{alice['id']}").status_code == 200


@pytest.mark.parametrize("body", ['{"userName": ', [1, 2], {"userName": ""}, {"userName": 5},
                                  {"userName": "x", "active": "maybe"}, {"userName": "x", "emails": "a@b"}])
def test_a_malformed_body_is_a_400_and_changes_nothing(scim, body):
    events = AuditEvent.objects.count()
    response = scim("post", "Users", body)
    assert response.status_code == 400, response.content
    assert response.json()["schemas"] == [ERROR]
    assert response.json()["scimType"] in ("invalidSyntax", "invalidValue")
    assert (ScimUser.objects.count(), User.objects.count(), AuditEvent.objects.count()) == (0, 0, events)


def test_an_invalid_email_is_refused_and_rolled_back(scim):
    response = scim("post", "Users", user_body(emails=[{"value": "not-an-address"}]))
    assert (response.status_code, response.json()["scimType"]) == (400, "invalidValue")
    assert (ScimUser.objects.count(), User.objects.count(), ExternalIdentity.objects.count()) == (0, 0, 0)


def test_the_external_id_cannot_change(scim):
    created = create_user(scim)
    response = scim("put", f"Users/{created['id']}", user_body(external_id="someone-else"))
    assert (response.status_code, response.json()["scimType"]) == (400, "mutability")
    assert ExternalIdentity.objects.get().subject == "entra-alice"


def test_discovery_endpoints(scim):
    config = scim("get", "ServiceProviderConfig")
    assert config["Content-Type"].startswith(SCIM_JSON)
    assert (config.json()["patch"], config.json()["bulk"]["supported"]) == ({"supported": True}, False)
    assert [r["id"] for r in scim("get", "ResourceTypes").json()["Resources"]] == ["User", "Group"]
    assert [s["name"] for s in scim("get", "Schemas").json()["Resources"]] == ["User", "Group"]


# --- the token page -------------------------------------------------------------------------


def test_an_agency_admin_issues_rotates_and_revokes_the_token_after_fresh_authentication(
        client, agency, provider, member_of):
    admin = member_of(agency, RoleChoices.ADMIN)
    client.force_login(admin)
    url = reverse("qgov:identityprovider_scim_token", args=[provider.pk])
    session = client.session
    session["qgov_auth_time"] = 0  # signed in long ago
    session.save()
    assert client.post(url).url.startswith(reverse("qgov:reauth"))
    provider.refresh_from_db()
    assert provider.scim_token_hash == ""
    session = client.session
    session["qgov_auth_time"] = int(timezone.now().timestamp())
    session.save()
    response = client.post(url, {"action": "issue"})
    key = response.context["key"]
    assert response["Cache-Control"] == "no-store"
    provider.refresh_from_db()
    assert (provider.scim_token_hash, provider.scim_token_prefix) == (hash_token_key(key), key[:12])
    assert key not in client.get(url).content.decode()  # shown once
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {key}").get(f"/scim/v2/{provider.pk}/Users").status_code == 200
    rotated = client.post(url, {"action": "issue"}).context["key"]
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {key}").get(f"/scim/v2/{provider.pk}/Users").status_code == 401
    client.post(url, {"action": "revoke"})
    assert APIClient(HTTP_AUTHORIZATION=f"Bearer {rotated}").get(f"/scim/v2/{provider.pk}/Users").status_code == 401
    token_events = [event for event in events_for(provider).filter(action="update")
                    if "scim_token_prefix" in event.changed_fields]
    assert len(token_events) == 3  # issued, rotated, revoked
    assert all("scim_token_hash" not in (event.after or {}) for event in token_events)


@pytest.mark.parametrize("role", [RoleChoices.EDITOR, RoleChoices.VIEWER])
def test_others_cannot_reach_the_token_page(client, agency, other_agency, provider, member_of, role):
    client.force_login(member_of(agency, role))
    url = reverse("qgov:identityprovider_scim_token", args=[provider.pk])
    assert (client.get(url).status_code, client.post(url).status_code) == (404, 404)
    client.force_login(member_of(other_agency, RoleChoices.ADMIN))
    assert client.post(url).status_code == 404
    provider.refresh_from_db()
    assert provider.scim_token_hash == ""


def test_patch_ignores_what_qgov_does_not_keep_and_refuses_removing_the_user_name(scim):
    created = create_user(scim)
    response = scim("patch", f"Users/{created['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "Add", "path": "title", "value": "Engineer"},
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
         "value": "QKD"},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "alice.adams@dqn.example.gov"}]})
    assert (response.status_code, response.json()["emails"][0]["value"]) == (200, "alice.adams@dqn.example.gov")
    response = scim("patch", f"Users/{created['id']}", {"schemas": [PATCH], "Operations": [
        {"op": "remove", "path": "userName"}]})
    assert (response.status_code, response.json()["scimType"]) == (400, "mutability")
    response = scim("patch", f"Users/{created['id']}", {"Operations": [{"op": "replace", "path": "active",
                                                                      "value": False}]})
    assert (response.status_code, response.json()["scimType"]) == (400, "invalidSyntax")  # no PatchOp schema
    assert ScimUser.objects.get().identity.user.is_active is True


def test_changed_role_mappings_recompute_scim_memberships_at_once(scim, agency, provider, api_as, member_of):
    alice = create_user(scim)
    group(scim, "qkd-staff", alice["id"])
    assert [(role, source) for _u, role, source in scim_membership(agency)] == [("viewer", "scim")]
    admin = member_of(agency, RoleChoices.ADMIN)
    response = api_as(admin).patch(f"/api/identity-providers/{provider.pk}/", {
        "role_mappings": [{"claim_value": "qkd-staff", "role": "auditor"}]}, format="json")
    assert response.status_code == 200, response.content
    assert [(role, source) for u, role, source in scim_membership(agency) if u != admin.username] == [
        ("auditor", "scim")]
    api_as(admin).patch(f"/api/identity-providers/{provider.pk}/", {"role_mappings": []}, format="json")
    assert [u for u, _r, _s in scim_membership(agency)] == [admin.username]


def test_an_id_that_is_no_uuid_is_not_found(scim):
    response = scim("get", "Users/12")
    assert (response.status_code, response.json()["schemas"]) == (404, [ERROR])


@pytest.mark.parametrize(("path", "queries"), [("Users", 4), ("Groups", 4)])
def test_list_query_budget(scim, django_assert_num_queries, path, queries):
    for number in range(3):
        created = create_user(scim, user_name=f"user{number}@dqn.example.gov", external_id=f"ext-{number}")
        group(scim, f"group-{number}", created["id"])
    with django_assert_num_queries(queries):  # the provider, the count, the page, its groups or members
        response = scim("get", path)
    assert response.json()["totalResults"] == 3


def test_the_provider_page_shows_the_scim_state_and_never_the_hash(client, agency, provider, member_of):
    client.force_login(member_of(agency, RoleChoices.ADMIN))
    page = client.get(provider.get_absolute_url()).content.decode()
    assert "SCIM provisioning" in page and reverse("qgov:identityprovider_scim_token", args=[provider.pk]) in page
    key = scim_token_issue(provider=provider)
    provider.refresh_from_db()
    page = client.get(provider.get_absolute_url()).content.decode()
    assert f"<code>{key[:12]}…</code>" in page
    assert provider.scim_token_hash not in page and key not in page
