"""Time and size the PDF of a 10,000-row register report (issue #11: < 60 s, peak RSS well under 1 GB).

    .venv/bin/python -m benchmarks.report_pdf                     # 10,000 rows, seed 11, A4
    .venv/bin/python -m benchmarks.report_pdf --rows 2000 --chunk-rows 0   # one unbroken table
    .venv/bin/python -m benchmarks.report_pdf --record            # also append to RESULTS-reports.md

No database: the document is built from the report dataclasses, like a register section builds it —
one section with headline figures, a heat-map SVG, five evidence references and a register table of
N synthetic risks in 8 columns (reference, title of 40–90 characters, owner, status, band, score,
review date, last change), its rows a generator read once, as the PDF reads a queryset's batches.

Each measured render runs in a fresh child process (`--child`): the parent reads the child's
wall time of `render_pdf` and its peak RSS from `resource.getrusage(RUSAGE_SELF).ru_maxrss` (the
child's whole life: Python, Django, WeasyPrint, the render), plus its RSS before rendering. Results go
to benchmarks/results/report-pdf-<rows>-<chunk>.json; the PDF to artifacts/reports/bench-<rows>.pdf.
"""

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
RESULTS_FILE = ROOT / "benchmarks" / "RESULTS-reports.md"
ARTIFACTS = ROOT / "artifacts" / "reports"

WORDS = ("detector", "blinding", "key", "relay", "trusted", "node", "backbone", "harvest", "decrypt", "later",
         "entropy", "source", "firmware", "supplier", "calibration", "drift", "fibre", "tap", "side", "channel",
         "classical", "authentication", "post-quantum", "migration", "HSM", "certificate", "expiry", "link")
OWNERS = ("A. Ahmed", "B. Brown", "C. Costa", "D. Dubois", "E. Eriksen", "F. Fischer", "G. Garcia", "H. Haddad")
STATUSES = ("Draft", "Assessed", "In treatment", "Accepted", "Closed")
BANDS = ("Low", "Medium", "High", "Very high")


def configure():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qgov.settings")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("QGOV_AUDIT_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")
    import django

    django.setup()


