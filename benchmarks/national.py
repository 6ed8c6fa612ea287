"""Generate a national risk register: many agencies, a long tail of sizes, one very large agency.

    python -m benchmarks.national --scale 1.0 --database-url postgres://postgres@127.0.0.1:5432/qgov_national_bench
    python -m benchmarks.national --scale 0.01 --agencies 1      # SQLite: one agency, 10,000 risks

At scale 1.0: 200 agencies, 1,000,000 risks (the largest agency 100,000, the other 199 on a long
tail), 200,000 assets and 300,000 controls spread like the risks, users with memberships in one
agency (80 %) or two to four (20 %), each agency's 5 × 5 risk matrix, and the shipped
threat-vector catalog (`load_catalogs`). Every risk has realistic fields (status and treatment
mix, inherent/current/residual ratings with their scores and band, an owner who is a member, a
review date, a ~200-character description of domain words) and 3 threat vectors, 2 assets and
2 controls of its own agency. `--agencies N` puts the same per-risk data into N agencies (N = 1:
the single-agency SQLite profile of the issue's first rows).

The same `--seed` gives the same data. Rows are written in bulk with explicit primary keys
(PostgreSQL: COPY through psycopg 3; SQLite: executemany in batches), so no model `save()`,
signal or audit event runs: the only audit events are the catalog load's. The data respects the
models' constraints (references unique per agency, asset names unique per agency, one matrix per
agency, owners are members, version 1, scores and rating derived as `Risk.save()` derives them).
"""

import argparse
import json
import math
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

BATCH = 20000
DATASET_TABLE = "bench_national_dataset"

# Risks of the largest agency per 1.0 of scale, and the rest.
SCALE_ONE = {"agencies": 200, "risks": 1_000_000, "largest": 100_000, "assets": 200_000}
CONTROLS_PER_RISK = 0.3
LINKS = {"threat_vectors": 3, "assets": 2, "controls": 2}

# Words of the descriptions. SEARCH_WORDS are rare (each in about 0.2 % of the risks), so a
# `?q=` search on one of them finds a page of hits among many rows, as a search usually does.
_WORDS = (
    "quantum harvest decrypt later key exchange lattice migration inventory certificate rotation firmware "
    "supplier trusted node detector link photon channel authentication signature hybrid TLS VPN tunnel "
    "gateway HSM backup archive confidentiality integrity latency outage audit finding vendor contract "
    "patch update legacy RSA ECDH ECDSA Kyber Dilithium SPHINCS entropy randomness calibration "
    "side-channel timing fault injection tamper enclosure operator procedure escalation monitoring "
    "alerting segmentation replay downgrade misconfiguration expiry revocation registry ledger"
)
DOMAIN_WORDS = tuple(_WORDS.split())
SEARCH_WORDS = ("blinding", "trojan", "skimming", "spoofing", "jamming", "eavesdropper", "sabotage",
                "counterfeit", "smuggled", "bribery") + tuple(f"keyword{i:02d}" for i in range(90))
TITLE_THREATS = ("Harvest-now-decrypt-later", "Detector blinding", "Key reuse", "Supplier compromise",
                 "Certificate expiry", "Downgrade attack", "Side-channel leakage", "Trusted node breach",
                 "Firmware tampering", "Weak randomness", "Legacy RSA", "Misconfigured VPN")
TITLE_TARGETS = ("on the backbone link", "in the key management system", "of archived records",
                 "at the data centre", "in the citizen portal", "across regional offices",
                 "in the payment gateway", "of the signing service")

STATUS_MIX = (("draft", 10), ("assessed", 25), ("in_treatment", 35), ("accepted", 10), ("closed", 20))
TREATMENT_MIX = (("mitigate", 60), ("transfer", 10), ("avoid", 15))  # accepted risks: "accept"
ASSET_TYPES = ("qkd_link", "trusted_node", "key_management", "network_segment", "system", "data_set")
CONTROL_TYPES = ("preventive", "detective", "corrective", "directive")
CONTROL_STATUSES = ("planned", "in_progress", "implemented", "implemented", "retired")
EFFECTIVENESS = ("not_assessed", "ineffective", "partial", "effective", "effective")
CRITICALITY = ("low", "medium", "medium", "high", "critical")
SECTORS = ("defence", "foreign_affairs", "home_affairs")


