"""Time the risk register's CSV and XLSX exports (`/risks/register/?export=csv|xlsx`) on synthetic data.

    python -m benchmarks.exports                       # SQLite, 10,000 and 100,000 risks
    python -m benchmarks.exports --risks 10000 --database-url postgres://postgres@127.0.0.1:5432/qgov_exports_bench
    python -m benchmarks.exports --sqlite-file benchmarks/national-sqlite-10k.sqlite3 --repeats 9
    python -m benchmarks.exports --sqlite-file benchmarks/national-sqlite-10k.sqlite3 --code /tmp/before  # same minute
    python -m benchmarks.exports --sqlite-file benchmarks/national-sqlite-10k.sqlite3 --profile csv

Each size gets a fresh database (see benchmarks/run.py; a PostgreSQL name must end in "_bench").
Data: the import benchmark's agency (its matrix, 20 members, 40 threat vectors, 300 assets, 150
controls; benchmarks/imports.py), then N risks written with bulk_create (no audit events: the audit
trail is not what is measured), each with 3 threat vectors, 2 assets, 2 controls, an owner, three
ratings, a treatment, a review date (a fifth of them overdue) and a 200-character description;
every tenth risk has an acceptance, every hundredth a title that starts a formula.

Timed in-process through Django's test client as the agency's auditor (a logged-in session): the
whole request, the response read to its end chunk by chunk as a server would send it (never held
whole). Per format: R timed downloads (default 3; wall time and the CPU time of the thread that
serves it, which a machine loaded by other work inflates less) after one untimed one whose SQL
queries are counted; peak memory as the RSS growth over the process's size before the download (sampled every
5 ms in a thread) and, in one more run, tracemalloc's peak of Python allocations. Results go to
benchmarks/results/export-<backend>-<risks>.json.

`--sqlite-file` times a copy of an existing SQLite database instead (the national suite's
`national-sqlite-10k.sqlite3`; the file itself is never written), as its `bench-largest` user
(`--user`). `--code DIR` imports the application from another checkout (e.g. a `git archive` of the
code before a change) so that before and after are measured in the same minute on the same data;
`--profile csv|xlsx` prints a cProfile of one download instead of timing.
"""

import argparse
import datetime
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import UTC, timedelta

from benchmarks.imports import QueryCounter, generate_world
from benchmarks.run import (
    BENCH_DIR,
    RESULTS_DIR,
    SQLITE_FILE,
    configure_environment,
    fresh_database,
    machine,
    summarise,
)

