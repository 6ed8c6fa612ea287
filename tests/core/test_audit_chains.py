"""The audit trail, version 2: one event per logical change, a pinned query budget per write,
one chain per agency, keyed hashes with rotation, and signed checkpoints."""

import io
import json
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qgov import services
from qgov.audit import GENESIS_HASH, compute_hash, key_id_of, one_change
from qgov.audit_verify import verify_chain, verify_chains
from qgov.choices import RoleChoices
from qgov.models import AuditChainHead, AuditCheckpoint, AuditEvent
from qgov.testing import events_for
from risks.models import Risk
from risks.services import risk_matrix_ensure
from tests.factories import AgencyFactory, MembershipFactory
from tests.risks.factories import AssetFactory, ControlFactory, RiskFactory, ThreatVectorFactory

KEY_1 = "first-audit-key-for-tests-0123456789abcdefghij"
KEY_2 = "second-audit-key-for-tests-0123456789abcdefghij"


@pytest.fixture
def register(agency, member_of):
    """An editor, a matrix, and 3 threat vectors, 2 assets, 2 controls to link."""
    risk_matrix_ensure(agency)
    return SimpleNamespace(
        editor=member_of(agency, RoleChoices.EDITOR),
        threat_vectors=[ThreatVectorFactory() for _ in range(3)],
        assets=[AssetFactory(agency=agency) for _ in range(2)],
        controls=[ControlFactory(agency=agency) for _ in range(2)],
    )


def risk_payload(agency, register):
    return {"agency": agency.pk, "title": "Trusted node compromise", "inherent_likelihood": 3,
            "inherent_impact": 4, "threat_vectors": [t.pk for t in register.threat_vectors],
            "assets": [a.pk for a in register.assets], "controls": [c.pk for c in register.controls]}


def warm_caches():
    """A running server has looked up its content types long ago."""
    ContentType.objects.get_for_models(*apps.get_models())


def ids(objects):
    return sorted(o.pk for o in objects)


# --- one event per logical change ------------------------------------------------------------


def test_api_create_with_relations_is_one_create_event_with_their_ids(agency, register, api_as):
    before = AuditEvent.objects.count()
    response = api_as(register.editor).post("/api/risks/", risk_payload(agency, register), format="json")
    assert response.status_code == 201, response.content
    assert AuditEvent.objects.count() == before + 1
    event = events_for(Risk, response.json()["id"]).get()
    assert event.action == "create"
    assert (event.after["threat_vectors"], event.after["assets"], event.after["controls"]) == (
        ids(register.threat_vectors), ids(register.assets), ids(register.controls))
    assert event.after["reference"] == "R-0001"
    assert event.before is None
    assert event.chain == f"agency:{agency.pk}"


def test_api_update_of_fields_and_relations_is_one_update_event(agency, register, api_as):
    risk = RiskFactory(agency=agency)
    risk.assets.set(register.assets)
    before = AuditEvent.objects.count()
    response = api_as(register.editor).patch(
        f"/api/risks/{risk.pk}/", {"title": "Renamed", "assets": [register.assets[0].pk],
                                   "controls": [c.pk for c in register.controls]}, format="json")
    assert response.status_code == 200, response.content
    assert AuditEvent.objects.count() == before + 1
    event = events_for(risk).latest("id")
    assert (event.action, event.changed_fields) == ("update", ["assets", "controls", "title", "version"])
    assert (event.before["assets"], event.after["assets"]) == (ids(register.assets), [register.assets[0].pk])
    assert (event.before["controls"], event.after["controls"]) == ([], ids(register.controls))
    assert (event.before["title"], event.after["title"]) == (risk.title, "Renamed")
    assert sorted(risk.assets.values_list("pk", flat=True)) == [register.assets[0].pk]


def test_create_query_budget_is_pinned(agency, register, api_as):
    client = api_as(register.editor)
    warm_caches()
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/risks/", risk_payload(agency, register), format="json")
    assert response.status_code == 201, response.content
    # 71 before the audit work; +1 since webhooks: the agency's active endpoints (the outbox).
    assert len(queries) == 20, "\n".join(q["sql"][:150] for q in queries)
    # The response, built from what the write already held, is what a read gives.
    assert response.json() == client.get(f"/api/risks/{response.json()['id']}/").json()


