"""qgov.stack: on CPython 3.11, calls that cross a data-stack chunk boundary map and unmap a chunk
each time (a page fault per call); inside call_in_large_stack_chunk they do not, at any depth. The
WSGI application serves every request that way."""

import resource

import pytest
from django.test import RequestFactory

from qgov import stack, wsgi

CALLS = 2000


def leaf(value):
    return value + 1


def hot_loop_at_depth(depth):
    """CALLS calls of `leaf` made `depth` frames down: the minor page faults they cost."""
    if depth:
        return hot_loop_at_depth(depth - 1)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    total = 0
    for number in range(CALLS):
        total = leaf(total + number)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def worst_faults(run):
    return max(run(depth) for depth in range(400))


@pytest.mark.skipif(not stack.THRASHING_PYTHON, reason="this Python caches a data-stack chunk itself")
def test_a_boundary_crossed_in_a_loop_thrashes_without_the_large_chunk_and_not_with_it():
    assert worst_faults(hot_loop_at_depth) >= CALLS  # somewhere, each call maps a chunk
    assert worst_faults(lambda depth: stack.call_in_large_stack_chunk(hot_loop_at_depth, depth)) < 50


def test_the_large_chunk_call_passes_arguments_and_results_through():
    assert stack.call_in_large_stack_chunk(lambda a, b=0, *, c: (a, b, c), 1, c=3) == (1, 0, 3)
    with pytest.raises(ZeroDivisionError):
        stack.call_in_large_stack_chunk(lambda: 1 / 0)


# Transactional: Django's real handler closes a connection found inside a transaction at the end of a
# request (the test client switches that off; this test goes through the real WSGI entry point).
@pytest.mark.django_db(transaction=True)
def test_the_wsgi_application_serves_requests_in_a_large_chunk():
    environ = RequestFactory().get("/login/").environ
    statuses = []
    body = b"".join(wsgi.application(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert statuses == ["200 OK"] and b'name="password"' in body
    if stack.THRASHING_PYTHON:
        assert wsgi.call_in_large_stack_chunk.__code__.co_stacksize > stack.RESERVED_SLOTS
