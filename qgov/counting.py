"""How many records a list holds, without counting a million rows on every page.

Up to `QGOV_EXACT_COUNT_LIMIT` records the count is exact: `COUNT(*)` of the query cut at one row
past the limit, so it never reads more than that many rows. Past it, on PostgreSQL, the number is
the planner's estimate of the query's rows (`EXPLAIN`: planning only), flagged as an estimate;
elsewhere (SQLite, the embedded default) it stays exact. Used by the API pagination and the
browser lists alike.

`estimate_first` (PostgreSQL) asks the planner first, and when it expects well past the limit
(ESTIMATE_TRUSTED_PAST times it), its estimate is the count and nothing is counted: finding the
limit's 10,001 rows of a search that matches one record in six read 65,000 rows (340 ms), for a
number then shown as an estimate anyway. The API pagination asks so once it knows the page is full."""

import json
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connections

from qgov.prepared import count_rows_of

DEFAULT_EXACT_COUNT_LIMIT = 10_000
# The planner's estimates are off by a factor of two or so with selective filters (docs/api.md,
# Counts): past twice the limit, a result is taken to be past it.
ESTIMATE_TRUSTED_PAST = 2


@dataclass(frozen=True)
class RowCount:
    value: int
    exact: bool


def exact_count_limit() -> int:
    return getattr(settings, "QGOV_EXACT_COUNT_LIMIT", DEFAULT_EXACT_COUNT_LIMIT)


def count_rows(queryset, *, exact: bool = False, estimate_first: bool = False) -> RowCount:
    """The number of rows of `queryset`: exact when asked, when small, or off PostgreSQL."""
    connection = connections[queryset.db]
    limit = exact_count_limit()
    if exact or connection.vendor != "postgresql" or limit <= 0:
        return RowCount(count_rows_of(queryset), True)
    estimate = planner_estimate(queryset) if estimate_first else None
    if estimate is not None and estimate > ESTIMATE_TRUSTED_PAST * limit:
        return RowCount(estimate, False)
    bounded = count_rows_of(queryset.order_by()[: limit + 1])  # COUNT(*) of a LIMIT subquery
    if bounded <= limit:
        return RowCount(bounded, True)
    # More than the limit for sure: the estimate, never below what was just seen.
    return RowCount(max(planner_estimate(queryset) if estimate is None else estimate, bounded), False)


def planner_estimate(queryset) -> int:
    """PostgreSQL's estimate of the rows `queryset` returns: planning only, nothing is read."""
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # `none()`, or `IN ()`: no rows, known without asking
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # psycopg 2 without a JSON adapter for this column
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
