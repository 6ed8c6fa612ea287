"""Sign-in through a real OpenID provider: panva's oidc-provider (tools/oidc-provider, installed by
`make test` from its lock file) started on 127.0.0.1 by the fixtures (tests/integration/oidc_provider.py),
with its development login screen, against qgov's live server. The browser is urllib with a
cookie jar that follows redirects one by one (so the test sees each request) and posts the
provider's login and consent forms.

Token tampering (nonce, audience, issuer, expiry, signature, alg none) is in tests/core/test_oidc_tokens.py,
with tokens signed there."""

import re
import time
import urllib.error
import urllib.request
from html import unescape
from http.cookiejar import CookieJar
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from qgov.identity.reauth import AUTH_TIME_KEY
from qgov.identity.signin import SIGN_IN_KEY
from qgov.identity.store import SessionStore
from qgov.models import AuditEvent, ExternalIdentity, Membership
from qgov.testing import events_for
from tests.integration.oidc_provider import CLIENT_ID, PHR, register, run_openid_provider

pytestmark = [pytest.mark.django_db(transaction=True)]

User = get_user_model()


@pytest.fixture(scope="session")
def openid_provider(live_server, tmp_path_factory):
    yield from run_openid_provider(live_server, tmp_path_factory)


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Cookies, and every URL it went to in `visited`."""

    def __init__(self):
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), NoRedirects)
        self.visited: list[str] = []

    def request(self, url, data=None):
        self.visited.append(url)
        body = urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(url, data=body, timeout=30) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def go(self, url, data=None):
        """Request `url` and follow redirects; (final URL, status, body)."""
        status, headers, body = self.request(url, data)
        while status in (301, 302, 303, 307, 308):
            url = urljoin(url, headers["Location"])
            status, headers, body = self.request(url)
        return url, status, body

    def sign_in_at_provider(self, url, login):
        """Go to `url` and through the provider's login (and consent) screens as `login`."""
        url, status, body = self.go(url)
        for _ in range(4):
            prompt = re.search(r'name="prompt" value="(\w+)"', body)
            if prompt is None or "/interaction/" not in url:
                return url, status, body
            action = urljoin(url, unescape(re.search(r'<form[^>]*action="([^"]+)"', body).group(1)))
            fields = {"prompt": prompt.group(1)}
            if prompt.group(1) == "login":
                fields.update(login=login, password="any")  # the development screen takes any password
            url, status, body = self.go(action, fields)
        raise AssertionError(f"stuck at {url}")

    def authorize_requests(self, issuer):
        return [parse_qs(urlsplit(url).query) for url in self.visited if url.startswith(f"{issuer}/auth?")]

    def callbacks(self, live_server):
        return [url for url in self.visited if url.startswith(f"{live_server.url}/login/sso/") and "/callback/" in url]

    def session(self):
        key = next(cookie.value for cookie in self.cookies if cookie.name == settings.SESSION_COOKIE_NAME)
        return SessionStore(session_key=key)


@pytest.fixture
def dqn(openid_provider, settings):
    settings.QGOV_OIDC_ALLOW_HTTP_LOOPBACK = True
    return register(openid_provider, "DQN", "Department of Quantum Networks", email_domains=["dqn.example.gov"])


@pytest.fixture
def mot(openid_provider, settings):
    settings.QGOV_OIDC_ALLOW_HTTP_LOOPBACK = True
    return register(openid_provider, "MOT", "Ministry of Other Things")


