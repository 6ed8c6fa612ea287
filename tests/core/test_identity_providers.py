"""`/api/identity-providers/` and the agency-admin pages: agency admins only; https issuers; role
mappings never grant admin; the client secret written only, sealed in its column, never shown or
audited; another agency's providers answer 404. The generic suite covers roles, isolation, audit,
ETags, exports and query counts."""

import io

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from qgov.choices import RoleChoices
from qgov.identity import crypto
from qgov.identity.providers.models import IdentityProvider
from qgov.models import AuditEvent, Membership
from qgov.testing import ModelTestSuite, events_for

SECRET = "s3cr3t-client-secret-from-the-idp"


def make_provider(agency, **fields):
    fields = {"name": "Agency IdP", "issuer": f"https://login.{agency.code.lower()}.example.gov",
              "client_id": "qgov", "client_secret": SECRET,
              "role_mappings": [{"claim_value": "qkd-editors", "role": "editor"},
                                {"claim_value": "qkd-staff", "role": "viewer"}], **fields}
    provider = IdentityProvider(agency=agency, **fields)
    provider.full_clean()
    provider.save()
    return provider


def body(agency, **fields):
    return {"agency": agency.pk, "name": "Entra ID", "issuer": "https://login.dqn.example.gov/tenant",
            "client_id": "qgov-prod", "client_secret": SECRET, "groups_claim": "groups",
            "jit_provisioning": True, "email_domains": ["DQN.example.gov"],
            "role_mappings": [{"claim_value": "qkd-editors", "role": "editor"}], **fields}


def raw_secret_column(provider) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT client_secret FROM {IdentityProvider._meta.db_table} WHERE id = %s", [provider.pk])
        return cursor.fetchone()[0]


class TestIdentityProvider(ModelTestSuite):
    model = IdentityProvider
    api_path = "/api/identity-providers/"
    list_queries = 2
    ui_list_queries = 7

    def make_record(self, agency):
        return make_provider(agency, name=f"IdP {IdentityProvider.objects.count() + 1}",
                             issuer=f"https://idp{IdentityProvider.objects.count() + 1}.example.gov")

    def create_payload(self, agency):
        return body(agency)

    def update_payload(self, record):
        return {"role_mappings": [{"claim_value": "qkd-auditors", "role": "auditor"}]}

    def form_data(self, agency, record=None):
        return {"name": "Entra ID", "protocol": "oidc", "issuer": "https://login.dqn.example.gov/tenant",
                "client_id": "qgov-prod", "client_secret": "" if record else SECRET, "groups_claim": "groups",
                "email_domains": "dqn.example.gov", "role_mappings": "qkd-editors = editor", "is_active": "on"}


# --- API -----------------------------------------------------------------------------------------


@pytest.fixture
def admin(agency, member_of):
    return member_of(agency, RoleChoices.ADMIN, username="ada")


def test_an_admin_registers_a_provider_and_the_secret_is_written_only(agency, admin, api_as):
    client = api_as(admin)

    response = client.post("/api/identity-providers/", body(agency), format="json")

    assert response.status_code == 201, response.content
    provider = IdentityProvider.objects.get()
    created = response.json()
    assert "client_secret" not in created and created["has_client_secret"] is True
    assert {key: created[key] for key in ("name", "protocol", "issuer", "client_id", "groups_claim",
                                          "jit_provisioning", "required_acr", "max_auth_age", "email_domains",
                                          "role_mappings", "is_active")} == {
        "name": "Entra ID", "protocol": "oidc", "issuer": "https://login.dqn.example.gov/tenant",
        "client_id": "qgov-prod", "groups_claim": "groups", "jit_provisioning": True, "required_acr": "",
        "max_auth_age": None, "email_domains": ["dqn.example.gov"],
        "role_mappings": [{"claim_value": "qkd-editors", "role": "editor"}], "is_active": True}
    assert SECRET not in client.get(f"/api/identity-providers/{provider.pk}/").content.decode()
    assert SECRET not in client.get("/api/identity-providers/").content.decode()
    assert provider.client_secret == SECRET


