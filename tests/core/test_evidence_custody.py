"""The custody chain of evidence files: who, where, why and when on each entry; the hash chain per
file (built on attach, handover, verify, withdraw, download, export); tampering found at the exact
entry; the one-click and one-call checks; CSV and JSON exports; refused input writing nothing;
the data migration; concurrent appends on PostgreSQL."""

import csv
import hashlib
import importlib
import io
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from qgov.choices import RoleChoices
from qgov.evidence import services
from qgov.evidence.choices import CustodyEventActionChoices as Custody
from qgov.evidence.custody import GENESIS_HASH, custody_chain_verify
from qgov.models import AuditEvent, CustodyEvent, EvidenceFile
from tests.core.test_evidence import PDF, PDF_SHA256, stored_files, upload
from tests.risks.factories import RiskFactory


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def risk(agency):
    return RiskFactory(agency=agency)


@pytest.fixture
def editor(agency, member_of):
    return member_of(agency, RoleChoices.EDITOR, username="erin")


@pytest.fixture
def colleague(agency, member_of):
    return member_of(agency, RoleChoices.VIEWER, username="carl")


COLLECTED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


@pytest.fixture
def attached(risk, editor):
    return services.evidence_attach(record=risk, upload=upload(), user=editor, description="Pen-test report",
                                    collected_at=COLLECTED, collected_by_name="Dana (SOC)",
                                    location="Data centre B, rack 4")


def independent_hash(entry: dict) -> str:
    """What an auditor computes from an exported entry, as docs/evidence.md spells it out."""
    keys = ("action", "actor", "actor_name", "at", "chain_intact", "collected_at", "collected_by_name", "evidence",
            "from", "location", "note", "observed_sha256", "previous_hash", "reason", "sequence", "to")
    canonical = json.dumps({key: entry[key] for key in keys}, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def custody_audit_events():
    return AuditEvent.objects.filter(content_type=_content_type_id(CustodyEvent), action="create").order_by("seq")


def utc(value) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def chain(evidence):
    return list(CustodyEvent.objects.filter(evidence=evidence).order_by("sequence")
                .values_list("sequence", "action", "previous_hash", "entry_hash"))


def full_log(client, editor, attached, colleague):
    """Attach (fixture), verify, hand over, download, withdraw: five entries."""
    services.evidence_verification(evidence=attached, user=editor)
    services.evidence_handover(evidence=attached, user=editor, to_user=colleague, reason="Lab analysis",
                               location="Lab 2", note="Sealed bag 17")
    services.evidence_open(evidence=attached, user=colleague).close()
    services.evidence_withdraw(evidence=attached, user=editor, reason="Superseded")


# --- the chain as it is built ---------------------------------------------------------------------


def test_attach_records_who_where_when_collected_and_starts_the_chain(attached, editor):
    event = CustodyEvent.objects.get(evidence=attached)
    assert (event.sequence, event.action, event.actor, event.to_user, event.collected_at, event.collected_by_name,
            event.location, event.previous_hash) == (
        1, Custody.UPLOADED, editor, editor, COLLECTED, "Dana (SOC)", "Data centre B, rack 4", GENESIS_HASH)
    # The canonical serialisation, written out by hand: keys sorted, no spaces, UTF-8, UTC times.
    canonical = (
        f'{{"action":"uploaded","actor":{editor.pk},"actor_name":"erin","at":"{utc(event.at)}",'
        f'"chain_intact":null,"collected_at":"2026-11-20T09:30:00.000000Z","collected_by_name":"Dana (SOC)",'
        f'"evidence":{attached.pk},"from":null,"location":"Data centre B, rack 4","note":"",'
        f'"observed_sha256":"","previous_hash":"{GENESIS_HASH}","reason":"","sequence":1,"to":{editor.pk}}}')
    assert event.entry_hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_chain_is_built_on_attach_verify_handover_download_withdraw(client, attached, editor, colleague):
    full_log(client, editor, attached, colleague)
    rows = chain(attached)
    assert [(sequence, action) for sequence, action, _prev, _hash in rows] == [
        (1, Custody.UPLOADED), (2, Custody.VERIFIED_MATCH), (3, Custody.HANDED_OVER), (4, Custody.DOWNLOADED),
        (5, Custody.WITHDRAWN)]
    assert [prev for _seq, _action, prev, _hash in rows] == [GENESIS_HASH] + [h for *_rest, h in rows[:-1]]
    assert len({h for *_rest, h in rows}) == 5
    handover = CustodyEvent.objects.get(evidence=attached, sequence=3)
    assert (handover.from_user, handover.to_user, handover.reason, handover.location, handover.note) == (
        editor, colleague, "Lab analysis", "Lab 2", "Sealed bag 17")
    verify = CustodyEvent.objects.get(evidence=attached, sequence=2)
    assert (verify.observed_sha256, verify.chain_intact) == (PDF_SHA256, True)
    assert CustodyEvent.objects.get(evidence=attached, sequence=5).reason == "Superseded"
    result = custody_chain_verify(attached)
    assert (result.ok, result.entries, result.broken_sequence, result.reason, result.head_hash) == (
        True, 5, None, "", rows[-1][3])
    # Each entry is also in the agency's (keyed) audit chain, with its hash.
    audited = custody_audit_events()
    assert [e.after["entry_hash"] for e in audited] == [h for *_rest, h in rows]


def test_two_files_have_chains_of_their_own(risk, attached, editor):
    other = services.evidence_attach(record=risk, upload=upload("b.pdf"), user=editor)
    assert [(s, p == GENESIS_HASH) for s, _a, p, _h in chain(other)] == [(1, True)]
    assert custody_chain_verify(other).ok and custody_chain_verify(attached).ok


# --- tampering ------------------------------------------------------------------------------------


@pytest.fixture
def five(client, attached, editor, colleague):
    full_log(client, editor, attached, colleague)
    return attached


def test_an_edited_entry_is_found(five):
    # .update() bypasses the append-only save(), as someone with database access could.
    CustodyEvent.objects.filter(evidence=five, sequence=3).update(location="Lab 9")
    result = custody_chain_verify(five)
    assert (result.ok, result.entries, result.broken_sequence, result.reason) == (
        False, 3, 3, "its content does not match its hash: the entry was altered")
    assert result.head_hash == CustodyEvent.objects.get(evidence=five, sequence=2).entry_hash


def test_an_edited_time_is_found(five):
    CustodyEvent.objects.filter(evidence=five, sequence=4).update(at=timezone.now() - timedelta(days=3))
    assert custody_chain_verify(five).broken_sequence == 4


def test_a_removed_entry_is_found(five):
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CustodyEvent._meta.db_table} WHERE evidence_id = %s AND sequence = %s",
                       [five.pk, 3])
    result = custody_chain_verify(five)
    assert (result.ok, result.entries, result.broken_sequence, result.reason) == (
        False, 3, 3, "entry #3 is missing: the log goes on at #4")