def test_the_code_flow_signs_in_and_creates_the_account_with_the_mapped_role(openid_provider, dqn, live_server):
    openid_provider.set_account("alice", email="alice@dqn.example.gov", given_name="Alice", family_name="Adams",
                                groups=["qkd-editors", "unmapped"])
    browser = Browser()

    url, status, body = browser.sign_in_at_provider(f"{live_server.url}/login/sso/DQN/?next=/account/sessions/",
                                                    "alice")

    assert (url, status) == (f"{live_server.url}/account/sessions/", 200)
    [authorize] = browser.authorize_requests(openid_provider.issuer)
    assert (authorize["response_type"], authorize["client_id"], authorize["code_challenge_method"],
            authorize["scope"]) == (["code"], [CLIENT_ID], ["S256"], ["openid email profile"])
    assert len(authorize["state"][0]) >= 43 and len(authorize["nonce"][0]) >= 43
    assert authorize["redirect_uri"] == [f"{live_server.url}/login/sso/DQN/callback/"]
    identity = ExternalIdentity.objects.get()
    user = identity.user
    assert (identity.provider, identity.subject, user.username, user.email, user.has_usable_password()) == (
        dqn, "alice", "alice+dqn", "alice@dqn.example.gov", False)
    assert list(Membership.objects.values_list("user", "agency", "role", "source")) == [
        (user.pk, dqn.agency_id, "editor", "provider")]
    session = browser.session()
    assert int(session["_auth_user_id"]) == user.pk
    assert session[SIGN_IN_KEY] == {"method": "provider", "phishing_resistant": False, "mfa": ""}
    assert abs(session[AUTH_TIME_KEY] - time.time()) < 30
    signed_in = events_for(identity).filter(action="transition").get()
    assert (signed_in.detail["transition"], signed_in.actor) == ("sign_in", user)


def test_the_login_page_finds_the_provider_by_e_mail_domain_and_by_agency_code(dqn, live_server):
    browser = Browser()
    _, _, page = browser.go(f"{live_server.url}/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    found = [browser.request(f"{live_server.url}/login/sso/", {"csrfmiddlewaretoken": token, "sso": typed,
                                                               "next": "/due/"})
             for typed in ("Alice@DQN.example.gov", "dqn")]
    unknown = [browser.request(f"{live_server.url}/login/sso/", {"csrfmiddlewaretoken": token, "sso": typed})
               for typed in ("bob@nowhere.example.org", "bob@mot.example.gov", "ZZZ")]

    assert [(status, headers["Location"]) for status, headers, _ in found] == [
        (302, "/login/sso/DQN/?next=%2Fdue%2F")] * 2
    assert [status for status, _, _ in unknown] == [200, 200, 200]
    for (_, _, body), typed in zip(unknown, ("bob@nowhere.example.org", "bob@mot.example.gov", "ZZZ"), strict=True):
        assert f"There is no sign-in through an agency&#x27;s identity provider for “{typed}”" in body
        shown = re.sub(r'value="[^"]*"', "", body)  # the CSRF token is random text that may spell anything
        assert "Department of Quantum Networks" not in shown and "DQN" not in shown


def test_people_are_keyed_on_issuer_and_subject_never_on_e_mail(openid_provider, dqn, mot, live_server):
    # Both agencies registered this provider's issuer: the same `sub` is one person with a role in each;
    # another `sub` with the same e-mail address is another person.
    openid_provider.set_account("alice", email="alice@dqn.example.gov", groups=["qkd-staff"])
    openid_provider.set_account("alice-copy", email="alice@dqn.example.gov", groups=["qkd-staff"])

    signed_in = [Browser().sign_in_at_provider(f"{live_server.url}/login/sso/{code}/", login)[1]
                 for code, login in (("DQN", "alice"), ("MOT", "alice"), ("MOT", "alice-copy"))]

    assert signed_in == [200, 200, 200]
    users = {(identity.provider_id, identity.subject): identity.user for identity in ExternalIdentity.objects.all()}
    alice, copy = users[(dqn.pk, "alice")], users[(mot.pk, "alice-copy")]
    assert users[(mot.pk, "alice")] == alice and copy != alice
    assert alice.email == copy.email == "alice@dqn.example.gov"
    assert sorted(Membership.objects.values_list("user", "agency")) == sorted([
        (alice.pk, dqn.agency_id), (alice.pk, mot.agency_id), (copy.pk, mot.agency_id)])


def test_a_group_removed_at_the_provider_takes_the_role_away_at_the_next_sign_in(openid_provider, dqn, live_server):
    openid_provider.set_account("alice", email="alice@dqn.example.gov", groups=["qkd-editors", "qkd-staff"])
    assert Browser().sign_in_at_provider(f"{live_server.url}/login/sso/DQN/", "alice")[1] == 200
    assert Membership.objects.get().role == "editor"

    openid_provider.set_account("alice", email="alice@dqn.example.gov", groups=["qkd-staff"])
    assert Browser().sign_in_at_provider(f"{live_server.url}/login/sso/DQN/", "alice")[1] == 200
    assert Membership.objects.get().role == "viewer"

    openid_provider.set_account("alice", email="alice@dqn.example.gov", groups=[])
    url, status, body = Browser().sign_in_at_provider(f"{live_server.url}/login/sso/DQN/", "alice")
    assert (status, Membership.objects.count()) == (403, 0)
    assert "Your account at DQN login gives no role in qgov any more." in body