def test_the_secret_is_sealed_in_its_column_and_kept_out_of_the_audit_trail(agency, admin, api_as):
    client = api_as(admin)
    provider_id = client.post("/api/identity-providers/", body(agency), format="json").json()["id"]
    provider = IdentityProvider.objects.get(pk=provider_id)

    stored = raw_secret_column(provider)
    assert SECRET not in stored and stored.startswith("gAAAA")  # a Fernet token
    assert crypto.unseal(stored) == SECRET

    changed = client.patch(f"/api/identity-providers/{provider.pk}/", {"client_secret": "rotated-secret"},
                           format="json")
    assert changed.status_code == 200, changed.content
    provider.refresh_from_db()
    assert (provider.client_secret, provider.version) == ("rotated-secret", 2)
    events = list(events_for(provider).order_by("id"))
    assert [event.action for event in events] == ["create", "update"]
    for event in events:
        text = str(event.before) + str(event.after) + str(event.changed_fields)
        assert SECRET not in text and "rotated-secret" not in text and "client_secret" not in text
    assert not AuditEvent.objects.filter(after__icontains=SECRET).exists()


def test_rotating_the_sealing_key_keeps_old_secrets_readable_and_reseals(agency, settings):
    settings.QGOV_IDENTITY_SECRET_KEYS = ["first key"]
    provider = make_provider(agency)
    sealed_with_first = raw_secret_column(provider)

    settings.QGOV_IDENTITY_SECRET_KEYS = ["second key", "first key"]
    assert IdentityProvider.objects.get().client_secret == SECRET  # the old key still opens it
    out = io.StringIO()
    call_command("reseal_identity_secrets", stdout=out)
    assert out.getvalue() == "1 client secrets re-sealed with the current key.\n"
    settings.QGOV_IDENTITY_SECRET_KEYS = ["second key"]
    assert raw_secret_column(provider) != sealed_with_first
    assert IdentityProvider.objects.get().client_secret == SECRET
    assert crypto.unseal(crypto.reseal(raw_secret_column(provider))) == SECRET
    with pytest.raises(crypto.SecretUnreadable):
        crypto.unseal(sealed_with_first)
    assert events_for(provider).count() == 1  # the create: re-sealing changed no secret


def test_an_http_issuer_is_refused_with_a_field_error(agency, admin, api_as):
    response = api_as(admin).post("/api/identity-providers/", body(agency, issuer="http://login.example.gov"),
                                  format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"issuer": [
        "The issuer must be an https:// URL (plain http only for a test provider on 127.0.0.1, ::1 or localhost, "
        "when the operator sets QGOV_OIDC_ALLOW_HTTP_LOOPBACK)."]}
    assert not IdentityProvider.objects.exists()


@pytest.mark.parametrize(("issuer", "allowed"), [("http://127.0.0.1:8123/op", True), ("http://localhost:9/op", True),
                                                 ("http://[::1]:9/op", True), ("http://10.0.0.5/op", False),
                                                 ("http://127.0.0.1.example.org/op", False)])
def test_loopback_http_issuers_pass_only_with_the_test_flag(agency, admin, api_as, settings, issuer, allowed):
    settings.QGOV_OIDC_ALLOW_HTTP_LOOPBACK = True
    response = api_as(admin).post("/api/identity-providers/", body(agency, issuer=issuer), format="json")
    assert response.status_code == (201 if allowed else 400), response.content

    settings.QGOV_OIDC_ALLOW_HTTP_LOOPBACK = False
    refused = api_as(admin).post("/api/identity-providers/", body(agency, name="Other", issuer=issuer),
                                 format="json")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["issuer"]


def test_a_mapping_to_admin_is_refused_with_a_field_error(agency, admin, api_as):
    mappings = [{"claim_value": "qkd-editors", "role": "editor"}, {"claim_value": "qgov-admins", "role": "admin"}]

    response = api_as(admin).post("/api/identity-providers/", body(agency, role_mappings=mappings), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"role_mappings": [
        "Mapping 2 (“qgov-admins”): a provider never grants the admin role; agency admins are appointed in qgov."]}
    assert not IdentityProvider.objects.exists()


@pytest.mark.parametrize(("mappings", "message"), [
    ([{"claim_value": "a", "role": "owner"}], "Mapping 1 (“a”): the role is one of viewer, auditor, editor."),
    ([{"claim_value": "", "role": "viewer"}], "Mapping 1: the claim value is a group name of 1 to 256 characters."),
    ([{"claim_value": "a", "role": "viewer", "agency": "MOT"}], "Mapping 1: give exactly claim_value and role."),
    ("qkd = editor", 'A list of mappings such as {"claim_value": "qkd-editors", "role": "editor"}.'),
])
def test_malformed_mappings_are_refused_by_name(agency, admin, api_as, mappings, message):
    response = api_as(admin).post("/api/identity-providers/", body(agency, role_mappings=mappings), format="json")

    assert (response.status_code, response.json()["errors"]) == (400, {"role_mappings": [message]})


