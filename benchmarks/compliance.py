"""Time certification compliance and due dates on a synthetic agency population.

    python -m benchmarks.compliance --database-url postgres://postgres@127.0.0.1:5432/qgov_cert_bench --devices 10000

The database is dropped and created again (see benchmarks/run.py; the name must end in "_bench").
20 agencies; the measured one (jurisdiction DE, reminder thresholds 90/30/7) has N devices across
the device kinds, each with 1–3 device certifications (valid, expiring within 90 days, expired,
revoked, pending, covering other firmware, a French or Dutch certificate recognised under SOG-IS,
a US one that is not recognised at its level), a few hundred people with accreditations, and the
demo agency's required schemes; the 19 others have N/20 devices and 50 people each, made the same
way. The scheme catalog is the shipped one (`certification.catalog.load()`). Records are written
with bulk_create (no audit events: the audit trail is not what is measured here).

Timed in-process through Django's test client as the measured agency's admin: the API with a real
token, the browser pages with a logged-in session; median and p95 over R requests (default 20)
after one untimed request whose SQL queries are counted. Then the reminder service
(`due_reminders_send`) once on a day when many reminders fall due, and again the same day (it must
send nothing). EXPLAIN (ANALYZE, BUFFERS) of the non-compliant list's page and count queries is
saved with the results in benchmarks/results/compliance-<backend>-<N>.json.
"""

import argparse
import datetime
import hashlib
import json
import os
import random
import sys
import time
from datetime import UTC
from pathlib import Path

from benchmarks.imports import QueryCounter
from benchmarks.run import BENCH_DIR, RESULTS_DIR, SQLITE_FILE, configure_environment, fresh_database, machine, time_get

AGENCIES = 20
JURISDICTIONS = ["DE", "FR", "NL", "US", "GB", "IT", "ES", "SE", "PL", "AT"]

# The measured agency's requirements (as in certification/demo.py): scheme, minimum level, kind or role.
DEVICE_REQUIREMENTS = {
    "qkd_transmitter": ("CC-BSI", "EAL4+"), "qkd_receiver": ("CC-BSI", "EAL4+"), "trusted_node": ("CC-BSI", "EAL4"),
    "key_management": ("CC-BSI", "EAL4"), "encryptor": ("CC-BSI", "EAL4"), "pqc_hsm": ("CMVP-FIPS140-3", "Level 3"),
}
PERSONNEL_REQUIREMENTS = {
    "key_custodian": ("UK-NSV", "SC"), "security_officer": ("UK-NSV", "SC"),
    "qkd_operator": ("QKD-OPERATOR", "Operator"), "auditor": ("ISO27001-LA", "Lead Auditor"),
}
KINDS = [("qkd_transmitter", 25), ("qkd_receiver", 25), ("trusted_node", 12), ("key_management", 8),
         ("pqc_hsm", 10), ("encryptor", 12), ("qrng", 5), ("other", 3)]
DEVICE_STATES = [("in_service", 85), ("planned", 10), ("withdrawn", 4), ("disposed", 1)]
# What the device's main certificate is like.
OUTCOMES = [("valid", 40), ("expiring", 12), ("expired", 6), ("lapsed", 4), ("revoked", 5), ("pending", 2),
            ("firmware", 8), ("recognised", 10), ("not_recognised", 8), ("renewed", 5)]
VENDORS = ["Photonica", "Liberty Quantum", "Securelay", "Keystone", "Cryptovault", "Netcipher", "Qubitel"]
FIRMWARE = ["3.1.0", "3.2.1", "4.0.2", "5.4.2", "5.5.0"]
ROLES = [("qkd_operator", 35), ("key_custodian", 15), ("security_officer", 10), ("auditor", 8),
         ("incident_responder", 12), ("administrator", 15), ("other", 5)]

