"""Write benchmarks/RESULTS.md from benchmarks/results/national-*.json (labels `before` and `after`).

    python -m benchmarks.national_report

The issue #7 table (target | as filed | before | first pass | second pass | after) is filled from the figures
the issue was filed with and from the newest result of each label; a measure without a run shows
"—". Then the analysis written by hand in `results/national-analysis.md` (why what is left is left),
and per run the machine, versions, dataset and the full measures (median, p95, SQL queries, raw SQL
time and its share of the request).
"""

import json
from pathlib import Path

from benchmarks.run import BENCH_DIR, RESULTS_DIR

REPORT = BENCH_DIR / "RESULTS.md"
LABELS = ("before", "first pass", "second pass", "after")
ANALYSIS_FILE = "national-analysis.md"  # in the results directory, written by hand

# (row title, target, as filed, profile, measure key, how to show it). "As filed" is the figure the
# issue gave for the code it was filed against, measured by its author on an idle machine.
TARGETS = [
    ("API 10-row risk page, 10k risks, SQLite, p50", "< 10 ms", "47 ms", "sqlite-10k", "api_10", "p50"),
    ("throughput on that page, `wrk -t2 -c3 -d30s`", "≥ 300 req/s", "48 req/s", "sqlite-10k",
     "throughput_api_10", "rps"),
    ("API 50-row page, 1M risks in 200 agencies, PostgreSQL, p50 (p95)", "< 30 (200) ms", "248 (410) ms",
     "national", "api_50", "p50p95"),
    ("same, `?status=` filter", "< 30 ms", "1,057 ms", "national", "api_50_status", "p50"),
    ("same, `?q=` search", "< 50 ms", "2,287 ms", "national", "api_50_q", "p50"),
    ("same, `?offset=90000`", "< 50 ms", "440 ms", "national", "api_50_offset_90000", "p50"),
    ("same, keyset cursor 20 pages deep", "as the first page", "n/a", "national", "api_50_cursor_deep", "p50"),
    ("browser register page, 10k / 100k risks (SQLite)", "< 50 / < 100 ms", "331 / 973 ms",
     ("sqlite-10k", "sqlite-100k"), "register_page", "pair"),
    ("CSV of the 10k register", "< 1 s, constant memory", "10.2 s, +70 MB", "sqlite-10k", "export_csv", "export"),
    ("XLSX of the 10k register", "< 5 s", "12.6 s, +107 MB", "sqlite-10k", "export_xlsx", "export"),
]
EXTRA = [
    ("browser register page, largest agency (100k of 1M), PostgreSQL", "national", "register_page", "p50p95"),
    ("throughput, API 50-row page, 1M risks, PostgreSQL", "national", "throughput_api_50", "rps"),
]


def load_results(results_dir: Path = RESULTS_DIR) -> dict:
    """{(profile, label): result}, the newest file of each."""
    found = {}
    for path in sorted(results_dir.glob("national-*.json")):
        result = json.loads(path.read_text())
        key = (result["profile"], result["label"])
        if key not in found or result["measured_at"] > found[key]["measured_at"]:
            found[key] = result
    return found


def ms(value) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def cell(results: dict, profile, key: str, style: str, label: str) -> str:
    if style == "pair":
        return " / ".join(cell(results, p, key, "p50", label) for p in profile)
    result = results.get((profile, label))
    if result is None:
        return "—"
    measure = result["measures"].get(key)
    if measure is None:
        return "—"
    if "skipped" in measure:
        return "n/a before" if label == "before" else f"n/a ({measure['skipped']})"
    if style == "rps":
        errors = measure.get("non_2xx", 0) + measure.get("socket_errors", 0)
        return f"{measure['requests_per_s']:,.0f} req/s, {errors} errors"
    if style == "export":
        return f"{measure['median_ms'] / 1000:.1f} s, +{measure['rss_growth_peak_mb']:.0f} MB"
    text = f"{ms(measure['median_ms'])} ms"
    if style == "p50p95":
        text = f"{ms(measure['median_ms'])} ({ms(measure['p95_ms'])}) ms"
    return text


