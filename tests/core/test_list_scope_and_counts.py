"""Large lists at national scale (benchmarks/README.md, "PostgreSQL list pages"): a read's agency
scope names the agencies as constants once the request has read the memberships; the API reads a
scoped list's page before its count on PostgreSQL (a page that ends the list counts itself, a full
one asks the planner first); deep offsets read ids first; a search across a link table probes it
per record. The query counts of small lists stay what they were."""

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from qgov.api import pagination
from qgov.choices import RoleChoices
from qgov.counting import count_rows
from qgov.permissions import (
    TokenGrant,
    activate_token_grant,
    lazy_member_scopes,
    memberships_of,
    request_scope,
    user_can,
)
from qgov.roles import Action
from risks.filters import RiskFilterSet
from risks.models import Risk
from tests.factories import AgencyFactory, MembershipFactory
from tests.risks.factories import RiskFactory, ThreatVectorFactory

ON_POSTGRESQL = connection.vendor == "postgresql"


def sql_of(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    return sql % tuple(repr(param) for param in params)


@pytest.fixture
def risks(agency, other_agency):
    RiskFactory(agency=other_agency)  # never seen, never counted
    return [RiskFactory(agency=agency) for _ in range(5)]


def test_a_read_names_the_agencies_once_the_request_has_read_the_memberships(risks, agency, other_agency,
                                                                              member_of):
    viewer = member_of(agency, RoleChoices.VIEWER)
    with request_scope():
        listed = Risk.objects.restrict(viewer, Action.VIEW).order_by("pk")
        assert "qgov_membership" in sql_of(listed)  # nothing read yet: the subquery, no query of its own
        assert lazy_member_scopes(listed)
        memberships_of(viewer)
        sql = sql_of(listed)
        assert "qgov_membership" not in sql and f"IN ({agency.pk})" in sql
        assert lazy_member_scopes(listed) == []
        assert list(listed) == risks
    # Outside a request the subquery stays: a task or a service reads the memberships as they are now.
    assert "qgov_membership" in sql_of(Risk.objects.restrict(viewer, Action.VIEW))


@pytest.mark.parametrize("limited", [False, True], ids=["every agency", "a token limited to one agency"])
def test_a_reads_membership_subquery_finds_what_user_can_allows(agency, other_agency, member_of, limited):
    third = AgencyFactory()
    user = member_of(agency, RoleChoices.VIEWER)
    MembershipFactory(user=user, agency=other_agency, role=RoleChoices.EDITOR)
    RiskFactory.create_batch(2, agency=agency)
    RiskFactory.create_batch(2, agency=other_agency)
    RiskFactory.create_batch(2, agency=third)  # not a member: never read
    grant = TokenGrant(user_id=user.pk, agency_ids=frozenset({other_agency.pk}), scopes=frozenset({"read"}))
    actions = (Action.VIEW, Action.EXPORT)
    with request_scope():  # what user_can allows, one risk at a time
        if limited:
            activate_token_grant(grant)
        allowed = {action: sorted(risk.pk for risk in Risk.objects.all()
                                  if user_can(user, risk.agency_id, action, Risk)) for action in actions}
    assert allowed[Action.VIEW] == sorted(Risk.objects.filter(
        agency__in=[other_agency] if limited else [agency, other_agency]).values_list("pk", flat=True))
    in_third = list(Risk.objects.filter(agency=third).values_list("pk", flat=True))
    with request_scope():  # a new request: its memberships not read yet
        if limited:
            activate_token_grant(grant)
        for action in actions:
            listed = Risk.objects.restrict(user, action)
            assert "qgov_scope" in sql_of(listed)  # the subquery
            assert sorted(listed.values_list("pk", flat=True)) == allowed[action]
            assert listed.count() == len(allowed[action])
            # Inside another query's subquery, and combined with another condition.
            assert sorted(Risk.objects.filter(pk__in=listed.values("pk")).values_list("pk", flat=True)) == allowed[
                action]
            assert sorted(Risk.objects.filter(Q(pk__in=listed.values("pk")) | Q(agency=third))
                          .values_list("pk", flat=True)) == sorted(allowed[action] + in_third)


def test_writes_keep_the_membership_subquery_even_when_the_memberships_were_read(risks, agency, member_of):
    editor = member_of(agency, RoleChoices.EDITOR)
    with request_scope():
        memberships_of(editor)
        assert "qgov_membership" in sql_of(Risk.objects.restrict(editor, Action.CHANGE))
        assert "qgov_membership" not in sql_of(Risk.objects.restrict(editor, Action.VIEW))


def test_a_member_without_the_role_anywhere_reads_nothing_and_no_invalid_sql(risks, agency, member_of):
    viewer = member_of(agency, RoleChoices.VIEWER)
    with request_scope():
        memberships_of(viewer)
        exported = Risk.objects.restrict(viewer, Action.EXPORT)  # a viewer exports nowhere
        assert list(exported) == [] and exported.count() == 0
        assert count_rows(exported, estimate_first=True).value == 0


def test_the_api_list_of_a_member_sees_the_same_records(risks, agency, other_agency, member_of, api_as):
    both = member_of(agency, RoleChoices.VIEWER)
    from qgov.models import Membership

    Membership.objects.create(user=both, agency=other_agency, role=RoleChoices.EDITOR)
    body = api_as(both).get("/api/risks/", {"limit": 3}).json()
    assert body["count"] == 6 and body["count_exact"] is True
    seen, url = [], "/api/risks/?limit=4"
    while url:
        page = api_as(both).get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted(Risk.objects.values_list("pk", flat=True))


def list_queries(client, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/risks/", params)
    assert response.status_code == 200, response.json()
    return response.json(), [q["sql"] for q in queries.captured_queries]


def test_a_page_that_ends_the_list_counts_itself_on_postgresql(risks, agency, member_of, api_as):
    client = api_as(member_of(agency, RoleChoices.VIEWER))
    body, sql = list_queries(client, {"limit": 10})
    assert (body["count"], body["count_exact"], body["next"]) == (5, True, None)
    counts = [statement for statement in sql if "COUNT(" in statement.upper() or statement.startswith("EXPLAIN")]
    if ON_POSTGRESQL:
        assert counts == []  # the memberships' round trip is saved here
        page = next(statement for statement in sql if 'FROM "risks_risk"' in statement)
        assert "qgov_membership" not in page and f'"agency_id" IN ({agency.pk})' in page
    else:
        assert len(counts) == 1  # SQLite counts first, exactly, as before
    # The last page, after an offset, too.
    body, sql = list_queries(client, {"limit": 2, "offset": 4})
    assert (body["count"], body["count_exact"], [row["id"] for row in body["results"]]) == (5, True, [risks[4].pk])


def test_a_full_page_asks_the_planner_before_counting_on_postgresql(risks, agency, member_of, api_as, settings):
    if not ON_POSTGRESQL:
        pytest.skip("SQLite counts exactly")
    settings.QGOV_EXACT_COUNT_LIMIT = 2
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE risks_risk")
    client = api_as(member_of(agency, RoleChoices.VIEWER))
    body, sql = list_queries(client, {"limit": 1})
    assert body["count_exact"] is False and body["count"] >= 3
    explain = [statement for statement in sql if statement.startswith("EXPLAIN")]
    counted = [statement for statement in sql if "COUNT(" in statement.upper()]
    # 5 rows against a limit of 2: past twice the limit the estimate stands and nothing is counted.
    assert len(explain) == 1 and counted == [], sql
    exact, _sql = list_queries(client, {"limit": 1, "count": "exact"})
    assert (exact["count"], exact["count_exact"]) == (5, True)


def test_estimate_first_counts_when_the_planner_expects_a_small_result(risks, agency, settings):
    if not ON_POSTGRESQL:
        pytest.skip("SQLite counts exactly")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE risks_risk")
    with CaptureQueriesContext(connection) as queries:
        counted = count_rows(Risk.objects.filter(agency=agency), estimate_first=True)
    assert (counted.value, counted.exact) == (5, True)
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["EXPLAIN", "SELECT"]


def test_a_deep_offset_reads_the_ids_first_and_keeps_the_order(risks, agency, member_of, api_as, monkeypatch):
    client = api_as(member_of(agency, RoleChoices.VIEWER))
    for risk, title in zip(risks, ["Delta", "Alpha", "Echo", "Charlie", "Bravo"], strict=True):
        Risk._base_manager.filter(pk=risk.pk).update(title=title)
    expected = {}
    for ordering in ("pk", "-title", "title"):
        expected[ordering] = [row["id"] for row in client.get(
            "/api/risks/", {"limit": 2, "offset": 2, "ordering": ordering}).json()["results"]]
    monkeypatch.setattr(pagination, "DEEP_OFFSET", 2)
    for ordering, ids in expected.items():
        body, sql = list_queries(client, {"limit": 2, "offset": 2, "ordering": ordering})
        assert [row["id"] for row in body["results"]] == ids, ordering
        assert body["next"] is not None and body["count"] == 5
        narrow = [statement for statement in sql if statement.startswith('SELECT "risks_risk"."id" AS "pk"')]
        assert len(narrow) == 1 and "OFFSET 2" in narrow[0], sql
    body, _sql = list_queries(client, {"limit": 2, "offset": 50})
    assert body["results"] == [] and body["next"] is None


def test_a_search_matching_threat_vectors_probes_the_link_table_per_record(agency):
    vector = ThreatVectorFactory(title="Detector blinding")
    linked, described = RiskFactory(agency=agency, title="Linked"), RiskFactory(agency=agency, description="blinding")
    linked.threat_vectors.add(vector)
    RiskFactory(agency=agency, title="Unrelated")
    found = RiskFilterSet({"q": "blinding"}, queryset=Risk.objects.all()).qs
    sql = sql_of(found).upper()
    assert "EXISTS(" in sql and "DISTINCT" not in sql
    assert ("OFFSET 0" in sql) is ON_POSTGRESQL  # no hashed list of every linked record first
    assert set(found) == {linked, described}