def plan(scale: float, agencies: int | None = None) -> dict:
    """Counts for a scale; `agencies` overrides the number of agencies (the largest keeps its share
    of a national register unless there is only one)."""
    risks = max(1, round(SCALE_ONE["risks"] * scale))
    largest = max(1, round(risks * SCALE_ONE["largest"] / SCALE_ONE["risks"]))
    # Scaled down, keep enough agencies that the largest one stays the largest (at least 10).
    needed = 1 + math.ceil((risks - largest) / largest)
    agency_count = agencies or max(needed, min(SCALE_ONE["agencies"], round(SCALE_ONE["agencies"] * scale)))
    sizes = [risks] if agency_count == 1 else [largest, *long_tail(risks - largest, agency_count - 1, cap=largest)]
    return {"scale": scale, "agencies": agency_count, "risks": risks, "risks_per_agency": sizes,
            "assets": max(2 * agency_count, round(SCALE_ONE["assets"] * scale)),
            "controls": sum(max(2, round(n * CONTROLS_PER_RISK)) for n in sizes)}


def long_tail(total: int, count: int, cap: int) -> list[int]:
    """`total` split over `count` agencies by a Zipf-like law (1/rank^0.9), each at least 1 and at most cap."""
    cap = max(cap, math.ceil(total / count))
    weights = [1 / (rank + 2) ** 0.9 for rank in range(count)]
    scale = total / sum(weights)
    sizes = [max(1, min(cap, math.floor(w * scale))) for w in weights]
    rest, i = total - sum(sizes), 0
    while rest:  # hand out (or take back) the rounding remainder from the top
        index = i % count
        if rest > 0 and sizes[index] < cap:
            sizes[index] += 1
            rest -= 1
        elif rest < 0 and sizes[index] > 1:
            sizes[index] -= 1
            rest += 1
        i += 1
    return sizes


def pick(rng: random.Random, mix) -> str:
    return rng.choices([value for value, _w in mix], [w for _v, w in mix])[0]


