"""SCIM 2.0 against a live server (pytest-django's live_server, on a free port) with scim2-client as
the identity provider's SCIM client: provisioning, deprovisioning that ends a real browser session and
revokes a real API token, groups through the role mappings, and the provider's confinement."""


import httpx
import httpx2  # scim2-client's own HTTP engine (its httpx2 extra)
import pytest
from django.contrib.auth import get_user_model
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import (
    Error,
    Group,
    GroupMember,
    ListResponse,
    PatchOp,
    PatchOperation,
    ScimProvider,
    SearchRequest,
    User,
)
from scim2_models.resources.user import Email, Name

from qgov.choices import MembershipSourceChoices, RoleChoices
from qgov.identity.scim.services import scim_token_issue
from qgov.models import ApiToken, AuditEvent, ExternalIdentity, Membership, ScimGroup, ScimUser
from tests.core.test_identity_providers import make_provider
from tests.core.test_scim import MAPPINGS
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
User_ = get_user_model()


@pytest.fixture
def provider(agency):
    return make_provider(agency, role_mappings=MAPPINGS)


def scim_client(live_server, provider, key):
    http = httpx2.Client(base_url=f"{live_server.url}/scim/v2/{provider.pk}/",
                        headers={"Authorization": f"Bearer {key}"}, timeout=30)
    # The client knows the standard User and Group; it reads the server's configuration from the server.
    client = SyncSCIMClient(http, provider=ScimProvider(models=(User, Group)))
    client.discover()
    assert client.provider.config.patch.supported is True
    return client


@pytest.fixture
def scim(live_server, provider):
    return scim_client(live_server, provider, scim_token_issue(provider=provider))


def new_user(user_name="alice@dqn.example.gov", external_id="entra-alice"):
    return User(user_name=user_name, external_id=external_id, active=True,
                name=Name(given_name="Alice", family_name="Adams"), emails=[Email(value=user_name, primary=True)])


