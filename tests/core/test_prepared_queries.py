"""PreparedQuery (qgov.prepared): a queryset compiled once, run with new values, gives what the
queryset itself gives — instances, related rows, annotations and converted values alike — and
refuses a value that is not one parameter of the SQL. read_rows and count_rows_of: a list's page and
count compiled once per shape give each caller's own rows and count; what they do not know is Django's.
instance_from_db builds the record from_db builds, without Model.__init__ unless something listens to it."""

import datetime as dt

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F, signals
from django.utils import timezone

from qgov import prepared
from qgov.models import ApiToken, Membership
from qgov.prepared import PreparedQuery, count_rows_of, instance_from_db, read_rows, shape_key
from qgov.roles import Action
from risks.models import Asset, Risk
from tests.risks.factories import RiskFactory

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


# read_rows and count_rows_of: any plain queryset, its SQL compiled once per shape.

def risk_snapshot(rows):
    return [(row.pk, row.title, row.created, row.review_date, row.agency.pk, str(row.agency),
             row.owner_id, row.owner.username if row.owner else None, sorted(tv.pk for tv in row.threat_vectors.all()))
            for row in rows]


def scoped_page(user, start=0, stop=3):
    # As an API list reads it: scoped, joined, deferring the joined record's other columns, sliced.
    return (Risk.objects.restrict(user, Action.VIEW).select_related("agency", "owner")
            .prefetch_related("threat_vectors").defer("agency__description").order_by("pk")[start:stop])


def test_a_shape_read_again_gives_each_callers_own_rows_and_count(agency, other_agency, member_of,
                                                                  django_assert_num_queries):
    mine, theirs = member_of(agency), member_of(other_agency)
    RiskFactory.create_batch(4, agency=agency)
    RiskFactory.create_batch(2, agency=other_agency, owner=theirs)
    for user in (mine, theirs, mine):  # the second and third reuse the first one's SQL
        assert risk_snapshot(read_rows(scoped_page(user))) == risk_snapshot(scoped_page(user))
        assert risk_snapshot(read_rows(scoped_page(user, 1, 9))) == risk_snapshot(scoped_page(user, 1, 9))
        scoped = Risk.objects.restrict(user, Action.VIEW)
        assert count_rows_of(scoped) == scoped.count()
        assert count_rows_of(scoped.order_by()[:3]) == scoped.order_by()[:3].count()
    # The scoped page and count were prepared, not left to Django.
    prepared_shapes = {(key[0], key[1][0]) for key, value in prepared._shapes.compiled.items()
                       if value is not prepared._UNPREPARABLE}
    assert {("rows", Risk), ("count", Risk)} <= prepared_shapes
    with django_assert_num_queries(2):  # the page and its prefetch: each call reads the database
        read_rows(scoped_page(mine))
    with django_assert_num_queries(1):
        assert count_rows_of(Risk.objects.restrict(mine, Action.VIEW)) == 4
    RiskFactory(agency=agency)
    assert count_rows_of(Risk.objects.restrict(mine, Action.VIEW)) == 5


def test_a_list_page_reads_its_rows_through_the_prepared_shape(client, agency, member_of):
    """CountingPaginator.page: a browser list's 50 rows are read as the API's are, the SQL of the
    list's shape compiled once, each request's own filter values in it."""
    from tests.risks.factories import AssetFactory

    prepared._shapes.compiled.clear()
    AssetFactory(agency=agency, name="Alpha", criticality="high")
    AssetFactory(agency=agency, name="Beta", criticality="low")
    client.force_login(member_of(agency))
    for criticality, names in (("high", ["Alpha"]), ("low", ["Beta"]), ("high", ["Alpha"])):
        rows = client.get("/risks/assets/", {"criticality": criticality}).context["table"].page.object_list.data
        assert isinstance(rows, list) and [row.name for row in rows] == names
    prepared_rows = [key for key, value in prepared._shapes.compiled.items()
                     if key[0] == "rows" and value is not prepared._UNPREPARABLE]
    assert [key[1][0] for key in prepared_rows] == [Asset]  # one shape, reused by the three pages


def test_another_where_clause_or_shape_is_compiled_for_itself(agency, member_of):
    user = member_of(agency)
    RiskFactory(agency=agency, title="alpha")
    RiskFactory(agency=agency, title="beta")
    scoped = Risk.objects.restrict(user, Action.VIEW)
    assert [row.title for row in read_rows(scoped.filter(title="alpha"))] == ["alpha"]
    assert [row.title for row in read_rows(scoped.filter(title__in=["alpha", "beta"]).order_by("-title"))] == [
        "beta", "alpha"]
    assert [row.title for row in read_rows(scoped.filter(title="beta"))] == ["beta"]
    assert read_rows(scoped.none()) == [] and count_rows_of(scoped.none()) == 0
    assert count_rows_of(scoped.filter(title="beta")) == 1


def test_what_the_shape_does_not_know_is_djangos(agency, member_of):
    user = member_of(agency)
    RiskFactory.create_batch(2, agency=agency)
    scoped = Risk.objects.restrict(user, Action.VIEW).order_by("pk")
    for queryset in (scoped.annotate(doubled=F("inherent_score") * 2), scoped.extra(select={"one": "1"}),
                     scoped.values_list("pk", flat=True)):
        assert shape_key(queryset) is None
        assert list(read_rows(queryset)) == list(queryset)
        assert count_rows_of(queryset) == queryset.count() == 2
    annotated = read_rows(scoped.annotate(doubled=F("inherent_score") * 2))
    assert [row.doubled for row in annotated] == [row.inherent_score * 2 for row in scoped]


# instance_from_db: a record built from a row's columns without Model.__init__.

def loaded(record) -> dict:
    return {name: value for name, value in vars(record).items() if name != "_state"}


def test_a_record_built_without_init_is_the_one_from_db_builds(agency, member_of):
    owner = member_of(agency)
    risk = RiskFactory(agency=agency, owner=owner, review_date="2027-03-01", description="Blinding.")
    columns = [field.attname for field in Risk._meta.concrete_fields]
    values = Risk.objects.filter(pk=risk.pk).values_list(*columns).get()
    built, djangos = instance_from_db(Risk, "default", columns, values), Risk.from_db("default", columns, values)
    assert type(built) is Risk and loaded(built) == loaded(djangos) != {}
    assert (built._state.adding, built._state.db) == (djangos._state.adding, djangos._state.db) == (False, "default")
    assert built.owner == owner and built.agency == agency
    # A column left out is deferred, as from_db leaves it, and loads on access.
    brief = ["id", "reference", "title"]
    partial = instance_from_db(Risk, "default", brief, (risk.pk, risk.reference, risk.title))
    assert partial.get_deferred_fields() == Risk.from_db("default", brief, (risk.pk, risk.reference, risk.title)
                                                         ).get_deferred_fields() != set()
    assert partial.description == "Blinding."


def test_a_model_with_an_init_receiver_is_built_by_django(agency):
    risk = RiskFactory(agency=agency)
    built = []

    def remember(sender, instance, **kwargs):
        built.append(instance)

    signals.post_init.connect(remember, sender=Risk)
    try:
        first = instance_from_db(Risk, "default", ["id", "title"], (risk.pk, risk.title))
        rows = read_rows(Risk.objects.filter(pk=risk.pk).order_by("pk"))
    finally:
        signals.post_init.disconnect(remember, sender=Risk)
    assert [id(record) for record in built] == [id(first), id(rows[0])]  # as Model.__init__ sends it
    instance_from_db(Risk, "default", ["id", "title"], (risk.pk, risk.title))
    assert len(built) == 2  # disconnected: built without __init__ again