# Timed requests: (label, path, params, via) — via "api" (token) or "browser" (session).
REQUESTS = [
    ("GET /api/devices/?limit=50", "/api/devices/", {"limit": 50}, "api"),
    ("GET /api/devices/?compliance=non_compliant&limit=50", "/api/devices/",
     {"compliance": "non_compliant", "limit": 50}, "api"),
    ("GET /api/compliance/?subject=device&limit=50", "/api/compliance/", {"subject": "device", "limit": 50}, "api"),
    ("GET /api/compliance/?subject=device&compliance=non_compliant&limit=50", "/api/compliance/",
     {"subject": "device", "compliance": "non_compliant", "limit": 50}, "api"),
    ("GET /api/compliance/summary/", "/api/compliance/summary/", {}, "api"),
    ("GET /api/due-dates/?within=90", "/api/due-dates/", {"within": 90}, "api"),
    ("page /certification/devices/", "/certification/devices/", {}, "browser"),
    ("page /certification/devices/?compliance=non_compliant", "/certification/devices/",
     {"compliance": "non_compliant"}, "browser"),
    ("page /certification/compliance/", "/certification/compliance/", {}, "browser"),
]
EXPLAINED = "GET /api/devices/?compliance=non_compliant&limit=50"


def weighted(rng, table):
    return rng.choices([value for value, _ in table], weights=[weight for _, weight in table])[0]


def firmware_hash(version: str) -> str:
    return hashlib.sha256(f"firmware {version}".encode()).hexdigest()


class Population:
    """Builds the records of one agency in memory; `save()` writes them with bulk_create."""

    def __init__(self, rng, schemes, today, counter):
        self.rng, self.schemes, self.today, self.counter = rng, schemes, today, counter

    def level_rank(self, code, level):
        return self.schemes[code].level_rank(level)

    def certificate(self, device, code, level, *, issued_ago, expires_in, status="valid", firmware=None):
        self.counter["certificate"] += 1
        issued = self.today - datetime.timedelta(days=issued_ago)
        expires = self.today + datetime.timedelta(days=expires_in) if expires_in is not None else None
        version = device.firmware_version if firmware is None else firmware
        return {"device": device, "scheme": self.schemes[code], "level": level,
                "level_rank": self.level_rank(code, level), "issued": issued, "expires": expires, "status": status,
                "certificate_id": f"{code}-{self.counter['certificate']:07d}", "firmware_version": version,
                "firmware_sha256": firmware_hash(version) if version else "",
                "evaluation_lab": self.rng.choice(["TÜV Informationstechnik", "atsec", "SRC", "Thales ITSEF"])}

    def device_certificates(self, device, outcome):
        """The main certificate (by `outcome`) and 0–2 older or other ones."""
        rng = self.rng
        code, level = DEVICE_REQUIREMENTS.get(device.kind, ("CC-BSI", "EAL4"))
        certs = []
        fresh = {"issued_ago": rng.randint(30, 1400), "expires_in": None}
        fresh["expires_in"] = 5 * 365 - fresh["issued_ago"]  # five years from issue: ≥ 425 days left
        if outcome == "valid":
            certs.append(self.certificate(device, code, level, **fresh))
        elif outcome == "expiring":
            days = rng.randint(0, 90)
            certs.append(self.certificate(device, code, level, issued_ago=5 * 365 - days, expires_in=days))
        elif outcome == "expired":  # marked expired
            days = rng.randint(1, 400)
            certs.append(self.certificate(device, code, level, issued_ago=5 * 365 + days, expires_in=-days,
                                          status="expired"))
        elif outcome == "lapsed":  # still "valid" but past its date: overdue, escalated
            days = rng.randint(1, 60)
            certs.append(self.certificate(device, code, level, issued_ago=5 * 365 + days, expires_in=-days))
        elif outcome == "revoked":
            certs.append(self.certificate(device, code, level, **fresh, status="revoked"))
        elif outcome == "pending":
            certs.append(self.certificate(device, code, level, issued_ago=10, expires_in=5 * 365 - 10,
                                          status="pending"))
        elif outcome == "firmware":
            other = rng.choice([v for v in FIRMWARE if v != device.firmware_version])
            certs.append(self.certificate(device, code, level, **fresh, firmware=other))
        elif outcome == "recognised":  # SOG-IS recognises ANSSI/NSCIB up to EAL4 (not enough for EAL4+ kinds)
            if code == "CC-BSI":
                certs.append(self.certificate(device, rng.choice(["CC-ANSSI", "CC-NSCIB"]), "EAL4", **fresh))
            else:
                certs.append(self.certificate(device, code, level, **fresh))
        elif outcome == "not_recognised":  # CCRA recognises NIAP only up to EAL2; FIPS 140-2 not at all here
            if code == "CC-BSI":
                certs.append(self.certificate(device, "CC-NIAP", "EAL4+", **fresh))
            else:
                certs.append(self.certificate(device, "CMVP-FIPS140-2", level, **fresh))
        elif outcome == "renewed":  # an expiring certificate and its renewal, issued since
            days = rng.randint(0, 90)
            certs.append(self.certificate(device, code, level, issued_ago=5 * 365 - days, expires_in=days))
            certs.append(self.certificate(device, code, level, issued_ago=5, expires_in=5 * 365 - 5))
        for _ in range(rng.choice([0, 0, 1, 1, 2]) if len(certs) < 3 else 0):
            days = rng.randint(1, 2000)  # an older certificate, superseded or of another scheme
            extra_code = code if rng.random() < 0.7 else rng.choice(["CC-ANSSI", "CC-NIAP", "EUCC"])
            extra_level = level if extra_code == code else {"EUCC": "substantial"}.get(extra_code, "EAL2")
            certs.append(self.certificate(device, extra_code, extra_level, issued_ago=5 * 365 + days,
                                          expires_in=-days, status="expired"))
        return certs[:3]