def test_a_removed_and_renumbered_entry_is_found(five):
    with connection.cursor() as cursor:
        table = CustodyEvent._meta.db_table
        cursor.execute(f"DELETE FROM {table} WHERE evidence_id = %s AND sequence = 3", [five.pk])
        for sequence in (4, 5):
            cursor.execute(f"UPDATE {table} SET sequence = %s WHERE evidence_id = %s AND sequence = %s",
                           [sequence - 1, five.pk, sequence])
    result = custody_chain_verify(five)
    assert (result.ok, result.broken_sequence, result.reason) == (
        False, 3, "its previous hash is not the hash of entry #2: an entry was removed or the order changed")


def test_reordered_entries_are_found(five):
    events = CustodyEvent.objects.filter(evidence=five)
    events.filter(sequence=2).update(sequence=99)
    events.filter(sequence=3).update(sequence=2)
    events.filter(sequence=99).update(sequence=3)
    result = custody_chain_verify(five)
    assert (result.ok, result.broken_sequence, result.reason) == (
        False, 2, "its previous hash is not the hash of entry #1: an entry was removed or the order changed")


def test_a_broken_chain_in_the_api_the_page_and_the_log(client, api_as, five, editor):
    CustodyEvent.objects.filter(evidence=five, sequence=2).update(note="nothing to see")
    api = api_as(editor)
    check = api.get(f"/api/evidence-files/{five.pk}/custody/verify/")
    assert check.status_code == 200
    body = check.json()
    assert {key: body[key] for key in ("ok", "entries", "broken_sequence", "reason", "head_hash")} == {
        "ok": False, "entries": 2, "broken_sequence": 2,
        "reason": "its content does not match its hash: the entry was altered",
        "head_hash": CustodyEvent.objects.get(evidence=five, sequence=1).entry_hash}
    assert CustodyEvent.objects.filter(evidence=five).count() == 5  # the check is a read: nothing written
    verify = api.post(f"/api/evidence-files/{five.pk}/verify/").json()
    assert (verify["match"], verify["chain"]["ok"], verify["chain"]["broken_sequence"]) == (True, False, 2)
    logged = CustodyEvent.objects.get(evidence=five, sequence=6)
    assert (logged.action, logged.chain_intact, logged.note) == (
        Custody.VERIFIED_MATCH, False,
        "The custody chain breaks at entry #2: its content does not match its hash: the entry was altered.")
    client.force_login(editor)
    page = client.post(reverse("qgov:evidencefile_verify", args=[five.pk]), follow=True)
    assert [str(m) for m in page.context["messages"]][1] == (
        "Custody chain broken at entry #2: its content does not match its hash: the entry was altered.")
    assert (page.context["chain"].ok, page.context["chain"].broken_sequence) == (False, 2)
    assert 'data-testid="chain-check"><span class="badge text-bg-danger">Broken</span> at entry #2' \
        in page.content.decode()


