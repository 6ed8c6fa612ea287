"""API tokens' limits: scopes, agencies, allowed addresses, the client address behind proxies,
issuing by agency admins, keyed-hash secrets, and the per-token rate limit."""

import hashlib
import hmac
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from qgov import ratelimit, services
from qgov.choices import RoleChoices
from qgov.models import ApiToken, Membership
from qgov.permissions import require
from qgov.roles import Action
from risks.models import Asset
from tests.factories import MembershipFactory
from tests.risks.factories import AssetFactory

NEW_ASSET = {"name": "New", "asset_type": "qkd_link", "shelf_life_years": 10, "migration_years": 3}


def client_with(key, **extra):
    client = APIClient(**extra)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def system_token(agency, admin, scopes, **options):
    options.setdefault("ttl", timedelta(days=30))
    return services.system_token_create(agencies=[agency], name="CMDB", scopes=scopes, created_by=admin, **options)


@pytest.fixture
def admin(agency, member_of):
    return member_of(agency, RoleChoices.ADMIN)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


# --- secrets --------------------------------------------------------------------------------


def test_the_secret_is_prefixed_and_only_its_keyed_hash_is_stored(agency, admin):
    token, key = system_token(agency, admin, ["read"])
    assert key.startswith("qgov_") and len(key) == 48
    assert token.prefix == key[:12]
    unkeyed = hashlib.sha256(key.encode()).hexdigest()
    assert token.key_hash == hmac.new(settings.QGOV_TOKEN_HASH_KEY.encode(), unkeyed.encode(),
                                      hashlib.sha256).hexdigest()
    assert token.key_hash != unkeyed and key not in token.key_hash
    assert client_with(key).get("/api/agencies/").status_code == 200


def test_another_hash_key_invalidates_every_token(agency, admin, settings):
    _, key = system_token(agency, admin, ["read"])
    settings.QGOV_TOKEN_HASH_KEY = "another key"
    response = client_with(key).get("/api/agencies/")
    assert (response.status_code, response.json()["detail"]) == (401, "Invalid token.")


# --- scopes ---------------------------------------------------------------------------------


def test_a_read_only_token_reads_but_cannot_write(agency, admin):
    asset = AssetFactory(agency=agency, name="Backbone")
    token, key = system_token(agency, admin, ["read"])
    assert Membership.objects.get(user=token.user).role == RoleChoices.VIEWER
    client = client_with(key)
    assert client.get(f"/api/assets/{asset.pk}/").json()["name"] == "Backbone"

    changed = client.patch(f"/api/assets/{asset.pk}/", {"name": "Renamed"}, format="json")
    created = client.post("/api/assets/", NEW_ASSET | {"agency": agency.pk},
                          format="json")
    revoked = client.delete(f"/api/tokens/{token.pk}/")

    assert (changed.status_code, created.status_code, revoked.status_code) == (403, 403, 403)
    assert changed.json()["detail"] == "This token may only read."
    asset.refresh_from_db()
    token.refresh_from_db()
    assert (asset.name, asset.version, Asset.objects.count(), token.revoked_at) == ("Backbone", 1, 1, None)


def test_an_area_read_scope_refuses_writes_in_that_area_even_to_a_token_that_writes_elsewhere(agency, admin):
    asset = AssetFactory(agency=agency, name="Backbone")
    token, key = system_token(agency, admin, ["risks:read", "certification:write"])
    assert Membership.objects.get(user=token.user).role == RoleChoices.EDITOR  # the role would allow it
    client = client_with(key)
    assert client.get(f"/api/assets/{asset.pk}/").status_code == 200

    changed = client.patch(f"/api/assets/{asset.pk}/", {"name": "Renamed"}, format="json")
    created = client.post("/api/assets/", NEW_ASSET | {"agency": agency.pk},
                          format="json")

    assert changed.status_code == 403
    assert created.status_code == 403
    asset.refresh_from_db()
    assert (asset.name, asset.version, Asset.objects.count()) == ("Backbone", 1, 1)


