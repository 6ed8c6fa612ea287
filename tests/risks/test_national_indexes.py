"""The indexes the national list pages use (risks/migrations/0008_national_indexes.py): a risk page
in id order walks (agency, id); a search or filter starting from a few threat vectors reads their
risks from the link table's (threatvector, risk) index. Plain indexes on every database."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qgov.choices import RoleChoices
from risks.filters import RiskFilterSet
from risks.models import Risk
from tests.risks.factories import RiskFactory, ThreatVectorFactory

pytestmark = pytest.mark.django_db

LINK_TABLE = Risk.threat_vectors.through._meta.db_table


def indexes(table) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {name: info["columns"] for name, info in constraints.items() if info["index"]}


def test_the_list_indexes_exist_on_every_database():
    assert indexes(Risk._meta.db_table)["risk_agency_id_idx"] == ["agency_id", "id"]
    assert ["threatvector_id", "risk_id"] in indexes(LINK_TABLE).values()


def test_a_page_in_id_order_walks_the_agency_and_id_index_on_postgresql(agency, other_agency, member_of,
                                                                        api_as):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plan")
    for _ in range(10):
        RiskFactory(agency=agency)
    # The other agencies hold most rows, as at national scale: walking every id and skipping theirs
    # is what the (agency, id) index saves.
    model = RiskFactory(agency=other_agency)
    values = {field.attname: getattr(model, field.attname) for field in Risk._meta.concrete_fields
              if not field.primary_key}
    Risk._base_manager.bulk_create([Risk(**{**values, "reference": f"B-{number}"}) for number in range(600)])
    with CaptureQueriesContext(connection) as queries:
        response = api_as(member_of(agency, RoleChoices.VIEWER)).get("/api/risks/", {"limit": 5})
    assert response.status_code == 200
    page = next(q for q in queries.captured_queries if q["sql"].startswith('SELECT "risks_risk"."id", '))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE risks_risk")
        # A few rows make any plan cheap; without the sequential scan and the sort, which index
        # serves the page in order is the question.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {page['sql']}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "risk_agency_id_idx" in plan and "Sort" not in plan, plan


def test_a_threat_vector_search_is_probed_through_the_link_index_on_postgresql(agency):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plan")
    vector = ThreatVectorFactory(title="Detector blinding")
    for number in range(40):
        risk = RiskFactory(agency=agency, title=f"Risk {number}")
        if number % 4 == 0:
            risk.threat_vectors.add(vector)
    found = RiskFilterSet({"q": "blinding"}, queryset=Risk.objects.filter(agency=agency)).qs.order_by("pk")[:5]
    assert len(found) == 5
    sql, params = found.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {LINK_TABLE}")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "hashed SubPlan" not in plan and "SubPlan" in plan, plan  # a probe per record, no hashed list


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite keeps its statistics only when ANALYZE runs")
def test_after_a_migration_sqlite_has_statistics_of_the_new_index(agency):
    """An index made after the last ANALYZE has no statistics: SQLite then read and sorted the
    agency's rows for a 10-row page instead of walking (agency, id) (10,000 risks: 3 ms instead of
    0.03 ms, benchmarks/RESULTS.md). A migrate run that applied something gathers them again."""
    from django.apps import apps

    from qgov.migrations_ops import analyze_after_migrate

    RiskFactory.create_batch(30, agency=agency)
    with connection.cursor() as cursor:
        if "sqlite_stat1" in connection.introspection.table_names(cursor):
            cursor.execute("DELETE FROM sqlite_stat1")
    analyze_after_migrate(apps.get_app_config("risks"), "default", plan=[("applied", False)])  # not the core's signal
    analyze_after_migrate(apps.get_app_config("qgov"), "default", plan=[])  # nothing migrated
    with connection.cursor() as cursor:
        assert "sqlite_stat1" not in connection.introspection.table_names(cursor) or not cursor.execute(
            "SELECT 1 FROM sqlite_stat1 WHERE idx = 'risk_agency_id_idx'").fetchall()
    analyze_after_migrate(apps.get_app_config("qgov"), "default", plan=[("applied", False)])
    with connection.cursor() as cursor:
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE idx = 'risk_agency_id_idx'")
        assert cursor.fetchone()[0].startswith("30 ")  # the rows the planner now knows the index holds
