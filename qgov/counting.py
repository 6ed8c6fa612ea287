"""How many records a list holds, without counting a million rows on every page.

Up to `QGOV_EXACT_COUNT_LIMIT` records the count is exact: `COUNT(*)` of the query cut at one row
past the limit, so it never reads more than that many rows. Past it, on PostgreSQL, the number is
the planner's estimate of the query's rows (`EXPLAIN`: planning only), flagged as an estimate;
elsewhere (SQLite, the embedded default) it stays exact. Used by the API pagination and the
browser lists alike.

`estimate_first` (PostgreSQL) asks the planner first, and when it expects well past the limit
(ESTIMATE_TRUSTED_PAST times it), its estimate is the count and nothing is counted: finding the
limit's 10,001 rows of a search that matches one record in six read 65,000 rows (340 ms), for a
number then shown as an estimate anyway. The API pagination asks so once it knows the page is full.

On SQLite every count is exact, and a connection remembers the counts it made until the database
changes (SQLiteCounts): the same list asked for again, as API clients and the register page are,
costs a read of SQLite's change markers instead of a count of 10,000 index entries (0.6 ms, a fifth
of a 10-row API page's instructions)."""

import json
import re
from collections import OrderedDict
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
    if connection.vendor == "sqlite":
        return RowCount(count_rows_of(queryset, counts=SQLiteCounts.of(connection)), True)
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


class SQLiteCounts:
    """The counts one SQLite connection made, each with the state of the database it was made in.

    The state is what SQLite itself says about change: `PRAGMA data_version` changes when another
    connection (of any process) commits, `schema_version` when any table is created, altered or
    dropped, and the connection's `total_changes` counts every row it inserted, updated or deleted,
    in a transaction rolled back too. A remembered count is returned only while all three are as
    they were when it was counted, so it is the count the query would give. The state is read
    before counting: a commit between the two makes the remembered count's state an older one,
    which the next call finds changed (a count made again, never a wrong one).

    Only counts made outside a transaction are remembered: one made inside it may include rows that
    a rollback then removes, which changes none of the three. (A request reads outside one:
    ATOMIC_REQUESTS is off.) A count remembered before the transaction is recalled inside it only
    while the state says nothing has been written since.

    Not remembered: SQL whose answer moves with the clock or by chance (`now`, CURRENT_…, random),
    which only a new count can give."""

    SIZE = 256
    _STATE_SQL = "SELECT d.data_version, s.schema_version FROM pragma_data_version d, pragma_schema_version s"
    _VOLATILE = re.compile(r"now|current_|random", re.IGNORECASE)

    def __init__(self, database):
        self.database = database  # the sqlite3 connection; a reopened connection starts afresh
        self.counts = OrderedDict()

    @classmethod
    def of(cls, connection) -> "SQLiteCounts":
        connection.ensure_connection()
        remembered = connection.__dict__.get("qgov_sqlite_counts")
        if remembered is None or remembered.database is not connection.connection:
            remembered = connection.__dict__["qgov_sqlite_counts"] = cls(connection.connection)
        return remembered

    def state(self) -> tuple:
        return (self.database.total_changes, *self.database.execute(self._STATE_SQL).fetchone())

    @staticmethod
    def _key(sql: str, params) -> tuple | None:
        key = (sql, tuple(params))
        try:
            hash(key)
        except TypeError:  # a value no dict can hold is never remembered
            return None
        return key

    def recall(self, sql: str, params, state: tuple) -> int | None:
        """The count of `sql` with `params` made in `state`, if remembered."""
        key = self._key(sql, params)
        remembered = self.counts.get(key) if key is not None else None
        if remembered is None or remembered[0] != state:
            return None
        self.counts.move_to_end(key)
        return remembered[1]

    def remember(self, sql: str, params, state: tuple, count: int) -> None:
        key = self._key(sql, params)
        if key is None or self.database.in_transaction or self._VOLATILE.search(sql):
            return
        self.counts[key] = (state, count)
        self.counts.move_to_end(key)
        if len(self.counts) > self.SIZE:
            self.counts.popitem(last=False)
