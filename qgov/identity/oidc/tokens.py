"""The checks an ID token passes before qgov believes it (OpenID Connect Core §3.1.3.7): a signature by
one of the provider's keys with an allowed algorithm, the registered issuer, qgov's client ID as
audience, unexpired, the nonce qgov sent, and a recent enough auth_time when max_age was sent."""

import hmac
import time
from collections.abc import Callable

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

# Asymmetric only: "none" and HS* (which a public key would "verify") are never accepted.
ALLOWED_ALGORITHMS = ("RS256", "ES256", "PS256")
KEY_TYPES = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC"}
LEEWAY_SECONDS = 60  # clock difference tolerated between qgov and the provider

PHISHING_RESISTANT_AMR = frozenset({"hwk", "phr", "phrh"})


class TokenRefused(Exception):
    """The ID token fails a check; `reason` is a short code for the logs (never the token)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def _signing_key(key_set_document: dict, kid, alg: str):
    """The one key of the set that may have signed the token, or None."""
    candidates = []
    for entry in key_set_document.get("keys", []):
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or entry.get("kty") != KEY_TYPES[alg]:
            continue
        if entry.get("alg") not in (None, alg) or (kid is not None and entry.get("kid") != kid):
            continue
        candidates.append(entry)
    if len(candidates) != 1:
        return None
    try:
        return KeySet.import_key_set({"keys": candidates}).keys[0]
    except (JoseError, ValueError, TypeError):
        return None


def verify_id_token(id_token: str, *, issuer: str, client_id: str, nonce: str, keys: Callable[[bool], dict],
                    max_age: int | None = None, now: float | None = None) -> dict:
    """The token's claims when every check passes, else TokenRefused. `keys(refresh)` answers the
    provider's JWKS; it is asked once more, with refresh, for a key it does not have (rotation)."""
    now = time.time() if now is None else now
    try:
        header = jws.extract_compact(id_token.encode("ascii")).protected
    except (JoseError, ValueError, TypeError, UnicodeError) as error:
        raise TokenRefused("malformed", type(error).__name__) from error
    alg, kid = header.get("alg"), header.get("kid")
    if alg not in ALLOWED_ALGORITHMS:
        raise TokenRefused("algorithm", str(alg)[:20])
    key = _signing_key(keys(False), kid, alg) or _signing_key(keys(True), kid, alg)
    if key is None:
        raise TokenRefused("unknown_key", str(kid)[:100])
    try:
        claims = jwt.decode(id_token, key, algorithms=[alg]).claims
    except JoseError as error:
        raise TokenRefused("signature", type(error).__name__) from error
    _check_claims(claims, issuer=issuer, client_id=client_id, nonce=nonce, max_age=max_age, now=now)
    return claims


def _number(claims: dict, name: str):
    value = claims.get(name)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _check_claims(claims: dict, *, issuer, client_id, nonce, max_age, now) -> None:
    if claims.get("iss") != issuer:
        raise TokenRefused("issuer")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    if client_id not in audiences:
        raise TokenRefused("audience")
    if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != client_id:
        raise TokenRefused("authorized_party")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not 0 < len(subject) <= 255:
        raise TokenRefused("subject")
    expires, issued = _number(claims, "exp"), _number(claims, "iat")
    if expires is None or now > expires + LEEWAY_SECONDS:
        raise TokenRefused("expired")
    if issued is None or issued > now + LEEWAY_SECONDS:
        raise TokenRefused("issued_at")
    token_nonce = claims.get("nonce")
    if not isinstance(token_nonce, str) or not hmac.compare_digest(token_nonce.encode(), nonce.encode()):
        raise TokenRefused("nonce")
    auth_time = _number(claims, "auth_time")
    if "auth_time" in claims and (auth_time is None or auth_time > now + LEEWAY_SECONDS):
        raise TokenRefused("auth_time")
    if max_age is not None and (auth_time is None or now - auth_time > max_age + LEEWAY_SECONDS):
        raise TokenRefused("auth_time")


def is_phishing_resistant(claims: dict, required_acr: str = "") -> bool:
    """Whether the provider says the person authenticated with phishing-resistant MFA: an `amr` of
    hardware key or phishing-resistant (RFC 8176, and the "phr"/"phrh" values in use), or the agency's
    required acr (which it sets to its phishing-resistant class)."""
    amr = claims.get("amr")
    if isinstance(amr, list) and PHISHING_RESISTANT_AMR.intersection(v for v in amr if isinstance(v, str)):
        return True
    return bool(required_acr) and claims.get("acr") == required_acr
