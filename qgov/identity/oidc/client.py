"""Talking to an OpenID provider: its discovery document and JWKS (cached), and the token request.
Every request goes over urllib3 with TLS verification, timeouts, no redirects and a size limit, and
only to https URLs (plain http only on the loopback address when QGOV_OIDC_ALLOW_HTTP_LOOPBACK is set,
for test providers)."""

import hashlib
import json
import logging
from urllib.parse import quote, urlsplit

import urllib3
from django.conf import settings
from django.core.cache import cache

from qgov.identity.providers.models import LOOPBACK_HOSTS

logger = logging.getLogger(__name__)

MAX_RESPONSE_BYTES = 1024 * 1024
_pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED", retries=False)


class ProviderError(Exception):
    """The provider could not be reached or answered something unusable. The message is for logs and
    says nothing secret; `reason` is a short code."""

    def __init__(self, message: str, *, reason: str = "provider_error"):
        super().__init__(message)
        self.reason = reason


def check_url(url: str) -> str:
    parts = urlsplit(url or "")
    loopback_http = (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
                     and settings.QGOV_OIDC_ALLOW_HTTP_LOOPBACK)
    if not parts.hostname or (parts.scheme != "https" and not loopback_http):
        raise ProviderError(f"Refusing a provider URL that is not https: {url!r}", reason="insecure_url")
    return url


def _request_json(method: str, url: str, **kwargs) -> tuple[int, dict]:
    timeout = urllib3.Timeout(connect=settings.QGOV_OIDC_HTTP_TIMEOUT_SECONDS,
                              read=settings.QGOV_OIDC_HTTP_TIMEOUT_SECONDS)
    try:
        response = _pool.request(method, check_url(url), timeout=timeout, redirect=False, preload_content=False,
                                 **kwargs)
        try:
            body = response.read(MAX_RESPONSE_BYTES + 1)
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as error:
        raise ProviderError(f"{method} {url} failed: {type(error).__name__}", reason="unreachable") from error
    if len(body) > MAX_RESPONSE_BYTES:
        raise ProviderError(f"{method} {url}: the answer is larger than {MAX_RESPONSE_BYTES} bytes")
    try:
        data = json.loads(body)
    except ValueError as error:
        raise ProviderError(f"{method} {url} answered {response.status} without JSON") from error
    if not isinstance(data, dict):
        raise ProviderError(f"{method} {url} answered {response.status} with JSON that is not an object")
    return response.status, data


def _cache_key(kind: str, *parts: str) -> str:
    return f"qgov:oidc:{kind}:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


def discover(issuer: str, *, refresh: bool = False) -> dict:
    """The provider's discovery document, checked: its issuer is the registered one, and its endpoints
    are https."""
    key = _cache_key("discovery", issuer)
    metadata = None if refresh else cache.get(key)
    if metadata is None:
        status, metadata = _request_json("GET", issuer.rstrip("/") + "/.well-known/openid-configuration")
        if status != 200:
            raise ProviderError(f"discovery of {issuer} answered {status}")
        if metadata.get("issuer") != issuer:
            raise ProviderError(f"discovery of {issuer} names another issuer", reason="issuer_mismatch")
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(metadata.get(name), str):
                raise ProviderError(f"discovery of {issuer} has no {name}")
            check_url(metadata[name])
        cache.set(key, metadata, settings.QGOV_OIDC_CACHE_SECONDS)
    return metadata


def jwks(metadata: dict, *, refresh: bool = False) -> dict:
    """The provider's signing keys (a JWKS document); `refresh` fetches them again (a new `kid`)."""
    key = _cache_key("jwks", metadata["issuer"], metadata["jwks_uri"])
    document = None if refresh else cache.get(key)
    if document is None:
        status, document = _request_json("GET", metadata["jwks_uri"])
        if status != 200 or not isinstance(document.get("keys"), list):
            raise ProviderError(f"the JWKS of {metadata['issuer']} answered {status} without keys")
        cache.set(key, document, settings.QGOV_OIDC_CACHE_SECONDS)
    return document


def exchange_code(metadata: dict, *, client_id: str, client_secret: str, code: str, redirect_uri: str,
                  code_verifier: str) -> dict:
    """The token endpoint's answer to the authorization code (with the PKCE verifier). The client
    authenticates as the provider supports: client_secret_basic by preference, else client_secret_post."""
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
              "code_verifier": code_verifier}
    headers = {"Accept": "application/json"}
    supported = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if "client_secret_basic" in supported:
        # RFC 6749 §2.3.1: both parts form-encoded before the Basic scheme.
        credentials = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
        headers.update(urllib3.make_headers(basic_auth=credentials))
    elif "client_secret_post" in supported:
        fields.update(client_id=client_id, client_secret=client_secret)
    else:
        raise ProviderError("the provider supports neither client_secret_basic nor client_secret_post",
                            reason="unsupported_client_auth")
    status, answer = _request_json("POST", metadata["token_endpoint"], fields=fields, headers=headers,
                                   encode_multipart=False)
    if status != 200:
        error = answer.get("error") if isinstance(answer.get("error"), str) else "unknown"
        raise ProviderError(f"the token endpoint answered {status} ({error[:100]})", reason="token_error")
    if not isinstance(answer.get("id_token"), str):
        raise ProviderError("the token endpoint answered without an ID token", reason="token_error")
    return answer