def test_one_name_and_one_issuer_per_agency(agency, other_agency, admin, api_as, member_of):
    make_provider(agency, name="Entra ID", issuer="https://a.example.gov")
    client = api_as(admin)

    same_name = client.post("/api/identity-providers/", body(agency, issuer="https://b.example.gov"), format="json")
    same_issuer = client.post("/api/identity-providers/", body(agency, name="Other", issuer="https://a.example.gov"),
                              format="json")

    assert (same_name.status_code, same_name.json()["errors"]) == (
        400, {"non_field_errors": ["The agency already has a provider of this name."]})
    assert (same_issuer.status_code, same_issuer.json()["errors"]) == (
        400, {"non_field_errors": ["The agency already has a provider with this issuer."]})
    # Another agency may register the same issuer (a shared government provider): its own registration.
    theirs = api_as(member_of(other_agency, RoleChoices.ADMIN)).post(
        "/api/identity-providers/", body(other_agency, issuer="https://a.example.gov"), format="json")
    assert theirs.status_code == 201, theirs.content


def test_each_protocol_requires_its_own_fields_by_name(agency, admin, api_as):
    oidc = body(agency)
    del oidc["client_secret"]
    saml = body(agency, protocol="saml", name="SAML IdP")
    del saml["client_secret"]

    responses = [api_as(admin).post("/api/identity-providers/", payload, format="json") for payload in (oidc, saml)]

    assert [(response.status_code, response.json()["errors"]) for response in responses] == [
        (400, {"client_secret": ["Give the client secret the provider issued for qgov."]}),
        (400, {"saml_sso_url": ["Give the identity provider's single sign-on URL, or paste its metadata."],
               "saml_certificate": ["Give the identity provider's signing certificate, or paste its metadata."]})]
    # The model says the same to every other writer.
    provider = IdentityProvider(agency=agency, name="x", issuer="https://x.example.gov", protocol="oidc")
    with pytest.raises(ValidationError) as refused:
        provider.full_clean()
    assert refused.value.message_dict == {"client_id": ["Give the client ID the provider issued for qgov."],
                                          "client_secret": ["Give the client secret the provider issued for qgov."]}
    assert not IdentityProvider.objects.exists()


def idp_metadata(entity_id, certificate_pem, sso_url="https://login.dqn.example.gov/saml/sso"):
    body_b64 = "".join(line for line in certificate_pem.splitlines() if "CERTIFICATE" not in line)
    return (f'<?xml version="1.0"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" '
            f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}"><md:IDPSSODescriptor '
            f'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing">'
            f"<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{body_b64}</ds:X509Certificate></ds:X509Data>"
            f"</ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService "
            f'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{sso_url}/post"/>'
            f'<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
            f'Location="{sso_url}"/></md:IDPSSODescriptor></md:EntityDescriptor>')


@pytest.fixture(scope="module")
def idp_certificate():
    from tests.integration.saml_provider import key_and_certificate

    return key_and_certificate("login.dqn.example.gov")[1].decode()


def test_a_saml_provider_is_registered_from_pasted_metadata_without_a_client(agency, admin, api_as, idp_certificate):
    entity_id = "https://login.dqn.example.gov/saml"
    payload = body(agency, protocol="saml", issuer=entity_id, client_id="", saml_subject_attribute="employeeNumber",
                   saml_metadata=idp_metadata(entity_id, idp_certificate))
    del payload["client_secret"]

    response = api_as(admin).post("/api/identity-providers/", payload, format="json")

    assert response.status_code == 201, response.content
    provider = IdentityProvider.objects.get()
    assert (provider.protocol, provider.issuer, provider.saml_sso_url, provider.saml_certificate,
            provider.saml_subject_attribute, provider.client_id, provider.has_client_secret) == (
        "saml", entity_id, "https://login.dqn.example.gov/saml/sso", idp_certificate, "employeeNumber", "", False)
    assert response.json()["saml_sso_url"] == "https://login.dqn.example.gov/saml/sso"


