"""The risk-register report of a 10,000-risk agency, end to end, as a worker builds it.

    .venv/bin/python -m benchmarks.report_register [--risks 10000] [--processes 1] [--record]

The data is the national generator's (benchmarks/national.py, seed 7) scaled to one agency of
`--risks` risks with their threat vectors, assets and controls, in a SQLite file of its own
(benchmarks/national-report-<risks>.sqlite3, made once and reused). A child process then requests the
register report as an agency auditor and runs the report service as the Celery task would: the
sections read in batches, CSV, JSON, the PDF/A-3b laid out in volumes, the signature, the files
stored. Measured in the child: wall and CPU time of the run, and its peak RSS over its whole life
(Python, Django, WeasyPrint). Results go to benchmarks/results/ and, with --record, a row of
benchmarks/RESULTS-reports.md.
"""

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
RESULTS_FILE = ROOT / "benchmarks" / "RESULTS-reports.md"


def database_url(risks: int) -> str:
    return f"sqlite:///{ROOT / 'benchmarks' / f'national-report-{risks}.sqlite3'}"


def ensure_dataset(risks: int) -> None:
    path = Path(database_url(risks).removeprefix("sqlite:///"))
    if path.exists():
        return
    subprocess.run([sys.executable, "-m", "benchmarks.national", "--scale", str(risks / 1_000_000), "--agencies", "1",
                    "--database-url", database_url(risks)], cwd=ROOT, check=True)


def child(risks: int, processes: int) -> dict:
    from benchmarks.run import configure_environment

    configure_environment(database_url(risks))
    media = tempfile.mkdtemp(prefix="qgov-report-bench-")
    os.environ["MEDIA_ROOT"] = media
    os.environ["QGOV_REPORT_SIGNING_KEY"] = f"{media}/key.pem"
    os.environ["QGOV_REPORT_SIGNING_CERT"] = f"{media}/certificate.pem"
    os.environ["QGOV_REPORT_PDF_PROCESSES"] = str(processes)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from qgov.choices import RoleChoices
    from qgov.models import Agency, Membership, ReportRun
    from qgov.reports import services
    from qgov.reports.signing import ensure_development_key_pair
    from risks.models import Risk

    call_command("migrate", verbosity=0)  # a dataset made before the reports' migration
    ensure_development_key_pair()
    agency = Agency.objects.order_by("pk").first()
    auditor = Membership.objects.filter(agency=agency, role=RoleChoices.AUDITOR).select_related("user").first().user
    # Queued as the request service would (its own on-commit run is what is measured below).
    run = ReportRun.objects.create(agency=agency, kind="risk_register", as_of=timezone.now(), requested_by=auditor)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started, cpu = time.perf_counter(), time.process_time()
    run = services.report_run_execute(run_id=run.pk)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    files = {report_file.format: report_file for report_file in run.files.all()}
    return {"risks": Risk.objects.filter(agency=agency).count(),
            "status": run.status, "error": run.error, "processes": processes,
            "seconds": round(seconds, 1), "cpu_seconds": round(cpu_seconds, 1),
            "pages": files["pdf"].pages if "pdf" in files else None,
            "bytes": {fmt: report_file.size for fmt, report_file in files.items()},
            "rss_before_mb": round(rss_before, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "volume_process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}


def main() -> None:
    from benchmarks.report_pdf import machine

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--risks", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=1, help="PDF volume processes (QGOV_REPORT_PDF_PROCESSES)")
    parser.add_argument("--record", action="store_true", help="append the figures to RESULTS-reports.md")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(child(options.risks, options.processes)))
        return
    ensure_dataset(options.risks)
    output = subprocess.run([sys.executable, "-m", "benchmarks.report_register", "--child", "--risks",
                             str(options.risks), "--processes", str(options.processes)], cwd=ROOT, check=True,
                            capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["machine"] = machine()
    result["when"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    RESULTS_DIR.mkdir(exist_ok=True)
    name = f"report-register-{options.risks}-processes-{options.processes}.json"
    (RESULTS_DIR / name).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if options.record:
        with RESULTS_FILE.open("a") as results:
            results.write(
                f"| {result['when']} | register report end to end, {result['risks']:,} risks, {options.processes} "
                f"process(es) | {result['pages']:,} | {result['bytes'].get('pdf', 0) / 2 ** 20:.1f} MB "
                f"| {result['seconds']:.1f} s ({result['cpu_seconds']:.1f} s CPU) | {result['peak_rss_mb']:.0f} MB "
                f"({result['rss_before_mb']:.0f} before) | {result['machine']['load_average_1m']} |\n")


if __name__ == "__main__":
    main()
