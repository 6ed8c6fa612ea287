"""What background runs (imports, reports) share: claiming a run so that one worker works on it at a
time, and writing its progress where those polling it can see it while its transaction is open."""

import contextlib
import copy

from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

# The first key of the runs' PostgreSQL advisory locks ("QGOV"); the second is the run's id. Each
# kind of run has its own class so that import #5 and report #5 do not exclude each other.
ADVISORY_LOCK_CLASS = 0x51474F56
REPORT_LOCK_CLASS = 0x51475250  # "QGRP"


@contextlib.contextmanager
def run_claimed(run_id: int, lock_class: int = ADVISORY_LOCK_CLASS):
    """True while this process holds the run; False when another worker is running it now. On
    PostgreSQL a session advisory lock, released at the end or when the worker's connection dies
    (so a run whose worker died can be taken again); SQLite runs one writer at a time anyway."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        yield True
        return
    key = [lock_class, run_id % 2**31]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        claimed = cursor.fetchone()[0]
    try:
        yield claimed
    finally:
        if claimed:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)


def run_is_claimed(run_id: int, lock_class: int) -> bool:
    """Whether some worker holds the run now (PostgreSQL); on SQLite nothing can tell, so False."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
                       "AND objid = %s AND objsubid = 2)", [lock_class, run_id % 2**31])
        return cursor.fetchone()[0]


class ProgressWriter:
    """Writes a run's progress fields on a connection of its own, so that those polling the run see
    it while the run's transaction is still open. SQLite allows one writer at a time, so there
    (development, eager tasks) progress is not written until the end."""

    def __init__(self, model, run_pk):
        self.table = model._meta.db_table
        self.run_pk = run_pk
        from qgov.models.base import stamps_updates

        self.stamps = stamps_updates(model)  # pollers' list ETags read last_updated
        self.connection = None
        current = connections[DEFAULT_DB_ALIAS]
        if current.vendor != "sqlite":
            self.connection = type(current)(copy.copy(current.settings_dict), alias=current.alias)

    def write(self, **values) -> None:
        """UPDATE the run's row with `values` (column name -> value)."""
        if self.connection is None or not values:
            return
        if self.stamps:
            values = {**values, "last_updated": timezone.now()}
        quote = self.connection.ops.quote_name
        assignments = ", ".join(f"{quote(column)} = %s" for column in values)
        with self.connection.cursor() as cursor:
            cursor.execute(f"UPDATE {quote(self.table)} SET {assignments} WHERE id = %s",  # noqa: S608 - our names
                           [*values.values(), self.run_pk])

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
