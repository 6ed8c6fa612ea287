"""Uploaded files, for every part of qgov that keeps them (imports, evidence): streamed hashing,
and stored files that do not outlive a rolled-back transaction.

Django runs callbacks when a transaction commits (`on_commit`) but has no hook for a rollback, so
a file written to storage inside a transaction that later rolls back would stay behind with no
row pointing at it. `removed_unless_committed` closes that gap in two steps:

- the caller's own writes run in a savepoint; if they raise, the file is deleted there and then;
- once they succeed, the file is put in a ledger of pending files, and an `on_commit` callback
  takes it out again. Django runs that callback when the outermost transaction commits and
  silently drops it when the transaction (or the savepoint around the write) rolls back. So a
  ledger entry whose callback has not run once its connection has left every atomic block was
  rolled back: `discard_rolled_back_files()` deletes those files. It runs at the end of every
  request and every Celery task, and before each new file is stored.
"""

import contextlib
import hashlib
import logging
import threading
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections, transaction

logger = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024


def sha256_and_size(file, *, chunk_size: int = CHUNK_SIZE) -> tuple[str, int]:
    """The SHA-256 (hex) and size in bytes of a file, read in chunks from its start (so a large
    file never sits in memory whole); the file is left at its start again."""
    digest, size = hashlib.sha256(), 0
    file.seek(0)
    for chunk in iter(lambda: file.read(chunk_size), b""):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size


@dataclass
class _PendingFile:
    storage: object
    name: str
    using: str
    committed: bool = False

    def keep(self):
        self.committed = True


_ledger = threading.local()


def _pending() -> list[_PendingFile]:
    if not hasattr(_ledger, "files"):
        _ledger.files = []
    return _ledger.files


def _delete_quietly(storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:  # a file we cannot remove must not turn a clean refusal into a server error
        logger.exception("Could not remove the uncommitted file %s", name)


@contextlib.contextmanager
def removed_unless_committed(storage, name: str, *, using: str = DEFAULT_DB_ALIAS):
    """Run the block that records the stored file `name` in a savepoint; the file is removed if
    the block raises, or later if the transaction around it rolls back (see the module's doc)."""
    discard_rolled_back_files()
    try:
        with transaction.atomic(using=using):
            yield
    except BaseException:
        _delete_quietly(storage, name)
        raise
    entry = _PendingFile(storage, name, using)
    _pending().append(entry)
    # Outside a transaction on_commit runs the callback at once: the file is kept.
    transaction.on_commit(entry.keep, using=using)
    _drop_kept()


def _drop_kept() -> None:
    _ledger.files = [entry for entry in _pending() if not entry.committed]


def discard_rolled_back_files(**_signal_kwargs) -> list[str]:
    """Delete the files whose transaction ended without committing; returns their names. Files
    whose transaction is still open are left pending."""
    removed, still_pending = [], []
    for entry in _pending():
        if entry.committed:
            continue
        if connections[entry.using].in_atomic_block:
            still_pending.append(entry)
            continue
        _delete_quietly(entry.storage, entry.name)
        removed.append(entry.name)
    _ledger.files = still_pending
    return removed


def connect_signals() -> None:
    """End of a request, end of a task: the points where every transaction they opened is over."""
    from celery.signals import task_postrun
    from django.core.signals import request_finished

    request_finished.connect(discard_rolled_back_files, dispatch_uid="qgov_discard_rolled_back_files")
    task_postrun.connect(discard_rolled_back_files, dispatch_uid="qgov_discard_rolled_back_files", weak=False)
