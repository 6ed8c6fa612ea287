"""Calls made at the same moment from several threads, each with its own database connection: for
tests that prove a write holds under concurrency (PostgreSQL; SQLite serialises the whole database)."""

import threading

from django.db import connection


def run_at_once(function, times: int, timeout: float = 60) -> tuple[list, list]:
    """`function()` in `times` threads released together: (their results, the exceptions raised)."""
    barrier, results, errors = threading.Barrier(times), [], []

    def worker():
        try:
            barrier.wait()
            results.append(function())
        except Exception as error:  # noqa: BLE001 - returned to the test, which asserts on it
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results, errors