def test_an_area_write_scope_writes_there(agency, admin):
    asset = AssetFactory(agency=agency, name="Backbone")
    _, key = system_token(agency, admin, ["risks:write"])
    response = client_with(key).patch(f"/api/assets/{asset.pk}/", {"name": "Renamed"}, format="json")
    created = client_with(key).post("/api/assets/", NEW_ASSET | {"agency": agency.pk}, format="json")
    assert (response.status_code, created.status_code) == (200, 201)
    assert client_with(key).get("/api/agencies/").json()["count"] == 1  # its agency, to name in writes
    asset.refresh_from_db()
    assert (asset.name, asset.version) == ("Renamed", 2)


def test_an_area_scope_reads_nothing_outside_its_area(agency, admin):
    _, key = system_token(agency, admin, ["certification:read"])
    AssetFactory(agency=agency)
    assert client_with(key).get("/api/assets/").json()["count"] == 0


def test_the_grant_ends_with_the_request(agency, member_of):
    user = member_of(agency, RoleChoices.EDITOR)
    _, key = services.token_issue(user=user, name="read only", scopes=["read"])
    assert client_with(key).get("/api/agencies/").status_code == 200
    require(user, agency.pk, Action.ADD, Asset)  # no PermissionDenied: the user's own rights again


# --- agencies -------------------------------------------------------------------------------


def test_records_of_agencies_outside_the_token_are_invisible(agency, other_agency, member_of):
    user = member_of(agency, RoleChoices.EDITOR)
    MembershipFactory(user=user, agency=other_agency, role=RoleChoices.EDITOR)
    mine = AssetFactory(agency=agency, name="Mine")
    theirs = AssetFactory(agency=other_agency, name="Theirs")
    _, key = services.token_issue(user=user, name="one agency", agencies=[agency], scopes=["write"])
    client = client_with(key)

    listed = client.get("/api/assets/").json()
    detail = client.get(f"/api/assets/{theirs.pk}/")
    changed = client.patch(f"/api/assets/{theirs.pk}/", {"name": "Renamed"}, format="json")
    created = client.post("/api/assets/", NEW_ASSET | {"agency": other_agency.pk},
                          format="json")

    assert [row["id"] for row in listed["results"]] == [mine.pk]
    assert [row["id"] for row in client.get("/api/agencies/").json()["results"]] == [agency.pk]
    assert (detail.status_code, changed.status_code) == (404, 404)
    assert (created.status_code, list(created.json()["errors"])) == (400, ["agency"])  # not offered
    theirs.refresh_from_db()
    assert (theirs.name, theirs.version, Asset.objects.count()) == ("Theirs", 1, 2)
    # Without the token's limit the same user sees both.
    session = APIClient()
    session.force_login(user)
    assert session.get("/api/assets/").json()["count"] == 2


# --- addresses ------------------------------------------------------------------------------


def test_a_token_is_refused_from_addresses_outside_its_networks(agency, admin):
    _, key = system_token(agency, admin, ["read"], allowed_ips=["192.0.2.0/24"])
    inside = client_with(key, REMOTE_ADDR="192.0.2.10").get("/api/agencies/")
    outside = client_with(key, REMOTE_ADDR="198.51.100.7").get("/api/agencies/")
    spoofed = client_with(key, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="192.0.2.10").get("/api/agencies/")
    assert (inside.status_code, outside.status_code, spoofed.status_code) == (200, 403, 403)
    assert outside.json()["detail"] == "This token may not be used from this address."


def test_behind_a_trusted_proxy_the_forwarded_address_counts(agency, admin, settings):
    settings.QGOV_TRUSTED_PROXIES = 1
    _, key = system_token(agency, admin, ["read"], allowed_ips=["192.0.2.0/24"])
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    through = client_with(key, **proxy, HTTP_X_FORWARDED_FOR="198.51.100.7, 192.0.2.10").get("/api/agencies/")
    # The client wrote the left entry itself: only the proxy's (rightmost) one is believed.
    forged = client_with(key, **proxy, HTTP_X_FORWARDED_FOR="192.0.2.10, 198.51.100.7").get("/api/agencies/")
    assert (through.status_code, forged.status_code) == (200, 403)


