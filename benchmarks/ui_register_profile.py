"""Times and profiles the browser register page (/risks/register/) at a given scale, in process
through django.test.Client with DEBUG off: median of repeated requests, SQL queries per page with
their time, and a cProfile of one request. The data is made with bulk inserts (no audit events).

    DJANGO_DEBUG=0 DJANGO_SECRET_KEY=… DJANGO_ALLOWED_HOSTS=testserver QGOV_AUDIT_KEY=… \\
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qgov_ui python -m benchmarks.ui_register_profile --risks 10000

Against a database of the national suite (benchmarks/national.py), as its benchmark user, with the
query plan of every query of the page:

    DATABASE_URL=sqlite:////…/benchmarks/national-sqlite-100k.sqlite3 … \\
    python -m benchmarks.ui_register_profile --user bench-largest --explain --repeat 30
"""

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qgov.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from qgov.choices import RoleChoices  # noqa: E402
from qgov.models import Agency, Membership  # noqa: E402
from risks.models import Asset, Risk, ThreatVector  # noqa: E402
from risks.services import risk_matrix_ensure  # noqa: E402


def make_data(risks: int, assets: int, seed: int = 7):
    rng = random.Random(seed)
    agency = Agency.objects.create(name=f"Profile agency {risks}", code=f"PROF-{risks}")
    other = Agency.objects.create(name=f"Other agency {risks}", code=f"OTHR-{risks}")
    matrix = risk_matrix_ensure(agency)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create(username=f"profile-{risks}")
    Membership.objects.create(agency=agency, user=user, role=RoleChoices.VIEWER)
    vectors = list(ThreatVector.objects.all()[:40]) or ThreatVector.objects.bulk_create(
        [ThreatVector(code=f"PRF-{i:02d}", title=f"Profile threat {i}", category="qkd_operational",
                      default_likelihood=3, default_impact=3) for i in range(40)])
    asset_rows = Asset.objects.bulk_create(
        [Asset(agency=a, name=f"Asset {a.code} {i:06d}", asset_type="qkd_link", shelf_life_years=10,
               migration_years=3) for a in (agency, other) for i in range(assets)], batch_size=2000)
    asset_rows = [a for a in asset_rows if a.agency_id == agency.pk]
    rows = []
    for i in range(risks):
        il, ii = rng.randint(1, 5), rng.randint(1, 5)
        cl, ci = (rng.randint(1, il), rng.randint(1, ii)) if rng.random() < 0.6 else (None, None)
        rl, ri = (rng.randint(1, il), rng.randint(1, ii)) if rng.random() < 0.5 else (None, None)
        score = (cl or il) * (ci or ii)
        rows.append(Risk(agency=agency, matrix=matrix, reference=f"R-{i + 1:06d}", title=f"Profile risk {i}",
                         description="x" * 400, inherent_likelihood=il, inherent_impact=ii,
                         current_likelihood=cl, current_impact=ci, residual_likelihood=rl, residual_impact=ri,
                         inherent_score=il * ii, residual_score=rl * ri if rl else None, rating_score=score,
                         rating=matrix.band_for(score)["name"], status=rng.choice(["draft", "open", "closed"])))
    created = Risk.objects.bulk_create(rows, batch_size=2000)
    links = Risk.threat_vectors.through
    links.objects.bulk_create([links(risk_id=r.pk, threatvector_id=rng.choice(vectors).pk) for r in created],
                              batch_size=5000)
    asset_links = Risk.assets.through
    asset_links.objects.bulk_create([asset_links(risk_id=r.pk, asset_id=rng.choice(asset_rows).pk)
                                     for r in created], batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return user, asset_rows[len(asset_rows) // 2]


def explain(sql: str, params) -> list[str]:
    """The database's plan of one captured query (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return [f"{'  ' * (parent != 0)}{detail}" for _id, parent, _unused, detail in cursor.fetchall()]
        cursor.execute(f"EXPLAIN {sql}", params)
        return [row[0] for row in cursor.fetchall()]


def captured_with_params(client, url):
    """(sql, params, ms) of each query of one request, through connection.execute_wrapper."""
    captured = []

    def wrapper(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            captured.append((sql, params, (time.perf_counter() - start) * 1000))

    with connection.execute_wrapper(wrapper):
        client.get(url)
    return captured


def replayed_sql_ms(captured, repeat=5) -> float:
    """The page's queries replayed with a plain cursor, every row fetched (SQLite steps through a
    grouped query as its rows are fetched, so the time of execute() alone misses most of it):
    median of `repeat` replays."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        with connection.cursor() as cursor:
            for sql, params, _ms in captured:
                cursor.execute(sql, params)
                cursor.fetchall()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(client, url, repeat):
    if client.get(url).status_code == 404:  # warm; the autocomplete endpoint is newer than some trees
        return None
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)  # this process only: steadier on a busy machine
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    return (statistics.median(times), min(times), max(times), statistics.median(cpu), len(queries), sql_ms,
            queries.captured_queries)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--risks", type=int, default=10_000)
    parser.add_argument("--assets", type=int, default=3_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--show-sql", action="store_true")
    parser.add_argument("--explain", action="store_true", help="the query plan of each query of the page")
    parser.add_argument("--user", help="an existing user (the national suite's bench-largest): no data is made")
    parser.add_argument("--only", help="time only the page whose label is given (e.g. register)")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    if args.user:
        user = get_user_model().objects.get(username=args.user)
        agency = user.memberships.order_by("pk").first().agency
        args.risks = Risk.objects.filter(agency=agency).count()
        asset = Asset.objects.filter(agency=agency).order_by("pk")[Asset.objects.filter(agency=agency).count() // 2]
    elif (user := get_user_model().objects.filter(username=f"profile-{args.risks}").first()) is None:
        started = time.perf_counter()
        user, asset = make_data(args.risks, args.assets)
        print(f"data: {args.risks} risks, {args.assets} assets in {time.perf_counter() - started:.1f} s")
    else:
        asset = Asset.objects.filter(agency__code=f"PROF-{args.risks}").order_by("pk")[args.assets // 2]
    client = Client(headers={"x-forwarded-proto": "https"})  # as behind the TLS proxy
    client.force_login(user)
    print(f"{connection.vendor}, {args.risks} risks")
    for label, url in (("register", "/risks/register/"), ("asset filter", f"/risks/register/?asset={asset.pk}"),
                       ("status filter", "/risks/register/?status=open"),
                       ("autocomplete", "/autocomplete/risks/asset/?q=0042")):
        if args.only and label != args.only:
            continue
        measured = measure(client, url, args.repeat)
        if measured is None:
            continue
        median, low, high, cpu, n, sql_ms, captured = measured
        html = client.get(url).content
        raw_sql_ms = replayed_sql_ms(captured_with_params(client, url))
        print(f"  {label:14} median {median:7.1f} ms (min {low:.1f}, max {high:.1f}), CPU {cpu:.1f} ms; "
              f"{n} queries, SQL {sql_ms:.1f} ms as timed by Django, {raw_sql_ms:.1f} ms replayed; "
              f"{len(html) // 1024} KiB")
        if args.show_sql:
            for q in captured:
                print(f"      {float(q['time']) * 1000:6.1f} ms  {q['sql'][:150]}")
        if args.explain:
            for sql, params, ms in captured_with_params(client, url):
                print(f"      {ms:6.1f} ms  {sql[:240]}")
                for line in explain(sql, params):
                    print(f"                 {line}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        client.get("/risks/register/")
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(r"qgov|risks|django_tables2|template", 40)
        stats.sort_stats("tottime").print_stats(25)
        print(out.getvalue())


if __name__ == "__main__":
    main()