def test_title_patch_query_budget_is_pinned(agency, register, api_as):
    client = api_as(register.editor)
    risk_id = client.post("/api/risks/", risk_payload(agency, register), format="json").json()["id"]
    warm_caches()
    with CaptureQueriesContext(connection) as queries:
        response = client.patch(f"/api/risks/{risk_id}/", {"title": "New title"}, format="json")
    assert response.status_code == 200, response.content
    # 36 before the audit work; +1 since webhooks: the agency's active endpoints (the outbox).
    assert len(queries) == 13, "\n".join(q["sql"][:150] for q in queries)
    assert response.json() == client.get(f"/api/risks/{risk_id}/").json()
    assert response.json()["title"] == "New title"


def test_patch_by_a_viewer_is_still_refused_and_changes_nothing(agency, register, api_as, member_of):
    risk, viewer = RiskFactory(agency=agency), member_of(agency, RoleChoices.VIEWER)
    before = AuditEvent.objects.count()
    response = api_as(viewer).patch(
        f"/api/risks/{risk.pk}/", {"title": "Nope"}, format="json")
    assert response.status_code == 403
    assert Risk.objects.get(pk=risk.pk).title == risk.title
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(("value", "message"), [
    (999999, 'Invalid pk "999999" - object does not exist.'),
    (2**70, f'Invalid pk "{2**70}" - object does not exist.'),
    ("x", "Incorrect type. Expected pk value, received str."),
    (True, "Incorrect type. Expected pk value, received bool."),
])
def test_unknown_relation_id_is_a_400_naming_it(agency, register, api_as, value, message):
    """The relation ids are looked up in one query, with the messages of one lookup per id."""
    payload = {**risk_payload(agency, register), "assets": [register.assets[0].pk, value]}
    response = api_as(register.editor).post("/api/risks/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["assets"] == [message]
    assert not Risk.objects.exists()


def test_writes_outside_the_services_are_still_recorded_per_save(agency, register):
    risk = RiskFactory(agency=agency)
    risk.title = "Saved by a task"
    risk.save()
    risk.controls.add(register.controls[0])
    events = list(events_for(risk).order_by("id"))
    assert [e.action for e in events] == ["create", "update", "update"]
    assert [e.changed_fields for e in events[1:]] == [["title", "version"], ["controls"]]


def test_one_change_merges_saves_of_a_record_and_a_failed_block_leaves_nothing(agency):
    with transaction.atomic(), one_change():
        member = MembershipFactory(agency=agency, role=RoleChoices.VIEWER)
        member.role = RoleChoices.EDITOR
        member.save()
        with one_change():  # nested: joins the outer change
            member.role = RoleChoices.AUDITOR
            member.save()
    event = events_for(member).get()
    assert (event.action, event.after["role"], event.after["version"]) == ("create", "auditor", 3)
    count = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic(), one_change():
        AgencyFactory(code="GONE")
        raise RuntimeError
    assert AuditEvent.objects.count() == count


def test_delete_through_the_service_is_one_event(agency, superuser):
    member = MembershipFactory(agency=agency)
    pk = member.pk
    services.object_delete(instance=member, user=superuser)
    event = events_for(type(member), pk).latest("id")
    assert (event.action, event.object_id, event.after) == ("delete", str(pk), None)


# --- chains ---------------------------------------------------------------------------------


def test_each_agency_has_its_own_chain_and_platform_records_theirs(db):
    first, second = AgencyFactory(code="F1"), AgencyFactory(code="S2")
    MembershipFactory(agency=first)  # the member's user account is a platform record
    MembershipFactory(agency=second)
    chains = {}
    for event in AuditEvent.objects.order_by("id"):
        chains.setdefault(event.chain, []).append(event.seq)
    assert chains == {f"agency:{first.pk}": [1, 2], f"agency:{second.pk}": [1, 2], "platform": [1, 2]}
    heads = dict(AuditChainHead.objects.values_list("chain", "seq"))
    assert heads == {f"agency:{first.pk}": 2, f"agency:{second.pk}": 2, "platform": 2}
    assert all(e.prev_hash == GENESIS_HASH for e in AuditEvent.objects.filter(seq=1))
    assert verify_chain() is None


def test_verify_audit_names_the_first_bad_event_of_every_broken_chain(db):
    first, second, third = AgencyFactory(code="F1"), AgencyFactory(code="S2"), AgencyFactory(code="T3")
    for agency in (first, second, third):
        agency.description = "edited"
        agency.save()
    altered = AuditEvent.objects.get(chain=f"agency:{first.pk}", seq=1)
    AuditEvent.objects.filter(pk=altered.pk).update(object_repr="Forged")
    with connection.cursor() as cursor:  # the tail of the second chain
        cursor.execute("DELETE FROM qgov_auditevent WHERE chain = %s AND seq = 2", [f"agency:{second.pk}"])
    with pytest.raises(CommandError) as raised:
        call_command("verify_audit")
    assert str(raised.value) == (
        f"Audit chain broken at chain agency:{first.pk}: event #1 (id {altered.pk}): content does not match its "
        f"hash: the event was altered; chain agency:{second.pk}: chain head: head records event #2 but the chain "
        "ends at #1")
    out = io.StringIO()
    call_command("verify_audit", chain=f"agency:{third.pk}", stdout=out)
    assert out.getvalue().strip() == "Audit chains intact: 2 events in 1 chain verified."


# --- keys -----------------------------------------------------------------------------------


def test_key_rotation_old_events_verify_with_the_retired_key(db, settings):
    settings.QGOV_AUDIT_KEY, settings.QGOV_AUDIT_OLD_KEYS = KEY_1, []
    agency = AgencyFactory(code="ROT")
    settings.QGOV_AUDIT_KEY, settings.QGOV_AUDIT_OLD_KEYS = KEY_2, [KEY_1]
    agency.description = "after the rotation"
    agency.save()
    events = list(AuditEvent.objects.filter(chain=f"agency:{agency.pk}").order_by("seq"))
    assert [e.key_id for e in events] == [key_id_of(KEY_1), key_id_of(KEY_2)]
    assert verify_chain() is None
    settings.QGOV_AUDIT_OLD_KEYS = []  # the retired key was lost
    problem = verify_chain()
    assert str(problem) == (f"chain agency:{agency.pk}: event #1 (id {events[0].pk}): signed with key "
                            f"'{key_id_of(KEY_1)}', which is not configured (QGOV_AUDIT_KEY / QGOV_AUDIT_OLD_KEYS)")


def test_retired_keys_may_carry_an_explicit_id(db, settings):
    settings.QGOV_AUDIT_KEY, settings.QGOV_AUDIT_KEY_ID = KEY_1, "2026-a"
    AgencyFactory(code="KID")
    assert AuditEvent.objects.get().key_id == "2026-a"
    settings.QGOV_AUDIT_KEY, settings.QGOV_AUDIT_KEY_ID, settings.QGOV_AUDIT_OLD_KEYS = KEY_2, "", [f"2026-a:{KEY_1}"]
    assert verify_chain() is None


def test_a_wrong_key_fails_verification(db, settings):
    settings.QGOV_AUDIT_KEY, settings.QGOV_AUDIT_KEY_ID = KEY_1, "k1"
    AgencyFactory(code="WRG")
    settings.QGOV_AUDIT_KEY = KEY_2  # same id, another secret
    event = AuditEvent.objects.get()
    assert str(verify_chain()) == (f"chain {event.chain}: event #1 (id {event.pk}): content does not match its "
                                   "hash: the event was altered")


def test_a_database_writer_cannot_reforge_the_chain_with_plain_hashes(db):
    agency = AgencyFactory(code="DBW")
    agency.description = "real"
    agency.save()
    events = list(AuditEvent.objects.filter(chain=f"agency:{agency.pk}").order_by("seq"))
    # Rewrite the last event and recompute its hash, as in the old unkeyed chain, with and without a key id.
    forged = events[1]
    forged.after = {**forged.after, "description": "forged"}
    for key_id, reason in [(forged.key_id, "content does not match its hash"),
                           ("", "carries no key id: unkeyed hashes are only accepted in the legacy chain")]:
        forged.key_id = key_id
        forged.hash = compute_hash(SimpleNamespace(**{**forged.__dict__, "chain": "legacy", "key_id": ""},
                                                   content_type=forged.content_type))
        AuditEvent.objects.filter(pk=forged.pk).update(after=forged.after, key_id=key_id, hash=forged.hash)
        AuditChainHead.objects.filter(chain=forged.chain).update(hash=forged.hash)
        assert reason in str(verify_chain())


def test_legacy_chain_events_verify_with_plain_sha256(db):
    """Events carried over by the 0002 migration keep their unkeyed hashes in the closed legacy chain."""
    content_type = ContentType.objects.get_for_model(AuditEvent)
    prev = GENESIS_HASH
    for seq in (1, 2):
        event = AuditEvent(
            chain="legacy", seq=seq, timestamp=timezone.now(), actor_repr="system", content_type=content_type,
            object_id="1", object_repr="x", action="create", before=None, after={"n": seq}, changed_fields=["n"],
            request_id="", source="system", prev_hash=prev, key_id="")
        event.hash = compute_hash(event)
        event.save()
        prev = event.hash
    AuditChainHead.objects.create(chain="legacy", seq=2, hash=prev)
    assert [r.chain for r in verify_chains()] == ["legacy"]
    assert verify_chain() is None


# --- checkpoints ----------------------------------------------------------------------------


@pytest.fixture
def checkpointed(agency, member_of, superuser, mailoutbox, django_capture_on_commit_callbacks):
    """An agency with an auditor and four events in its chain (the agency, the auditor's membership,
    two edits), checkpointed by the daily task."""
    from qgov.tasks import write_audit_checkpoints

    auditor = member_of(agency, RoleChoices.AUDITOR)
    for description in ("one", "two"):
        agency.description = description
        agency.save()
    with django_capture_on_commit_callbacks(execute=True):
        written = write_audit_checkpoints.delay().get()
    return SimpleNamespace(agency=agency, auditor=auditor, written=written, chain=f"agency:{agency.pk}")


def checkpoint_file(tmp_path, checkpoint, **changes):
    path = tmp_path / checkpoint.filename()
    path.write_text(json.dumps({**checkpoint.document(), **changes}))
    return path


def test_daily_task_signs_each_chain_head_and_mails_it(checkpointed, superuser, mailoutbox):
    chain_head = AuditChainHead.objects.get(chain=checkpointed.chain)
    checkpoint = AuditCheckpoint.objects.get(chain=checkpointed.chain)
    assert (checkpoint.seq, checkpoint.hash) == (chain_head.seq, chain_head.hash)
    assert checkpoint.agency == checkpointed.agency
    assert sorted(AuditCheckpoint.objects.values_list("chain", flat=True)) == sorted([checkpointed.chain, "platform"])
    mails = {tuple(m.to): m for m in mailoutbox}
    assert set(mails) == {(checkpointed.auditor.email,), (superuser.email,)}
    name, content, mimetype = mails[(checkpointed.auditor.email,)].attachments[0]
    assert (name, mimetype) == (checkpoint.filename(), "application/json")
    assert json.loads(content) == checkpoint.document()
    assert checkpointed.auditor.notifications.get().title == f"Audit checkpoint: {checkpointed.chain} at event #4"
    # A chain that has not moved is not checkpointed again.
    from qgov.audit_checkpoints import checkpoints_write

    assert checkpoints_write() == []


def test_verify_audit_checkpoint_passes_while_the_chain_extends_it(checkpointed, tmp_path):
    checkpointed.agency.description = "later"
    checkpointed.agency.save()
    path = checkpoint_file(tmp_path, AuditCheckpoint.objects.get(chain=checkpointed.chain))
    out = io.StringIO()
    call_command("verify_audit", checkpoint=path, stdout=out)
    assert out.getvalue().startswith(f"Checkpoint verified: chain {checkpointed.chain} still extends checkpoint "
                                     "event #4 (")
    assert out.getvalue().strip().endswith("2 events up to head #5 verified.")


@pytest.mark.parametrize("tamper, message", [
    ("signature", "checkpoint signature is invalid: the file was altered or not made by qgov"),
    ("seq_in_file", "checkpoint signature is invalid"),
    ("unknown_key", "checkpoint signed with key 'elsewhere', which is not configured"),
    ("rewritten", "no longer has the checkpoint's hash: the chain was rewritten"),
    ("altered_after", "chain broken after the checkpoint: chain agency:"),
    ("truncated", "event #4 of the checkpoint is missing"),
])
def test_verify_audit_checkpoint_catches_tampering(checkpointed, tmp_path, tamper, message):
    checkpointed.agency.description = "later"
    checkpointed.agency.save()
    checkpoint = AuditCheckpoint.objects.get(chain=checkpointed.chain)
    changes = {}
    events = AuditEvent.objects.filter(chain=checkpointed.chain)
    if tamper == "signature":
        changes["signature"] = "0" * 64
    elif tamper == "seq_in_file":
        changes["seq"] = 2
    elif tamper == "unknown_key":
        changes["key_id"] = "elsewhere"
    elif tamper == "rewritten":
        events.filter(seq=4).update(hash="f" * 64)
    elif tamper == "altered_after":
        events.filter(seq=5).update(object_repr="Forged")
    elif tamper == "truncated":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM qgov_auditevent WHERE chain = %s AND seq >= 4", [checkpointed.chain])
    with pytest.raises(CommandError, match=f"^Checkpoint NOT verified: .*{message}"):
        call_command("verify_audit", checkpoint=checkpoint_file(tmp_path, checkpoint, **changes))


def test_auditors_download_their_agencys_checkpoints(checkpointed, client, api_as, other_agency, member_of):
    checkpoint = AuditCheckpoint.objects.get(chain=checkpointed.chain)
    platform = AuditCheckpoint.objects.get(chain="platform")
    client.force_login(checkpointed.auditor)
    assert 'href="/audit/checkpoints/"' in client.get("/audit/").content.decode()
    page = client.get("/audit/checkpoints/").content.decode()
    assert f"/audit/checkpoints/{checkpoint.pk}/download/" in page
    assert f"/audit/checkpoints/{platform.pk}/download/" not in page
    response = client.get(f"/audit/checkpoints/{checkpoint.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{checkpoint.filename()}"'
    assert json.loads(response.content) == checkpoint.document()
    assert client.get(f"/audit/checkpoints/{platform.pk}/download/").status_code == 404
    api = api_as(checkpointed.auditor)
    listed = api.get("/api/audit-checkpoints/").json()
    assert [row["id"] for row in listed["results"]] == [checkpoint.pk]
    downloaded = api.get(f"/api/audit-checkpoints/{checkpoint.pk}/download/")
    assert json.loads(downloaded.content) == checkpoint.document()
    # An editor of the agency, or an auditor of another agency, sees none of them.
    for user in (member_of(checkpointed.agency, RoleChoices.EDITOR), member_of(other_agency, RoleChoices.AUDITOR)):
        api = api_as(user)
        assert api.get("/api/audit-checkpoints/").json()["count"] == 0
        assert api.get(f"/api/audit-checkpoints/{checkpoint.pk}/download/").status_code == 404


# --- the upgrade ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_migration_carries_existing_events_into_the_legacy_chain():
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("qgov", "0001_initial")])
    try:
        old = executor.loader.project_state([("qgov", "0001_initial")]).apps
        content_type = old.get_model("contenttypes", "ContentType").objects.get_or_create(
            app_label="qgov", model="agency")[0]
        prev = GENESIS_HASH
        for seq in (1, 2):
            fields = {"seq": seq, "timestamp": timezone.now(), "actor_id": None, "actor_repr": "system",
                      "agency_id": None, "object_id": "7", "object_repr": "Old", "action": "update",
                      "before": {"n": 0}, "after": {"n": seq}, "changed_fields": ["n"], "request_id": "",
                      "source": "system", "prev_hash": prev}
            old_hash = compute_hash(SimpleNamespace(**fields, chain="legacy", key_id="", content_type=content_type))
            old.get_model("qgov", "AuditEvent").objects.create(**fields, content_type_id=content_type.pk,
                                                                hash=old_hash)
            prev = old_hash
        old.get_model("qgov", "AuditChainHead").objects.create(pk=1, seq=2, hash=prev)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    assert list(AuditEvent.objects.order_by("seq").values_list("chain", "seq", "key_id")) == [
        ("legacy", 1, ""), ("legacy", 2, "")]
    assert list(AuditChainHead.objects.values_list("chain", "seq")) == [("legacy", 2)]
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue().strip() == "Audit chains intact: 2 events in 1 chain verified."
    AgencyFactory(code="NEW")  # new events start their own chain
    assert verify_chain() is None


