"""Time a CycloneDX CBOM import (the background job behind `POST /api/cyclonedx-imports/`) on a
generated BOM, then the same BOM again (idempotent: nothing written).

    python -m benchmarks.cyclonedx_import                       # SQLite, 10,000 components
    python -m benchmarks.cyclonedx_import --components 1000 10000 \
        --database-url postgres://postgres@127.0.0.1:5432/qgov_cyclonedx_bench

Each size gets a fresh database (see benchmarks/run.py): one agency, its editor, 10 suppliers and
the crypto-policy catalog. The BOM (`generate_cbom`, CycloneDX 1.6) holds N components: 40 %
libraries with a purl and a supplier (half of them named like an agency supplier), 10 % firmware
with a SHA-256, 50 % cryptographic assets spread over the four asset types (algorithms, a third of
them RSA/ECDSA/ECDH at NIST quantum level 0, certificates signed by an algorithm of the BOM, keys
with a state, protocols), every tenth component nested in the one before; each component depends
on one or two earlier ones. The time is the upload service and the task, run in this process as
soon as the upload commits (no broker), as a worker would run it: schema validation by
cyclonedx-python-lib, every component written through the core services (audited), the
dependency graph. Results go to benchmarks/results/cyclonedx-import-<backend>-<components>.json.
Target: under 60 s for 10,000 components.
"""

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.run import BENCH_DIR, RESULTS_DIR, SQLITE_FILE, configure_environment, fresh_database

SUPPLIERS = [f"Supplier {i:02d} AG" for i in range(10)]
VULNERABLE = [("RSA-2048", "pke", "2048", 112), ("ECDSA-P256", "signature", "256", 128),
              ("ECDH-P384", "key-agree", "384", 192)]
SAFE = [("ML-KEM-768", "kem", "768", 192, 3), ("ML-DSA-65", "signature", "65", 192, 3),
        ("AES-256-GCM", "ae", "256", 256, 5), ("SHA-384", "hash", "384", 192, 4)]


def generate_cbom(n: int, seed: int = 3) -> dict:
    """A CycloneDX 1.6 BOM of `n` components (see the module's docstring)."""
    rng = random.Random(seed)
    top, refs, algorithms, dependencies = [], [], [], []
    previous = None
    for i in range(n):
        ref = f"c-{i:05d}"
        kind = rng.random()
        if kind < 0.4:
            component = {"type": "library", "name": f"lib-{i}", "version": f"1.{i % 50}.{i % 7}",
                         "purl": f"pkg:generic/lib-{i}@1.{i % 50}.{i % 7}",
                         "supplier": {"name": rng.choice(SUPPLIERS) if rng.random() < 0.5 else f"Vendor {i % 37}"}}
        elif kind < 0.5:
            component = {"type": "firmware", "name": f"firmware-{i}", "version": "4.2.1",
                         "hashes": [{"alg": "SHA-256", "content": f"{rng.getrandbits(256):064x}"}]}
        else:
            asset = rng.choice(["algorithm", "algorithm", "certificate", "related-crypto-material", "protocol"])
            if asset == "algorithm" or not algorithms:
                if rng.random() < 1 / 3:
                    name, primitive, parameters, bits = rng.choice(VULNERABLE)
                    level = 0
                else:
                    name, primitive, parameters, bits, level = rng.choice(SAFE)
                properties = {"assetType": "algorithm", "algorithmProperties": {
                    "primitive": primitive, "parameterSetIdentifier": parameters, "classicalSecurityLevel": bits,
                    "nistQuantumSecurityLevel": level, "certificationLevel": ["none"]}}
                component_name = f"{name} #{i}"
                algorithms.append(ref)
            elif asset == "certificate":
                properties = {"assetType": "certificate", "certificateProperties": {
                    "subjectName": f"CN=node-{i}.example.gov", "issuerName": "CN=Agency CA",
                    "signatureAlgorithmRef": rng.choice(algorithms), "certificateFormat": "X.509"}}
                component_name = f"CN=node-{i}.example.gov"
            elif asset == "related-crypto-material":
                properties = {"assetType": "related-crypto-material", "relatedCryptoMaterialProperties": {
                    "type": "private-key", "state": rng.choice(["active", "deactivated", "pre-activation"]),
                    "algorithmRef": rng.choice(algorithms), "size": 2048}}
                component_name = f"key-{i}"
            else:
                properties = {"assetType": "protocol", "protocolProperties": {"type": "tls", "version": "1.3"}}
                component_name = f"tls-{i}"
            component = {"type": "cryptographic-asset", "name": component_name, "cryptoProperties": properties}
        component["bom-ref"] = ref
        if previous is not None and i % 10 == 0:
            previous.setdefault("components", []).append(component)
        else:
            top.append(component)
            previous = component
        if refs:
            dependencies.append({"ref": ref, "dependsOn": sorted(set(rng.sample(refs[-50:], min(len(refs), 2))))})
        refs.append(ref)
    return {"bomFormat": "CycloneDX", "specVersion": "1.6", "serialNumber": f"urn:uuid:{uuid.UUID(int=seed)}",
            "version": 1, "metadata": {"timestamp": "2026-12-01T00:00:00Z"}, "components": top,
            "dependencies": dependencies}


