"""SQLite lets one connection write at a time. A transaction that reads and then writes, begun in
SQLite's default (deferred) mode, can meet a writer committing at the same moment: SQLite then
fails it at once with "database is locked" rather than wait, since waiting could deadlock (the
lockout test's gunicorn workers hit it, writing the audit event of a lock). qgov begins
transactions IMMEDIATE on SQLite: the write lock is taken at BEGIN, where waiting is safe."""

import sqlite3
import threading
import time

import pytest
from django.db import connection, transaction

from qgov.models import Agency

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sqlite_file():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's locking")
    return connection.settings_dict["NAME"]


def test_a_read_then_write_transaction_waits_for_a_committing_writer_instead_of_failing(sqlite_file):
    """The writer commits while the transaction holds what it read; the transaction then writes.
    Deferred, SQLite refuses that write at once; immediate, the transaction waited at BEGIN."""
    writer = sqlite3.connect(sqlite_file, timeout=20, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE lock_probe (x integer)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO lock_probe VALUES (1)")
    reader_begins = threading.Event()

    def commit_once_the_reader_has_read():
        reader_begins.wait(timeout=5)
        time.sleep(0.2)  # the reader's read takes milliseconds
        writer.execute("COMMIT")  # waits for the shared lock of a deferred reader

    thread = threading.Thread(target=commit_once_the_reader_has_read)
    thread.start()
    try:
        reader_begins.set()
        with transaction.atomic():
            Agency.objects.count()
            time.sleep(0.5)  # the writer is committing now
            Agency.objects.create(code="R", name="Reader")
    finally:
        thread.join(timeout=30)
        written = writer.execute("SELECT count(*) FROM lock_probe").fetchone()[0]
        writer.execute("DROP TABLE lock_probe")
        writer.close()
    assert written == 1
    assert Agency.objects.filter(code="R").exists()