def measure_rows(result: dict) -> list[str]:
    rows = ["| measure | path | median ms | p95 ms | min–max ms | SQL queries | raw SQL ms | SQL share | "
            "request ÷ SQL | bytes |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key, m in result["measures"].items():
        if "skipped" in m:
            note = f" ({m['note']})" if m.get("note") else ""
            rows.append(f"| {key} | `{m.get('path', '')}` | {m['skipped']}{note} | | | | | | | |")
        elif "requests_per_s" in m:
            rows.append(f"| {key} | {m['command']} | {m['requests_per_s']:,.1f} req/s, "
                        f"{m.get('non_2xx', 0)} non-2xx, {m.get('socket_errors', 0)} socket errors "
                        f"(wrk p50 {m.get('latency_p50_ms', '?')} ms) | | | | | | | |")
        elif key.startswith("export_"):
            rows.append(f"| {key} | `/risks/register/?export={key[7:]}` (in-process) | {m['median_ms']:,.0f} | "
                        f"{m['p95_ms']:,.0f} | {m['min_ms']:,.0f}–{m['max_ms']:,.0f} | {m['queries']} | | | | "
                        f"{m['bytes']:,} (RSS +{m['rss_growth_peak_mb']} MB, tracemalloc peak "
                        f"{m['tracemalloc_peak_mb']} MB) |")
        else:
            share = f"{m['sql_share']:.0%}" if m.get("sql_share") is not None else ""
            ratio = f"{m['median_ms'] / m['sql_ms']:.1f}×" if m.get("sql_ms") else ""
            rows.append(f"| {key} | `{m['path']}` | {m['median_ms']:,.1f} | {m['p95_ms']:,.1f} | "
                        f"{m['min_ms']:,.1f}–{m['max_ms']:,.1f} | {m['queries']} | {m['sql_ms']:,.1f} | {share} | "
                        f"{ratio} | {m['bytes']:,} |")
    return rows


def run_section(result: dict) -> list[str]:
    machine, data = result["machine"], result["dataset"]
    load = machine["load_average_1m_during"]
    counts = data["counts"]
    lines = [
        f"### {result['profile']}, {result['label']} ({result['measured_at']})", "",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['platform']}; load average (1 min) "
        f"during the run {load['min']}–{load['max']} (median {load['median']}), at start "
        f"{machine['load_average_at_start']}, at end {machine['load_average_at_end']}"
        + (f"; CPU probe (a fixed Python loop, lower is faster) {machine['cpu_probe_ms']['start']} ms at start, "
           f"{machine['cpu_probe_ms']['end']} ms at end." if "cpu_probe_ms" in machine else "."),
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in result["versions"].items()) + ".",
        f"- Dataset: scale {data['scale']}, seed {data['seed']}: {counts['agencies']} "
        f"{'agency' if counts['agencies'] == 1 else 'agencies'}, "
        f"{counts['risks']:,} risks (largest agency {counts['largest_agency_risks']:,}, smallest "
        f"{counts['smallest_agency_risks']:,}), {counts['assets']:,} assets, {counts['controls']:,} controls, "
        f"{counts['threat_vectors']} threat vectors, {counts['users']:,} users, {counts['memberships']:,} "
        f"memberships; links {counts['risk_threat_vector_links']:,} / {counts['risk_asset_links']:,} / "
        f"{counts['risk_control_links']:,} (threat vectors / assets / controls). Generated in "
        f"{data['generation_s']:,.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in data['steps_s'].items())}), "
        f"load {data.get('load_average_during', '?')}" + ("; reused by this run, only migrated." if data.get(
            "reused") else "."),
        f"- Method: {result['method']['warmup']} untimed then {result['method']['repeats']} timed requests per page "
        f"over HTTP; `?status={result['method']['status_filter']}`, `?q={result['method']['search_word']}`.",
        "", *measure_rows(result), "",
    ]
    return lines


