"""`/api/changes/`: the agency's audit events after a cursor, with the record as it is now or a
tombstone; no change skipped even when transactions commit out of order (PostgreSQL), and a cursor
older than the retention window is a 410.

The tests run with real commits (`transaction=True`): on PostgreSQL the feed serves only events of
transactions that have ended, so events written inside a test's own open transaction never show."""

import datetime as dt
import threading
import time

import pytest
from django.db import close_old_connections, connection, connections, transaction
from django.db.models import Max
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from certification.models import Device
from qgov.choices import RoleChoices
from qgov.integrations.changes import MAX_INT64, Position
from qgov.models import AuditEvent
from qgov.services import object_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

ON_POSTGRESQL = connection.vendor == "postgresql"
DEVICE = {"kind": "qkd_transmitter", "vendor": "Photonica", "model": "QX-100", "firmware_version": "2.1.0",
          "firmware_sha256": "a" * 64}


def settled(timeout=60):
    """On PostgreSQL, wait until every transaction that wrote an event so far has ended in the whole
    cluster: the feed lags behind the oldest open transaction, and the shared test server runs
    other databases' transactions too."""
    if not ON_POSTGRESQL:
        return
    newest = AuditEvent.objects.aggregate(newest=Max("txid"))["newest"] or 0
    deadline = time.monotonic() + timeout
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            if cursor.fetchone()[0] > newest:
                return
        assert time.monotonic() < deadline, "an open transaction held the feed back for a minute"
        time.sleep(0.05)


def feed(client, *, wait=True, **params):
    if wait:
        settled()
    response = client.get("/api/changes/", params)
    assert response.status_code == 200, response.json()
    return response.json()