def generate_world():
    from django.contrib.auth import get_user_model

    from procurement import catalog
    from procurement.models import Supplier
    from qgov.audit import audit_context
    from qgov.choices import AuditSourceChoices, RoleChoices
    from qgov.models import Agency, Membership

    with audit_context(source=AuditSourceChoices.COMMAND, label="benchmark"):
        catalog.load()
        agency = Agency.objects.create(name="Benchmark agency", code="BENCH", sector="digital")
        editor = get_user_model()(username="editor")
        editor.set_unusable_password()
        editor.save()
        Membership.objects.create(agency=agency, user=editor, role=RoleChoices.EDITOR)
        for name in SUPPLIERS:
            Supplier.objects.create(agency=agency, name=name, country="CH")
    return agency, editor


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def timed_import(content: bytes, agency, editor):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import connection

    from procurement.models import Component
    from qgov.audit import audit_context
    from qgov.choices import AuditSourceChoices
    from qgov.imports.services import import_run_create

    counter = QueryCounter()
    start = time.perf_counter()
    # No broker is configured, so the task runs in this process as soon as the upload commits.
    with connection.execute_wrapper(counter), audit_context(source=AuditSourceChoices.API, actor=editor):
        run = import_run_create(user=editor, agency=agency, model=Component,
                                upload=SimpleUploadedFile("cbom.json", content))
    seconds = time.perf_counter() - start
    run.refresh_from_db()
    if run.status != "succeeded":
        raise SystemExit(f"the import failed: {run.errors[:5]}")
    return run, seconds, counter.count


def run_size(n: int, database_url: str) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from procurement.models import Component
    from qgov.models import AuditEvent

    connection.close()
    fresh_database(database_url)
    call_command("migrate", verbosity=0)
    agency, editor = generate_world()
    content = json.dumps(generate_cbom(n)).encode()
    events_before = AuditEvent.objects.count()
    run, seconds, queries = timed_import(content, agency, editor)
    events = AuditEvent.objects.count() - events_before
    again, seconds_again, queries_again = timed_import(content, agency, editor)
    result = {
        "backend": connection.vendor,
        "components": n,
        "file_bytes": len(content),
        "seconds": round(seconds, 2),
        "components_per_s": round(n / seconds),
        "queries": queries,
        "queries_per_component": round(queries / n, 1),
        "audit_events": events,
        "created": run.created_count,
        "quantum_vulnerable": Component.objects.filter(agency=agency, quantum_vulnerable=True).count(),
        "with_dependencies": Component.objects.filter(agency=agency, depends_on__isnull=False).distinct().count(),
        "reimport": {"seconds": round(seconds_again, 2), "queries": queries_again,
                     "unchanged": again.unchanged_count, "created": again.created_count,
                     "updated": again.updated_count},
        "target_seconds": 60,
    }
    print(f"{connection.vendor}, {n} components: {seconds:.1f} s ({result['components_per_s']}/s), "
          f"{result['queries_per_component']} queries per component; re-import {seconds_again:.1f} s")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--components", type=int, nargs="+", default=[10000])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{SQLITE_FILE}"))
    parser.add_argument("--write-bom", type=Path, help="only write the generated BOM of the first size there")
    args = parser.parse_args(argv)
    if args.write_bom:
        args.write_bom.write_text(json.dumps(generate_cbom(args.components[0])))
        return

    configure_environment(args.database_url)
    media_root = Path(tempfile.mkdtemp(prefix="qgov-cyclonedx-bench-"))
    os.environ["MEDIA_ROOT"] = str(media_root)
    sys.path.insert(0, str(BENCH_DIR.parent))
    import django

    django.setup()
    from django.db import connection

    RESULTS_DIR.mkdir(exist_ok=True)
    for n in args.components:
        result = run_size(n, args.database_url)
        result["machine"] = {"python": platform.python_version(), "django": django.get_version(),
                             "platform": platform.platform(), "cpus": os.cpu_count(),
                             "load_average_1m_after": round(os.getloadavg()[0], 2)}
        result["measured_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        path = RESULTS_DIR / f"cyclonedx-import-{connection.vendor}-{n}.json"
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"  -> {path.relative_to(BENCH_DIR.parent)}")
    connection.close()
    shutil.rmtree(media_root, ignore_errors=True)
    if args.database_url.startswith("sqlite"):
        SQLITE_FILE.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
