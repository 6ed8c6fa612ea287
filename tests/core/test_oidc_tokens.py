"""The ID token checks of provider sign-in (qgov.identity.oidc.tokens) with tokens signed here, and
the callback refusing them with nothing changed. The callback talks to a small provider served from a
thread of this process on 127.0.0.1 (discovery, JWKS, token endpoint answering the token the test
chose); the full flow against a real provider is tests/integration/test_oidc_sign_in.py."""

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from qgov.identity.oidc.tokens import TokenRefused, is_phishing_resistant, verify_id_token
from qgov.identity.reauth import AUTH_TIME_KEY
from qgov.models import AuditEvent, ExternalIdentity, Membership
from tests.core.test_identity_providers import make_provider

User = get_user_model()
ISSUER = "https://login.dqn.example.gov"
CLIENT_ID = "qgov"
NONCE = "n-0S6_WzA2Mj"
RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
EC = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
ATTACKER = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
JWKS = {"keys": [RSA.as_dict(private=False), EC.as_dict(private=False)]}


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(**changes):
    now = int(time.time())
    values = {"iss": ISSUER, "sub": "alice", "aud": CLIENT_ID, "exp": now + 300, "iat": now, "nonce": NONCE,
              "auth_time": now - 5, "email": "alice@dqn.example.gov", "groups": ["qkd-staff"], **changes}
    return {name: value for name, value in values.items() if value is not None}


def sign(payload, *, key=RSA, alg="RS256", kid="rsa-1") -> str:
    return jwt.encode({"alg": alg, "kid": kid}, payload, key, algorithms=[alg])


def unsigned(payload) -> str:
    return f"{b64({'alg': 'none', 'kid': 'rsa-1'})}.{b64(payload)}."


def verify(token, *, keys=None, max_age=None, issuer=ISSUER):
    return verify_id_token(token, issuer=issuer, client_id=CLIENT_ID, nonce=NONCE, max_age=max_age,
                           keys=keys or (lambda refresh: JWKS))


def test_a_token_signed_by_the_provider_passes_with_each_allowed_algorithm():
    assert verify(sign(claims()))["sub"] == "alice"
    assert verify(sign(claims(), alg="PS256"))["sub"] == "alice"
    assert verify(sign(claims(), key=EC, alg="ES256", kid="ec-1"))["sub"] == "alice"


@pytest.mark.parametrize(("make_token", "reason"), [
    (lambda: sign(claims(nonce="tampered")), "nonce"),
    (lambda: sign(claims(nonce=None)), "nonce"),
    (lambda: sign(claims(aud="another-client")), "audience"),
    (lambda: sign(claims(aud=["another-client", "third"])), "audience"),
    (lambda: sign(claims(aud=[CLIENT_ID, "another-client"])), "authorized_party"),  # several audiences, no azp
    (lambda: sign(claims(azp="another-client")), "authorized_party"),
    (lambda: sign(claims(iss="https://login.mot.example.gov")), "issuer"),
    (lambda: sign(claims(exp=int(time.time()) - 120)), "expired"),
    (lambda: sign(claims(exp=None)), "expired"),
    (lambda: sign(claims(iat=int(time.time()) + 600)), "issued_at"),
    (lambda: sign(claims(sub=None)), "subject"),
    (lambda: sign(claims(), key=ATTACKER), "signature"),
    (lambda: sign(claims())[:-8] + "AAAAAAAA", "signature"),
    (lambda: unsigned(claims()), "algorithm"),
    (lambda: sign(claims(), alg="RS512"), "algorithm"),
    (lambda: "not.a-token", "malformed"),
], ids=["nonce", "no-nonce", "audience", "audiences", "azp-missing", "azp-other", "issuer", "expired", "no-exp",
        "future-iat", "no-sub", "other-key", "tampered-signature", "alg-none", "alg-not-allowed", "malformed"])
def test_a_token_failing_a_check_is_refused(make_token, reason):
    # Made when the test runs, not when it is collected: a token made minutes earlier would have expired.
    with pytest.raises(TokenRefused) as refused:
        verify(make_token())
    assert refused.value.reason == reason


