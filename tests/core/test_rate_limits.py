"""qgov.ratelimit: fixed-window request counters per key in the cache, for pages reached without
signing in."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from qgov import ratelimit

LIMITS = {"token": ratelimit.Limit(2, 60), "ip": ratelimit.Limit(3, 600)}


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_requests_up_to_the_limit_pass_and_the_next_is_refused():
    for _ in range(2):
        ratelimit.hit("link", {"token": "t1"}, LIMITS)
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.hit("link", {"token": "t1"}, LIMITS)
    assert refused.value.retry_after == 60


def test_keys_and_scopes_count_apart():
    for _ in range(2):
        ratelimit.hit("link", {"token": "t1"}, LIMITS)
    ratelimit.hit("link", {"token": "t2"}, LIMITS)
    ratelimit.hit("other", {"token": "t1"}, LIMITS)


def test_every_key_of_a_request_is_counted_and_the_longest_window_is_told():
    ratelimit.hit("link", {"token": "a", "ip": "192.0.2.1"}, LIMITS)
    ratelimit.hit("link", {"token": "b", "ip": "192.0.2.1"}, LIMITS)
    ratelimit.hit("link", {"token": "c", "ip": "192.0.2.1"}, LIMITS)
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.hit("link", {"token": "d", "ip": "192.0.2.1"}, LIMITS)
    assert refused.value.retry_after == 600


def test_the_key_is_never_stored_as_given():
    # Works on any cache backend (locmem locally, Redis in CI): the counter lives under the hashed
    # key, and that key does not contain the token.
    ratelimit.hit("link", {"token": "secret-token"}, LIMITS)
    stored_under = ratelimit._cache_key("link", "token", "secret-token")
    assert cache.get(stored_under) == 1
    assert "secret-token" not in stored_under


def test_client_ip_is_the_servers_remote_addr_not_a_forwarded_header():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert ratelimit.client_ip(request) == "203.0.113.9"
