"""Where a small API list call spends its time when the SQL is cheap (issue #7: the 10-row risk page
on SQLite is ~2 ms of SQL and tens of ms of Python). Measured in-process with Django's test client,
so no server or network is in the figures:

    python -m benchmarks.api_overhead                 # generates 10,000 risks in one agency (SQLite)
    python -m benchmarks.api_overhead --reuse         # the same file again

Prints and writes benchmarks/results/api-overhead-sqlite-10000.json: the median and minimum of the
whole call, of building the filterset and its queryset, and of serialising the page, with the
query count and the SQL of one call replayed on a plain cursor.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime

from benchmarks.run import BENCH_DIR, RESULTS_DIR, configure_environment, fresh_database

SQLITE_FILE = BENCH_DIR / "api-overhead.sqlite3"
PATH = "/api/risks/?limit=10"


def timed(function, repeats: int) -> dict:
    for _ in range(3):
        function()
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        function()
        samples.append((time.perf_counter() - began) * 1000)
    return {"median_ms": round(statistics.median(samples), 2), "min_ms": round(min(samples), 2),
            "repeats": repeats}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reuse", action="store_true", help="measure the database generated before")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--label", default="")
    args = parser.parse_args(argv)
    database_url = f"sqlite:///{SQLITE_FILE}"
    configure_environment(database_url)
    sys.path.insert(0, str(BENCH_DIR.parent))
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client, RequestFactory
    from rest_framework.request import Request

    from benchmarks.national import generate
    from benchmarks.national_run import bench_credentials, capture_in_process, replay_sql
    from risks.api import RiskSerializer
    from risks.filters import RiskFilterSet
    from risks.models import Risk

    if not (args.reuse and SQLITE_FILE.exists()):
        fresh_database(database_url)
        call_command("migrate", verbosity=0)
        generate(0.01, 7, 1, log=lambda *_: None)
    else:
        call_command("migrate", verbosity=0)
    key, user = bench_credentials()
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    request = Request(RequestFactory().get(PATH))
    request.user = user

    def call():
        assert client.get(PATH).status_code == 200

    def filterset():
        return RiskFilterSet(request.query_params, Risk.objects.all(), request=request,
                             unknown_ids_match_nothing=True).qs

    page = list(Risk.objects.prefetch_related("threat_vectors", "assets", "controls")[:10])

    def serialise():
        return RiskSerializer(page, many=True, context={"request": request}).data

    _status, statements = capture_in_process(client, PATH)
    result = {
        "benchmark": "api-overhead", "label": args.label, "path": PATH, "risks": Risk.objects.count(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(), "load_average": os.getloadavg(),
        "call": timed(call, args.repeats),
        "filterset_and_queryset": timed(filterset, args.repeats),
        "serialise_10_rows": timed(serialise, args.repeats),
        "queries": len(statements),
        "raw_sql_ms": round(replay_sql(statements) * 1000, 2),
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    name = f"api-overhead-sqlite-10000{'-' + args.label if args.label else ''}.json"
    (RESULTS_DIR / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
