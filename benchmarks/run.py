"""Time the audit-event and membership list endpoints and the audit chain walk on synthetic data.

    python -m benchmarks.run                      # SQLite, 1,000 and 10,000 events
    python -m benchmarks.run --events 1000        # one size
    python -m benchmarks.run --database-url postgres://postgres@127.0.0.1:5432/qgov_bench

Each size gets a fresh database (a SQLite file in benchmarks/, or the PostgreSQL database named,
which must end in "_bench" because it is dropped and created again). Results are written to
benchmarks/results/<backend>-<events>.json.
"""

import argparse
import json
import os
import platform
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
SQLITE_FILE = BENCH_DIR / "bench.sqlite3"

REQUESTS = [
    ("GET /api/audit-events/", "/api/audit-events/", {}),
    ("GET /api/audit-events/?limit=500", "/api/audit-events/", {"limit": 500}),
    ("GET /api/audit-events/ last page", "/api/audit-events/", {"offset": "LAST"}),
    ("GET /api/audit-events/?action=update&q=BENCH-00001", "/api/audit-events/",
     {"action": "update", "q": "BENCH-00001"}),
    ("GET /api/memberships/", "/api/memberships/", {}),
    ("GET /api/memberships/?limit=500", "/api/memberships/", {"limit": 500}),
    ("GET /api/memberships/?role=admin", "/api/memberships/", {"role": "admin"}),
]


def configure_environment(database_url: str):
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("QGOV_AUDIT_KEY", secrets.token_urlsafe(48))
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_HTTPS"] = "0"
    os.environ["QGOV_MANIFEST_STATIC"] = "0"
    os.environ["QGOV_API_TOKEN_RATE_LIMIT"] = ""  # timing the app, not its per-token throttle
    os.environ.pop("CELERY_BROKER_URL", None)  # eager: nothing here queues work
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qgov.settings")


def fresh_database(database_url: str):
    """Drop and create the benchmark database before Django connects to it."""
    import environ

    config = environ.Env.db_url_config(database_url)
    if config["ENGINE"].endswith("sqlite3"):
        Path(config["NAME"]).unlink(missing_ok=True)
        return
    if not config["NAME"].endswith("_bench"):
        sys.exit(f"refusing to drop {config['NAME']!r}: the benchmark database's name must end in _bench")
    import psycopg

    with psycopg.connect(
        dbname="postgres", user=config["USER"] or None, password=config["PASSWORD"] or None,
        host=config["HOST"] or None, port=config["PORT"] or None, autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}"')
        conn.execute(f'CREATE DATABASE "{config["NAME"]}"')


def summarise(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "runs": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[max(0, round(0.95 * len(ordered)) - 1)] * 1000, 2),
        "min_ms": round(ordered[0] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def time_get(client, label: str, path: str, params: dict, repeats: int):
    """One untimed GET (its SQL queries captured), then `repeats` timed ones. Returns the timing
    summary with the query count and the response size, the first response and its queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        first = client.get(path, params)
    queries = list(captured.captured_queries)  # now: the next request clears the connection's query log
    if first.status_code != 200:
        raise SystemExit(f"{label}: HTTP {first.status_code}: {first.content[:300]!r}")
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        response = client.get(path, params)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200
    return {**summarise(samples), "queries": len(queries), "bytes": len(response.content)}, first, queries


def machine() -> dict:
    import django

    return {"python": platform.python_version(), "django": django.get_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "load_average_1m_after": round(os.getloadavg()[0], 2)}


def time_requests(key: str, repeats: int) -> dict:
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    visible_events = client.get("/api/audit-events/", {"limit": 1}).json()["count"]
    results = {}
    for label, path, params in REQUESTS:
        params = dict(params)
        if params.get("offset") == "LAST":
            params["offset"] = max(0, visible_events - 50)
        timing, first, _queries = time_get(client, label, path, params, repeats)
        body = first.json()
        results[label] = {
            **{key: value for key, value in timing.items() if key != "bytes"},
            "count": body["count"],
            "rows": len(body["results"]),
            "bytes": timing["bytes"],
        }
        print(f"  {label:52} median {results[label]['median_ms']:8.2f} ms  p95 {results[label]['p95_ms']:8.2f} ms"
              f"  {results[label]['queries']} queries, {results[label]['rows']} of {results[label]['count']} rows")
    return results


def time_chain_walk(repeats: int) -> dict:
    from qgov.audit_verify import verify_chain

    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        problem = verify_chain()
        samples.append(time.perf_counter() - start)
        if problem is not None:
            raise SystemExit(f"the audit chain is broken: {problem}")
    result = summarise(samples)
    print(f"  {'verify_audit chain walk':52} median {result['median_ms']:8.2f} ms  p95 {result['p95_ms']:8.2f} ms")
    return result


def run_size(events: int, database_url: str, repeats: int) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from benchmarks.generate import generate

    connection.close()
    fresh_database(database_url)
    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    data = generate(events=events)
    generation_s = time.perf_counter() - start
    key = data.pop("api_key")
    print(f"{connection.vendor}, {data['audit_events']} audit events: generated in {generation_s:.1f} s "
          f"({data['audit_events'] / generation_s:.0f} events/s through the audit signals)")
    return {
        "backend": connection.vendor,
        "events_requested": events,
        "data": data,
        "generation_s": round(generation_s, 2),
        "append_events_per_s": round(data["audit_events"] / generation_s),
        "requests": time_requests(key, repeats),
        "verify_audit": time_chain_walk(max(3, repeats // 5)),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeats", type=int, default=20, help="timed requests per endpoint (default 20)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{SQLITE_FILE}"))
    args = parser.parse_args(argv)

    configure_environment(args.database_url)
    sys.path.insert(0, str(BENCH_DIR.parent))
    import django

    django.setup()
    from django.db import connection

    RESULTS_DIR.mkdir(exist_ok=True)
    for events in args.events:
        result = run_size(events, args.database_url, args.repeats)
        result["machine"] = {
            "python": platform.python_version(),
            "django": django.get_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        }
        result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        path = RESULTS_DIR / f"{connection.vendor}-{events}.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"  -> {path.relative_to(BENCH_DIR.parent)}")
    connection.close()
    if args.database_url.startswith("sqlite"):
        SQLITE_FILE.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