def test_held_chain_heads_lock_and_write_each_head_once(agency, superuser):
    """A bulk write holds each chain's head for its transaction: the head row is written once at
    the end (not once per event), the chain verifies, and a failed block writes no head."""
    from qgov.audit import held_chain_heads

    risk_matrix_ensure(agency)
    chain = f"agency:{agency.pk}"
    start = AuditChainHead.objects.get(chain=chain).seq
    with transaction.atomic(), CaptureQueriesContext(connection) as queries, held_chain_heads():
        for n in range(5):
            services.object_create(model=Risk, user=superuser, data={
                "agency": agency, "title": f"Bulk {n}", "inherent_likelihood": 2, "inherent_impact": 2})
    head_writes = [q["sql"] for q in queries.captured_queries if 'UPDATE "qgov_auditchainhead"' in q["sql"]]
    head_locks = [q["sql"] for q in queries.captured_queries
                  if 'FROM "qgov_auditchainhead"' in q["sql"] and "FOR UPDATE" in q["sql"]]
    assert (len(head_writes), len(head_locks)) == (1, 1) if connection.features.has_select_for_update else (1, 0)
    assert AuditChainHead.objects.get(chain=chain).seq == start + 5
    assert verify_chain(chain=chain) is None

    with pytest.raises(RuntimeError), transaction.atomic(), held_chain_heads():
        services.object_create(model=Risk, user=superuser, data={
            "agency": agency, "title": "Rolled back", "inherent_likelihood": 2, "inherent_impact": 2})
        raise RuntimeError("the bulk write fails")
    assert AuditChainHead.objects.get(chain=chain).seq == start + 5
    assert not Risk.objects.filter(title="Rolled back").exists()
    assert verify_chain(chain=chain) is None
