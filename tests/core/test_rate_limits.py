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


START = 1_800_000_000.0  # the clock of the first request


def test_requests_up_to_the_limit_pass_and_the_next_is_refused_until_the_window_ends():
    for _ in range(2):
        ratelimit.hit("link", {"token": "t1"}, LIMITS, now=START)
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.hit("link", {"token": "t1"}, LIMITS, now=START + 20.5)
    assert refused.value.retry_after == 40  # the seconds left in the window, rounded up
    with pytest.raises(ratelimit.RateLimited) as later:
        ratelimit.hit("link", {"token": "t1"}, LIMITS, now=START + 59.5)
    assert later.value.retry_after == 1


def test_keys_and_scopes_count_apart():
    for _ in range(2):
        ratelimit.hit("link", {"token": "t1"}, LIMITS)
    ratelimit.hit("link", {"token": "t2"}, LIMITS)
    ratelimit.hit("other", {"token": "t1"}, LIMITS)


def test_every_key_of_a_request_is_counted_and_the_latest_end_is_told():
    for token in "abc":
        ratelimit.hit("link", {"token": token, "ip": "192.0.2.1"}, LIMITS, now=START)
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.hit("link", {"token": "d", "ip": "192.0.2.1"}, LIMITS, now=START)
    assert refused.value.retry_after == 600
    for second in (1, 2):  # token "a" is counted though refused: its third request is over its own limit
        with pytest.raises(ratelimit.RateLimited) as both:
            ratelimit.hit("link", {"token": "a", "ip": "192.0.2.1"}, LIMITS, now=START + second)
    assert both.value.retry_after == 598  # the token's window ends sooner: the address's is told
    assert cache.get(ratelimit._cache_key("link", "token", "a")) == 3


def test_the_key_is_never_stored_as_given():
    # Works on any cache backend (locmem locally, Redis in CI): the counter lives under the hashed
    # key, and that key does not contain the token.
    ratelimit.hit("link", {"token": "secret-token"}, LIMITS, now=START)
    stored_under = ratelimit._cache_key("link", "token", "secret-token")
    assert cache.get(stored_under) == 1
    assert "secret-token" not in stored_under


def test_client_ip_is_the_servers_remote_addr_not_a_forwarded_header():
    request = RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert ratelimit.client_ip(request) == "203.0.113.9"
