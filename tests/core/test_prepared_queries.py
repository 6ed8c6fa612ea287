"""PreparedQuery (qgov.prepared): a queryset compiled once, run with new values, gives what the
queryset itself gives — instances, related rows, annotations and converted values alike — and
refuses a value that is not one parameter of the SQL."""

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F
from django.utils import timezone

from qgov.models import ApiToken, Membership
from qgov.prepared import PreparedQuery

pytestmark = pytest.mark.django_db


def tokens_with_agencies(key_hash):
    return (ApiToken.objects.select_related("user").filter(key_hash=key_hash)
            .annotate(agency_ref=F("agencies__id")).order_by("agencies__id"))


token_rows = PreparedQuery(tokens_with_agencies, key_hash="\x00test sentinel\x00")


def make_token(user, name, agencies=()):
    token = ApiToken(user=user, name=name, expires=timezone.now() + dt.timedelta(days=3))
    token.set_key(ApiToken.generate_key())
    token.save()
    token.agencies.set(agencies)
    return token


def snapshot(rows):
    return [(row.pk, row.key_hash, row.expires, row.revoked_at, row.scopes, row.agency_ref,
             row.user.pk, row.user.username, row.user.is_active) for row in rows]


def test_the_rows_are_those_of_the_queryset(agency, other_agency, member_of):
    user = member_of(agency)
    limited = make_token(user, "limited", [agency, other_agency])
    plain = make_token(user, "plain")
    ApiToken.objects.filter(pk=plain.pk).update(revoked_at=timezone.now())
    for token in (limited, plain):
        prepared = token_rows(key_hash=token.key_hash)
        assert snapshot(prepared) == snapshot(tokens_with_agencies(token.key_hash))
    assert [row.agency_ref for row in token_rows(key_hash=limited.key_hash)] == sorted([agency.pk, other_agency.pk])
    revoked = token_rows(key_hash=plain.key_hash)[0]
    assert isinstance(revoked.revoked_at, dt.datetime) and revoked.revoked_at.tzinfo is not None
    assert revoked.user._state.db == "default" and not revoked._state.adding
    assert token_rows(key_hash="no such hash") == []


def test_each_call_reads_the_database_again(agency, member_of, django_assert_num_queries):
    token = make_token(member_of(agency), "t")
    with django_assert_num_queries(1):
        assert token_rows(key_hash=token.key_hash)[0].revoked_at is None
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    with django_assert_num_queries(1):
        assert token_rows(key_hash=token.key_hash)[0].revoked_at is not None


def test_a_value_that_is_not_one_parameter_is_refused(agency):
    twice = PreparedQuery(lambda role: Membership.objects.filter(role=role) | Membership.objects.filter(role=role),
                          role="\x00sentinel\x00")
    with pytest.raises(ImproperlyConfigured, match="'role' is not one parameter"):
        twice(role="viewer")
    with pytest.raises(TypeError, match="expected the values"):
        token_rows(key="x")
