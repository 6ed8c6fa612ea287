"""Rate limits for pages anyone may reach without signing in (one-time links) and for API tokens
(qgov.api.throttling), and the one reading of the client's address: at most `limit`
requests per `window` seconds for each key (a token, a client address), counted in Django's
cache. Failed sign-ins are limited by qgov.identity.lockout instead (each password check takes a
slot in the database before it runs); this counts every request, good or bad, which a link needs.

The counters live in the default cache: with several web processes, point `CACHE_URL` at a
shared cache (Redis), or each process counts on its own. docs/rate-limits.md says more.
"""

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Limit:
    limit: int  # requests allowed per window
    window: int  # seconds


class RateLimited(Exception):
    """Too many requests for one of the keys; `retry_after` is in seconds."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(_("Too many requests. Try again in a few minutes."))


def _cache_key(scope: str, kind: str, value: str) -> str:
    # Hashed: a key may be a secret (a link's token) and must fit any cache's key rules.
    digest = hashlib.sha256(f"{scope}\x00{kind}\x00{value}".encode()).hexdigest()
    return f"qgov:ratelimit:{digest}"


def hit(scope: str, keys: dict[str, str], limits: dict[str, Limit], *, now: float | None = None) -> None:
    """Count one request against each of `keys` ({kind: value}, e.g. {"ip": "192.0.2.1",
    "token": "…"}) under the limit of its kind; raise RateLimited when any is over, with the
    seconds until the latest of the full windows ends. Every key is counted even when one is over,
    so a flood from one address also uses up the token's count. A key's window starts at its first
    request; its end is kept beside the counter, so the time left is told on any cache backend."""
    now = time.time() if now is None else now
    waits = []
    for kind, value in keys.items():
        rule = limits[kind]
        key = _cache_key(scope, kind, value)
        # add() starts the window only when the counter does not exist yet (fixed windows).
        if cache.add(key, 0, timeout=rule.window):
            cache.set(f"{key}:ends", now + rule.window, timeout=rule.window)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=rule.window)
            cache.set(f"{key}:ends", now + rule.window, timeout=rule.window)
            count = 1
        if count > rule.limit:
            ends = cache.get(f"{key}:ends")
            waits.append(max(1, math.ceil(ends - now)) if ends is not None else rule.window)
    if waits:
        raise RateLimited(retry_after=max(waits))


def client_ip(request) -> str:
    """The client's address: the one place qgov reads it (rate limits, token address limits,
    sign-in lockouts).

    With QGOV_TRUSTED_PROXIES = N > 0 reverse proxies in front, each appending the address it was
    reached from to X-Forwarded-For, the client is the Nth entry from the right; entries further
    left were written by the client and prove nothing. With N = 0 (the default) it is REMOTE_ADDR:
    a client-supplied X-Forwarded-For is not trusted, or anyone could pick a fresh address for each
    request. "" when the server handed over no address (test clients' forced sign-ins): one shared
    rate-limit key, and outside every token's allowed networks."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.QGOV_TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [entry.strip() for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if len(forwarded) < proxies:
        return remote  # the request did not come through every proxy
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def parse_limit(value: str) -> Limit | None:
    """"600/60" (requests per seconds) as a Limit; empty: None (no limit)."""
    if not value:
        return None
    requests, _slash, seconds = value.partition("/")
    return Limit(limit=int(requests), window=int(seconds or 60))
