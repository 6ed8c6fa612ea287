"""Regulator notifications through the API and the incident page: rows made when an incident is
created (the agency's regimes by default), recomputed when it is classified, marked sent (with the
refusals that change nothing), reminders in hours, roles, agency isolation, query counts."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents.models import AgencyRegime, RegulatorNotification, TimelineEntry
from qgov.duedates.services import hour_reminders_send
from qgov.models import Notification
from tests.incidents.clock_helpers import choose_regimes, load_regimes

pytestmark = pytest.mark.django_db


@pytest.fixture
def regimes(db):
    return load_regimes()


@pytest.fixture
def editor(agency, member_of):
    return member_of(agency, "editor", username="ed")


@pytest.fixture
def admin(agency, member_of):
    return member_of(agency, "admin", username="boss")


def create_incident(api, agency, **extra):
    response = api.post("/api/incidents/", {"agency": agency.pk, "title": "Keys delivered to an unknown SAE",
                                            "incident_type": "key_compromise", "severity": 3,
                                            "detected_at": "2026-11-30T08:00:00Z", **extra}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def rows_of(api, incident_id):
    response = api.get(f"/api/incidents/{incident_id}/notifications/")
    assert response.status_code == 200
    return {f"{row['regime']['display'].split(' ')[0]} {row['clock_label']}": row for row in response.json()}


@pytest.fixture
def created(api_as, agency, editor, regimes):
    choose_regimes(agency, "NIS2", "DORA")
    return create_incident(api_as(editor), agency)


def test_a_new_incident_gets_the_agency_regimes_and_its_deadlines(api_as, editor, created):
    assert sorted(regime["display"].split(" ")[0] for regime in created["regimes"]) == ["DORA", "NIS2"]
    rows = rows_of(api_as(editor), created["id"])
    assert {name: (row["clock_start"], row["due_at"], row["state"]) for name, row in rows.items()} == {
        "DORA Initial notification": ("2026-11-30T09:00:00+01:00", "2026-12-01T09:00:00+01:00", "overdue"),
        "DORA Intermediate report": (None, None, "waiting"),
        "DORA Final report": (None, None, "waiting"),
        "NIS2 Early warning": ("2026-11-30T09:00:00+01:00", "2026-12-01T09:00:00+01:00", "overdue"),
        "NIS2 Incident notification": ("2026-11-30T09:00:00+01:00", "2026-12-03T09:00:00+01:00",
                                       rows["NIS2 Incident notification"]["state"]),
        "NIS2 Final report": ("2026-12-03T09:00:00+01:00", "2027-01-03T09:00:00+01:00",
                              rows["NIS2 Final report"]["state"]),
    }
    assert rows["NIS2 Early warning"]["seconds_left"] < 0
    assert rows["DORA Final report"]["seconds_left"] is None


def test_classifying_the_incident_recomputes_the_dora_clocks(api_as, editor, created):
    api = api_as(editor)
    response = api.patch(f"/api/incidents/{created['id']}/", {"classified_at": "2026-11-30T10:30:00Z"},
                         format="json")
    assert response.status_code == 200, response.json()
    rows = rows_of(api, created["id"])
    assert {name: (row["clock_start"], row["due_at"]) for name, row in rows.items() if name.startswith("DORA")} == {
        "DORA Initial notification": ("2026-11-30T11:30:00+01:00", "2026-11-30T15:30:00+01:00"),
        "DORA Intermediate report": ("2026-11-30T11:30:00+01:00", "2026-12-03T11:30:00+01:00"),
        "DORA Final report": ("2026-12-03T11:30:00+01:00", "2027-01-03T11:30:00+01:00"),
    }


def test_choosing_other_regimes_on_the_incident_replaces_the_unsent_rows(api_as, editor, created, regimes):
    api = api_as(editor)
    response = api.patch(f"/api/incidents/{created['id']}/", {"regimes": [regimes["GDPR"].pk]}, format="json")
    assert response.status_code == 200, response.json()
    assert list(rows_of(api, created["id"])) == ["GDPR Breach notification"]


def test_marking_sent_fixes_the_row_and_moves_the_clock_that_follows_it(api_as, editor, created):
    api = api_as(editor)
    rows = rows_of(api, created["id"])
    notification = rows["NIS2 Incident notification"]
    url = f"/api/incidents/{created['id']}/notifications/{notification['id']}/sent/"
    response = api.post(url, {"sent_at": "2026-12-01T07:45:00Z", "reference": "CSIRT-2026-118"}, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["sent_at"], data["reference"], data["sent_by"]["id"], data["state"], data["seconds_left"]) == (
        "2026-12-01T08:45:00+01:00", "CSIRT-2026-118", editor.pk, "sent", None)
    final = rows_of(api, created["id"])["NIS2 Final report"]
    assert (final["clock_start"], final["due_at"]) == ("2026-12-01T08:45:00+01:00", "2027-01-01T08:45:00+01:00")
    entry = TimelineEntry.objects.get(kind="notification")
    assert entry.text == "NIS2 Incident notification sent to the regulator (reference CSIRT-2026-118)."
    # Once sent, a change of the awareness time leaves it as reported.
    api.patch(f"/api/incidents/{created['id']}/", {"detected_at": "2026-11-30T06:00:00Z"}, format="json")
    again = rows_of(api, created["id"])
    assert (again["NIS2 Incident notification"]["due_at"], again["NIS2 Early warning"]["due_at"]) == (
        "2026-12-03T09:00:00+01:00", "2026-12-01T07:00:00+01:00")


@pytest.mark.parametrize(("body", "errors"), [
    ({"sent_at": "2099-01-01T00:00:00Z"}, {"sent_at": ["It cannot have been sent in the future."]}),
    ({"sent_at": "2026-11-30T07:59:00Z"}, {"sent_at": [
        "It cannot have been sent before its clock started (2026-11-30 09:00 CET)."]}),
    ({}, {"sent_at": ["This field is required."]}),
    ({"sent_at": "yesterday"}, {"sent_at": [
        "Datetime has wrong format. Use one of these formats instead: "
        "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."]}),
    ({"sent_at": "2026-12-01T07:45:00Z", "sent_by": 1}, {"sent_by": ["Unknown field."]}),
])
def test_bad_sent_times_are_400_and_change_nothing(api_as, editor, created, body, errors):
    api = api_as(editor)
    notification = rows_of(api, created["id"])["NIS2 Early warning"]
    response = api.post(f"/api/incidents/{created['id']}/notifications/{notification['id']}/sent/", body,
                        format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    row = RegulatorNotification.objects.get(pk=notification["id"])
    assert (row.sent_at, row.reference, row.sent_by_id, row.version) == (None, "", None, 1)


def test_a_second_marking_is_refused(api_as, editor, created):
    api = api_as(editor)
    notification = rows_of(api, created["id"])["NIS2 Early warning"]
    url = f"/api/regulator-notifications/{notification['id']}/sent/"
    assert api.post(url, {"sent_at": "2026-12-01T07:00:00Z"}, format="json").status_code == 200
    response = api.post(url, {"sent_at": "2026-12-01T07:30:00Z", "reference": "late"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"sent_at": ["It was already recorded as sent on 2026-12-01 08:00 CET."]}
    assert RegulatorNotification.objects.get(pk=notification["id"]).reference == ""


def test_roles_agencies_and_other_incidents(api_as, agency, other_agency, member_of, editor, created):
    api = api_as(editor)
    notification = rows_of(api, created["id"])["NIS2 Early warning"]
    other = create_incident(api, agency, title="Another")
    body = {"sent_at": "2026-12-01T07:00:00Z"}
    # A notification of another incident through this incident's URL is not found.
    assert api.post(f"/api/incidents/{other['id']}/notifications/{notification['id']}/sent/", body,
                    format="json").status_code == 404
    viewer = member_of(agency, "viewer")
    assert api_as(viewer).post(f"/api/incidents/{created['id']}/notifications/{notification['id']}/sent/", body,
                               format="json").status_code == 403
    outsider = member_of(other_agency, "admin")
    assert api_as(outsider).get(f"/api/incidents/{created['id']}/notifications/").status_code == 404
    assert api_as(outsider).get("/api/regulator-notifications/").json()["count"] == 0
    assert RegulatorNotification.objects.filter(sent_at__isnull=False).count() == 0


def test_notifications_are_not_created_edited_or_deleted_by_hand(api_as, editor, created):
    api = api_as(editor)
    notification = rows_of(api, created["id"])["NIS2 Early warning"]
    detail = f"/api/regulator-notifications/{notification['id']}/"
    assert api.post("/api/regulator-notifications/", {}, format="json").status_code == 405
    for method in ("put", "patch", "delete"):
        assert getattr(api, method)(detail, {"reference": "x"}, format="json").status_code == 405
    assert RegulatorNotification.objects.get(pk=notification["id"]).version == 1


def test_agency_regimes_are_chosen_by_admins(api_as, agency, editor, admin, regimes):
    body = {"agency": agency.pk, "regime": regimes["UK-NIS"].pk}
    assert api_as(editor).post("/api/agency-regimes/", body, format="json").status_code == 403
    response = api_as(admin).post("/api/agency-regimes/", body, format="json")
    assert response.status_code == 201, response.json()
    assert list(AgencyRegime.objects.values_list("regime__code", flat=True)) == ["UK-NIS"]
    assert api_as(editor).get("/api/agency-regimes/").json()["count"] == 1


def test_regimes_are_a_read_only_catalog_for_members(api_as, editor, regimes):
    response = api_as(editor).get("/api/regulator-regimes/", {"code": "DORA"})
    (dora,) = response.json()["results"]
    assert [(c["code"], c["start"], c["hours"], c["awareness_hours"], c["after"]) for c in dora["clocks"]] == [
        ("initial", "earliest", 4, 24, None), ("intermediate", "classification", 72, None, None),
        ("final-report", "after_clock", None, None, "intermediate")]
    assert api_as(editor).patch(f"/api/regulator-regimes/{dora['id']}/", {"name": "x"},
                                format="json").status_code == 403


def test_list_query_counts_stay_flat(api_as, agency, editor, created, django_assert_num_queries):
    api = api_as(editor)
    with django_assert_num_queries(2):
        assert len(api.get(f"/api/incidents/{created['id']}/notifications/").json()) == 6
    create_incident(api, agency, title="Second")
    with django_assert_num_queries(2):
        assert api.get("/api/regulator-notifications/").json()["count"] == 12


def test_deadlines_are_reminded_in_hours_to_the_reporter_and_admins(agency, editor, admin, regimes, api_as,
                                                                   django_capture_on_commit_callbacks):
    detected = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    choose_regimes(agency, "GDPR")
    created = create_incident(api_as(editor), agency, detected_at=detected.isoformat())
    due = detected + dt.timedelta(hours=72)
    with django_capture_on_commit_callbacks(execute=True):
        assert hour_reminders_send(now=due - dt.timedelta(hours=12)) == 1
    local = timezone.localtime(due)
    offset = local.strftime("%z")
    title = (f"Regulator deadline due {local:%H:%M} {local.tzname()} (UTC{offset[:3]}:{offset[3:]}), "
             f"{local.day} {local:%b %Y} (in 12 hours): {created['reference']}: GDPR Breach notification")
    assert list(Notification.objects.filter(user=editor).values_list("title", flat=True)) == [title]
    assert list(Notification.objects.filter(user=admin).values_list("title", flat=True)) == [title]


def test_the_incident_page_shows_deadlines_with_server_rendered_countdowns(client, agency, editor, regimes,
                                                                           api_as):
    choose_regimes(agency, "GDPR")
    detected = timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)
    created = create_incident(api_as(editor), agency, detected_at=detected.isoformat())
    client.force_login(editor)
    page = client.get(f"/incidents/incidents/{created['id']}/").content.decode()
    assert 'data-testid="deadlines"' in page
    assert "GDPR</span> Breach notification" in page
    assert "2 d 22 h" in page or "2 d 21 h" in page  # 70 hours left, rendered by the server
    assert "incidents/countdown.js" in page
    row = RegulatorNotification.objects.get()
    mark = client.post(f"/incidents/notifications/{row.pk}/edit/", {
        "sent_at": timezone.localtime(detected + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "reference": "ICO-77", "version": row.version})
    assert mark.status_code == 302
    row.refresh_from_db()
    assert (row.sent_at, row.reference, row.sent_by_id) == (
        (detected + dt.timedelta(hours=1)).replace(second=0), "ICO-77", editor.pk)
    assert client.get(f"/incidents/notifications/{row.pk}/edit/").status_code == 403  # sent: fixed


def test_the_schema_documents_the_nested_actions(api_as, editor):
    schema = api_as(editor).get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert set(paths["/api/incidents/{id}/timeline/"]) == {"get", "post"}
    assert set(paths["/api/incidents/{id}/key-actions/"]) == {"get", "post"}
    assert set(paths["/api/incidents/{id}/notifications/"]) == {"get"}
    assert set(paths["/api/incidents/{id}/notifications/{notification_id}/sent/"]) == {"post"}
    assert set(paths["/api/timeline-entries/{id}/"]) == {"get"}
    assert set(paths["/api/regulator-notifications/"]) == {"get"}
