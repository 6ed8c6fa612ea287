"""Sign-in through a real SAML 2.0 identity provider: pysaml2's IdP in its own process on 127.0.0.1
(tests/integration/saml_provider.py), its key made when the fixture starts. The browser is Django's test
client (with CSRF checks on, as a browser meets them) for qgov and urllib for the IdP: the test follows
the AuthnRequest to the IdP, reads the form the IdP's page would post, and posts it to qgov's assertion
consumer service. Every refused response changes nothing: no user, identity, membership or audit event."""

import base64
import re
import time
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from qgov.identity.reauth import AUTH_TIME_KEY
from qgov.identity.saml.views import PENDING_KEY
from qgov.identity.signin import SIGN_IN_KEY
from qgov.models import AuditEvent, ExternalIdentity, Membership
from qgov.testing import events_for
from tests.integration.saml_provider import PHR, register, run_saml_identity_provider

pytestmark = [pytest.mark.django_db]

User = get_user_model()
UNVERIFIED = "could not be verified, so you are not signed in"
USED = "This sign-in has expired or was already used."


@pytest.fixture(scope="session")
def saml_idp(tmp_path_factory):
    yield from run_saml_identity_provider(tmp_path_factory)


@pytest.fixture
def dqn(saml_idp, settings):
    settings.QGOV_OIDC_ALLOW_HTTP_LOOPBACK = True
    provider = register(saml_idp, "DQN", "Department of Quantum Networks")
    saml_idp.trust(Client().get(f"/login/sso/saml/{provider.pk}/metadata/").content)
    return provider


class Browser:
    """qgov through the test client, the IdP through urllib."""

    def __init__(self, idp):
        self.client, self.idp = Client(enforce_csrf_checks=True), idp

    def start(self, path="/login/sso/DQN/"):
        """Off to the IdP: (the ACS URL, the SAMLResponse its page posts there)."""
        response = self.client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(f"{self.idp.sso_url}?SAMLRequest=")
        page = self.idp.login_page(response["Location"])
        action = unescape(re.search(r'action="([^"]+)"', page).group(1))
        return action, re.search(r'name="SAMLResponse" value="([^"]+)"', page).group(1)

    def post(self, action, saml_response):
        """The IdP's form posted to qgov, then qgov's own redirect (put aside → checked) followed."""
        posted = self.client.post(urlsplit(action).path, {"SAMLResponse": saml_response})
        assert posted.status_code == 303
        return self.client.get(posted["Location"])

    def sign_in(self, path="/login/sso/DQN/"):
        return self.post(*self.start(path))


def nothing_changed():
    return (User.objects.count(), ExternalIdentity.objects.count(), Membership.objects.count(),
            AuditEvent.objects.count())


def refused_for(response, reason):
    assert response.status_code in (400, 403), response.status_code
    assert f'data-reason="{reason}"' in response.content.decode()