@pytest.mark.parametrize("fields, errors", [
    ({"saml_metadata": "<md:EntityDescriptor"},
     {"saml_metadata": ["The metadata is not well-formed XML without DTDs or entities."]}),
    ({"saml_metadata": '<!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>'},
     {"saml_metadata": ["The metadata is not well-formed XML without DTDs or entities."]}),
    ({"saml_metadata": "METADATA FOR https://login.mot.example.gov/saml"},
     {"saml_metadata": ["The metadata is for the entity ID “https://login.mot.example.gov/saml”, not this "
                        "provider's issuer."]}),
    ({"saml_sso_url": "http://login.dqn.example.gov/sso", "saml_certificate": "CERTIFICATE"},
     {"saml_sso_url": ["The single sign-on URL must be an https:// URL."]}),
    ({"saml_sso_url": "https://login.dqn.example.gov/sso", "saml_certificate": "not a certificate"},
     {"saml_certificate": ["Not an X.509 certificate (give it as PEM, -----BEGIN CERTIFICATE----- …)."]}),
])
def test_a_saml_registration_is_refused_by_field(agency, admin, api_as, idp_certificate, fields, errors):
    entity_id = "https://login.dqn.example.gov/saml"
    fields = {key: idp_metadata(value.split()[-1], idp_certificate) if value.startswith("METADATA FOR ") else
              idp_certificate if value == "CERTIFICATE" else value for key, value in fields.items()}
    payload = body(agency, protocol="saml", issuer=entity_id, **fields)

    response = api_as(admin).post("/api/identity-providers/", payload, format="json")

    assert (response.status_code, response.json()["errors"]) == (400, errors)
    assert not IdentityProvider.objects.exists()


def test_the_form_registers_a_saml_provider_and_shows_its_errors_again(agency, admin_client, idp_certificate):
    entity_id = "https://login.dqn.example.gov/saml"
    data = {"name": "ADFS", "protocol": "saml", "issuer": entity_id, "client_id": "", "client_secret": "",
            "saml_metadata": "", "saml_sso_url": "", "saml_certificate": "", "groups_claim": "groups",
            "role_mappings": "qkd-editors = editor", "is_active": "on"}

    refused = admin_client.post("/agency/identity-providers/add/", data)
    added = admin_client.post("/agency/identity-providers/add/",
                              {**data, "saml_metadata": idp_metadata(entity_id, idp_certificate)})

    assert refused.status_code == 200
    assert refused.context["form"].errors == {
        "saml_sso_url": ["Give the identity provider's single sign-on URL, or paste its metadata."],
        "saml_certificate": ["Give the identity provider's signing certificate, or paste its metadata."]}
    assert added.status_code == 302, added.context["form"].errors if added.context else added
    provider = IdentityProvider.objects.get()
    assert (provider.saml_sso_url, provider.saml_certificate) == ("https://login.dqn.example.gov/saml/sso",
                                                                  idp_certificate)
    page = admin_client.get(f"/agency/identity-providers/{provider.pk}/")
    detail = page.content.decode()
    assert f"http://testserver/login/sso/saml/{provider.pk}/metadata/" in detail
    assert f"http://testserver/login/sso/saml/{provider.pk}/acs/" in detail and "/callback/" not in detail
    # The certificate by whom it names, until when and its fingerprint, not as PEM; no OpenID Connect rows.
    certificate = x509.load_pem_x509_certificate(idp_certificate.encode())
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex().upper()
    assert ":".join(fingerprint[i:i + 2] for i in range(0, 64, 2)) in detail
    assert "CN=login.dqn.example.gov" in detail and "BEGIN CERTIFICATE" not in detail and "expired" not in detail
    labels = {str(label).lower() for label, *_rest in page.context["fields"]}
    assert {"issuer", "saml single sign-on url"} <= labels and not {"client id", "saml signing certificate"} & labels


@pytest.mark.parametrize("role", [RoleChoices.EDITOR, RoleChoices.AUDITOR, RoleChoices.VIEWER])
def test_only_admins_manage_or_even_see_providers(agency, member_of, api_as, role):
    provider = make_provider(agency)
    client = api_as(member_of(agency, role))

    assert client.post("/api/identity-providers/", body(agency, name="Mine"), format="json").status_code == 403
    assert client.get("/api/identity-providers/").json()["results"] == []
    assert client.get(f"/api/identity-providers/{provider.pk}/").status_code == 404
    assert client.patch(f"/api/identity-providers/{provider.pk}/", {"jit_provisioning": True},
                        format="json").status_code == 404
    assert client.delete(f"/api/identity-providers/{provider.pk}/").status_code == 404
    provider.refresh_from_db()
    assert (IdentityProvider.objects.count(), provider.jit_provisioning, provider.version) == (1, False, 1)


