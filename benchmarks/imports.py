"""Time a risk import (the background job behind `POST /api/risks/import/`) on synthetic data.

    python -m benchmarks.imports                       # SQLite, 400 and 10,000 rows
    python -m benchmarks.imports --rows 400 10000 --database-url postgres://postgres@127.0.0.1:5432/qgov_imports_bench

Each size gets a fresh database (see benchmarks/run.py). One agency with its matrix, 40 catalog
threat vectors, 300 assets, 150 controls and 20 members; the CSV has one risk per row, each linked
to 3 threat vectors, 2 assets and 2 controls, with an owner, three ratings, treatment and
review date (no status: a workflow field). The time is the upload service (hash, private copy,
ImportRun) and the task, run in this process as soon as the upload commits (no broker is set),
as a worker would run it; nothing else runs. Results go to
benchmarks/results/import-<backend>-<rows>.json.
"""

import argparse
import csv
import io
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from benchmarks.run import BENCH_DIR, RESULTS_DIR, SQLITE_FILE, configure_environment, fresh_database

COLUMNS = ["reference", "title", "description", "threat_vectors", "assets", "controls", "owner",
           "inherent_likelihood", "inherent_impact", "current_likelihood", "current_impact", "residual_likelihood",
           "residual_impact", "treatment", "review_date"]


def generate_world(seed: int = 1):
    """The agency, its editor, members, assets, controls and the threat catalog; returns what the CSV names."""
    from django.contrib.auth import get_user_model

    from qgov.audit import audit_context
    from qgov.choices import AuditSourceChoices, RoleChoices
    from qgov.models import Agency, Membership
    from risks.models import Asset, Control, ThreatVector
    from risks.services import risk_matrix_ensure

    rng = random.Random(seed)
    user_model = get_user_model()
    with audit_context(source=AuditSourceChoices.COMMAND, label="benchmark"):
        agency = Agency.objects.create(name="Benchmark agency", code="BENCH", sector="digital")
        risk_matrix_ensure(agency)
        members = []
        for i in range(20):
            user = user_model(username=f"member-{i:02d}")
            user.set_unusable_password()
            user.save()
            Membership.objects.create(agency=agency, user=user, role=RoleChoices.EDITOR if i else RoleChoices.ADMIN)
            members.append(user)
        codes = [ThreatVector.objects.create(
            code=f"BEN-{i:02d}", title=f"Threat {i}", category="qkd_operational", description="Synthetic.",
            default_likelihood=3, default_impact=3).code for i in range(40)]
        assets = [Asset.objects.create(agency=agency, name=f"Asset {i:03d}", asset_type="qkd_link",
                                       shelf_life_years=rng.randint(1, 30), migration_years=rng.randint(1, 10)).name
                  for i in range(300)]
        controls = [Control.objects.create(agency=agency, title=f"Control {i:03d}", control_type="preventive").title
                    for i in range(150)]
    return {"agency": agency, "editor": members[1], "members": [m.username for m in members], "codes": codes,
            "assets": assets, "controls": controls}


def risk_csv(rows: int, world: dict, seed: int = 2) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    start = date(2027, 1, 1)
    for i in range(1, rows + 1):
        likelihood, impact = rng.randint(1, 5), rng.randint(1, 5)
        writer.writerow([
            f"R-{i:05d}", f"Synthetic risk {i}", "Generated for the import benchmark.",
            ";".join(rng.sample(world["codes"], 3)), ";".join(rng.sample(world["assets"], 2)),
            ";".join(rng.sample(world["controls"], 2)), rng.choice(world["members"]),
            likelihood, impact, max(1, likelihood - 1), impact, max(1, likelihood - 2), max(1, impact - 1),
            rng.choice(["mitigate", "transfer", "avoid"]),
            (start + timedelta(days=rng.randint(0, 700))).isoformat(),
        ])
    return out.getvalue().encode()


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def disconnect_audit_signals():
    """Diagnostic only: what the import costs apart from the audit trail's signal receivers."""
    from django.db.models import signals

    for name in ("pre_save", "post_save", "pre_delete", "post_delete", "m2m_changed"):
        getattr(signals, name).disconnect(dispatch_uid=f"qgov_audit_{name}")


def run_size(rows: int, database_url: str, *, audit: bool = True) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import connection

    from qgov.audit import audit_context
    from qgov.choices import AuditSourceChoices
    from qgov.imports.services import import_run_create
    from qgov.models import AuditEvent
    from risks.models import Risk

    connection.close()
    fresh_database(database_url)
    call_command("migrate", verbosity=0)
    world = generate_world()
    if not audit:
        disconnect_audit_signals()
    content = risk_csv(rows, world)
    editor = world["editor"]
    events_before = AuditEvent.objects.count()
    counter = QueryCounter()
    start = time.perf_counter()
    # No broker is configured, so the task runs in this process as soon as the upload commits.
    with connection.execute_wrapper(counter), audit_context(source=AuditSourceChoices.API, actor=editor):
        run = import_run_create(user=editor, agency=world["agency"], model=Risk,
                                upload=SimpleUploadedFile("register.csv", content))
    seconds = time.perf_counter() - start
    run.refresh_from_db()
    if run.status != "succeeded":
        raise SystemExit(f"the import failed: {run.errors[:5]}")
    result = {
        "backend": connection.vendor,
        "rows": rows,
        "file_bytes": len(content),
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "queries": counter.count,
        "queries_per_row": round(counter.count / rows, 1),
        "audit": audit,
        "audit_events": AuditEvent.objects.count() - events_before,
        "created": run.created_count,
        "risk_links": {"threat_vectors": 3, "assets": 2, "controls": 2},
    }
    print(f"{connection.vendor}, {rows} rows: {seconds:.1f} s ({result['rows_per_s']} rows/s), "
          f"{result['queries_per_row']} queries and {result['audit_events'] / rows:.1f} audit events per row")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[400, 10000])
    parser.add_argument("--without-audit", action="store_true",
                        help="diagnostic: disconnect the audit signals (results file suffixed -without-audit)")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{SQLITE_FILE}"))
    args = parser.parse_args(argv)

    configure_environment(args.database_url)
    media_root = Path(tempfile.mkdtemp(prefix="qgov-import-bench-"))  # the uploads, while their run lasts
    os.environ["MEDIA_ROOT"] = str(media_root)
    sys.path.insert(0, str(BENCH_DIR.parent))
    import django

    django.setup()
    from django.db import connection

    RESULTS_DIR.mkdir(exist_ok=True)
    for rows in args.rows:
        result = run_size(rows, args.database_url, audit=not args.without_audit)
        result["machine"] = {"python": platform.python_version(), "django": django.get_version(),
                             "platform": platform.platform(), "cpus": os.cpu_count(),
                             "load_average_1m_after": round(os.getloadavg()[0], 2)}
        result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        suffix = "-without-audit" if args.without_audit else ""
        path = RESULTS_DIR / f"import-{connection.vendor}-{rows}{suffix}.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"  -> {path.relative_to(BENCH_DIR.parent)}")
    connection.close()
    shutil.rmtree(media_root, ignore_errors=True)
    if args.database_url.startswith("sqlite"):
        SQLITE_FILE.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