def test_sign_in_creates_the_account_with_the_mapped_role(saml_idp, dqn):
    saml_idp.set_account("alice-0001", groups=["qkd-editors", "unmapped"], email="alice@dqn.example.gov",
                         givenName="Alice", sn="Adams")
    browser = Browser(saml_idp)

    response = browser.sign_in("/login/sso/DQN/?next=/account/sessions/")

    assert (response.status_code, response["Location"]) == (302, "/account/sessions/")
    [request] = saml_idp.requests()[-1:]
    assert (request["acs"], request["force_authn"], request["name_id_policy"], request["authn_context"]) == (
        f"http://testserver/login/sso/saml/{dqn.pk}/acs/", None,
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", [])
    identity = ExternalIdentity.objects.get()
    user = identity.user
    assert (identity.provider, identity.subject, user.username, user.email, user.first_name, user.last_name,
            user.has_usable_password()) == (dqn, "alice-0001", "alice@dqn.example.gov+dqn", "alice@dqn.example.gov",
                                            "Alice", "Adams", False)
    assert list(Membership.objects.values_list("user", "agency", "role", "source")) == [
        (user.pk, dqn.agency_id, "editor", "provider")]
    session = browser.client.session
    assert int(session["_auth_user_id"]) == user.pk
    assert session[SIGN_IN_KEY] == {"method": "provider", "phishing_resistant": False, "mfa": ""}
    assert abs(session[AUTH_TIME_KEY] - time.time()) < 30
    assert session[PENDING_KEY] == {}  # the request was answered once
    signed_in = events_for(identity).filter(action="transition").get()
    assert (signed_in.detail["transition"], signed_in.actor) == ("sign_in", user)


def test_the_sp_metadata_names_the_entity_id_and_the_acs(dqn, client):
    response = client.get(f"/login/sso/saml/{dqn.pk}/metadata/")

    text = response.content.decode()
    assert (response.status_code, response["Content-Type"]) == (200, "application/samlmetadata+xml")
    assert f'entityID="http://testserver/login/sso/saml/{dqn.pk}/metadata/"' in text
    assert re.findall(r"<\w+:AssertionConsumerService [^>]*>", text) == [
        '<ns0:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        f'Location="http://testserver/login/sso/saml/{dqn.pk}/acs/" index="1" />']
    assert 'AuthnRequestsSigned="false"' in text


@pytest.mark.parametrize("fault, reason", [
    ("unsigned", "saml:signature"),
    ("wrong_audience", "saml:audience"),
    # Another entity ID: no certificate is registered for it, so its signature proves nothing.
    ("wrong_issuer", "saml:signature"),
    # The response from the registered IdP, signed by it, carrying an assertion that names another issuer.
    ("wrong_assertion_issuer", "saml:issuer"),
    ("expired", "saml:time"),
    ("wrong_destination", "saml:destination"),
])
def test_a_faulty_response_is_refused_and_changes_nothing(saml_idp, dqn, fault, reason):
    saml_idp.set_account("alice-0001", groups=["qkd-editors"], faults=[fault])
    before = nothing_changed()

    response = Browser(saml_idp).sign_in()

    refused_for(response, reason)
    assert response.status_code == 403 and UNVERIFIED in response.content.decode()
    assert nothing_changed() == before


def test_a_tampered_response_is_refused_and_changes_nothing(saml_idp, dqn):
    saml_idp.set_account("mallory-0002", groups=["qkd-staff"])
    browser = Browser(saml_idp)
    action, saml_response = browser.start()
    before = nothing_changed()
    xml = base64.b64decode(saml_response).decode()
    assert xml.count("qkd-staff") == 1
    tampered = base64.b64encode(xml.replace("qkd-staff", "qkd-editors").encode()).decode()

    response = browser.post(action, tampered)

    refused_for(response, "saml:signature")
    assert nothing_changed() == before


@pytest.mark.parametrize("faults, same_browser", [([], False), (["idp_initiated"], True)])
def test_an_unsolicited_response_is_refused(saml_idp, dqn, faults, same_browser):
    # Made for another browser's request; or IdP-initiated (no InResponseTo), even to a browser that waits
    # for an answer.
    saml_idp.set_account("alice-0001", groups=["qkd-staff"], faults=faults)
    browser = Browser(saml_idp)
    action, saml_response = browser.start()
    before = nothing_changed()

    response = (browser if same_browser else Browser(saml_idp)).post(action, saml_response)

    refused_for(response, "state")
    assert response.status_code == 400 and USED in response.content.decode()
    assert nothing_changed() == before


def test_a_replayed_response_is_refused(saml_idp, dqn):
    saml_idp.set_account("alice-0001", groups=["qkd-staff"])
    browser = Browser(saml_idp)
    action, saml_response = browser.start()
    waiting = browser.client.session[PENDING_KEY]
    assert browser.post(action, saml_response).status_code == 302
    before = nothing_changed()

    again = browser.post(action, saml_response)
    # Even a session that still waits for the request (put back) cannot use the same assertion twice.
    session = browser.client.session
    session[PENDING_KEY] = waiting
    session.save()
    restored = browser.post(action, saml_response)

    refused_for(again, "state")
    refused_for(restored, "saml:replay")
    assert USED in restored.content.decode()
    assert nothing_changed() == before


def test_a_group_removed_at_the_idp_takes_the_role_away_at_the_next_sign_in(saml_idp, dqn):
    saml_idp.set_account("alice-0001", groups=["qkd-editors", "qkd-staff"])
    assert Browser(saml_idp).sign_in().status_code == 302
    assert Membership.objects.get().role == "editor"

    saml_idp.set_account("alice-0001", groups=["qkd-staff"])
    assert Browser(saml_idp).sign_in().status_code == 302
    assert Membership.objects.get().role == "viewer"

    saml_idp.set_account("alice-0001", groups=[])
    response = Browser(saml_idp).sign_in()
    assert (response.status_code, Membership.objects.count()) == (403, 0)
    assert "Your account at DQN SAML gives no role in qgov any more." in response.content.decode()


def test_groups_naming_admin_or_another_agency_grant_nothing_there(saml_idp, dqn):
    saml_idp.set_account("mallory-0002", groups=["qkd-staff", "admin", "qkd-admins", "MOT:qkd-editors"])

    assert Browser(saml_idp).sign_in().status_code == 302

    user = ExternalIdentity.objects.get().user
    assert (user.is_superuser, user.is_staff) == (False, False)
    assert list(Membership.objects.values_list("user", "agency", "role")) == [(user.pk, dqn.agency_id, "viewer")]


def test_reauthentication_forces_a_new_authentication_and_takes_its_instant(saml_idp, dqn):
    saml_idp.set_account("alice-0001", groups=["qkd-staff"])
    browser = Browser(saml_idp)
    assert browser.sign_in().status_code == 302
    first_auth_time = browser.client.session[AUTH_TIME_KEY]
    time.sleep(1.1)  # AuthnInstant counts whole seconds

    response = browser.sign_in("/account/reauth/?next=/due/")

    assert (response.status_code, response["Location"]) == (302, "/due/")
    assert saml_idp.requests()[-1]["force_authn"] == "true"
    assert browser.client.session[AUTH_TIME_KEY] > first_auth_time


def test_reauthentication_without_a_new_authentication_is_refused(saml_idp, dqn):
    saml_idp.set_account("alice-0001", groups=["qkd-staff"])
    browser = Browser(saml_idp)
    assert browser.sign_in().status_code == 302
    first_auth_time = browser.client.session[AUTH_TIME_KEY]
    time.sleep(1.1)
    # An IdP that answers from its own session despite ForceAuthn: the AuthnInstant is the old one.
    saml_idp.set_account("alice-0001", groups=["qkd-staff"], faults=["ignore_force_authn"])

    response = browser.sign_in("/account/reauth/?next=/due/")

    refused_for(response, "reauth_not_fresh")
    assert browser.client.session[AUTH_TIME_KEY] == first_auth_time


def test_a_required_context_is_asked_for_steps_up_once_then_refuses(saml_idp, dqn):
    dqn.required_acr = PHR
    dqn.save()
    saml_idp.set_account("bob-0003", groups=["qkd-staff"])  # the IdP answers with its password class
    browser = Browser(saml_idp)

    first = browser.sign_in()
    assert first.status_code == 302 and first["Location"].startswith(f"{saml_idp.sso_url}?SAMLRequest=")
    page = saml_idp.login_page(first["Location"])
    action = unescape(re.search(r'action="([^"]+)"', page).group(1))
    response = browser.post(action, re.search(r'name="SAMLResponse" value="([^"]+)"', page).group(1))

    assert response.status_code == 403
    assert "Your agency requires a stronger sign-in at its identity provider." in response.content.decode()
    assert [request["authn_context"] for request in saml_idp.requests()[-2:]] == [[PHR], [PHR]]
    assert (User.objects.count(), ExternalIdentity.objects.count()) == (0, 0)


def test_the_required_context_signs_in_as_phishing_resistant(saml_idp, dqn):
    dqn.required_acr = PHR
    dqn.save()
    saml_idp.set_account("carol-0004", groups=["qkd-staff"], authn_class=PHR)
    browser = Browser(saml_idp)

    assert browser.sign_in().status_code == 302

    assert browser.client.session[SIGN_IN_KEY] == {"method": "provider", "phishing_resistant": True, "mfa": ""}


def test_the_redirect_request_carries_no_signature_and_a_fresh_id_each_time(saml_idp, dqn):
    browser = Browser(saml_idp)
    locations = [browser.client.get("/login/sso/DQN/")["Location"] for _ in range(2)]

    queries = [parse_qs(urlsplit(location).query) for location in locations]
    assert all(set(query) == {"SAMLRequest"} for query in queries)
    assert len(set(browser.client.session[PENDING_KEY])) == 2