def test_hs256_signed_with_the_providers_public_key_is_refused():
    """The classic confusion: the public key, which anyone has, used as an HMAC secret (made by hand:
    joserfc itself refuses to sign so)."""
    signing_input = f"{b64({'alg': 'HS256', 'kid': 'rsa-1'})}.{b64(claims())}"
    mac = hmac.new(RSA.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    with pytest.raises(TokenRefused) as refused:
        verify(token)
    assert refused.value.reason == "algorithm"


def test_several_audiences_pass_when_qgov_is_the_authorized_party():
    assert verify(sign(claims(aud=[CLIENT_ID, "api"], azp=CLIENT_ID)))["aud"] == [CLIENT_ID, "api"]


def test_an_unknown_key_id_fetches_the_keys_once_more():
    rotated = RSAKey.generate_key(2048, parameters={"kid": "rsa-2"})
    asked = []

    def keys(refresh):
        asked.append(refresh)
        return {"keys": [*JWKS["keys"], rotated.as_dict(private=False)]} if refresh else JWKS

    assert verify(sign(claims(), key=rotated, kid="rsa-2"), keys=keys)["sub"] == "alice"
    assert asked == [False, True]
    asked.clear()
    with pytest.raises(TokenRefused) as refused:
        verify(sign(claims(), key=rotated, kid="rsa-3"), keys=keys)
    assert (refused.value.reason, asked) == ("unknown_key", [False, True])


def test_max_age_needs_a_recent_auth_time():
    now = int(time.time())
    assert verify(sign(claims(auth_time=now - 100)), max_age=300)["auth_time"] == now - 100
    for stale in (claims(auth_time=now - 400), claims(auth_time=None)):
        with pytest.raises(TokenRefused) as refused:
            verify(sign(stale), max_age=300)
        assert refused.value.reason == "auth_time"


@pytest.mark.parametrize(("token_claims", "required_acr", "expected"), [
    ({"amr": ["pwd", "hwk"]}, "", True),
    ({"amr": ["phr"]}, "", True),
    ({"amr": ["phrh"]}, "", True),
    ({"amr": ["pwd", "otp", "mfa"]}, "", False),
    ({"acr": "urn:dqn:phr"}, "urn:dqn:phr", True),
    ({"acr": "urn:dqn:phr"}, "", False),
    ({"acr": "urn:dqn:password"}, "urn:dqn:phr", False),
    ({"amr": "hwk"}, "", False),  # amr is a list
])
def test_phishing_resistance_comes_from_amr_or_the_required_acr(token_claims, required_acr, expected):
    assert is_phishing_resistant(token_claims, required_acr) is expected


# --- the callback, against a provider served from this process ---------------------------------


class FakeProvider(ThreadingHTTPServer):
    """Discovery, JWKS and a token endpoint that answers `next_token`; `token_requests` keeps what it got."""

    def __init__(self, auth_methods):
        super().__init__(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server_address[1]}"
        self.auth_methods, self.next_token, self.token_requests = auth_methods, None, []


class Handler(BaseHTTPRequestHandler):
    def answer(self, body: dict, status=200):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        issuer = self.server.issuer
        if self.path == "/.well-known/openid-configuration":
            self.answer({"issuer": issuer, "authorization_endpoint": f"{issuer}/auth",
                         "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/jwks",
                         "token_endpoint_auth_methods_supported": self.server.auth_methods})
        elif self.path == "/jwks":
            self.answer(JWKS)
        else:
            self.answer({}, 404)

    def do_POST(self):  # noqa: N802
        fields = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.server.token_requests.append({"fields": fields, "authorization": self.headers.get("Authorization")})
        self.answer({"access_token": "at", "token_type": "Bearer", "id_token": self.server.next_token})

    def log_message(self, *args):
        pass


@pytest.fixture(params=[["client_secret_basic", "client_secret_post"]])
def fake_provider(request):
    server = FakeProvider(request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def provider(agency, fake_provider, settings):
    settings.QGOV_OIDC_ALLOW_HTTP_LOOPBACK = True
    return make_provider(agency, issuer=fake_provider.issuer, client_id=CLIENT_ID, jit_provisioning=True,
                         role_mappings=[{"claim_value": "qkd-staff", "role": "viewer"}])


def start(client, path="/login/sso/DQN/"):
    """(state, nonce, the authorization request's parameters) of a sign-in started at `path`."""
    response = client.get(path)
    assert response.status_code == 302, response.content
    params = {name: values[0] for name, values in parse_qs(urlsplit(response["Location"]).query).items()}
    return params["state"], params["nonce"], params


def state_of_everything():
    return (User.objects.count(), ExternalIdentity.objects.count(), Membership.objects.count(),
            AuditEvent.objects.count())


def test_the_callback_signs_in_with_a_good_token(client, provider, fake_provider, caplog):
    state, nonce, params = start(client)
    fake_provider.next_token = token = sign(claims(iss=fake_provider.issuer, nonce=nonce))

    response = client.get(f"/login/sso/DQN/callback/?code=the-code&state={state}")

    assert (response.status_code, response["Location"]) == (302, "/")
    assert int(client.session["_auth_user_id"]) == ExternalIdentity.objects.get(provider=provider).user_id
    [token_request] = fake_provider.token_requests
    assert token_request["fields"]["code_verifier"][0] and "client_secret" not in token_request["fields"]
    assert token_request["authorization"] == "Basic " + base64.b64encode(
        f"{CLIENT_ID}:{provider.client_secret}".encode()).decode()
    assert (params["code_challenge_method"], len(params["code_challenge"])) == ("S256", 43)
    assert token not in caplog.text and "the-code" not in caplog.text


@pytest.mark.parametrize("fake_provider", [["client_secret_post"]], indirect=True)
def test_the_client_authenticates_in_the_body_when_the_provider_supports_only_that(client, provider, fake_provider):
    state, nonce, _ = start(client)
    fake_provider.next_token = sign(claims(iss=fake_provider.issuer, nonce=nonce))

    assert client.get(f"/login/sso/DQN/callback/?code=c&state={state}").status_code == 302
    [token_request] = fake_provider.token_requests
    assert (token_request["authorization"], token_request["fields"]["client_id"],
            token_request["fields"]["client_secret"]) == (None, [CLIENT_ID], [provider.client_secret])


@pytest.mark.parametrize("tamper", ["nonce", "audience", "issuer", "expired", "signature", "alg_none"])
def test_the_callback_refuses_a_bad_token_with_nothing_changed(client, provider, fake_provider, tamper, caplog):
    state, nonce, _ = start(client)
    good = claims(iss=fake_provider.issuer, nonce=nonce)
    fake_provider.next_token = {
        "nonce": sign({**good, "nonce": nonce + "x"}),
        "audience": sign({**good, "aud": "another-client"}),
        "issuer": sign({**good, "iss": "https://login.mot.example.gov"}),
        "expired": sign({**good, "exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}),
        "signature": sign(good, key=ATTACKER),
        "alg_none": unsigned(good),
    }[tamper]
    before = state_of_everything()

    response = client.get(f"/login/sso/DQN/callback/?code=c&state={state}")

    assert response.status_code == 403
    assert "could not be verified, so you are not signed in" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert state_of_everything() == before
    assert fake_provider.next_token not in caplog.text
    # The state was used up: the same callback again is refused before any token is fetched.
    assert client.get(f"/login/sso/DQN/callback/?code=c&state={state}").status_code == 400
    assert len(fake_provider.token_requests) == 1


def test_a_state_issued_for_one_agency_is_refused_at_anothers_callback(client, provider, fake_provider,
                                                                      other_agency):
    make_provider(other_agency, issuer=fake_provider.issuer, client_id=CLIENT_ID)
    state, nonce, _ = start(client)
    fake_provider.next_token = sign(claims(iss=fake_provider.issuer, nonce=nonce))

    assert client.get(f"/login/sso/MOT/callback/?code=c&state={state}").status_code == 400
    assert (fake_provider.token_requests, "_auth_user_id" in client.session) == ([], False)


def test_reauthentication_refuses_an_auth_time_older_than_its_start(client, provider, fake_provider):
    state, nonce, _ = start(client)
    signed_in_at = int(time.time()) - 30
    fake_provider.next_token = sign(claims(iss=fake_provider.issuer, nonce=nonce, auth_time=signed_in_at))
    assert client.get(f"/login/sso/DQN/callback/?code=c&state={state}").status_code == 302
    assert client.session[AUTH_TIME_KEY] == signed_in_at

    state, nonce, params = start(client, "/account/reauth/?next=/due/")
    assert (params["max_age"], params["prompt"]) == ("0", "login")
    # The provider answers with the old authentication (it did not ask again).
    fake_provider.next_token = sign(claims(iss=fake_provider.issuer, nonce=nonce, auth_time=int(time.time()) - 2))
    refused = client.get(f"/login/sso/DQN/callback/?code=c&state={state}")
    assert refused.status_code == 403 and "did not ask you to sign in again" in refused.content.decode()
    assert client.session[AUTH_TIME_KEY] == signed_in_at

    time.sleep(1.01)
    state, nonce, _ = start(client, "/account/reauth/?next=/due/")
    fresh = int(time.time())
    fake_provider.next_token = sign(claims(iss=fake_provider.issuer, nonce=nonce, auth_time=fresh))
    response = client.get(f"/login/sso/DQN/callback/?code=c&state={state}")
    assert (response.status_code, response["Location"], client.session[AUTH_TIME_KEY]) == (302, "/due/", fresh)


def test_reauthentication_as_another_person_is_refused(client, provider, fake_provider):
    state, nonce, _ = start(client)
    fake_provider.next_token = sign(claims(iss=fake_provider.issuer, nonce=nonce))
    client.get(f"/login/sso/DQN/callback/?code=c&state={state}")
    auth_time = client.session[AUTH_TIME_KEY]

    state, nonce, _ = start(client, "/account/reauth/?next=/due/")
    fake_provider.next_token = sign(claims(iss=fake_provider.issuer, nonce=nonce, sub="mallory",
                                           auth_time=int(time.time()) + 1))
    response = client.get(f"/login/sso/DQN/callback/?code=c&state={state}")

    assert response.status_code == 403 and "as someone else" in response.content.decode()
    assert client.session[AUTH_TIME_KEY] == auth_time


def test_an_unknown_agency_and_an_agency_without_a_provider_answer_alike(client, agency, other_agency):
    unknown, without = client.get("/login/sso/ZZZ/"), client.get("/login/sso/MOT/")

    assert (unknown.status_code, without.status_code) == (404, 404)
    assert "There is no sign-in through an agency&#x27;s identity provider for “ZZZ”" in unknown.content.decode()
    assert unknown.content.decode().replace("ZZZ", "MOT") == without.content.decode()


def test_an_answer_naming_another_issuer_is_refused_before_the_code_is_used(client, provider, fake_provider):
    state, nonce, _ = start(client)
    fake_provider.next_token = sign(claims(iss=fake_provider.issuer, nonce=nonce))

    response = client.get(f"/login/sso/DQN/callback/?code=c&state={state}&iss=https://evil.example.org")

    assert (response.status_code, fake_provider.token_requests, "_auth_user_id" in client.session) == (403, [], False)


def test_an_unknown_state_leaves_the_session_alone(client, provider, fake_provider):
    state, _, _ = start(client)

    assert client.get("/login/sso/DQN/callback/?code=c&state=guessed").status_code == 400
    assert list(client.session["qgov_oidc_pending"]) == [state]


def test_an_http_provider_is_refused_without_the_loopback_setting(client, provider, fake_provider, settings):
    settings.QGOV_OIDC_ALLOW_HTTP_LOOPBACK = False
    cache.clear()
    response = client.get("/login/sso/DQN/")

    assert response.status_code == 502 and "cannot be reached just now" in response.content.decode()
    assert "qgov_oidc_pending" not in client.session


@pytest.mark.parametrize("wanted", ["https://evil.example.org/", "//evil.example.org/", "/due/"])
def test_only_a_local_next_is_followed_after_sign_in(client, provider, fake_provider, wanted):
    state, nonce, _ = start(client, f"/login/sso/DQN/?next={wanted}")
    fake_provider.next_token = sign(claims(iss=fake_provider.issuer, nonce=nonce))

    response = client.get(f"/login/sso/DQN/callback/?code=c&state={state}")

    assert response["Location"] == ("/due/" if wanted == "/due/" else "/")