@pytest.mark.parametrize(("proxies", "forwarded", "expected"), [
    (0, "198.51.100.1", "203.0.113.9"),
    (1, "198.51.100.1, 192.0.2.5", "192.0.2.5"),
    (2, "198.51.100.1, 192.0.2.5, 10.0.0.2", "192.0.2.5"),
    (2, "192.0.2.5", "203.0.113.9"),  # fewer entries than proxies: not through them all
    (1, "not-an-address", "203.0.113.9"),
    (1, "", "203.0.113.9"),
])
def test_client_address_from_the_trusted_proxy_count(settings, proxies, forwarded, expected):
    settings.QGOV_TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert ratelimit.client_ip(request) == expected


# Sign-in lockouts read the same address: tests/core/test_login_throttle.py (trusted proxies).


# --- issuing --------------------------------------------------------------------------------


def issue(client, **body):
    payload = {"name": "SOC", "scopes": ["read"], "expires": (timezone.now() + timedelta(days=90)).isoformat(),
               **body}
    return client.post("/api/tokens/", payload, format="json")


def counts():
    return ApiToken.objects.count(), Membership.objects.count(), get_user_model().objects.count()


def test_an_agency_admin_issues_a_system_token_through_the_api(agency, admin, api_as):
    response = issue(api_as(admin), agencies=[agency.pk], scopes=["risks:write", "read"],
                     allowed_ips=["2001:db8::1/32", "192.0.2.7/24"])
    assert response.status_code == 201
    body = response.json()
    token = ApiToken.objects.get(pk=body["id"])
    assert body["token"].startswith("qgov_") and token.key_hash != body["token"]
    assert (body["agencies"], body["scopes"], body["allowed_ips"]) == ([agency.pk], ["read", "risks:write"],
                                                                      ["192.0.2.0/24", "2001:db8::/32"])
    assert Membership.objects.get(user=token.user).role == RoleChoices.EDITOR
    listed = api_as(admin).get(f"/api/tokens/{token.pk}/").json()
    assert "token" not in listed and listed["prefix"] == body["token"][:12]


@pytest.mark.parametrize(("body", "field"), [
    ({"expires": (timezone.now() + timedelta(days=367)).isoformat()}, "expires"),
    ({"expires": None}, "expires"),
    ({"scopes": ["risks:admin"]}, "scopes"),
    ({"scopes": []}, "scopes"),
    ({"allowed_ips": ["192.0.2.0/33"]}, "allowed_ips"),
    ({"allowed_ips": ["::1/129"]}, "allowed_ips"),
])
def test_bad_token_requests_are_400_and_write_nothing(agency, admin, api_as, body, field):
    before = counts()
    response = issue(api_as(admin), agencies=[agency.pk], **body)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert counts() == before


def test_an_admin_of_one_agency_cannot_issue_for_another(agency, other_agency, admin, member_of, api_as):
    member_of(other_agency, RoleChoices.ADMIN)
    before = counts()
    response = issue(api_as(admin), agencies=[agency.pk, other_agency.pk])
    assert response.status_code == 400
    assert response.json()["errors"] == {"agencies": [f'Invalid pk "{other_agency.pk}" - object does not exist.']}
    assert counts() == before


def test_only_agency_admins_issue_tokens(agency, member_of, api_as):
    editor = member_of(agency, RoleChoices.EDITOR)
    before = counts()
    response = issue(api_as(editor), agencies=[agency.pk])
    assert response.status_code == 400 and list(response.json()["errors"]) == ["agencies"]
    assert counts() == before


def test_a_system_token_for_several_agencies_acts_in_each(agency, other_agency, admin, api_as):
    MembershipFactory(user=admin, agency=other_agency, role=RoleChoices.ADMIN)
    response = issue(api_as(admin), agencies=[agency.pk, other_agency.pk])
    assert response.status_code == 201
    token = ApiToken.objects.get(pk=response.json()["id"])
    assert sorted(Membership.objects.filter(user=token.user).values_list("agency__code", "role")) == [
        ("DQN", "viewer"), ("MOT", "viewer")]
    listed = client_with(response.json()["token"]).get("/api/agencies/").json()
    assert sorted(row["code"] for row in listed["results"]) == ["DQN", "MOT"]


# --- rate limits ----------------------------------------------------------------------------


@pytest.fixture(params=["locmem", "redis"])
def each_cache(request, settings):
    if request.param == "redis":
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                       "LOCATION": "redis://127.0.0.1:6379/8"}}
    else:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    yield request.param
    cache.clear()