FORMATS = ("csv", "xlsx")
BATCH = 5000
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def generate_risks(count: int, world: dict, seed: int = 3) -> dict:
    """`count` risks of the world's agency with their links and acceptances, by bulk_create."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from risks.models import Asset, Control, Risk, RiskAcceptance, RiskMatrix, ThreatVector

    rng = random.Random(seed)
    agency = world["agency"]
    matrix = RiskMatrix.objects.get(agency=agency)
    owners = list(get_user_model().objects.filter(username__in=world["members"]))
    vectors = list(ThreatVector.objects.values_list("pk", flat=True))
    assets = list(Asset.objects.filter(agency=agency).values_list("pk", flat=True))
    controls = list(Control.objects.filter(agency=agency).values_list("pk", flat=True))
    today = timezone.localdate()
    links = {"threat_vectors": (Risk.threat_vectors.through, "threatvector_id", vectors, 3),
             "assets": (Risk.assets.through, "asset_id", assets, 2),
             "controls": (Risk.controls.through, "control_id", controls, 2)}
    acceptances = 0
    for start in range(0, count, BATCH):
        with transaction.atomic():
            batch = []
            for i in range(start + 1, min(count, start + BATCH) + 1):
                inherent = rng.randint(1, 5), rng.randint(1, 5)
                current = max(1, inherent[0] - 1), inherent[1]
                residual = max(1, inherent[0] - 2), max(1, inherent[1] - 1)
                rating_score = current[0] * current[1]
                band = matrix.band_for(rating_score)
                title = f'=HYPERLINK("http://evil.example/?{i}","Risk {i}")' if i % 100 == 0 else \
                    f"Synthetic risk {i}: detector blinding on link {i % 300}"
                batch.append(Risk(
                    agency=agency, matrix=matrix, reference=f"R-{i:06d}", title=title,
                    description=("Generated for the export benchmark. " * 6)[:200],
                    inherent_likelihood=inherent[0], inherent_impact=inherent[1],
                    current_likelihood=current[0], current_impact=current[1],
                    residual_likelihood=residual[0], residual_impact=residual[1],
                    inherent_score=inherent[0] * inherent[1], residual_score=residual[0] * residual[1],
                    rating_score=rating_score, rating=band["name"] if band else "",
                    treatment=rng.choice(["mitigate", "transfer", "avoid", "accept"]), owner=rng.choice(owners),
                    review_date=today + timedelta(days=rng.randint(-90, 600)), status="assessed"))
            risks = Risk.objects.bulk_create(batch)
            for through, column, targets, per_risk in links.values():
                through.objects.bulk_create([through(risk_id=risk.pk, **{column: target}) for risk in risks
                                             for target in rng.sample(targets, per_risk)])
            accepted = [RiskAcceptance(agency=agency, risk=risk, requested_by=rng.choice(owners),
                                       rationale="Accepted until the link is replaced.", status="approved",
                                       valid_until=today + timedelta(days=rng.randint(30, 365)))
                        for risk in risks if int(risk.reference[2:]) % 10 == 0]
            RiskAcceptance.objects.bulk_create(accepted)
            acceptances += len(accepted)
    return {"risks": count, "acceptances": acceptances,
            "links_per_risk": {name: per_risk for name, (_t, _c, _targets, per_risk) in links.items()}}


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE


class RssSampler(threading.Thread):
    """The largest resident set size seen while it runs, sampled every 5 ms."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak, self.running = rss_bytes(), True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_bytes())
            time.sleep(0.005)

    def stop(self) -> int:
        self.running = False
        self.join()
        return max(self.peak, rss_bytes())


def download(client, export_format: str) -> tuple[int, int]:
    """One export read to its end chunk by chunk, as a server sends it: (status, bytes)."""
    response = client.get("/risks/register/", {"export": export_format})
    size = 0
    for chunk in response.streaming_content if response.streaming else [response.content]:
        size += len(chunk)
    response.close()
    return response.status_code, size


def measure(client, export_format: str, repeats: int) -> dict:
    import gc

    from django.db import connection

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        status, size = download(client, export_format)
    if status != 200:
        raise SystemExit(f"{export_format}: HTTP {status}")
    samples, cpu, rss_growth = [], [], []
    for _ in range(repeats):
        gc.collect()
        sampler = RssSampler()
        baseline = sampler.peak
        sampler.start()
        start, start_cpu = time.perf_counter(), time.thread_time()
        download(client, export_format)
        samples.append(time.perf_counter() - start)
        cpu.append(time.thread_time() - start_cpu)
        rss_growth.append(sampler.stop() - baseline)
    gc.collect()
    tracemalloc.start()
    download(client, export_format)
    _current, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result = {**summarise(samples), "cpu_median_ms": round(statistics.median(cpu) * 1000, 2),
              "queries": counter.count, "bytes": size,
              "rss_growth_peak_mb": round(max(rss_growth) / 2**20, 1),
              "tracemalloc_peak_mb": round(traced_peak / 2**20, 1)}
    print(f"  {export_format:4}  median {result['median_ms'] / 1000:7.2f} s  (min {result['min_ms'] / 1000:.2f}, "
          f"max {result['max_ms'] / 1000:.2f}, CPU {result['cpu_median_ms'] / 1000:.2f})  "
          f"{size / 2**20:7.1f} MB  {counter.count:4} queries  "
          f"RSS +{result['rss_growth_peak_mb']} MB  tracemalloc peak {result['tracemalloc_peak_mb']} MB")
    return result