def test_another_agencys_admin_gets_404_and_changes_nothing(agency, other_agency, member_of, api_as):
    provider = make_provider(agency)
    client = api_as(member_of(other_agency, RoleChoices.ADMIN))

    assert client.get(f"/api/identity-providers/{provider.pk}/").status_code == 404
    assert client.patch(f"/api/identity-providers/{provider.pk}/",
                        {"role_mappings": [{"claim_value": "x", "role": "editor"}]}, format="json").status_code == 404
    assert client.delete(f"/api/identity-providers/{provider.pk}/").status_code == 404
    refused = client.post("/api/identity-providers/", body(agency), format="json")
    assert (refused.status_code, refused.json()["errors"]) == (
        400, {"agency": [f'Invalid pk "{agency.pk}" - object does not exist.']})
    assert client.get("/api/identity-providers/").json()["results"] == []
    provider.refresh_from_db()
    assert (provider.version, provider.role_mappings[0]["claim_value"], IdentityProvider.objects.count()) == (
        1, "qkd-editors", 1)


def test_a_provider_that_keeps_memberships_is_not_deleted_but_says_what_to_do(agency, admin, api_as, client):
    from qgov.identity.scim.services import GroupData, UserData, scim_group_create, scim_user_create
    from qgov.models import ExternalIdentity, ScimUser
    from tests.factories import UserFactory

    provider = make_provider(agency)
    signed_in = UserFactory(username="bob")
    ExternalIdentity.objects.create(provider=provider, subject="bob", user=signed_in)
    Membership.objects.create(agency=agency, user=signed_in, role="viewer", source="provider", provider=provider)
    carol = scim_user_create(provider=provider, data=UserData(user_name="carol@dqn.example.gov"))
    scim_group_create(provider=provider, data=GroupData(display_name="qkd-editors", member_ids=[str(carol.scim_id)]))
    events = AuditEvent.objects.count()
    refusal = ("“Agency IdP” still keeps 2 memberships of its agency (1 from sign-in, 1 from SCIM) that grant roles. "
               "Make it inactive instead, or end those memberships first: remove its role mappings (its SCIM "
               "memberships end at once) and delete its sign-in memberships on the members page.")

    response = api_as(admin).delete(f"/api/identity-providers/{provider.pk}/")

    assert (response.status_code, response.json()["errors"]) == (400, {"non_field_errors": [refusal]})
    client.force_login(admin)
    page = client.post(f"/agency/identity-providers/{provider.pk}/delete/", {"version": provider.version},
                       follow=True)
    assert refusal in [str(message) for message in page.context["messages"]]
    assert sorted(Membership.objects.filter(agency=agency).exclude(user=admin).values_list(
        "user__username", "role", "source")) == [("bob", "viewer", "provider"), (carol.identity.user.username,
                                                                                "editor", "scim")]
    assert (IdentityProvider.objects.filter(pk=provider.pk).exists(), ScimUser.objects.count(),
            AuditEvent.objects.count()) == (True, 1, events)

    # Without memberships, the people who came in through it still keep it (as the record of how).
    Membership.objects.filter(agency=agency).exclude(user=admin).delete()
    response = api_as(admin).delete(f"/api/identity-providers/{provider.pk}/")
    assert (response.status_code, response.json()["errors"]) == (400, {"non_field_errors": [
        "“Agency IdP” has signed in or provisioned 2 people; it is kept as the record of how they came in. "
        "Make it inactive instead."]})
    assert IdentityProvider.objects.filter(pk=provider.pk).exists()


def test_memberships_show_their_source_read_only(agency, admin, api_as):
    from tests.factories import UserFactory

    provider = make_provider(agency)
    kept = Membership.objects.create(agency=agency, user=UserFactory(), role="viewer", source="provider",
                                     provider=provider)
    client = api_as(admin)

    shown = client.get(f"/api/memberships/{kept.pk}/").json()
    assert (shown["source"], shown["provider"]["id"]) == ("provider", provider.pk)
    manual = client.get(f"/api/memberships/{Membership.objects.get(user=admin).pk}/").json()
    assert (manual["source"], manual["provider"]) == ("manual", None)
    client.patch(f"/api/memberships/{kept.pk}/", {"source": "manual"}, format="json")
    kept.refresh_from_db()
    assert (kept.source, kept.provider_id) == ("provider", provider.pk)