def follow(client, cursor=None, *, wait=True, **params):
    """Every change after `cursor`, page by page: (entries, the last next_cursor)."""
    seen = []
    while True:
        body = feed(client, wait=wait, **({"cursor": cursor} if cursor else {}), **params)
        seen += body["results"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return seen, cursor


def device_in(agency, user, name):
    return object_create(model=Device, user=user, data={"agency": agency, "name": name, "serial": name, **DEVICE})


def test_a_viewer_follows_creates_updates_transitions_and_deletes_with_tombstones(agency, member_of, api_as):
    editor = member_of(agency, RoleChoices.ADMIN)
    writer = api_as(editor)
    created = writer.post("/api/devices/", {"agency": agency.pk, "name": "QKD-A", "serial": "S1", **DEVICE},
                          format="json").json()
    assert writer.patch(f"/api/devices/{created['id']}/", {"notes": "rack 4"}, format="json").status_code == 200
    assert writer.post(f"/api/devices/{created['id']}/commission/", {}, format="json").status_code == 200
    gone = writer.post("/api/devices/", {"agency": agency.pk, "name": "QKD-B", "serial": "S2", **DEVICE},
                       format="json").json()
    assert writer.delete(f"/api/devices/{gone['id']}/").status_code == 204

    viewer = api_as(member_of(agency, RoleChoices.VIEWER))
    entries, _cursor = follow(viewer, types="certification.device")
    assert [(e["type"], e["object_id"], e["action"], e["transition"], e["deleted"]) for e in entries] == [
        ("certification.device.created", str(created["id"]), "create", None, False),
        ("certification.device.updated", str(created["id"]), "update", None, False),
        ("certification.device.commission", str(created["id"]), "transition", "commission", False),
        ("certification.device.created", str(gone["id"]), "create", None, True),
        ("certification.device.deleted", str(gone["id"]), "delete", None, True),
    ]
    events = AuditEvent.objects.filter(content_type__model="device", object_id__in=[str(created["id"]),
                                                                                     str(gone["id"])]).order_by("id")
    assert [e["sequence"] for e in entries] == [event.pk for event in events]
    first = entries[0]
    # The record as the API shows it now (after the update and the transition), not as it was then.
    record = viewer.get(f"/api/devices/{created['id']}/").json()
    assert first["record"] == record and record["status"] == "in_service" and record["notes"] == "rack 4"
    assert first["object_type"] == "certification.device"
    assert first["agency"] == agency.pk
    assert first["actor"] == {"id": editor.pk, "display": editor.username}
    assert entries[1]["changed_fields"] == ["notes", "version"]
    assert entries[3]["record"] is None and entries[4]["record"] is None
    assert dt.datetime.fromisoformat(first["time"]) == events[0].timestamp


def test_polling_with_the_last_cursor_returns_only_new_changes(agency, member_of, api_as):
    editor = member_of(agency, RoleChoices.EDITOR)
    client = api_as(member_of(agency, RoleChoices.VIEWER))
    device_in(agency, editor, "one")
    entries, cursor = follow(client, types="certification")
    assert [e["record"]["name"] for e in entries] == ["one"]
    empty = feed(client, cursor=cursor)
    assert (empty["results"], empty["has_more"]) == ([], False)
    assert empty["next_cursor"]  # kept, even with nothing new
    device_in(agency, editor, "two")
    device_in(agency, editor, "three")
    entries, _ = follow(client, empty["next_cursor"])
    assert [e["record"]["name"] for e in entries] == ["two", "three"]


def test_pages_of_limit_changes_with_has_more(agency, member_of, api_as):
    editor = member_of(agency, RoleChoices.EDITOR)
    client = api_as(member_of(agency, RoleChoices.VIEWER))
    names = [f"d{n}" for n in range(5)]
    for name in names:
        device_in(agency, editor, name)
    first = feed(client, limit=2, types="certification.device")
    assert [e["record"]["name"] for e in first["results"]] == ["d0", "d1"] and first["has_more"] is True
    second = feed(client, limit=2, types="certification.device", cursor=first["next_cursor"])
    assert [e["record"]["name"] for e in second["results"]] == ["d2", "d3"] and second["has_more"] is True
    third = feed(client, limit=2, types="certification.device", cursor=second["next_cursor"])
    assert [e["record"]["name"] for e in third["results"]] == ["d4"] and third["has_more"] is False


def test_each_caller_sees_only_their_agencies_and_the_agency_filter(agency, other_agency, member_of, api_as):
    ours = device_in(agency, member_of(agency, RoleChoices.EDITOR), "ours")
    theirs = device_in(other_agency, member_of(other_agency, RoleChoices.EDITOR), "theirs")
    viewer = member_of(agency, RoleChoices.VIEWER)
    entries, _ = follow(api_as(viewer), types="certification.device")
    assert [e["object_id"] for e in entries] == [str(ours.pk)]
    # Someone in both agencies narrows to one with ?agency=.
    both = member_of(agency, RoleChoices.VIEWER)
    both.memberships.create(agency=other_agency, role=RoleChoices.AUDITOR)
    client = api_as(both)
    assert [e["object_id"] for e in follow(client, types="certification.device")[0]] == [str(ours.pk), str(theirs.pk)]
    assert [e["object_id"] for e in follow(client, types="certification.device", agency=other_agency.pk)[0]] == [
        str(theirs.pk)]
    # An agency that is not the caller's is refused, not silently empty.
    response = api_as(viewer).get("/api/changes/", {"agency": other_agency.pk})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["agency"]
    # Signed in without any membership: nothing.
    assert follow(api_as(UserFactory()))[0] == []


def test_types_filter_by_prefix(agency, member_of, api_as):
    editor = member_of(agency, RoleChoices.ADMIN)
    device = device_in(agency, editor, "dev")
    client = api_as(editor)
    assert [e["type"] for e in follow(client, types="certification.device.created")[0]] == [
        "certification.device.created"]
    assert follow(client, types="certification.device.deleted")[0] == []
    assert [e["object_id"] for e in follow(client, types="risks,certification.device")[0]] == [str(device.pk)]
    response = client.get("/api/changes/", {"types": "a.b.c.d"})
    assert response.status_code == 400 and list(response.json()["errors"]) == ["types"]


def test_a_cursor_older_than_the_retention_is_410(agency, member_of, api_as, settings):
    settings.QGOV_CHANGE_FEED_RETENTION_DAYS = 30
    client = api_as(member_of(agency, RoleChoices.VIEWER))
    old = Position(0, 1, timezone.now() - dt.timedelta(days=31)).encode()
    response = client.get("/api/changes/", {"cursor": old})
    assert response.status_code == 410
    assert response.json()["code"] == "cursor_expired"
    recent = Position(0, 1, timezone.now() - dt.timedelta(days=29)).encode()
    assert client.get("/api/changes/", {"cursor": recent}).status_code == 200


@pytest.mark.parametrize("params", [{"cursor": "garbage"}, {"cursor": Position(0, 1, timezone.now()).encode()[:-3]},
                                    {"limit": "0"}, {"limit": "1001"}, {"limit": "x"}, {"agency": "-1"}])
def test_bad_parameters_are_400_naming_them(params, agency, member_of, api_as):
    response = api_as(member_of(agency, RoleChoices.VIEWER)).get("/api/changes/", params)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == list(params)


def test_anonymous_is_refused(api_client):
    assert api_client.get("/api/changes/").status_code in (401, 403)


def test_query_count_does_not_grow_with_the_page(agency, member_of, api_as):
    editor = member_of(agency, RoleChoices.EDITOR)
    client = api_as(member_of(agency, RoleChoices.VIEWER))
    counts = []
    for _round in range(2):
        for n in range(4):
            device_in(agency, editor, f"d{_round}{n}")
        feed(client)  # warm the content-type cache
        settled()
        with CaptureQueriesContext(connection) as queries:
            body = feed(client, wait=False, limit=1000, agency=agency.pk)
        assert len(body["results"]) == 1 + 4 * (_round + 1)  # the agency's own creation, the devices
        counts.append(len(queries))
    # The caller's memberships (?agency=), the bound (xmin / newest id), where the retention window
    # starts (no cursor), the page, the agencies (the agency's own creation), the devices, their
    # assets (prefetch).
    assert counts == [7, 7], [q["sql"][:300] for q in queries.captured_queries]


# --- transactions committing out of order (PostgreSQL) ------------------------------------------------


class Writer(threading.Thread):
    """Writes a device in its own connection and transaction, then waits to be told to commit."""

    def __init__(self, agency, user, name):
        super().__init__(daemon=True)
        self.agency, self.user, self.name = agency, user, name
        self.written, self.commit = threading.Event(), threading.Event()
        self.event_id, self.error = None, None

    def run(self):
        try:
            with transaction.atomic():
                device = device_in(self.agency, self.user, self.name)
                self.event_id = AuditEvent.objects.get(content_type__model="device", object_id=str(device.pk)).pk
                self.written.set()
                assert self.commit.wait(30)
        except BaseException as error:  # noqa: BLE001 -- reported by the test
            self.error = error
            self.written.set()
        finally:
            connections.close_all()

    def finish(self):
        self.commit.set()
        self.join(30)
        assert self.error is None, self.error


@pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite serialises writers: ids follow commit order")
def test_a_change_committed_later_with_a_lower_id_is_not_skipped(agency, other_agency, member_of, api_as):
    """T1 writes first (lower event id and transaction id) and stays open; T2 writes after it and
    commits. A feed keyed on the event id alone would serve T2's event, move the cursor past T1's id,
    and skip T1's event when it commits. The feed holds T2's back until T1 has ended."""
    reader = member_of(agency, RoleChoices.VIEWER)
    reader.memberships.create(agency=other_agency, role=RoleChoices.VIEWER)
    client = api_as(reader)
    _before, cursor = follow(client)
    # Two agencies: each chain's head lock serialises writers of one agency, not of two.
    first = Writer(agency, member_of(agency, RoleChoices.EDITOR), "T1")
    second = Writer(other_agency, member_of(other_agency, RoleChoices.EDITOR), "T2")
    first.start()
    assert first.written.wait(30) and first.error is None
    second.start()
    assert second.written.wait(30) and second.error is None
    second.finish()  # T2 commits while T1 is still open
    close_old_connections()
    assert first.event_id < second.event_id
    assert AuditEvent.objects.filter(pk=second.event_id).exists()  # committed and visible to everyone
    assert not AuditEvent.objects.filter(pk=first.event_id).exists()  # T1's is not, yet

    served, cursor = follow(client, cursor, wait=False)
    assert served == []  # T2's event waits behind the open T1
    # What a naive `id > cursor` feed would have handed out now, and then missed:
    assert Position.decode(cursor).key() < tuple(
        AuditEvent.objects.filter(pk=second.event_id).values_list("txid", "id").get())

    first.finish()
    served, cursor = follow(client, cursor)
    assert [e["sequence"] for e in served] == [first.event_id, second.event_id]
    assert [e["record"]["name"] for e in served] == ["T1", "T2"]
    assert follow(client, cursor)[0] == []


@pytest.mark.skipif(not ON_POSTGRESQL, reason="transaction ids are PostgreSQL's")
def test_each_event_keeps_its_transaction_id_and_one_transaction_shares_it(agency, member_of):
    editor = member_of(agency, RoleChoices.EDITOR)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_xact_id()::text::bigint")
            txid = cursor.fetchone()[0]
        one, two = device_in(agency, editor, "a"), device_in(agency, editor, "b")
    events = AuditEvent.objects.filter(content_type__model="device", object_id__in=[str(one.pk), str(two.pk)])
    assert sorted(events.values_list("txid", flat=True)) == [txid, txid]
    assert Position(txid, MAX_INT64, timezone.now()).key() > max(events.values_list("txid", "id"))