# --- the page and the API, intact -----------------------------------------------------------------


def test_page_shows_file_and_chain_checks_with_when(client, attached, editor):
    client.force_login(editor)
    page = client.get(reverse("qgov:evidencefile_detail", args=[attached.pk]))
    html = page.content.decode()
    assert '<td data-testid="file-check"><span class="text-muted">Not verified yet.</span></td>' in html
    assert (page.context["chain"].ok, page.context["chain"].entries) == (True, 1)
    page = client.post(reverse("qgov:evidencefile_verify", args=[attached.pk]), follow=True)
    verification = CustodyEvent.objects.get(evidence=attached, sequence=2)
    when = timezone.localtime(verification.at).strftime("%Y-%m-%d %H:%M:%S %Z")
    html = page.content.decode()
    assert (f'<td data-testid="file-check"><span class="badge text-bg-success">Match</span> '
            f'last verified {when} by erin</td>') in html
    assert '<span class="badge text-bg-success">Intact</span> 2 entries' in html
    assert page.context["last_verification"] == verification


def test_api_detail_carries_the_chain_fields(api_as, attached, editor):
    event = CustodyEvent.objects.get(evidence=attached)
    body = api_as(editor).get(f"/api/evidence-files/{attached.pk}/").json()["custody_events"]
    assert [{k: e[k] for k in ("sequence", "collected_by_name", "location", "reason", "chain_intact",
                               "previous_hash", "entry_hash")} for e in body] == [
        {"sequence": 1, "collected_by_name": "Dana (SOC)", "location": "Data centre B, rack 4", "reason": "",
         "chain_intact": None, "previous_hash": GENESIS_HASH, "entry_hash": event.entry_hash}]
    assert datetime.fromisoformat(body[0]["collected_at"]) == COLLECTED


def test_attach_with_collection_details_through_the_api_and_the_page(api_as, client, risk, editor):
    response = api_as(editor).post(f"/api/risks/{risk.pk}/evidence/", {
        "file": upload(), "collected_at": "2026-11-30T08:15:00Z", "collected_by_name": "Field team",
        "location": "Node 7"}, format="multipart")
    assert response.status_code == 201, response.json()
    event = CustodyEvent.objects.get(evidence_id=response.json()["id"])
    assert (event.collected_at, event.collected_by_name, event.location) == (
        datetime(2026, 11, 30, 8, 15, tzinfo=UTC), "Field team", "Node 7")
    client.force_login(editor)
    url = reverse("qgov:evidencefile_add", args=[_content_type_id(risk), risk.pk])
    page = client.post(url, {"file": upload("b.pdf"), "collected_at": "2026-11-29T10:00", "location": "HQ"})
    assert page.status_code == 302
    event = CustodyEvent.objects.get(evidence__file_name="b.pdf")
    # A time typed in the form is the agency's local time (Europe/…, +01:00 in winter).
    assert (event.collected_at, event.location, event.collected_by_name) == (
        datetime(2026, 11, 29, 9, 0, tzinfo=UTC), "HQ", "")