METHOD = """\
## Method

`make bench` (benchmarks/national_run.py) generates each profile's data with
`benchmarks/national.py` (seeded; bulk COPY on PostgreSQL, batched inserts on SQLite; no audit
events except the catalog load's), starts gunicorn (3 sync workers, DEBUG off, production
settings from the environment, HTTPS redirect off on loopback, no per-token rate limit) on a free
port of 127.0.0.1, and measures from the runner process:

- per page: untimed requests first (10 since 2026-12-02; the 3 of earlier runs could leave a
  worker cold for a timed one), then 20 timed ones over HTTP (a new connection each, the body
  read to its end): median, p95, min and max;
- the SQL of one request, captured in-process with Django's test client against the same database
  (`connection.execute_wrapper`), counted, then replayed with a plain cursor (rows fetched, in a
  transaction rolled back; median of 5): "raw SQL ms". Its share of the median is the database's
  part; the rest is framework (middleware, authentication, filtering, serialisation, rendering),
  network and the server;
- API calls as an editor of the largest agency with an API token (`Authorization: Token …`), the
  register page with a logged-in session (database session, shared by the workers);
- throughput with `wrk -t2 -c3 -d30s` on the same URL and header, with the non-2xx and socket
  error counts;
- exports with `benchmarks/exports.py`'s `measure()` in-process (wall time of the whole download,
  read chunk by chunk, and the RSS growth);
- a measure whose parameter does not exist yet (the keyset cursor) answers 400, or has no cursor in
  its `next` link, and reads "n/a before".

The machine is shared with other work: every run records the load average (sampled every 5 s).
On a loaded machine wall times grow with the load (a load of 7 on 2 cores leaves a request about
a third of a core), the query counts do not, and the raw SQL time grows less than the Python part:
compare before and after at a similar load, and read the query counts and the SQL share beside
the medians.
"""


COLUMNS = """\
"As filed" is the issue's own figure for the code it was filed against. "Before" was measured on
2026-12-01 by `make bench`, before the first round of fixes, while the shared machine was loaded (load average 5–11),
"first pass" the same day after the first round of fixes (load 2–4), "second pass" on 2026-12-02
after the second (load 0.8–2.3); "after" is the newest run of each profile (its date in its section below).
Each run's load average is in its section below: compare columns knowing it."""


def write_report(results_dir: Path = RESULTS_DIR, report: Path = REPORT) -> Path:
    results = load_results(results_dir)
    lines = ["# Benchmark results: issue #7 (national scale)", "",
             "Written by `python -m benchmarks.national_report` from `benchmarks/results/national-*.json`; "
             "see [README.md](README.md#national-scale-suite-issue-7) for how to run it. Figures are medians "
             "(p95 in brackets) of requests over loopback HTTP to gunicorn.", "",
             "| target | goal | as filed | " + " | ".join(LABELS) + " |",
             "| --- | ---: | ---: | " + " | ".join("---:" for _label in LABELS) + " |"]
    for title, goal, as_filed, profile, key, style in TARGETS:
        lines.append(f"| {title} | {goal} | {as_filed} | "
                     + " | ".join(cell(results, profile, key, style, label) for label in LABELS) + " |")
    for title, profile, key, style in EXTRA:
        lines.append(f"| {title} | | | " + " | ".join(cell(results, profile, key, style, label)
                                                    for label in LABELS) + " |")
    lines += ["", COLUMNS, ""]
    analysis = results_dir / ANALYSIS_FILE
    if analysis.exists():
        lines += [analysis.read_text().rstrip(), ""]
    lines += [METHOD, "## Runs", ""]
    for label in LABELS:
        for (_profile, run_label), result in sorted(results.items()):
            if run_label == label:
                lines += run_section(result)
    report.write_text("\n".join(lines).rstrip() + "\n")
    return report


if __name__ == "__main__":
    print(write_report())
