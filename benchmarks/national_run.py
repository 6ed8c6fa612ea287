"""The national-scale suite of issue #7: lists, search, deep pages, the register page and exports,
served by gunicorn over loopback and measured from this process.

    python -m benchmarks.national_run --label before                 # every profile (see below)
    python -m benchmarks.national_run --label after --reuse          # same data, migrated, measured again
    python -m benchmarks.national_run --profiles sqlite-10k --label before
    python -m benchmarks.national_run --profiles national --database-url postgres://postgres@127.0.0.1:5432/qgov_national_bench

Profiles:
  national    PostgreSQL, --scale (default 1.0): 200 agencies, 1,000,000 risks; API 50-row page, with
              ?status=, ?q=, ?offset=90000 and a keyset cursor, as an editor of the largest agency
              (100,000 risks); the register page of that agency; wrk on the 50-row page.
  sqlite-10k  SQLite, one agency with 10,000 risks: API 10-row page and its throughput (wrk),
              the register page, CSV and XLSX exports (benchmarks/exports.py's measure()).
  sqlite-100k SQLite, one agency with 100,000 risks: the register page.

Each profile's database is generated (benchmarks/national.py) unless --reuse finds one generated
with the same scale, in which case only `migrate` runs (the AFTER run measures the same rows with
the new indexes). A PostgreSQL database's name must end in "_bench" (it is dropped and created).
Results: benchmarks/results/national-<backend>-<scale>-<label>.json; then benchmarks/RESULTS.md is
written from every such file (benchmarks/national_report.py).
"""

import argparse
import importlib.metadata
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from benchmarks.run import BENCH_DIR, RESULTS_DIR, fresh_database, summarise

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/qgov_national_bench"
ROOT = BENCH_DIR.parent
PROFILES = {
    "national": {"scale": 1.0, "agencies": None, "backend": "postgresql"},
    "sqlite-10k": {"scale": 0.01, "agencies": 1, "backend": "sqlite"},
    "sqlite-100k": {"scale": 0.1, "agencies": 1, "backend": "sqlite"},
}
STATUS_FILTER = "in_treatment"
CURSOR_PARAM = "cursor"


def postgres_reachable(url: str) -> bool:
    import environ
    import psycopg

    config = environ.Env.db_url_config(url)
    try:
        psycopg.connect(dbname="postgres", user=config["USER"] or None, host=config["HOST"] or None,
                        port=config["PORT"] or None, connect_timeout=3).close()
        return True
    except psycopg.OperationalError:
        return False


def server_environment(database_url: str) -> dict:
    """Production settings (DEBUG off) as docs and README describe, HTTPS redirect off for loopback,
    no per-token rate limit."""
    return {
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(48),
        "QGOV_AUDIT_KEY": os.environ.get("QGOV_AUDIT_KEY") or secrets.token_urlsafe(48),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "DJANGO_HTTPS": "0",
        "QGOV_MANIFEST_STATIC": "0",
        # wrk sends one token's requests as fast as the server answers: the per-token limit (600 a
        # minute by default) would time 429s. The suite measures the app, not its throttle.
        "QGOV_API_TOKEN_RATE_LIMIT": "",
        "DJANGO_SETTINGS_MODULE": "qgov.settings",
    }


