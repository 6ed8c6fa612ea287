"""qgov.backends.sqlite3: Django's SQLite backend, its `%s` → `?` rewrite made once per SQL text.
What reaches SQLite is what Django's own rewrite gives."""

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import SQLiteCursorWrapper as DjangoSQLiteCursorWrapper

from qgov.backends.sqlite3.base import qmark_sql
from risks.models import Risk
from tests.risks.factories import RiskFactory

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend")


@pytest.mark.parametrize("sql", [
    "SELECT 1",
    "SELECT %s, %s",
    "SELECT '100%%', %s",
    "SELECT a FROM t WHERE b LIKE %s ESCAPE '\\' AND c = '%%s'",
])
def test_the_rewrite_is_djangos(sql):
    assert qmark_sql(sql) == DjangoSQLiteCursorWrapper.convert_query(None, sql)


@pytest.mark.django_db
def test_queries_run_through_it_positional_and_named(agency):
    assert connection.settings_dict["ENGINE"] == "qgov.backends.sqlite3"
    with connection.cursor() as cursor:
        cursor.execute("SELECT '100%%', %s", ["x"])
        assert cursor.fetchone() == ("100%", "x")
        cursor.execute("SELECT %(first)s || %(second)s", {"first": "a", "second": "b"})
        assert cursor.fetchone() == ("ab",)
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    RiskFactory(agency=agency, title="Half: 50% of the links")
    RiskFactory(agency=agency, title="Half: 50 of the links")
    assert list(Risk.objects.filter(title__contains="50%").values_list("title", flat=True)) == [
        "Half: 50% of the links"]