# --- refused input writes nothing -----------------------------------------------------------------


def nothing_written(media_root):
    assert (EvidenceFile.objects.count(), CustodyEvent.objects.count(), stored_files(media_root)) == (0, 0, [])
    assert not AuditEvent.objects.filter(content_type__model__in=["evidencefile", "custodyevent"]).exists()


def test_collected_in_the_future_is_refused(api_as, client, risk, editor, media_root):
    future = (timezone.now() + timedelta(hours=2)).isoformat()
    response = api_as(editor).post(f"/api/risks/{risk.pk}/evidence/", {"file": upload(), "collected_at": future},
                                   format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"] == {"collected_at": ["The evidence cannot have been collected in the future."]}
    nothing_written(media_root)
    client.force_login(editor)
    url = reverse("qgov:evidencefile_add", args=[_content_type_id(risk), risk.pk])
    local = timezone.localtime(timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page = client.post(url, {"file": upload(), "collected_at": local})
    assert page.status_code == 200
    assert page.context["form"].errors == {"collected_at": ["The evidence cannot have been collected in the future."]}
    nothing_written(media_root)


def _content_type_id(record):
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(record).pk


def test_handover_without_reason_or_to_an_outsider_is_refused(api_as, client, attached, editor, other_agency,
                                                             member_of):
    stranger = member_of(other_agency, RoleChoices.ADMIN, username="stranger")
    outsider_here = member_of(attached.agency, RoleChoices.VIEWER, username="gone", is_active=False)
    before = (list(CustodyEvent.objects.values_list("pk", flat=True)), AuditEvent.objects.count())
    api = api_as(editor)
    url = f"/api/evidence-files/{attached.pk}/handover/"
    missing = api.post(url, {"to_user": stranger.pk}, format="json")
    assert (missing.status_code, missing.json()["errors"]) == (400, {"reason": ["This field is required."]})
    blank = api.post(url, {"to_user": stranger.pk, "reason": "  "}, format="json")
    assert (blank.status_code, blank.json()["errors"]) == (400, {"reason": ["This field may not be blank."]})
    outsider = api.post(url, {"to_user": outsider_here.pk, "reason": "Audit"}, format="json")
    assert (outsider.status_code, outsider.json()["errors"]) == (
        400, {"to_user": ["Choose a member of the agency who may view the record."]})
    # The service checks both at once (a caller other than the API).
    with pytest.raises(ValidationError) as refused:
        services.evidence_handover(evidence=attached, user=editor, to_user=stranger, reason=" ")
    assert refused.value.message_dict == {"to_user": ["Choose a member of the agency who may view the record."],
                                          "reason": ["Say why the file is handed over."]}
    client.force_login(editor)
    page = client.post(reverse("qgov:evidencefile_handover", args=[attached.pk]),
                       {"to_user": editor.pk, "reason": ""})
    assert page.status_code == 200
    assert page.context["form"].errors == {"reason": ["This field is required."]}
    attached.refresh_from_db()
    assert (attached.custodian, attached.version) == (editor, 1)
    assert (list(CustodyEvent.objects.values_list("pk", flat=True)), AuditEvent.objects.count()) == before


# --- exports --------------------------------------------------------------------------------------


def test_json_export_lets_an_auditor_recompute_every_hash(api_as, client, five, editor, colleague):
    response = api_as(colleague).get(f"/api/evidence-files/{five.pk}/custody/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="evidence-{five.pk}-custody.json"'
    document = json.loads(response.content)
    assert document["evidence"] == {"id": five.pk, "file_name": "report.pdf", "sha256": PDF_SHA256, "size": len(PDF),
                                    "agency": "DQN", "record_type": "risks.risk", "record_id": five.object_id}
    entries = document["events"]
    # The export is logged first, so it is the last entry of its own file.
    assert [(e["sequence"], e["action"]) for e in entries][-2:] == [(5, "withdrawn"), (6, "exported")]
    assert (entries[-1]["actor_name"], entries[-1]["note"]) == ("carl", "json")
    previous = document["genesis_hash"]
    for entry in entries:
        assert entry["previous_hash"] == previous
        assert independent_hash(entry) == entry["entry_hash"]
        previous = entry["entry_hash"]
    assert {k: document["chain"][k] for k in ("ok", "entries", "broken_sequence", "head_hash")} == {
        "ok": True, "entries": 6, "broken_sequence": None, "head_hash": previous}
    assert (entries[2]["from_name"], entries[2]["to_name"], entries[2]["location"]) == ("erin", "carl", "Lab 2")


def test_csv_export_from_the_page_and_the_api(api_as, client, attached, editor):
    client.force_login(editor)
    response = client.get(reverse("qgov:evidencefile_custody_export", args=[attached.pk, "csv"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    events = list(CustodyEvent.objects.filter(evidence=attached).order_by("sequence"))
    assert rows == [
        ["sequence", "at", "action", "action_label", "actor_id", "actor_name", "from_user_id", "from_user",
         "to_user_id", "to_user", "collected_at", "collected_by_name", "location", "reason", "note",
         "observed_sha256", "chain_intact", "previous_hash", "entry_hash"],
        ["1", utc(events[0].at), "uploaded", "Uploaded", str(editor.pk), "erin", "", "", str(editor.pk), "erin",
         "2026-11-20T09:30:00.000000Z", "Dana (SOC)", "Data centre B, rack 4", "", "", "", "", GENESIS_HASH,
         events[0].entry_hash],
        ["2", utc(events[1].at), "exported", "Custody log exported", str(editor.pk), "erin", "", "", "", "", "", "",
         "", "", "csv", "", "", events[0].entry_hash, events[1].entry_hash],
    ]
    api = api_as(editor).get(f"/api/evidence-files/{attached.pk}/custody/csv/")
    assert (api.status_code, api["Content-Disposition"]) == (
        200, f'attachment; filename="evidence-{attached.pk}-custody.csv"')
    assert len(list(csv.reader(io.StringIO(api.content.decode())))) == 4
    assert client.get(f"/evidence/{attached.pk}/custody.xml").status_code == 404
    # Each export is an audited read, like a download.
    assert [e.after["action"] for e in custody_audit_events()] == [
        "uploaded", "exported", "exported"]
    assert custody_chain_verify(attached).ok


def test_exports_of_another_agencys_file_are_404(api_as, client, attached, other_agency, member_of):
    stranger = member_of(other_agency, RoleChoices.ADMIN)
    assert api_as(stranger).get(f"/api/evidence-files/{attached.pk}/custody/").status_code == 404
    assert api_as(stranger).get(f"/api/evidence-files/{attached.pk}/custody/verify/").status_code == 404
    client.force_login(stranger)
    assert client.get(reverse("qgov:evidencefile_custody_export", args=[attached.pk, "json"])).status_code == 404
    assert CustodyEvent.objects.count() == 1


def test_schema_documents_the_custody_endpoints(api_as, superuser):
    schema = api_as(superuser).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert set(paths["/api/evidence-files/{id}/custody/verify/"]) == {"get"}
    assert list(paths["/api/evidence-files/{id}/custody/csv/"]["get"]["responses"]["200"]["content"]) == ["text/csv"]
    assert schema["components"]["schemas"]["ChainVerification"]["required"] == [
        "broken_sequence", "checked_at", "entries", "head_hash", "ok", "reason"]
    handover = schema["components"]["schemas"]["HandoverRequest"]
    assert (handover["required"], sorted(handover["properties"])) == (
        ["reason", "to_user"], ["location", "note", "reason", "to_user"])


# --- query budget ---------------------------------------------------------------------------------


def test_evidence_page_queries_do_not_grow_with_the_log(client, attached, editor, colleague):
    client.force_login(editor)
    url = reverse("qgov:evidencefile_detail", args=[attached.pk])
    counts = []
    for _round in range(2):
        services.evidence_verification(evidence=attached, user=editor)
        services.evidence_open(evidence=attached, user=editor).close()
        client.get(url)  # content types cached, as in a running server
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts == [PAGE_QUERIES] * 2, counts


# Session, user, the agencies of the page's header, memberships, the file (with agency, type,
# uploader, custodian, withdrawer), its record, the log with the users it names, the unread
# notifications. As before the chain: its check reads the rows the log shows, no query of its own.
PAGE_QUERIES = 8


# --- the data migration ---------------------------------------------------------------------------


def test_the_migration_chains_existing_entries_in_the_order_written(five, risk, editor):
    other = services.evidence_attach(record=risk, upload=upload("b.pdf"), user=editor)
    expected = {evidence.pk: chain(evidence) for evidence in (five, other)}
    # As before the migration: entries without sequence or hashes (the migration adds the unique
    # constraint after numbering; here it is in place, so the numbers are only made distinct).
    CustodyEvent.objects.update(sequence=F("pk") + 1000, previous_hash="", entry_hash="")
    migration = importlib.import_module("qgov.migrations.0011_custody_chain")
    migration.chain_existing_events(apps, None)
    assert {evidence.pk: chain(evidence) for evidence in (five, other)} == expected


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_never_fork_the_chain(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises the whole database)")
    from tests.factories import AgencyFactory, MembershipFactory, UserFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    with transaction.atomic():  # a risk takes the next reference under a row lock
        agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
        users = [UserFactory(username=name) for name in ("ann", "bob")]
        for user in users:
            MembershipFactory(agency=agency, user=user, role=RoleChoices.EDITOR)
        risk = RiskFactory(agency=agency)
    evidence = services.evidence_attach(record=risk, upload=upload(), user=users[0])
    barrier, errors = threading.Barrier(2), []

    def worker(user):
        try:
            barrier.wait()
            for _ in range(10):
                services.evidence_open(evidence=evidence, user=user).close()
                services.evidence_verification(evidence=evidence, user=user)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = chain(evidence)
    assert [sequence for sequence, *_rest in rows] == list(range(1, 42))
    assert [prev for _s, _a, prev, _h in rows] == [GENESIS_HASH] + [h for *_rest, h in rows[:-1]]
    result = custody_chain_verify(evidence)
    assert (result.ok, result.entries) == (True, 41)
    # Every verification found the chain intact as it stood.
    assert set(CustodyEvent.objects.filter(action=Custody.VERIFIED_MATCH).values_list("chain_intact", flat=True)) \
        == {True}


@pytest.mark.django_db(transaction=True)
def test_an_append_waits_for_the_lock_holder(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    from tests.factories import AgencyFactory, MembershipFactory, UserFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    with transaction.atomic():
        agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
        ann, bob = UserFactory(username="ann"), UserFactory(username="bob")
        for user in (ann, bob):
            MembershipFactory(agency=agency, user=user, role=RoleChoices.EDITOR)
        risk = RiskFactory(agency=agency)
    evidence = services.evidence_attach(record=risk, upload=upload(), user=ann)
    holding, release, done = threading.Event(), threading.Event(), []

    def first():
        try:
            with transaction.atomic():
                services.evidence_open(evidence=evidence, user=ann).close()  # holds the file's row lock
                holding.set()
                release.wait(5)
        finally:
            connection.close()

    def second():
        try:
            holding.wait(5)
            services.evidence_open(evidence=evidence, user=bob).close()
            done.append(timezone.now())
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    holding.wait(5)
    threading.Event().wait(0.5)
    assert done == []  # bob waits on ann's lock rather than reading the same head
    release.set()
    for thread in threads:
        thread.join()
    assert [(s, a) for s, a, _p, _h in chain(evidence)] == [
        (1, Custody.UPLOADED), (2, Custody.DOWNLOADED), (3, Custody.DOWNLOADED)]
    assert list(CustodyEvent.objects.order_by("sequence").values_list("actor_name", flat=True)) == [
        "ann", "ann", "bob"]
    assert custody_chain_verify(evidence).ok


def test_verify_needs_no_more_than_the_file(attached, media_root):
    (Path(media_root) / "private" / "evidence" / attached.file.name).unlink()
    result = services.evidence_verification(evidence=attached, user=attached.uploaded_by)
    assert (result.match, result.chain.ok) == (False, True)
    assert CustodyEvent.objects.get(evidence=attached, sequence=2).note == "The stored file is missing."