def run_size(count: int, database_url: str, repeats: int) -> dict:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from qgov.choices import RoleChoices
    from qgov.models import Membership

    connection.close()
    fresh_database(database_url)
    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    world = generate_world()
    data = generate_risks(count, world)
    generation_s = time.perf_counter() - start
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    auditor = Membership.objects.filter(agency=world["agency"], role=RoleChoices.EDITOR).first().user
    Membership.objects.filter(agency=world["agency"], user=auditor).update(role=RoleChoices.AUDITOR)
    client = Client()
    client.force_login(auditor)
    print(f"{connection.vendor}, {count} risks (generated in {generation_s:.1f} s):")
    results = {export_format: measure(client, export_format, repeats) for export_format in FORMATS}
    return {"backend": connection.vendor, "data": data, "generation_s": round(generation_s, 1),
            "exports": results}


def run_file(path: str, username: str, repeats: int, profile: str | None) -> dict:
    """The exports of a copy of an existing SQLite database, as `username`."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    if profile:
        import cProfile
        import pstats

        download(client, profile)
        profiler = cProfile.Profile()
        profiler.runcall(download, client, profile)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return {}
    print(f"{path}: load average {os.getloadavg()}")
    return {"database_file": path, "exports": {export_format: measure(client, export_format, repeats)
                                               for export_format in FORMATS}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--risks", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--repeats", type=int, default=3, help="timed downloads per format (default 3)")
    parser.add_argument("--label", default="", help="suffix of the results file (e.g. before)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{SQLITE_FILE}"))
    parser.add_argument("--sqlite-file", help="time a copy of this SQLite database instead of generating data")
    parser.add_argument("--user", default="bench-largest", help="with --sqlite-file: who downloads")
    parser.add_argument("--code", help="import the application from this checkout (same-minute before/after)")
    parser.add_argument("--profile", choices=FORMATS, help="with --sqlite-file: a cProfile of one download")
    args = parser.parse_args(argv)

    copy = None
    if args.sqlite_file:
        copy = tempfile.NamedTemporaryFile(suffix=".sqlite3", delete=False)  # noqa: SIM115 (removed below)
        shutil.copyfile(args.sqlite_file, copy.name)
        args.database_url = f"sqlite:///{copy.name}"
    configure_environment(args.database_url)
    if args.code:
        os.chdir(args.code)
    sys.path.insert(0, str(args.code or BENCH_DIR.parent))
    import django

    django.setup()
    from django.db import connection

    RESULTS_DIR.mkdir(exist_ok=True)
    if copy is not None:
        try:
            result = run_file(args.sqlite_file, args.user, args.repeats, args.profile)
        finally:
            connection.close()
            os.unlink(copy.name)
        if result:
            result.update(machine=machine(), code=args.code or str(BENCH_DIR.parent),
                          measured_at=datetime.datetime.now(UTC).isoformat(timespec="seconds"))
            label = f"-{args.label}" if args.label else ""
            path = RESULTS_DIR / f"export-file-{os.path.basename(args.sqlite_file).split('.')[0]}{label}.json"
            path.write_text(json.dumps(result, indent=2) + "\n")
            print(f"  -> {path}")
        return
    for count in args.risks:
        result = run_size(count, args.database_url, args.repeats)
        result["machine"] = machine()
        result["measured_at"] = datetime.datetime.now(UTC).isoformat(timespec="seconds")
        suffix = f"-{args.label}" if args.label else ""
        path = RESULTS_DIR / f"export-{connection.vendor}-{count}{suffix}.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"  -> {path.relative_to(BENCH_DIR.parent)}")
    connection.close()
    if args.database_url.startswith("sqlite"):
        SQLITE_FILE.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