class Writer:
    """Bulk rows into a table with explicit columns: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, connection):
        self.connection = connection
        self.postgres = connection.vendor == "postgresql"

    def ts(self, moment: datetime) -> str:
        # Django stores aware datetimes as naive UTC text on SQLite.
        return moment.strftime("%Y-%m-%d %H:%M:%S+00" if self.postgres else "%Y-%m-%d %H:%M:%S")

    def write(self, table: str, columns: tuple[str, ...], rows) -> int:
        count = 0
        with self.connection.cursor() as cursor:
            raw = cursor.cursor  # the driver's cursor (COPY is not in Django's API)
            if self.postgres:
                with raw.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy:
                    chunk = []
                    for row in rows:
                        chunk.append("\t".join(r"\N" if v is None else ("t" if v is True else "f" if v is False
                                                                          else str(v)) for v in row))
                        if len(chunk) == BATCH:
                            copy.write("\n".join(chunk) + "\n")
                            count += len(chunk)
                            chunk = []
                    if chunk:
                        copy.write("\n".join(chunk) + "\n")
                        count += len(chunk)
            else:
                sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'
                chunk = []
                for row in rows:
                    chunk.append(tuple(str(v) if isinstance(v, Decimal) else v for v in row))
                    if len(chunk) == BATCH:
                        raw.executemany(sql, chunk)
                        count += len(chunk)
                        chunk = []
                if chunk:
                    raw.executemany(sql, chunk)
                    count += len(chunk)
        return count

    def drop_indexes(self, tables) -> list[str]:
        """PostgreSQL: drop the foreign keys, unique constraints and secondary indexes of `tables`
        (not their primary keys) and return the statements that re-create them. Building an index
        once over the loaded rows is several times faster than maintaining it row by row, and a
        foreign key re-added is checked in one join instead of one trigger per row."""
        if not self.postgres or self.connection.in_atomic_block:
            # Inside a transaction (a test's), dropping a foreign key trips over the pending deferred
            # checks of rows written before; small data needs no such speed-up anyway.
            return []
        restore_indexes, restore_unique, restore_fks, fk_drops, drops = [], [], [], [], []
        with self.connection.cursor() as cursor:
            for table in tables:
                cursor.execute("SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                               "WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY contype",
                               [f'"{table}"'])
                for name, kind, definition in cursor.fetchall():
                    (fk_drops if kind == "f" else drops).append(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                    (restore_fks if kind == "f" else restore_unique).append(
                        f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
                cursor.execute("SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                               "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = %s::regclass "
                               "AND NOT x.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                               "WHERE c.conindid = x.indexrelid AND c.conrelid = x.indrelid)", [f'"{table}"'])
                for name, definition in cursor.fetchall():
                    drops.append(f'DROP INDEX "{name}"')
                    restore_indexes.append(definition)
            for statement in fk_drops + drops:
                cursor.execute(statement)
        return restore_indexes + restore_unique + restore_fks

    def run(self, statements):
        with self.connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    def reset_sequences(self, models):
        if not self.postgres:
            return
        with self.connection.cursor() as cursor:
            for model in models:
                table = model._meta.db_table
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                               f"COALESCE((SELECT MAX(id) FROM \"{table}\"), 1))")


def descriptions(rng: random.Random, count: int = 4096) -> list[str]:
    """A pool of ~200-character descriptions made of domain words."""
    pool = []
    for _ in range(count):
        words, length = [], 0
        while length < 190:
            word = rng.choice(DOMAIN_WORDS)
            words.append(word)
            length += len(word) + 1
        text = " ".join(words)
        pool.append(text[0].upper() + text[1:] + ".")
    return pool


def generate(scale: float = 1.0, seed: int = 7, agencies: int | None = None, log=print) -> dict:
    """Fill the (migrated, empty) default database; returns what was made and how long each step took."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction

    from qgov.choices import RoleChoices
    from qgov.models import Agency, Membership
    from risks.models import Asset, Control, Risk, RiskMatrix, ThreatVector

    counts = plan(scale, agencies)
    rng = random.Random(seed)
    writer = Writer(connection)
    steps, started = {}, time.perf_counter()
    now = datetime.now(UTC).replace(microsecond=0)
    today = now.date()
    user_model = get_user_model()

    def step(name, began):
        steps[name] = round(time.perf_counter() - began, 2)
        log(f"  {name:28} {steps[name]:8.1f} s")

    began = time.perf_counter()
    call_command("load_catalogs", verbosity=0)
    vector_ids = list(ThreatVector.objects.order_by("pk").values_list("pk", flat=True))
    if len(vector_ids) < LINKS["threat_vectors"]:
        raise SystemExit("load_catalogs made fewer threat vectors than a risk links")
    step("catalogs", began)

    began = time.perf_counter()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            connection.cursor().execute("SET LOCAL synchronous_commit = off")
        agency_objs = Agency.objects.bulk_create([
            Agency(name=f"National agency {i:03d}", code=f"NA-{i:03d}", sector=SECTORS[i % len(SECTORS)])
            for i in range(counts["agencies"])])
        agency_ids = [a.pk for a in agency_objs]
        matrices = RiskMatrix.objects.bulk_create([RiskMatrix(agency_id=pk, **RiskMatrix.defaults(5))
                                                   for pk in agency_ids])
        matrix_of = {m.agency_id: m for m in matrices}
        # Users: ceil(risks/500) + 3 members per agency; a fifth of them also belong to 1-3 more agencies.
        unusable = "!" + "x" * 40
        members_of = {pk: [] for pk in agency_ids}
        users, memberships = [], []
        for agency_id, size in zip(agency_ids, counts["risks_per_agency"], strict=True):
            for j in range(3 + math.ceil(size / 500)):
                users.append(user_model(username=f"user-{agency_id}-{j:04d}", password=unusable,
                                        email=f"user-{agency_id}-{j:04d}@agency.invalid"))
                memberships.append((len(users) - 1, agency_id, RoleChoices.ADMIN if j == 0 else
                                    rng.choice((RoleChoices.EDITOR, RoleChoices.EDITOR, RoleChoices.VIEWER,
                                                RoleChoices.AUDITOR))))
        bench_user = user_model(username="bench-largest", password=unusable, email="bench@agency.invalid")
        users.append(bench_user)
        # Editor of the largest agency only: the caller of every timed request.
        memberships.append((len(users) - 1, agency_ids[0], RoleChoices.EDITOR))
        user_objs = user_model.objects.bulk_create(users, batch_size=2000)
        extra = []
        if len(agency_ids) > 1:
            for index in range(len(user_objs) - 1):
                if rng.random() < 0.2:
                    home = memberships[index][1]
                    others = rng.sample(agency_ids, min(len(agency_ids), rng.randint(2, 4)))
                    extra += [(index, pk, RoleChoices.VIEWER) for pk in others if pk != home][:3]
        Membership.objects.bulk_create([Membership(user_id=user_objs[i].pk, agency_id=a, role=role)
                                        for i, a, role in memberships + extra], batch_size=2000)
        for i, agency_id, _role in memberships + extra:
            if user_objs[i].username != "bench-largest":
                members_of[agency_id].append(user_objs[i].pk)
    step("agencies, users, matrices", began)

    created_base = now - timedelta(days=3 * 365)

    def stamp(r: random.Random) -> str:
        return writer.ts(created_base + timedelta(seconds=r.randrange(3 * 365 * 86400)))

    # Assets and controls: contiguous id ranges per agency so risks link to their own agency's.
    began = time.perf_counter()
    total_risks = counts["risks"]
    asset_ranges, control_ranges = {}, {}
    next_asset = (Asset.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    next_control = (Control.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    assets_left = counts["assets"]
    for index, (agency_id, size) in enumerate(zip(agency_ids, counts["risks_per_agency"], strict=True)):
        remaining_agencies = len(agency_ids) - index
        share = assets_left if remaining_agencies == 1 else \
            max(2, min(assets_left - 2 * (remaining_agencies - 1), round(counts["assets"] * size / total_risks)))
        assets_left -= share
        asset_ranges[agency_id] = (next_asset, share)
        next_asset += share
        n_controls = max(2, round(size * CONTROLS_PER_RISK))
        control_ranges[agency_id] = (next_control, n_controls)
        next_control += n_controls
    asset_rng, control_rng = random.Random(seed + 1), random.Random(seed + 2)

    def asset_rows():
        for agency_id, (first, n) in asset_ranges.items():
            owners = members_of[agency_id]
            for k in range(n):
                kind = ASSET_TYPES[k % len(ASSET_TYPES)]
                protects = "integrity" if asset_rng.random() < 0.2 else "confidentiality"
                at = stamp(asset_rng)
                yield (first + k, 1, at, at, agency_id, f"{kind.replace('_', ' ').title()} {k + 1:06d}", kind,
                       "Asset of the national register benchmark.", asset_rng.choice(owners),
                       asset_rng.choice(CRITICALITY), Decimal(asset_rng.randint(1, 30)),
                       Decimal(asset_rng.randint(1, 10)), protects, protects == "confidentiality")

    def control_rows():
        for agency_id, (first, n) in control_ranges.items():
            owners = members_of[agency_id]
            for k in range(n):
                at = stamp(control_rng)
                due = today + timedelta(days=control_rng.randint(-60, 400)) if control_rng.random() < 0.7 else None
                yield (first + k, 1, at, at, agency_id, f"Control {k + 1:06d}: {control_rng.choice(DOMAIN_WORDS)} "
                       f"{control_rng.choice(DOMAIN_WORDS)}", "Control of the national register benchmark.",
                       control_rng.choice(CONTROL_TYPES), control_rng.choice(CONTROL_STATUSES),
                       control_rng.choice(owners), due and due.isoformat(), control_rng.choice(EFFECTIVENESS))

    bulk_tables = [model._meta.db_table for model in (Asset, Control, Risk, Risk.threat_vectors.through,
                                                      Risk.assets.through, Risk.controls.through)]
    restore = writer.drop_indexes(bulk_tables)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            connection.cursor().execute("SET LOCAL synchronous_commit = off")
        writer.write(Asset._meta.db_table, ("id", "version", "created", "last_updated", "agency_id", "name",
                                            "asset_type", "description", "owner_id", "criticality",
                                            "shelf_life_years", "migration_years", "protects", "harvestable"),
                     asset_rows())
        writer.write(Control._meta.db_table, ("id", "version", "created", "last_updated", "agency_id", "title",
                                              "description", "control_type", "status", "owner_id", "due_date",
                                              "effectiveness"), control_rows())
    writer.reset_sequences([Asset, Control])
    step("assets and controls", began)

    # Risks, then their links (the risk ids are known: contiguous from next_risk).
    began = time.perf_counter()
    pool = descriptions(random.Random(seed + 3))
    risk_rng = random.Random(seed + 4)
    next_risk = (Risk.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    risk_ranges = {}
    first = next_risk
    for agency_id, size in zip(agency_ids, counts["risks_per_agency"], strict=True):
        risk_ranges[agency_id] = (first, size)
        first += size
    statuses = [s for s, w in STATUS_MIX for _ in range(w)]
    treatments = [t for t, w in TREATMENT_MIX for _ in range(w)]
    rare = SEARCH_WORDS

    def risk_rows():
        r = risk_rng
        for agency_id, (first_id, n) in risk_ranges.items():
            owners = members_of[agency_id]
            matrix = matrix_of[agency_id]
            band_names = {score: (matrix.band_for(score) or {}).get("name", "") for score in range(1, 26)}
            for k in range(n):
                li, ii = r.randint(1, 5), r.randint(1, 5)
                cur = (max(1, li - r.randint(0, 2)), ii) if r.random() < 0.8 else (None, None)
                res = (max(1, li - r.randint(1, 3)), max(1, ii - r.randint(0, 1))) if r.random() < 0.6 else (None, None)
                inherent = li * ii
                rating_score = cur[0] * cur[1] if cur[0] else inherent
                status = statuses[r.randrange(100)]
                treatment = "accept" if status == "accepted" else treatments[r.randrange(85)]
                review = today + timedelta(days=r.randint(-120, 540)) if r.random() < 0.95 else None
                description = pool[r.randrange(len(pool))]
                if r.random() < 0.2:
                    description = f"{description[:170]} Risk of {rare[r.randrange(len(rare))]}."
                at = stamp(r)
                yield (first_id + k, 1, at, at, agency_id, f"R-{k + 1:06d}",
                       f"{TITLE_THREATS[r.randrange(len(TITLE_THREATS))]} "
                       f"{TITLE_TARGETS[r.randrange(len(TITLE_TARGETS))]}",
                       description, owners[r.randrange(len(owners))] if r.random() < 0.9 else None, matrix.pk,
                       li, ii, cur[0], cur[1], res[0], res[1], inherent,
                       res[0] * res[1] if res[0] else None, rating_score, band_names[rating_score], treatment,
                       review and review.isoformat(), status, "")

    with transaction.atomic():
        if connection.vendor == "postgresql":
            connection.cursor().execute("SET LOCAL synchronous_commit = off")
        writer.write(Risk._meta.db_table, (
            "id", "version", "created", "last_updated", "agency_id", "reference", "title", "description", "owner_id",
            "matrix_id", "inherent_likelihood", "inherent_impact", "current_likelihood", "current_impact",
            "residual_likelihood", "residual_impact", "inherent_score", "residual_score", "rating_score", "rating",
            "treatment", "review_date", "status", "status_note"), risk_rows())
    writer.reset_sequences([Risk])
    step("risks", began)

    link_rng = random.Random(seed + 5)

    def two_of(first_id, n):
        a = link_rng.randrange(n)
        b = link_rng.randrange(n - 1)
        return first_id + a, first_id + (b + 1 if b >= a else b)

    def vector_rows():
        for first_id, n in risk_ranges.values():
            for risk_id in range(first_id, first_id + n):
                for vector in link_rng.sample(vector_ids, LINKS["threat_vectors"]):
                    yield risk_id, vector

    def ranged_rows(ranges):
        def rows():
            for agency_id, (first_id, n) in risk_ranges.items():
                target_first, target_n = ranges[agency_id]
                for risk_id in range(first_id, first_id + n):
                    for target in two_of(target_first, target_n):
                        yield risk_id, target
        return rows()

    for name, through, column, rows in (
            ("threat vector links", Risk.threat_vectors.through, "threatvector_id", vector_rows()),
            ("asset links", Risk.assets.through, "asset_id", ranged_rows(asset_ranges)),
            ("control links", Risk.controls.through, "control_id", ranged_rows(control_ranges))):
        began = time.perf_counter()
        with transaction.atomic():
            if connection.vendor == "postgresql":
                connection.cursor().execute("SET LOCAL synchronous_commit = off")
            writer.write(through._meta.db_table, ("risk_id", column), rows)
        step(name, began)

    if restore:
        began = time.perf_counter()
        writer.run(["SET maintenance_work_mem = '256MB'", *restore, "RESET maintenance_work_mem"])
        step("indexes and constraints", began)

    began = time.perf_counter()
    with connection.cursor() as cursor:
        # VACUUM (the visibility map, for index-only scans) cannot run inside a transaction: a test's.
        vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
    step("vacuum/analyze", began)

    made = {
        "agencies": Agency.objects.count(), "users": user_model.objects.count(),
        "memberships": Membership.objects.count(), "risk_matrices": RiskMatrix.objects.count(),
        "threat_vectors": len(vector_ids), "risks": Risk.objects.count(), "assets": Asset.objects.count(),
        "controls": Control.objects.count(),
        "risk_threat_vector_links": Risk.threat_vectors.through.objects.count(),
        "risk_asset_links": Risk.assets.through.objects.count(),
        "risk_control_links": Risk.controls.through.objects.count(),
        "largest_agency_risks": counts["risks_per_agency"][0],
        "smallest_agency_risks": min(counts["risks_per_agency"]),
    }
    info = {"scale": scale, "seed": seed, "agencies_option": agencies,
            "plan": {k: v for k, v in counts.items() if k != "risks_per_agency"},
            "counts": made, "largest_agency_id": agency_ids[0], "bench_username": "bench-largest",
            "search_word": SEARCH_WORDS[0], "steps_s": steps,
            "generation_s": round(time.perf_counter() - started, 1),
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average_during": [round(x, 2) for x in os.getloadavg()]}
    # Kept in the database itself, so a later run on it (--reuse) reports the same dataset.
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {DATASET_TABLE} (info text)")
        cursor.execute(f"DELETE FROM {DATASET_TABLE}")
        cursor.execute(f"INSERT INTO {DATASET_TABLE} (info) VALUES (%s)", [json.dumps(info)])
    return info


def dataset_info() -> dict | None:
    """What generate() recorded in this database, or None if it holds no generated dataset."""
    from django.db import connection

    if DATASET_TABLE not in connection.introspection.table_names():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT info FROM {DATASET_TABLE}")
        row = cursor.fetchone()
    return json.loads(row[0]) if row else None


def main(argv=None):
    from benchmarks.run import BENCH_DIR, SQLITE_FILE, configure_environment, fresh_database

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--agencies", type=int, default=None, help="override the number of agencies (1: one agency)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{SQLITE_FILE}"))
    args = parser.parse_args(argv)
    configure_environment(args.database_url)
    sys.path.insert(0, str(BENCH_DIR.parent))
    import django

    django.setup()
    from django.core.management import call_command

    fresh_database(args.database_url)
    call_command("migrate", verbosity=0)
    result = generate(args.scale, args.seed, args.agencies)
    print(result)


if __name__ == "__main__":
    main()