def signed_in_browser_and_token(live_server, user):
    """A real sign-in on the login page and a real API token of `user` (given a password for it)."""
    user.set_password(TEST_PASSWORD)
    user.save(update_fields=["password"])
    browser = httpx.Client(base_url=live_server.url, timeout=30)
    browser.get("/login/")
    response = browser.post("/login/", data={"username": user.username, "password": TEST_PASSWORD,
                                             "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
                            headers={"Referer": f"{live_server.url}/login/"})
    assert response.status_code == 302, response.text
    assert browser.get("/").status_code == 200
    answer = httpx.post(f"{live_server.url}/api/auth/token/",
                        json={"username": user.username, "password": TEST_PASSWORD}, timeout=30)
    assert answer.status_code == 201, answer.text
    return browser, answer.json()["token"]


def test_provision_find_and_deprovision_a_user(live_server, scim, provider):
    created = scim.create(new_user())
    assert (created.user_name, created.external_id, created.active) == ("alice@dqn.example.gov", "entra-alice", True)
    identity = ExternalIdentity.objects.get(provider=provider)
    assert identity.subject == "entra-alice"

    found = scim.query(User, query_parameters=SearchRequest(filter='userName eq "alice@dqn.example.gov"'))
    assert isinstance(found, ListResponse)
    assert (found.total_results, [user.id for user in found.resources]) == (1, [created.id])
    by_external_id = scim.query(User, query_parameters=SearchRequest(filter='externalId eq "entra-alice"'))
    assert [user.id for user in by_external_id.resources] == [created.id]
    assert scim.query(User, query_parameters=SearchRequest(filter='userName eq "nobody"')).total_results == 0

    scim.create(Group(display_name="qkd-staff", members=[GroupMember(value=created.id)]))  # a viewer of the agency
    user = identity.user
    browser, token_key = signed_in_browser_and_token(live_server, user)
    api = {"Authorization": f"Token {token_key}"}
    assert httpx.get(f"{live_server.url}/api/agencies/", headers=api).status_code == 200

    patched = scim.modify(User, created.id, PatchOp[User](operations=[
        PatchOperation[User](op=PatchOperation.Op.replace_, path="active", value=False)]))
    assert patched.active is False
    user.refresh_from_db()
    assert user.is_active is False
    assert user.browser_sessions.filter(ended_at__isnull=True).count() == 0
    assert user.browser_sessions.get().end_reason == "deprovisioned"
    assert ApiToken.objects.get(user=user).revoked_at is not None
    assert browser.get("/").status_code == 302  # signed out: back to the login page
    assert httpx.get(f"{live_server.url}/api/agencies/", headers=api).status_code == 401

    reactivated = scim.modify(User, created.id, PatchOp[User](operations=[
        PatchOperation[User](op=PatchOperation.Op.replace_, path="active", value=True)]))
    assert reactivated.active is True
    user.refresh_from_db()
    assert user.is_active is True


def test_groups_give_the_mapped_role_and_lose_it(live_server, scim, agency):
    alice = scim.create(new_user())
    editors = scim.create(Group(display_name="qkd-editors", members=[GroupMember(value=alice.id)]))
    user = ScimUser.objects.get(scim_id=alice.id).identity.user
    membership = Membership.objects.get(user=user, agency=agency)
    assert (membership.role, membership.source, membership.provider) == (
        RoleChoices.EDITOR, MembershipSourceChoices.SCIM, None)
    assert [group.display for group in scim.query(User, alice.id).groups] == ["qkd-editors"]

    scim.modify(Group, editors.id, PatchOp[Group](operations=[
        PatchOperation[Group](op=PatchOperation.Op.remove, path=f'members[value eq "{alice.id}"]')]))
    assert not Membership.objects.filter(user=user, agency=agency).exists()
    assert scim.query(Group, editors.id).members in (None, [])

    scim.create(Group(display_name="qkd-everyone", members=[GroupMember(value=alice.id)]))  # unmapped
    assert not Membership.objects.filter(user=user).exists()


def test_another_providers_token_sees_and_changes_nothing_here(live_server, scim, provider, other_agency):
    alice = scim.create(new_user())
    group = scim.create(Group(display_name="qkd-staff", members=[GroupMember(value=alice.id)]))
    other = make_provider(other_agency, role_mappings=MAPPINGS)
    intruder = scim_client(live_server, other, scim_token_issue(provider=other))
    for resource, resource_id in ((User, alice.id), (Group, group.id)):
        for refused in (intruder.query(resource, resource_id, raise_scim_errors=False),
                        intruder.delete(resource, resource_id, raise_scim_errors=False)):
            assert isinstance(refused, Error)
            assert refused.status == 404
    assert intruder.query(User).total_results == 0
    assert ScimUser.objects.get().identity.user.is_active is True
    assert ScimGroup.objects.get().members.count() == 1


def test_a_bad_token_is_a_401_and_a_malformed_body_a_400_that_changes_nothing(live_server, scim, provider):
    url = f"{live_server.url}/scim/v2/{provider.pk}/Users"
    for headers in ({"Authorization": "Bearer not-the-token"}, {}):
        response = httpx.get(url, headers=headers)
        assert (response.status_code, response.headers["content-type"]) == (401, "application/scim+json")
        error = Error.model_validate(response.json())
        assert error.status == 401
    events = AuditEvent.objects.count()
    key_header = scim.client.headers["Authorization"]
    for body in (b'{"userName": "alice"', b'{"userName": 42}', b'{"userName": "a", "active": "perhaps"}'):
        response = httpx.post(url, content=body, headers={"Authorization": key_header,
                                                          "Content-Type": "application/scim+json"})
        assert response.status_code == 400, body
        error = Error.model_validate(response.json())
        assert (error.status, error.scim_type in ("invalidSyntax", "invalidValue")) == (400, True)
    assert (ScimUser.objects.count(), User_.objects.count(), AuditEvent.objects.count()) == (0, 0, events)


def test_an_inactive_provider_refuses_its_own_token_with_403_and_changes_nothing(live_server, scim, provider):
    alice = scim.create(new_user())
    provider.is_active = False
    provider.save(update_fields=["is_active"])
    events = AuditEvent.objects.count()
    headers = {"Authorization": scim.client.headers["Authorization"], "Content-Type": "application/scim+json"}
    base = f"{live_server.url}/scim/v2/{provider.pk}"

    for method, path, body in (("GET", "/Users", None), ("DELETE", f"/Users/{alice.id}", None),
                               ("POST", "/Groups", b'{"displayName": "qkd-editors"}')):
        response = httpx.request(method, base + path, content=body, headers=headers)
        assert (response.status_code, response.headers["content-type"]) == (403, "application/scim+json")
        assert Error.model_validate(response.json()).status == 403

    assert (ScimUser.objects.count(), ScimGroup.objects.count(), User_.objects.filter(is_active=True).count(),
            AuditEvent.objects.count()) == (1, 0, 1, events)
