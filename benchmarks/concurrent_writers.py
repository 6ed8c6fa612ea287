"""Concurrent audited writers: do writes of different agencies wait on each other?

    python -m benchmarks.concurrent_writers --database-url postgres://postgres@127.0.0.1:5432/qgov_writers_bench

W writer threads (default 8), each with its own database connection and each in its own agency,
create N assets (default 25) through `qgov.services.object_create`, every write inside a
transaction that holds for a moment (default 20 ms) before it commits, as a web request or an
import does while it renders or reads its next row. Per write we time BEGIN → COMMIT. If audited
writes serialise on one lock, the hold time adds up across writers; if not, the writers overlap.

The database is dropped and created again, so its name must end in "_bench". Results go to
benchmarks/results/concurrent-writers-<label>.json (or --output).
"""

import argparse
import json
import os
import platform
import secrets
import statistics
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def percentile(ordered: list[float], fraction: float) -> float:
    return ordered[max(0, round(fraction * len(ordered)) - 1)]


def writer(index: int, agency_id: int, user_id: int, writes: int, hold: float, start: threading.Barrier,
           latencies: list, errors: list):
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from qgov import services
    from qgov.audit import audit_context
    from qgov.choices import AuditSourceChoices
    from qgov.models import Agency
    from risks.models import Asset

    try:
        user = get_user_model().objects.get(pk=user_id)
        agency = Agency.objects.get(pk=agency_id)
        start.wait()
        for number in range(writes):
            began = time.perf_counter()
            with audit_context(source=AuditSourceChoices.TASK, actor=user), transaction.atomic():
                services.object_create(model=Asset, user=user, data={
                    "agency": agency, "name": f"Writer {index} asset {number}", "asset_type": "qkd_link",
                    "shelf_life_years": 10, "migration_years": 3})
                time.sleep(hold)
            latencies.append(time.perf_counter() - began)
    except Exception as error:  # reported after the run
        errors.append(f"writer {index}: {error!r}")
    finally:
        connection.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/qgov_writers_bench"))
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--writes", type=int, default=25, help="writes per writer")
    parser.add_argument("--hold-ms", type=float, default=20.0, help="time each transaction holds before commit")
    parser.add_argument("--label", default="after")
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)

    from benchmarks.run import configure_environment, fresh_database

    configure_environment(args.database_url)
    os.environ.setdefault("QGOV_AUDIT_KEY", secrets.token_urlsafe(48))
    sys.path.insert(0, str(BENCH_DIR.parent))
    fresh_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from qgov.models import Agency, AuditEvent
    from tests.factories import UserFactory

    call_command("migrate", verbosity=0)
    user = UserFactory(username="bench-admin", is_superuser=True, is_staff=True)
    agencies = [Agency.objects.create(name=f"Writer agency {n}", code=f"W{n}", sector="digital")
                for n in range(args.writers)]
    events_before = AuditEvent.objects.count()
    connection.close()

    latencies: list[float] = []
    errors: list[str] = []
    barrier = threading.Barrier(args.writers + 1)
    threads = [threading.Thread(target=writer, args=(n, agency.pk, user.pk, args.writes, args.hold_ms / 1000,
                                                     barrier, latencies, errors))
               for n, agency in enumerate(agencies)]
    for thread in threads:
        thread.start()
    barrier.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    if errors:
        raise SystemExit("\n".join(errors))

    from qgov.audit_verify import verify_chain

    problems = verify_chain()
    events = AuditEvent.objects.count() - events_before
    ordered = sorted(latencies)
    result = {
        "label": args.label,
        "backend": connection.vendor,
        "writers": args.writers,
        "writes_per_writer": args.writes,
        "hold_ms": args.hold_ms,
        "writes": len(ordered),
        "audit_events": events,
        "chain_intact": problems is None,
        "wall_s": round(wall, 3),
        "writes_per_s": round(len(ordered) / wall, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(percentile(ordered, 0.95) * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
        "serial_lower_bound_s": round(len(ordered) * args.hold_ms / 1000, 2),
        "machine": {"python": platform.python_version(), "django": django.get_version(),
                    "platform": platform.platform(), "cpus": os.cpu_count()},
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    output = args.output or BENCH_DIR / "results" / f"concurrent-writers-{args.label}.json"
    output.parent.mkdir(exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{args.label}: {result['writes']} writes by {args.writers} writers in {wall:.2f} s "
          f"({result['writes_per_s']} writes/s), per write p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, "
          f"chain intact: {result['chain_intact']}  -> {output}")
    connection.close()


if __name__ == "__main__":
    main()