# --- pages ---------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, admin):
    client.force_login(admin)
    return client


def test_the_agency_page_leads_admins_to_the_providers(agency, admin_client, client, member_of):
    page = admin_client.get(f"/agencies/{agency.pk}/").content.decode()
    assert "/agency/identity-providers/" in page

    client.force_login(member_of(agency, RoleChoices.EDITOR))
    assert "/agency/identity-providers/" not in client.get(f"/agencies/{agency.pk}/").content.decode()
    assert client.get("/agency/identity-providers/").status_code == 403


def test_an_admin_adds_a_provider_through_the_form_and_never_sees_the_secret(agency, admin_client):
    response = admin_client.post("/agency/identity-providers/add/", {
        "name": "Entra ID", "protocol": "oidc", "issuer": "https://login.dqn.example.gov/tenant",
        "client_id": "qgov-prod", "client_secret": SECRET, "groups_claim": "groups",
        "email_domains": "dqn.example.gov, Staff.DQN.example.gov",
        "role_mappings": "qkd-editors = editor\nCN=QKD Auditors,OU=Groups = auditor", "is_active": "on"})

    assert response.status_code == 302, response.context["form"].errors if response.context else response
    provider = IdentityProvider.objects.get()
    assert (provider.role_mappings, provider.email_domains, provider.client_secret) == (
        [{"claim_value": "qkd-editors", "role": "editor"},
         {"claim_value": "CN=QKD Auditors,OU=Groups", "role": "auditor"}],
        ["dqn.example.gov", "staff.dqn.example.gov"], SECRET)
    page = admin_client.get(f"/agency/identity-providers/{provider.pk}/")
    detail = page.content.decode()
    labels = {str(label).lower() for label, *_rest in page.context["fields"]}
    assert "client id" in labels and not {"saml metadata", "saml single sign-on url", "saml signing certificate",
                                          "saml subject attribute"} & labels
    assert "CN=QKD Auditors,OU=Groups" in detail and "/login/sso/DQN/callback/" in detail
    assert SECRET not in detail and raw_secret_column(provider) not in detail
    edit = admin_client.get(f"/agency/identity-providers/{provider.pk}/edit/").content.decode()
    assert SECRET not in edit and "qkd-editors = editor" in edit
    history = admin_client.get(f"/agency/identity-providers/{provider.pk}/history/").content.decode()
    assert SECRET not in history
    export = admin_client.get("/agency/identity-providers/?export=csv")
    assert export.status_code == 200 and SECRET not in b"".join(export.streaming_content).decode()


def test_an_edit_with_an_empty_secret_keeps_the_stored_one(agency, admin_client):
    provider = make_provider(agency)

    response = admin_client.post(f"/agency/identity-providers/{provider.pk}/edit/", {
        "name": "Renamed", "protocol": "oidc", "issuer": provider.issuer, "client_id": "qgov", "client_secret": "",
        "groups_claim": "roles", "role_mappings": "qkd-staff = viewer", "version": provider.version})

    assert response.status_code == 302
    provider.refresh_from_db()
    assert (provider.name, provider.groups_claim, provider.client_secret, provider.is_active) == (
        "Renamed", "roles", SECRET, False)


def test_the_form_shows_the_admin_mapping_and_http_issuer_errors_again(agency, admin_client):
    response = admin_client.post("/agency/identity-providers/add/", {
        "name": "Entra ID", "protocol": "oidc", "issuer": "http://login.dqn.example.gov",
        "client_id": "qgov-prod", "client_secret": SECRET, "groups_claim": "groups",
        "role_mappings": "qkd-editors = editor\nqgov-admins = admin"})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["role_mappings"] == [
        "Mapping 2 (“qgov-admins”): a provider never grants the admin role; agency admins are appointed in qgov."]
    assert list(errors) == ["issuer", "role_mappings"]
    page = response.content.decode()
    assert "never grants the admin role" in page and "qgov-admins = admin" in page and SECRET not in page
    assert not IdentityProvider.objects.exists()


def test_a_mapping_line_without_a_role_is_a_form_error(agency, admin_client):
    response = admin_client.post("/agency/identity-providers/add/", {
        "name": "Entra ID", "protocol": "oidc", "issuer": "https://login.dqn.example.gov", "client_id": "q",
        "client_secret": SECRET, "groups_claim": "groups", "role_mappings": "qkd-editors"})

    assert response.context["form"].errors == {"role_mappings": [
        "“qkd-editors”: write one mapping per line as group = role, e.g. qkd-editors = editor."]}