def test_each_token_is_limited_with_429_and_retry_after(each_cache, agency, admin, settings):
    settings.QGOV_API_TOKEN_RATE_LIMIT = "3/60"
    _, key = system_token(agency, admin, ["read"])
    _, other_key = system_token(agency, admin, ["read"])
    client = client_with(key)
    assert [client.get("/api/agencies/").status_code for _ in range(3)] == [200, 200, 200]

    refused = client.get("/api/agencies/")

    assert (refused.status_code, refused["Retry-After"]) == (429, "60")
    assert (refused.json()["status"], refused.json()["code"]) == (429, "throttled")
    assert client_with(other_key).get("/api/agencies/").status_code == 200
    session = APIClient()
    session.force_login(admin)
    assert [session.get("/api/agencies/").status_code for _ in range(4)] == [200] * 4


def test_issuing_and_revoking_a_system_token_is_audited_in_its_agencys_chain(agency, admin):
    from qgov.models import AuditEvent

    token, _ = system_token(agency, admin, ["read"])
    services.token_revoke(token=token, user=admin)
    events = AuditEvent.objects.filter(content_type__model="apitoken", object_id=str(token.pk)).order_by("pk")
    assert [(event.action, event.agency_id) for event in events] == [("create", agency.pk), ("update", agency.pk)]
    assert (events[0].after["agencies"], events[0].after["scopes"]) == ([agency.pk], ["read"])
    assert "key_hash" not in events[0].after


def test_the_token_form_offers_the_admins_agencies_and_every_scope(client, agency, other_agency, admin, member_of):
    MembershipFactory(user=admin, agency=other_agency, role=RoleChoices.EDITOR)
    client.force_login(admin)
    form = client.get("/agency/tokens/add/").context["form"]
    assert list(form.fields["agencies"].queryset) == [agency]
    scopes = [value for _group, options in form.fields["scopes"].choices for value, _label in options]
    assert scopes[:2] == ["read", "write"] and {"risks:read", "audit:read", "reports:write"} <= set(scopes)
    assert {"webhooks:manage"} <= set(scopes) and not {"risks:manage", "webhooks:write"} & set(scopes)
    data = {"name": "SIEM", "agencies": [agency.pk], "scopes": ["risks:read"], "valid_days": 0}
    again = client.post("/agency/tokens/add/", data).content.decode()  # shown again: the ticked scope kept
    assert re.search(r'value="risks:read" id="id_scopes_\d+_\d+" checked', again)
    assert not re.search(r'value="risks:write" id="id_scopes_\d+_\d+" checked', again)
    assert "qgov_" in client.post("/agency/tokens/add/", {**data, "valid_days": 30}).content.decode()


# --- managing webhooks ------------------------------------------------------------------------


def test_a_token_with_webhooks_manage_manages_the_agencys_webhooks_and_nothing_admin_else(agency, admin, settings):
    settings.QGOV_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    token, key = system_token(agency, admin, ["webhooks:manage", "risks:read"])
    client = client_with(key)

    created = client.post("/api/webhooks/", {"agency": agency.pk, "name": "SIEM", "all_events": True,
                                             "target_url": "http://127.0.0.1:9/hook"}, format="json")

    assert created.status_code == 201, created.content
    assert Membership.objects.get(user=token.user).role == RoleChoices.ADMIN
    # The admin role reaches only the areas the scopes name: not the members, not the audit trail.
    assert client.get("/api/memberships/").json()["results"] == []
    assert client.get("/api/audit-events/").json()["results"] == []
    assert client.get("/api/risks/").status_code == 200


def test_a_token_without_webhooks_manage_sees_no_webhooks(agency, admin, settings):
    settings.QGOV_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    _, key = system_token(agency, admin, ["write"])

    answer = client_with(key).post("/api/webhooks/", {"agency": agency.pk, "name": "SIEM", "all_events": True,
                                                      "target_url": "http://127.0.0.1:9/hook"}, format="json")

    assert answer.status_code in (400, 403) and not agency.qgov_webhookendpoint_set.exists()


def test_a_token_that_manages_webhooks_names_its_other_areas(agency, admin):
    accounts = get_user_model().objects.count()
    with pytest.raises(ValidationError, match="names each other area"):
        system_token(agency, admin, ["webhooks:manage", "read"])
    assert get_user_model().objects.count() == accounts
