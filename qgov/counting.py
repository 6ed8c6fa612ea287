"""How many records a list holds, without counting a million rows on every page.

Up to `QGOV_EXACT_COUNT_LIMIT` records the count is exact: `COUNT(*)` of the query cut at one row
past the limit, so it never reads more than that many rows. Past it, on PostgreSQL, the number is
the planner's estimate of the query's rows (`EXPLAIN`), flagged as an estimate; elsewhere (SQLite,
the embedded default) it stays exact. Used by the API pagination and the browser lists alike."""

import json
from dataclasses import dataclass

from django.conf import settings
from django.db import connections

DEFAULT_EXACT_COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class RowCount:
    value: int
    exact: bool


def exact_count_limit() -> int:
    return getattr(settings, "QGOV_EXACT_COUNT_LIMIT", DEFAULT_EXACT_COUNT_LIMIT)


def count_rows(queryset, *, exact: bool = False) -> RowCount:
    """The number of rows of `queryset`: exact when asked, when small, or off PostgreSQL."""
    connection = connections[queryset.db]
    limit = exact_count_limit()
    if exact or connection.vendor != "postgresql" or limit <= 0:
        return RowCount(queryset.count(), True)
    bounded = queryset.order_by()[: limit + 1].count()  # COUNT(*) of a LIMIT subquery
    if bounded <= limit:
        return RowCount(bounded, True)
    # More than the limit for sure: the estimate, never below what was just seen.
    return RowCount(max(planner_estimate(queryset), bounded), False)


def planner_estimate(queryset) -> int:
    """PostgreSQL's estimate of the rows `queryset` returns: planning only, nothing is read."""
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # psycopg 2 without a JSON adapter for this column
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