def generate(*, devices: int, seed: int = 1) -> dict:
    """The population; returns counts, the measured agency, its admin and the admin's API key."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from certification import catalog
    from certification.models import Device, DeviceCertification, Person, PersonnelAccreditation, RequiredScheme, Scheme
    from qgov import services
    from qgov.audit import audit_context
    from qgov.choices import AuditSourceChoices, RoleChoices
    from qgov.models import Agency, Membership

    rng = random.Random(seed)
    user_model = get_user_model()
    today = timezone.localdate()
    counter = {"certificate": 0}
    with audit_context(source=AuditSourceChoices.COMMAND, label="benchmark"):
        catalog.load()
        schemes = {scheme.code: scheme for scheme in Scheme.objects.all()}
        with transaction.atomic():
            agencies = [Agency.objects.create(
                name=f"Certification agency {i:02d}", code=f"CERT-{i:02d}", sector="digital",
                jurisdiction="DE" if i == 0 else JURISDICTIONS[i % len(JURISDICTIONS)]) for i in range(AGENCIES)]
        users = {}
        with transaction.atomic():
            for agency in agencies:
                # 2 admins, 20 editors (the device owners), 5 viewers per agency
                for role, count in ((RoleChoices.ADMIN, 2), (RoleChoices.EDITOR, 20), (RoleChoices.VIEWER, 5)):
                    for n in range(count):
                        name = f"{agency.code.lower()}-{role}-{n:02d}"
                        user = user_model(username=name, email=f"{name}@example.org")
                        user.set_unusable_password()
                        user.save()
                        Membership.objects.create(agency=agency, user=user, role=role)
                        users.setdefault((agency.pk, role), []).append(user)

    totals = {"devices": 0, "device_certifications": 0, "people": 0, "accreditations": 0, "required_schemes": 0}
    outcomes = {}
    for index, agency in enumerate(agencies):
        fleet = devices if index == 0 else max(10, devices // 20)
        staff = 300 if index == 0 else 50
        population = Population(rng, schemes, today, counter)
        owners = users[(agency.pk, RoleChoices.EDITOR)]
        with transaction.atomic():
            required = [RequiredScheme(agency=agency, scheme=schemes[code], min_level=level,
                                       min_level_rank=schemes[code].level_rank(level), device_kind=kind)
                        for kind, (code, level) in DEVICE_REQUIREMENTS.items()]
            required += [RequiredScheme(agency=agency, scheme=schemes[code], min_level=level,
                                        min_level_rank=schemes[code].level_rank(level), personnel_role=role)
                         for role, (code, level) in PERSONNEL_REQUIREMENTS.items()]
            RequiredScheme.objects.bulk_create(required)
            fleet_rows = []
            for n in range(fleet):
                kind = weighted(rng, KINDS)
                version = rng.choice(FIRMWARE) if kind in ("qkd_transmitter", "qkd_receiver", "qrng") else ""
                fleet_rows.append(Device(
                    agency=agency, name=f"{kind.upper().replace('_', '-')}-{n:06d}", kind=kind,
                    vendor=rng.choice(VENDORS), model=f"M-{rng.randint(100, 999)}", serial=f"SN-{index:02d}-{n:07d}",
                    firmware_version=version, firmware_sha256=firmware_hash(version) if version else "",
                    site=f"Site {rng.randint(1, 40)}", owner=rng.choice(owners), status=weighted(rng, DEVICE_STATES)))
            fleet_rows = Device.objects.bulk_create(fleet_rows, batch_size=2000)
            certificates = []
            for device in fleet_rows:
                outcome = weighted(rng, OUTCOMES)
                if index == 0:
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
                certificates += [DeviceCertification(agency=agency, **values)
                                 for values in population.device_certificates(device, outcome)]
            DeviceCertification.objects.bulk_create(certificates, batch_size=2000)
            people = Person.objects.bulk_create([Person(
                agency=agency, name=f"Person {index:02d}-{n:04d}", email=f"person-{index:02d}-{n:04d}@example.org",
                role=weighted(rng, ROLES), unit=f"Unit {rng.randint(1, 12)}", active=rng.random() > 0.05)
                for n in range(staff)], batch_size=2000)
            accreditations = []
            for person in people:
                code, level = PERSONNEL_REQUIREMENTS.get(person.role, ("ISC2-CISSP", "CISSP"))
                for number in range(rng.choice([1, 1, 2])):
                    issued_ago = rng.randint(30, 1800)
                    roll = rng.random()
                    status = "expired" if number else ("revoked" if roll < 0.05 else "valid")
                    expires = review = None
                    if schemes[code].validity_rule == "fixed":
                        expires = today - datetime.timedelta(days=issued_ago) + datetime.timedelta(
                            days=365 * schemes[code].validity_years)
                    elif roll < 0.5:
                        expires = today + datetime.timedelta(days=rng.randint(-30, 900))
                    else:
                        review = today + datetime.timedelta(days=rng.randint(-30, 900))
                    counter["certificate"] += 1
                    accreditations.append(PersonnelAccreditation(
                        agency=agency, person=person, scheme=schemes[code], level=level,
                        level_rank=schemes[code].level_rank(level), issued=today - datetime.timedelta(days=issued_ago),
                        expires=expires, review_due=review, status=status, credential_id=f"C-{counter['certificate']}"))
            PersonnelAccreditation.objects.bulk_create(accreditations, batch_size=2000)
        totals["devices"] += len(fleet_rows)
        totals["device_certifications"] += len(certificates)
        totals["people"] += len(people)
        totals["accreditations"] += len(accreditations)
        totals["required_schemes"] += len(required)
        if index == 0:
            measured = {"devices": len(fleet_rows), "device_certifications": len(certificates),
                        "people": len(people), "accreditations": len(accreditations),
                        "main_certificate_outcomes": dict(sorted(outcomes.items()))}

    admin = users[(agencies[0].pk, RoleChoices.ADMIN)][0]
    _token, key = services.token_issue(user=admin, name="benchmark")
    return {"agencies": AGENCIES, "users": len(agencies) * 27, "all_agencies": totals, "measured_agency": measured,
            "agency": agencies[0], "admin": admin, "api_key": key}


def measure_requests(*, admin, key, repeats) -> tuple[dict, dict]:
    from django.test import Client

    api = Client(HTTP_AUTHORIZATION=f"Token {key}")
    browser = Client()
    browser.force_login(admin)
    results, explained = {}, {}
    for label, path, params, via in REQUESTS:
        timing, first, queries = time_get(api if via == "api" else browser, label, path, params, repeats)
        entry = dict(timing)
        if via == "api":
            body = first.json()
            if isinstance(body, dict) and "results" in body:
                entry.update(count=body["count"], rows=len(body["results"]))
            elif "devices" in body:
                entry.update(devices=body["devices"], expiring_listed=len(body["expiring_certifications"])
                             + len(body["expiring_accreditations"]))
        results[label] = entry
        if label == EXPLAINED:
            explained = queries
        counts = f"{entry.get('rows', '')} of {entry['count']} rows" if "count" in entry else ""
        print(f"  {label:72} median {entry['median_ms']:8.1f} ms  p95 {entry['p95_ms']:8.1f} ms  "
              f"{entry['queries']:3} queries  {counts}")
    return results, explained


def explain(queries) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of the page query and the count query of a captured request."""
    from django.db import connection

    plans = {}
    for query in queries:
        sql = query["sql"]
        if "certification_device" not in sql or "EXISTS" not in sql:
            continue
        name = "count" if "COUNT(" in sql.upper() else "page"
        with connection.cursor() as cursor:
            cursor.execute(("EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql"
                            else "EXPLAIN QUERY PLAN ") + sql)
            plans[name] = {"sql": sql, "plan": "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())}
    return plans


def measure_reminders() -> dict:
    from django.db import connection

    from qgov.duedates.models import Reminder
    from qgov.duedates.services import due_reminders_send
    from qgov.models import Notification

    result = {}
    for run in ("first", "second"):
        counter = QueryCounter()
        start = time.perf_counter()
        with connection.execute_wrapper(counter):
            sent = due_reminders_send()
        seconds = time.perf_counter() - start
        result[run] = {"sent": sent, "seconds": round(seconds, 2), "queries": counter.count,
                       "ms_per_reminder": round(seconds * 1000 / sent, 2) if sent else None,
                       "queries_per_reminder": round(counter.count / sent, 1) if sent else None}
        print(f"  due_reminders_send ({run} run): {sent} reminders in {seconds:.2f} s, {counter.count} queries")
    if result["second"]["sent"]:
        raise SystemExit(f"the second reminder run the same day sent {result['second']['sent']} reminders")
    result["reminder_rows"] = Reminder.objects.count()
    result["passed_over_rows"] = Reminder.objects.filter(skipped=True).count()
    result["notifications"] = Notification.objects.count()
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=10000, help="devices of the measured agency")
    parser.add_argument("--repeats", type=int, default=20, help="timed requests per endpoint (default 20)")
    parser.add_argument("--skip-reminders", action="store_true", help="time the requests only")
    parser.add_argument("--output", type=Path)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{SQLITE_FILE}"))
    args = parser.parse_args(argv)

    configure_environment(args.database_url)
    os.environ["EMAIL_URL"] = "memorymail://"  # the reminder emails (sent in-process: no broker) stay in memory
    sys.path.insert(0, str(BENCH_DIR.parent))
    fresh_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    start = time.perf_counter()
    data = generate(devices=args.devices)
    generation_s = time.perf_counter() - start
    agency, admin, key = data.pop("agency"), data.pop("admin"), data.pop("api_key")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    print(f"{connection.vendor}: {data['all_agencies']['devices']} devices, "
          f"{data['all_agencies']['device_certifications']} certifications in {AGENCIES} agencies "
          f"({args.devices} devices in {agency.code}, jurisdiction {agency.jurisdiction}), generated in "
          f"{generation_s:.1f} s")
    requests, explained = measure_requests(admin=admin, key=key, repeats=args.repeats)
    result = {
        "backend": connection.vendor,
        "devices_requested": args.devices,
        "data": {**data, "jurisdiction": agency.jurisdiction, "reminder_thresholds": agency.reminder_thresholds},
        "generation_s": round(generation_s, 2),
        "requests": requests,
        "explain": {"request": EXPLAINED, **explain(explained)},
    }
    if not args.skip_reminders:
        result["reminders"] = measure_reminders()
    result["machine"] = machine()
    result["measured_at"] = datetime.datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS_DIR.mkdir(exist_ok=True)
    path = args.output or RESULTS_DIR / f"compliance-{connection.vendor}-{args.devices}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"  -> {path}")
    connection.close()
    if args.database_url.startswith("sqlite"):
        SQLITE_FILE.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