def cpu_probe_ms() -> float:
    """Milliseconds of CPU for a fixed pure-Python loop, the median of three: how fast the machine's
    CPU is at the moment. On a shared virtual machine it varies by up to 1.7× within a minute (246 to
    427 ms seen on 2026-12-02), more than the load average shows; the run records it at start and
    end so that runs can be compared knowing it."""
    samples = []
    for _ in range(3):
        start, total = time.process_time(), 0
        for number in range(3_000_000):
            total += number * number
        samples.append((time.process_time() - start) * 1000)
    return round(statistics.median(samples), 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn with 3 sync workers on a free loopback port, for one database."""

    def __init__(self, env: dict, workers: int = 3):
        self.port = free_port()
        self.env = {**os.environ, **env}
        self.workers = workers
        self.process = None

    def __enter__(self):
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.process = subprocess.Popen(
            [gunicorn, "qgov.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
             "--worker-class", "sync", "--timeout", "300", "--log-level", "warning"],
            cwd=ROOT, env=self.env, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base}/api/", timeout=5).close()
                return self
            except urllib.error.HTTPError:
                return self  # any HTTP answer (401/403) means it serves
            except OSError:
                if self.process.poll() is not None:
                    raise SystemExit("gunicorn exited at start") from None
                time.sleep(0.5)
        raise SystemExit("gunicorn did not answer within 60 s")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=30)


def http_get(url: str, headers: dict) -> tuple[int, int, bytes]:
    """(status, body bytes, body) of one GET, its body read to the end."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            body = response.read()
            return response.status, len(body), body
    except urllib.error.HTTPError as error:
        body = error.read()
        return error.code, len(body), body


class LoadSampler(threading.Thread):
    """The 1-minute load average every 5 s while a profile runs: the machine is shared."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples, self.running = [], True

    def run(self):
        while self.running:
            self.samples.append(os.getloadavg()[0])
            time.sleep(5)

    def stop(self) -> dict:
        self.running = False
        samples = self.samples or [os.getloadavg()[0]]
        return {"min": round(min(samples), 2), "median": round(statistics.median(samples), 2),
                "max": round(max(samples), 2), "samples": len(samples)}


class StatementRecorder:
    """connection.execute_wrapper that keeps every statement with its parameters."""

    def __init__(self):
        self.statements = []

    def __call__(self, execute, sql, params, many, context):
        self.statements.append((sql, params, many))
        return execute(sql, params, many, context)


def replay_sql(statements, repeats: int = 5) -> float:
    """Median seconds to run the captured statements again with a plain cursor (rows fetched), in a
    transaction rolled back afterwards: the database's share of one request."""
    from django.db import connection, transaction

    skipped = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
    samples = []
    for _ in range(repeats):
        with transaction.atomic():
            with connection.cursor() as cursor:
                start = time.perf_counter()
                for sql, params, many in statements:
                    if sql.lstrip().upper().startswith(skipped):
                        continue
                    if many:
                        cursor.executemany(sql, params)
                    else:
                        cursor.execute(sql, params)
                        if cursor.description is not None:
                            cursor.fetchall()
                samples.append(time.perf_counter() - start)
            transaction.set_rollback(True)
    return statistics.median(samples)


def capture_in_process(client, path: str) -> tuple[int, list]:
    """One request through Django's test client in this process, against the same database:
    its status and its SQL statements."""
    from django.db import connection

    recorder = StatementRecorder()
    with connection.execute_wrapper(recorder):
        response = client.get(path)
        if response.streaming:
            for _chunk in response.streaming_content:
                pass
    return response.status_code, recorder.statements


def measure_page(name: str, server_base: str | None, path: str, *, client, headers: dict, repeats: int,
                 warmup: int) -> dict:
    """Median and p95 over HTTP (when a server is given, else in-process), SQL queries per request,
    and the time of the raw SQL replayed, so that the framework overhead reads as a ratio."""
    status, statements = capture_in_process(client, path)
    if status == 400:
        print(f"  {name:44} n/a (HTTP 400: the parameter does not exist yet)")
        return {"path": path, "status": 400, "skipped": "n/a before: the endpoint answers 400"}
    if status != 200:
        raise SystemExit(f"{name}: {path}: HTTP {status}")
    sql_s = replay_sql(statements)
    samples, size = [], 0
    for i in range(warmup + repeats):
        start = time.perf_counter()
        if server_base:
            code, size, _body = http_get(server_base + path, headers)
        else:
            response = client.get(path)
            code = response.status_code
            size = len(response.content) if not response.streaming else sum(len(c) for c in response.streaming_content)
        elapsed = time.perf_counter() - start
        if code != 200:
            raise SystemExit(f"{name}: {path}: HTTP {code}")
        if i >= warmup:
            samples.append(elapsed)
    result = {"path": path, "status": 200, **summarise(samples), "queries": len(statements),
              "sql_ms": round(sql_s * 1000, 2), "bytes": size, "over_http": bool(server_base)}
    result["sql_share"] = round(result["sql_ms"] / result["median_ms"], 3) if result["median_ms"] else None
    print(f"  {name:44} median {result['median_ms']:8.1f} ms  p95 {result['p95_ms']:8.1f} ms  "
          f"{result['queries']:3} queries, SQL {result['sql_ms']:7.1f} ms ({result['sql_share']:.0%})")
    return result


def measure_cursor(name: str, server_base: str, client, headers: dict, repeats: int, warmup: int,
                   pages: int = 20) -> dict:
    """A keyset page `pages` deep, reached by following `next` links from `?cursor=` (DRF's
    CursorPagination starts at an empty cursor). Before the fix there is no such parameter: a 400,
    or a `next` link without a cursor, and the measure says n/a."""
    path = f"/api/risks/?limit=50&{CURSOR_PARAM}="
    response = client.get(path)
    nxt = response.json().get("next") if response.status_code == 200 else None
    # An unknown parameter is ignored and kept in the next link, empty: only a cursor value counts.
    if response.status_code == 400 or not nxt or not parse_qs(urlsplit(nxt).query).get(CURSOR_PARAM, [""])[0]:
        print(f"  {name:44} n/a (no keyset cursor in this version)")
        return {"path": path, "status": response.status_code,
                "skipped": "n/a before: no cursor parameter (400 or no cursor in the next link)"}
    for _ in range(pages):
        deeper = client.get(nxt).json().get("next")
        if not deeper:
            break
        nxt = deeper
    deep = re.sub(r"^https?://[^/]+", "", nxt)
    result = measure_page(name, server_base, deep, client=client, headers=headers, repeats=repeats, warmup=warmup)
    result["pages_deep"] = pages
    return result


def throughput(url: str, headers: dict, duration: int) -> dict:
    """wrk -t2 -c3 -d<duration>s on one URL: requests per second, latency, non-2xx/3xx and socket errors."""
    wrk = shutil.which("wrk")
    if not wrk:
        print("  throughput: skipped, wrk is not installed (make bench installs it as root; else "
              "`sudo apt-get install -y wrk`)")
        return {"skipped": "wrk not installed"}
    command = [wrk, "-t2", "-c3", f"-d{duration}s", "--latency"]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    result = {"command": " ".join(["wrk", "-t2", "-c3", f"-d{duration}s"]), "duration_s": duration}
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    result["requests_per_s"] = float(match.group(1)) if match else None
    match = re.search(r"(\d+) requests in", output)
    result["requests"] = int(match.group(1)) if match else None
    match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    result["non_2xx"] = int(match.group(1)) if match else 0
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    result["socket_errors"] = sum(int(n) for n in match.groups()) if match else 0
    match = re.search(r"50%\s+([\d.]+)(us|ms|s)", output)
    if match:
        factor = {"us": 0.001, "ms": 1, "s": 1000}[match.group(2)]
        result["latency_p50_ms"] = round(float(match.group(1)) * factor, 2)
    print(f"  {'throughput (wrk -t2 -c3)':44} {result['requests_per_s']} req/s, "
          f"{result['non_2xx']} non-2xx, {result['socket_errors']} socket errors")
    return result


def versions() -> dict:
    import django
    from django.db import connection

    found = {"python": platform.python_version(), "django": django.get_version(), "sqlite": sqlite3.sqlite_version}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            found["postgresql"] = cursor.fetchone()[0]
    found["gunicorn"] = importlib.metadata.version("gunicorn")
    return found


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def prepare_database(database_url: str, scale: float, agencies: int | None, seed: int, reuse: bool) -> dict:
    """Generate the profile's dataset into a fresh database, or with --reuse keep a matching one and
    only migrate it. Returns the dataset's record (benchmarks.national.dataset_info)."""
    from django.core.management import call_command
    from django.db import connection

    from benchmarks.national import dataset_info, generate

    if reuse:
        try:
            info = dataset_info()
        except Exception:  # no such database yet
            info = None
            connection.close()
        if info and info["scale"] == scale and info.get("agencies_option") == agencies and info["seed"] == seed:
            print(f"reusing the generated dataset ({info['counts']['risks']:,} risks); migrating")
            call_command("migrate", verbosity=0)
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
            return {**info, "reused": True}
        print("no matching generated dataset to reuse: generating one")
    connection.close()
    fresh_database(database_url)
    call_command("migrate", verbosity=0)
    print(f"generating scale {scale} (agencies: {agencies or 'national'}, seed {seed})")
    return {**generate(scale, seed, agencies, log=print), "reused": False}


def bench_credentials() -> tuple[str, object]:
    """An API token (bulk-written: no audit event) and the bench user, editor of the largest agency."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from qgov.models import ApiToken

    user = get_user_model().objects.get(username="bench-largest")
    key = ApiToken.generate_key()
    token = ApiToken(user=user, name="benchmark", scopes=["read", "write"], expires=timezone.now() + timedelta(days=1))
    token.set_key(key)
    ApiToken.objects.bulk_create([token])
    return key, user


def run_profile(profile: str, args) -> dict:
    from django.db import connection
    from django.test import Client

    spec = PROFILES[profile]
    scale = args.scale if profile == "national" else spec["scale"]
    database_url = os.environ["DATABASE_URL"]
    print(f"== {profile}: {database_url}")
    load = LoadSampler()
    load.start()
    load_start = [round(x, 2) for x in os.getloadavg()]
    probe_start = cpu_probe_ms()
    dataset = prepare_database(database_url, scale, spec["agencies"], args.seed, args.reuse)
    key, user = bench_credentials()
    api_headers = {"Authorization": f"Token {key}", "Host": "127.0.0.1"}
    api_client = Client(HTTP_AUTHORIZATION=f"Token {key}")
    browser = Client()
    browser.force_login(user)  # a database session: gunicorn's workers read the same one
    browser_headers = {"Cookie": f"sessionid={browser.cookies['sessionid'].value}", "Host": "127.0.0.1"}
    word = dataset.get("search_word", "blinding")
    measures = {}
    timing = {"repeats": args.repeats, "warmup": args.warmup}
    with Gunicorn(server_environment(database_url)) as server:
        def page(name, path, client=api_client, headers=api_headers):
            measures[name] = measure_page(name, server.base, path, client=client, headers=headers, **timing)

        if profile == "national":
            page("api_50", "/api/risks/?limit=50")
            page("api_50_status", f"/api/risks/?limit=50&status={STATUS_FILTER}")
            page("api_50_q", f"/api/risks/?limit=50&q={word}")
            page("api_50_offset_90000", "/api/risks/?limit=50&offset=90000")
            measures["api_50_cursor_deep"] = measure_cursor("api_50_cursor_deep", server.base, api_client,
                                                            api_headers, **timing)
            page("register_page", "/risks/register/", browser, browser_headers)
            if not args.no_wrk:
                measures["throughput_api_50"] = throughput(server.base + "/api/risks/?limit=50", api_headers,
                                                           args.wrk_duration)
        elif profile == "sqlite-10k":
            page("api_10", "/api/risks/?limit=10")
            if not args.no_wrk:
                measures["throughput_api_10"] = throughput(server.base + "/api/risks/?limit=10", api_headers,
                                                           args.wrk_duration)
            page("register_page", "/risks/register/", browser, browser_headers)
        else:
            page("register_page", "/risks/register/", browser, browser_headers)
    if profile == "sqlite-10k" and not args.no_exports:
        from benchmarks.exports import measure as measure_export

        for export_format in ("csv", "xlsx"):
            measures[f"export_{export_format}"] = {
                **measure_export(browser, export_format, args.export_repeats), "over_http": False}
    result = {
        "profile": profile, "label": args.label, "backend": connection.vendor, "scale": scale,
        "database": connection.settings_dict["NAME"] if connection.vendor == "postgresql" else "sqlite file",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": dataset, "method": {**timing, "gunicorn_workers": 3, "debug": False, "status_filter": STATUS_FILTER,
                                       "search_word": word, "export_repeats": args.export_repeats},
        "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "platform": platform.platform(),
                    "load_average_at_start": load_start, "load_average_1m_during": load.stop(),
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
                    "cpu_probe_ms": {"start": probe_start, "end": cpu_probe_ms()}},
        "versions": versions(), "measures": measures,
    }
    connection.close()
    return result


def result_path(result: dict) -> Path:
    return RESULTS_DIR / f"national-{result['backend']}-{result['scale']}-{result['label']}.json"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profiles", nargs="+", choices=list(PROFILES), default=None,
                        help="default: national (when PostgreSQL is reachable), sqlite-10k, sqlite-100k")
    parser.add_argument("--label", default="before", help="before or after (RESULTS.md has a column per label)")
    parser.add_argument("--reuse", action="store_true", help="keep a generated database; only migrate it")
    parser.add_argument("--scale", type=float, default=1.0, help="the national profile's scale (default 1.0)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=20, help="timed requests per page (default 20)")
    parser.add_argument("--warmup", type=int, default=10,
                        help="untimed requests first (default 10: the 3 sync workers take connections as they come, "
                             "so 3 left one worker cold for a timed request)")
    parser.add_argument("--export-repeats", type=int, default=3)
    parser.add_argument("--wrk-duration", type=int, default=30)
    parser.add_argument("--no-wrk", action="store_true")
    parser.add_argument("--no-exports", action="store_true")
    parser.add_argument("--one-profile", choices=list(PROFILES), help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_POSTGRES_URL),
                        help=f"PostgreSQL for the national profile (default {DEFAULT_POSTGRES_URL}); "
                             "its name must end in _bench")
    args = parser.parse_args(argv)
    if args.profiles is None and not args.one_profile:
        args.profiles = ["sqlite-10k", "sqlite-100k"]
        if postgres_reachable(args.database_url):
            args.profiles.insert(0, "national")
        else:
            print(f"PostgreSQL at {args.database_url} is not reachable: the national profile is skipped")

    if args.one_profile:
        profile = args.one_profile
        database_url = args.database_url if PROFILES[profile]["backend"] == "postgresql" else \
            f"sqlite:///{BENCH_DIR / f'national-{profile}.sqlite3'}"
        os.environ.update(server_environment(database_url))
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        RESULTS_DIR.mkdir(exist_ok=True)
        result = run_profile(profile, args)
        path = result_path(result)
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"  -> {path.relative_to(ROOT)}")
        return
    # One process per profile: a process's Django connection is bound to one database backend.
    passed = ["--label", args.label, "--scale", str(args.scale), "--seed", str(args.seed), "--repeats",
              str(args.repeats), "--warmup", str(args.warmup), "--export-repeats", str(args.export_repeats),
              "--wrk-duration", str(args.wrk_duration), "--database-url", args.database_url,
              *[flag for flag, on in (("--reuse", args.reuse), ("--no-wrk", args.no_wrk),
                                      ("--no-exports", args.no_exports)) if on]]
    failed = []
    for profile in args.profiles:
        code = subprocess.call([sys.executable, "-m", "benchmarks.national_run", *passed, "--one-profile", profile],
                               cwd=ROOT)
        if code:
            failed.append(profile)
    from benchmarks.national_report import write_report

    print(f"  -> {write_report().relative_to(ROOT)}")
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
