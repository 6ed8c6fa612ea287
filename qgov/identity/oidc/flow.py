"""The authorization request (code flow, PKCE S256, state, nonce) and what the session keeps of it.
Each request gets its own random state, nonce and PKCE verifier, kept in the session under the state,
bound to the provider, and taken out (single use) by the callback."""

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from qgov.identity import sso
from qgov.identity.sso import REAUTH, SIGN_IN

PENDING_KEY = "qgov_oidc_pending"
SCOPES = "openid email profile"



@dataclass
class Pending:
    provider: int
    agency_code: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    next_url: str
    purpose: str = SIGN_IN
    max_age: int | None = None
    started: float = 0.0
    stepped_up: bool = False  # already sent back once for a stronger or fresher authentication
    user: int | None = None  # reauth: the signed-in user it is for


def callback_uri(request, agency_code: str) -> str:
    return request.build_absolute_uri(reverse("login_sso_callback", args=[agency_code]))


def authorization_url(request, provider, metadata: dict, *, next_url: str, purpose: str = SIGN_IN,
                      max_age: int | None = None, acr_values: str = "", prompt: str = "",
                      stepped_up: bool = False) -> str:
    """Where to send the browser; the session keeps what the callback needs to check the answer."""
    if max_age is None:
        max_age = provider.max_auth_age
    acr_values = acr_values or provider.required_acr
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    pending = Pending(provider=provider.pk, agency_code=provider.agency.code, nonce=nonce, code_verifier=verifier,
                      redirect_uri=callback_uri(request, provider.agency.code), next_url=next_url, purpose=purpose,
                      max_age=max_age, started=time.time(), stepped_up=stepped_up,
                      user=request.user.pk if purpose == REAUTH else None)
    sso.keep(request, state, pending, session_key=PENDING_KEY)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {"response_type": "code", "client_id": provider.client_id, "redirect_uri": pending.redirect_uri,
              "scope": SCOPES, "state": state, "nonce": nonce, "code_challenge": challenge,
              "code_challenge_method": "S256"}
    if max_age is not None:
        params["max_age"] = str(max_age)
    if acr_values:
        params["acr_values"] = acr_values
    if prompt:
        params["prompt"] = prompt
    endpoint = metadata["authorization_endpoint"]
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"


def take(request, state: str) -> Pending | None:
    """The code flow this state was issued for, taken out of the session (single use)."""
    return sso.take(request, state, session_key=PENDING_KEY, kind=Pending)
