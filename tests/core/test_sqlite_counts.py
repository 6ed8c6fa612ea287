"""SQLite recalls a list's count while the database is as it was when counting (qgov.counting.
SQLiteCounts): any row written by this connection or committed by another, or any table created,
counts again; so does SQL that reads the clock, and a count made inside a transaction is not
remembered. The API answers the count the rows have.

The tests commit (transaction=True): inside the transaction a test otherwise runs in, nothing is
remembered."""

import sqlite3

import pytest
from django.db import connection, transaction
from django.db.models.functions import Now
from django.test.utils import CaptureQueriesContext

from qgov.choices import RoleChoices
from qgov.counting import SQLiteCounts, count_rows
from risks.models import Risk
from tests.risks.factories import RiskFactory

pytestmark = [pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL counts each time"),
              pytest.mark.django_db(transaction=True)]


def counted(queryset) -> tuple[int, int]:
    """The count of `queryset`, and how many COUNT queries it took."""
    with CaptureQueriesContext(connection) as queries:
        value = count_rows(queryset)
    assert value.exact
    return value.value, sum("COUNT(" in query["sql"].upper() for query in queries.captured_queries)


@pytest.fixture
def risks(agency, other_agency):
    RiskFactory(agency=other_agency)
    return RiskFactory.create_batch(3, agency=agency)


def test_a_count_is_recalled_while_nothing_changes(risks, agency, other_agency):
    mine = Risk.objects.filter(agency=agency)
    assert [counted(mine), counted(mine), counted(mine)] == [(3, 1), (3, 0), (3, 0)]
    # Another value is another count, remembered beside the first.
    theirs = Risk.objects.filter(agency=other_agency)
    assert [counted(theirs), counted(theirs), counted(mine)] == [(1, 1), (1, 0), (3, 0)]


def test_this_connections_writes_count_again_rolled_back_or_not(risks, agency):
    mine = Risk.objects.filter(agency=agency)
    counted(mine)
    RiskFactory(agency=agency)
    assert [counted(mine), counted(mine)] == [(4, 1), (4, 0)]
    Risk.objects.filter(pk=risks[0].pk).update(title="Renamed")  # no row more or less: counted anyway
    assert counted(mine) == (4, 1)
    with transaction.atomic():
        assert counted(mine) == (4, 0)  # remembered before the transaction, nothing written since
        RiskFactory(agency=agency)
        assert [counted(mine), counted(mine)] == [(5, 1), (5, 1)]  # inside it: never remembered
        transaction.set_rollback(True)
    assert [counted(mine), counted(mine)] == [(4, 1), (4, 0)]


def test_a_commit_by_another_connection_counts_again(risks, agency):
    mine = Risk.objects.filter(agency=agency)
    assert [counted(mine), counted(mine)] == [(3, 1), (3, 0)]
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    try:
        other.execute("DELETE FROM risks_risk WHERE id = ?", [risks[0].pk])
    finally:
        other.close()
    assert [counted(mine), counted(mine)] == [(2, 1), (2, 0)]


def test_a_schema_change_counts_again(risks, agency):
    mine = Risk.objects.filter(agency=agency)
    counted(mine)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE qgov_test_schema_change (id integer)")
    assert counted(mine) == (3, 1)


def test_sql_that_reads_the_clock_is_counted_each_time(risks, agency):
    created = Risk.objects.filter(agency=agency, created__lte=Now())
    assert [counted(created), counted(created)] == [(3, 1), (3, 1)]


def test_the_oldest_count_is_forgotten_past_the_size(risks, agency, other_agency, monkeypatch):
    monkeypatch.setattr(SQLiteCounts, "SIZE", 2)
    first, second, third = (Risk.objects.filter(agency=agency), Risk.objects.filter(agency=other_agency),
                            Risk.objects.filter(agency=agency, title="none"))
    for queryset in (first, second, third):
        counted(queryset)
    assert [counted(third), counted(second), counted(first)] == [(0, 0), (1, 0), (3, 1)]


def test_a_value_no_dict_can_hold_is_never_remembered():
    counts = SQLiteCounts(database=sqlite3.connect(":memory:"))
    counts.remember("SELECT COUNT(*) FROM t WHERE a = %s", [["a", "list"]], (0, 1, 1), 5)
    assert counts.counts == {}
    assert counts.recall("SELECT COUNT(*) FROM t WHERE a = %s", [["a", "list"]], (0, 1, 1)) is None


def test_the_api_count_follows_a_create_and_a_delete(agency, member_of, api_as):
    client = api_as(member_of(agency, RoleChoices.ADMIN))
    RiskFactory.create_batch(2, agency=agency)

    def listed():
        with CaptureQueriesContext(connection) as queries:
            body = client.get("/api/risks/", {"limit": 1}).json()
        return body["count"], sum("COUNT(" in query["sql"].upper() for query in queries.captured_queries)

    assert [listed(), listed()] == [(2, 1), (2, 0)]
    created = RiskFactory(agency=agency)
    assert [listed(), listed()] == [(3, 1), (3, 0)]
    assert client.delete(f"/api/risks/{created.pk}/").status_code == 204
    assert listed() == (2, 1)