def test_another_agencys_admin_cannot_open_the_pages(agency, other_agency, client, member_of):
    provider = make_provider(agency)
    client.force_login(member_of(other_agency, RoleChoices.ADMIN))

    for suffix in ("", "edit/", "delete/", "history/"):
        assert client.get(f"/agency/identity-providers/{provider.pk}/{suffix}").status_code == 404
    assert client.post(f"/agency/identity-providers/{provider.pk}/delete/",
                       {"version": provider.version}).status_code == 404
    assert IdentityProvider.objects.filter(pk=provider.pk).exists()


def test_membership_pages_show_the_source_and_the_form_does_not_offer_it(agency, admin, admin_client):
    from tests.factories import UserFactory

    provider = make_provider(agency)
    kept = Membership.objects.create(agency=agency, user=UserFactory(username="bob"), role="viewer",
                                     source="provider", provider=provider)

    detail = admin_client.get(f"/members/{kept.pk}/").content.decode()
    assert "Identity provider" in detail and f"/agency/identity-providers/{provider.pk}/" in detail
    assert "Identity provider" in admin_client.get(f"/agencies/{agency.pk}/").content.decode()
    assert "Identity provider" in admin_client.get("/members/").content.decode()
    form = admin_client.get(f"/members/{kept.pk}/edit/").context["form"]
    assert list(form.fields) == ["role", "version"]


def test_the_role_of_a_membership_a_provider_keeps_is_not_edited_by_hand(agency, admin, admin_client, api_as):
    from qgov.identity.scim.services import GroupData, UserData, scim_group_create, scim_user_create
    from tests.factories import UserFactory

    provider = make_provider(agency)
    by_sign_in = Membership.objects.create(agency=agency, user=UserFactory(username="bob"), role="viewer",
                                           source="provider", provider=provider)
    carol = scim_user_create(provider=provider, data=UserData(user_name="carol@dqn.example.gov"))
    scim_group_create(provider=provider, data=GroupData(display_name="qkd-staff", member_ids=[str(carol.scim_id)]))
    by_scim = Membership.objects.get(user=carol.identity.user)
    events = AuditEvent.objects.count()
    sign_in_refusal = (
        "Kept by the identity provider “Agency IdP”: the role comes from the person's groups there through its role "
        "mappings, and is set again at each sign-in. To change it, change the provider's role mappings or the "
        "person's groups at the provider.")
    scim_refusal = (
        "Kept by SCIM of the identity provider “Agency IdP”: the role comes from the person's groups there through "
        "its role mappings, and is set again whenever they change. To change it, change the provider's role "
        "mappings or the person's groups at the provider.")

    response = api_as(admin).patch(f"/api/memberships/{by_sign_in.pk}/", {"role": "editor"}, format="json")
    assert (response.status_code, response.json()["errors"]) == (400, {"role": [sign_in_refusal]})
    response = api_as(admin).patch(f"/api/memberships/{by_scim.pk}/", {"role": "admin"}, format="json")
    assert (response.status_code, response.json()["errors"]) == (400, {"role": [scim_refusal]})
    page = admin_client.get(f"/members/{by_sign_in.pk}/edit/")
    assert page.context["form"].fields["role"].help_text == sign_in_refusal
    page = admin_client.post(f"/members/{by_sign_in.pk}/edit/", {"role": "auditor", "version": by_sign_in.version})
    assert page.context["form"].errors == {"role": [sign_in_refusal]}

    assert sorted(Membership.objects.filter(pk__in=[by_sign_in.pk, by_scim.pk]).values_list(
        "role", "source", "version")) == [("viewer", "provider", 1), ("viewer", "scim", 1)]
    assert AuditEvent.objects.count() == events
    # The same role sent again is no edit, and a manual membership's role is the admin's to change.
    assert api_as(admin).patch(f"/api/memberships/{by_scim.pk}/", {"role": "viewer"},
                               format="json").status_code == 200
    manual = Membership.objects.create(agency=agency, user=UserFactory(username="dan"), role="viewer")
    assert api_as(admin).patch(f"/api/memberships/{manual.pk}/", {"role": "editor"}, format="json").status_code == 200
