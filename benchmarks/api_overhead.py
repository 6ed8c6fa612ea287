"""Where a small API list call spends its time when the SQL is cheap (issue #7: the 10-row risk page
on SQLite is ~2 ms of SQL and tens of ms of Python). Measured in-process with Django's test client,
so no server or network is in the figures:

    python -m benchmarks.api_overhead                 # generates 10,000 risks in one agency (SQLite)
    python -m benchmarks.api_overhead --reuse         # the same file again
    python -m benchmarks.api_overhead --database benchmarks/national-sqlite-10k.sqlite3   # national_run's

Prints and writes benchmarks/results/api-overhead-sqlite-10000.json: the median and minimum of the
whole call and of its pieces (token authentication, the filter backend with no filter sent,
building the filterset and its queryset, reading the page's many-to-many relations, serialising
the page, rendering its JSON), with the query count and the SQL of one call replayed on a plain
cursor.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

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
    parser.add_argument("--database", help="an SQLite file generated before (e.g. by national_run), measured as it is")
    args = parser.parse_args(argv)
    sqlite_file = Path(args.database).resolve() if args.database else SQLITE_FILE
    database_url = f"sqlite:///{sqlite_file}"
    configure_environment(database_url)
    sys.path.insert(0, str(BENCH_DIR.parent))
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client, RequestFactory
    from rest_framework.request import Request

    from benchmarks.national import generate
    from benchmarks.national_run import bench_credentials, capture_in_process, replay_sql
    from qgov.api.authentication import ApiTokenAuthentication
    from qgov.api.filters import QgovFilterBackend
    from qgov.api.viewsets import attach_brief_values
    from qgov.permissions import request_scope
    from risks.api import RiskSerializer, RiskViewSet
    from risks.filters import RiskFilterSet
    from risks.models import Risk

    if args.database:
        if not sqlite_file.exists():
            raise SystemExit(f"{sqlite_file}: no such file")
        call_command("migrate", verbosity=0)
    elif not (args.reuse and SQLITE_FILE.exists()):
        fresh_database(database_url)
        call_command("migrate", verbosity=0)
        generate(0.01, 7, 1, log=lambda *_: None)
    else:
        call_command("migrate", verbosity=0)
    key, user = bench_credentials()
    client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    request = Request(RequestFactory().get(PATH))
    request.user = user
    token_request = Request(RequestFactory().get(PATH, HTTP_AUTHORIZATION=f"Token {key}"))
    view = RiskViewSet(request=request, action="list", format_kwarg=None, kwargs={})
    loads = view.brief_value_loads(Risk)

    def call():
        assert client.get(PATH).status_code == 200

    def authenticate():
        with request_scope():
            return ApiTokenAuthentication().authenticate(token_request)

    def filter_backend():
        return QgovFilterBackend().filter_queryset(request, Risk.objects.all(), view)

    def filterset():
        return RiskFilterSet(request.query_params, Risk.objects.all(), request=request,
                             unknown_ids_match_nothing=True).qs

    page = list(Risk.objects.select_related("agency", "owner").order_by("pk")[:10])

    def relations():
        attach_brief_values(page, loads)

    def serialise():
        return RiskSerializer(page, many=True, context={"request": request}).data

    relations()
    data = serialise()
    renderer = client.get(PATH).renderer_context["view"].get_renderers()[0]

    def render():
        return renderer.render(data)

    _status, statements = capture_in_process(client, PATH)
    result = {
        "benchmark": "api-overhead", "label": args.label, "path": PATH, "database": sqlite_file.name,
        "risks": Risk.objects.count(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(), "load_average": os.getloadavg(),
        "call": timed(call, args.repeats),
        "authenticate": timed(authenticate, args.repeats),
        "filter_backend_nothing_sent": timed(filter_backend, args.repeats),
        "filterset_and_queryset": timed(filterset, args.repeats),
        "relations_10_rows": timed(relations, args.repeats),
        "serialise_10_rows": timed(serialise, args.repeats),
        "render_10_rows": timed(render, args.repeats),
        "queries": len(statements),
        "raw_sql_ms": round(replay_sql(statements) * 1000, 2),
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    name = f"api-overhead-sqlite-10000{'-' + args.label if args.label else ''}.json"
    (RESULTS_DIR / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