def test_claims_naming_another_agency_or_admin_grant_nothing_there(openid_provider, dqn, mot, live_server):
    openid_provider.set_account("mallory", email="mallory@dqn.example.gov", agency="MOT",
                                groups=["qkd-staff", "MOT", "MOT:qkd-editors", "admin", "qkd-admins"])

    url, status, _ = Browser().sign_in_at_provider(f"{live_server.url}/login/sso/DQN/", "mallory")

    user = ExternalIdentity.objects.get().user
    assert (status, user.is_superuser, user.is_staff) == (200, False, False)
    assert list(Membership.objects.values_list("user", "agency", "role")) == [(user.pk, dqn.agency_id, "viewer")]


def test_a_replayed_callback_is_refused(openid_provider, dqn, live_server):
    openid_provider.set_account("alice", email="alice@dqn.example.gov", groups=["qkd-staff"])
    browser = Browser()
    assert browser.sign_in_at_provider(f"{live_server.url}/login/sso/DQN/", "alice")[1] == 200
    [callback] = browser.callbacks(live_server)
    events = AuditEvent.objects.count()

    again = browser.go(callback)
    elsewhere = Browser().go(callback)

    for url, status, body in (again, elsewhere):
        assert (url, status) == (callback, 400)
        assert "This sign-in has expired or was already used." in body
    assert (User.objects.count(), AuditEvent.objects.count()) == (1, events)


def test_reauthentication_sends_the_user_back_with_max_age_0_and_takes_the_new_auth_time(
        openid_provider, dqn, live_server):
    openid_provider.set_account("alice", email="alice@dqn.example.gov", groups=["qkd-staff"])
    browser = Browser()
    assert browser.sign_in_at_provider(f"{live_server.url}/login/sso/DQN/", "alice")[1] == 200
    first_auth_time = browser.session()[AUTH_TIME_KEY]
    time.sleep(1.1)  # auth_time counts whole seconds

    url, status, _ = browser.sign_in_at_provider(f"{live_server.url}/account/reauth/?next=/due/", "alice")

    assert (url, status) == (f"{live_server.url}/due/", 200)
    reauth = browser.authorize_requests(openid_provider.issuer)[-1]
    assert (reauth["max_age"], reauth["prompt"]) == (["0"], ["login"])
    assert browser.session()[AUTH_TIME_KEY] > first_auth_time
    assert browser.visited.count(f"{live_server.url}/account/reauth/?next=/due/") == 1


def test_a_required_acr_steps_up_once_then_refuses(openid_provider, dqn, live_server):
    dqn.required_acr = PHR
    dqn.save()
    openid_provider.set_account("bob", email="bob@dqn.example.gov", groups=["qkd-staff"], acr="urn:qgov:test:password",
                                amr=["pwd"])

    browser = Browser()

    url, status, body = browser.sign_in_at_provider(f"{live_server.url}/login/sso/DQN/", "bob")

    assert status == 403 and "Your agency requires a stronger sign-in at its identity provider." in body
    # Sent back once, asking for the class again; the provider's answer still falls short.
    assert [request["acr_values"] for request in browser.authorize_requests(openid_provider.issuer)] == [[PHR], [PHR]]
    assert len(browser.callbacks(live_server)) == 2
    assert (User.objects.count(), ExternalIdentity.objects.count()) == (0, 0)


def test_a_phishing_resistant_sign_in_is_recorded_as_such(openid_provider, dqn, live_server):
    dqn.required_acr = PHR
    dqn.save()
    openid_provider.set_account("carol", email="carol@dqn.example.gov", groups=["qkd-staff"], acr=PHR,
                                amr=["hwk", "user"])
    browser = Browser()

    url, status, _ = browser.sign_in_at_provider(f"{live_server.url}/login/sso/DQN/", "carol")

    assert status == 200
    assert [request["acr_values"] for request in browser.authorize_requests(openid_provider.issuer)] == [[PHR]]
    assert browser.session()[SIGN_IN_KEY] == {"method": "provider", "phishing_resistant": True, "mfa": ""}