def register_rows(count: int, seed: int):
    """`count` synthetic register rows, generated lazily from `seed` (the same rows every time)."""
    rng = random.Random(seed)
    start = dt.date(2026, 12, 1)
    for number in range(1, count + 1):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 11)))[:90].capitalize()
        likelihood, impact = rng.randint(1, 5), rng.randint(1, 5)
        score = likelihood * impact
        yield {"reference": f"R-{number:06d}", "title": title, "owner": rng.choice(OWNERS),
               "status": rng.choice(STATUSES), "band": BANDS[min(3, (score - 1) // 6)], "score": score,
               "review_due": start + dt.timedelta(days=rng.randint(-120, 540)) if rng.random() < 0.95 else None,
               "updated": dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC) - dt.timedelta(minutes=rng.randint(0, 10 ** 6))}


def heatmap_svg() -> str:
    cells = []
    for row in range(5):
        for col in range(5):
            shade = ("#2e7d32", "#9ccc65", "#fdd835", "#fb8c00", "#c62828")[min(4, (5 - row) * (col + 1) // 5)]
            cells.append(f'<rect x="{60 + col * 44}" y="{8 + row * 44}" width="42" height="42" fill="{shade}"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 290 240" width="290" height="240">'
            f'{"".join(cells)}<text x="170" y="236" text-anchor="middle" font-size="11">Impact</text></svg>')


def synthetic_document(rows: int, seed: int, page_size: str = "A4"):
    from qgov.reports.document import (
        Chart,
        Column,
        EvidenceReference,
        Figure,
        ReportDocument,
        ReportTable,
        SectionData,
    )

    columns = [Column("reference", "Reference"), Column("title", "Title"), Column("owner", "Owner"),
               Column("status", "Status"), Column("band", "Band", "band"), Column("score", "Score", "number"),
               Column("review_due", "Review due", "date"), Column("updated", "Last change", "datetime")]
    evidence = [EvidenceReference(sha256=f"{index:064x}", name=f"assessment-{index}.pdf", record=f"R-{index:06d}")
                for index in range(1, 6)]
    section = SectionData(
        key="risks", title="Risk register", intro=f"All {rows:,} risks of the agency, as of the report's date.",
        figures=[Figure("risks", "Risks", rows), Figure("open", "Open", int(rows * 0.8)),
                 Figure("overdue", "Overdue reviews", int(rows * 0.2)), Figure("accepted", "Accepted", rows // 10)],
        charts=[Chart("current", "Current ratings", heatmap_svg())],
        tables=[ReportTable("register", "Register", columns, rows=lambda: register_rows(rows, seed),
                            note="Every risk, by reference.")],
        evidence=evidence)
    moment = dt.datetime(2026, 12, 1, 6, tzinfo=dt.UTC)
    return ReportDocument(
        run_id=4242, kind="risk_register", kind_label="Risk register", title="Risk register: Benchmark Agency",
        agency_name="Benchmark Agency", agency_code="BEN", period="as of 2026-12-01", as_of=moment,
        generated_at=moment, generator_version="qgov benchmark", marking="OFFICIAL-SENSITIVE",
        page_size=page_size, parameters={}, sections=[section])


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def child(rows: int, seed: int, chunk_rows: int, page_size: str) -> dict:
    configure()
    from qgov.reports.pdf import Attachment, render_pdf

    document = synthetic_document(rows, seed, page_size)
    before = rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    rendered = render_pdf(document, attachments=[Attachment("data.csv", b"reference\nR-000001\n", "text/csv")],
                          chunk_rows=chunk_rows or 10 ** 9)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"bench-{rows}.pdf").write_bytes(rendered.data)
    return {"rows": rows, "seed": seed, "chunk_rows": chunk_rows, "page_size": page_size, "pages": rendered.pages,
            "bytes": len(rendered.data), "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
            "rss_before_mb": round(before, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def machine() -> dict:
    from importlib.metadata import version

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "weasyprint": version("weasyprint"), "pydyf": version("pydyf"), "django": version("django"),
            "load_average_1m": round(os.getloadavg()[0], 2)}


def record(result: dict) -> None:
    line = (f"| {result['when']} | {result['rows']:,} | {result['chunk_rows'] or 'one table'} | {result['page_size']} "
            f"| {result['pages']:,} | {result['bytes'] / 2 ** 20:.1f} MB | {result['seconds']:.1f} s "
            f"({result['cpu_seconds']:.1f} s CPU) | {result['peak_rss_mb']:.0f} MB ({result['rss_before_mb']:.0f} "
            f"before) | {result['machine']['load_average_1m']} |\n")
    with RESULTS_FILE.open("a") as results:
        results.write(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--chunk-rows", type=int, default=None, help="rows per table (0: one table; default: pdf.py's)")
    parser.add_argument("--page-size", default="A4", choices=("A4", "Letter"))
    parser.add_argument("--record", action="store_true", help="append the figures to RESULTS-reports.md")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.chunk_rows is None:
        configure()
        from qgov.reports.pdf import TABLE_CHUNK_ROWS

        options.chunk_rows = TABLE_CHUNK_ROWS
    arguments = ["--rows", str(options.rows), "--seed", str(options.seed), "--chunk-rows", str(options.chunk_rows),
                 "--page-size", options.page_size]
    if options.child:
        print(json.dumps(child(options.rows, options.seed, options.chunk_rows, options.page_size)))
        return
    output = subprocess.run([sys.executable, "-m", "benchmarks.report_pdf", "--child", *arguments], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    result["machine"] = machine()
    result["when"] = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    RESULTS_DIR.mkdir(exist_ok=True)
    name = f"report-pdf-{options.rows}-{options.chunk_rows or 'one'}.json"
    (RESULTS_DIR / name).write_text(json.dumps(result, indent=2) + "\n")
    print(f"{result['rows']:,} rows, chunks of {options.chunk_rows or 'all'}: {result['pages']} pages, "
          f"{result['bytes'] / 2 ** 20:.1f} MB, {result['seconds']} s ({result['cpu_seconds']} s CPU), "
          f"peak RSS {result['peak_rss_mb']} MB (before render {result['rss_before_mb']} MB)")
    if options.record:
        record(result)


if __name__ == "__main__":
    main()
