"""Key actions: recorded by key ID, never key bytes. Hex, Base64 and PEM in any text field are a
400 naming the field (API) or the form again with the message (UI), and nothing is written; UUIDs
and ranges of them pass. Windows, times, roles, agency isolation, no edits through the API."""

import base64
import datetime as dt

import pytest
from django.utils import timezone

from incidents.models import KeyAction, TimelineEntry
from qgov.models import AuditEvent
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db

KEY_ID = "3f0d6a9e-7c1b-4e2a-9b8d-5a6c7e8f9012"
KEY_ID_LAST = "3f0d6a9e-7c1b-4e2a-9b8d-5a6c7e8f90ff"
HEX_KEY = bytes(range(32)).hex()
B64_KEY = base64.b64encode(bytes(range(200, 232))).decode()
PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----"


@pytest.fixture
def editor(agency, member_of):
    return member_of(agency, "editor", username="ed", first_name="Eda", last_name="Kraus")


@pytest.fixture
def incident(agency):
    return IncidentFactory(agency=agency, reference="INC-2026-0007", detected_at=timezone.now() - dt.timedelta(hours=5))


def url(incident):
    return f"/api/incidents/{incident.pk}/key-actions/"


def body(**extra):
    return {"action": "revoke", "key_ids": f"{KEY_ID}..{KEY_ID_LAST}", "sae_ids": "SAE-BER-01, SAE-POT-02",
            "kme_ids": "KME-BER, KME-POT", "window_start": "2026-11-30T06:00:00Z",
            "window_end": "2026-11-30T07:30:00Z", "deviation": "unnamed_sae",
            "performed_at": "2026-11-30T08:15:00Z", "note": "Both KME buffers purged afterwards.", **extra}


def nothing_written():
    return (KeyAction.objects.count(), TimelineEntry.objects.count(),
            AuditEvent.objects.filter(content_type__model__in=["keyaction", "timelineentry"]).count()) == (0, 0, 0)


def test_a_key_action_with_a_range_of_key_ids_is_recorded_with_its_timeline_entry(api_as, editor, incident):
    response = api_as(editor).post(url(incident), body(), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    action = KeyAction.objects.get()
    assert response["Location"] == f"http://testserver/api/key-actions/{action.pk}/"
    assert {k: data[k] for k in ("action", "key_ids", "sae_ids", "kme_ids", "window_start", "window_end",
                                 "deviation", "performed_at", "note")} == {
        "action": "revoke", "key_ids": f"{KEY_ID}..{KEY_ID_LAST}", "sae_ids": "SAE-BER-01, SAE-POT-02",
        "kme_ids": "KME-BER, KME-POT", "window_start": "2026-11-30T07:00:00+01:00",
        "window_end": "2026-11-30T08:30:00+01:00", "deviation": "unnamed_sae",
        "performed_at": "2026-11-30T09:15:00+01:00",
        "note": "Both KME buffers purged afterwards."}
    assert (data["agency"]["id"], data["incident"]["id"], data["performed_by"]["id"]) == (
        incident.agency_id, incident.pk, editor.pk)
    entry = TimelineEntry.objects.get()
    assert (entry.kind, entry.text, entry.at, entry.author_name) == (
        "key_action", "Key action: Revoke (declare compromised).", dt.datetime(2026, 11, 30, 8, 15, tzinfo=dt.UTC),
        "Eda Kraus")
    assert AuditEvent.objects.for_object(action).get().action == "create"


@pytest.mark.parametrize(("field", "value", "what"), [
    ("key_ids", HEX_KEY, "a run of 32 or more hexadecimal digits"),
    ("key_ids", f"{KEY_ID}\n{B64_KEY}", "a run of 24 or more Base64 characters"),
    ("note", f"Key was {HEX_KEY}", "a run of 32 or more hexadecimal digits"),
    ("note", PEM, "a PEM block (-----BEGIN …-----)"),
    ("sae_ids", B64_KEY, "a run of 24 or more Base64 characters"),
    ("kme_ids", KEY_ID.replace("-", ""), "a run of 32 or more hexadecimal digits"),
])
def test_key_material_is_a_400_naming_the_field_and_nothing_is_written(api_as, editor, incident, field, value,
                                                                       what):
    response = api_as(editor).post(url(incident), body(**{field: value}), format="json")
    assert response.status_code == 400
    label = {"key_ids": "key IDs", "note": "note", "sae_ids": "SAE IDs", "kme_ids": "KME IDs"}[field]
    assert response.json()["errors"] == {field: [
        f"“{label}” looks like it holds key material ({what}). Record key IDs (UUIDs, or ranges of them) and never "
        "key bytes; remove it and try again."]}
    assert value not in response.content.decode()  # the key is never echoed back
    assert nothing_written()


def test_every_text_field_is_checked_at_once(api_as, editor, incident):
    response = api_as(editor).post(url(incident), body(key_ids=HEX_KEY, note=B64_KEY, window_end="2026-11-30T05:00Z"),
                                   format="json")
    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == ["key_ids", "note", "window_end"]
    assert nothing_written()


@pytest.mark.parametrize(("extra", "errors"), [
    ({"window_end": "2026-11-30T05:59:00Z"}, {"window_end": ["The window cannot end before it starts."]}),
    ({"performed_at": "2099-01-01T00:00:00Z"}, {"performed_at": ["Record an action once it is done: not in the "
                                                                 "future."]}),
    ({"key_ids": "  "}, {"key_ids": ["This field may not be blank."]}),
    ({"action": "destroy"}, {"action": ['"destroy" is not a valid choice.']}),
    ({"deviation": "made_up"}, {"deviation": ['"made_up" is not a valid choice.']}),
])
def test_bad_input_is_refused_with_field_messages(api_as, editor, incident, extra, errors):
    response = api_as(editor).post(url(incident), body(**extra), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert nothing_written()


def test_viewers_cannot_record_and_other_agencies_see_nothing(api_as, agency, other_agency, member_of, incident):
    viewer = member_of(agency, "viewer")
    assert api_as(viewer).post(url(incident), body(), format="json").status_code == 403
    outsider = member_of(other_agency, "admin")
    assert api_as(outsider).get(url(incident)).status_code == 404
    assert api_as(outsider).post(url(incident), body(), format="json").status_code == 404
    assert nothing_written()


def test_key_actions_are_not_edited_or_deleted_through_the_api(api_as, editor, incident):
    created = api_as(editor).post(url(incident), body(), format="json").json()
    detail = f"/api/key-actions/{created['id']}/"
    for method in ("put", "patch", "delete"):
        assert getattr(api_as(editor), method)(detail, {"note": "changed"}, format="json").status_code == 405
    assert KeyAction.objects.get().note == "Both KME buffers purged afterwards."
    assert KeyAction.objects.get().version == 1


def test_the_incident_list_of_key_actions_costs_a_fixed_number_of_queries(api_as, editor, incident,
                                                                         django_assert_num_queries):
    api = api_as(editor)
    api.post(url(incident), body(), format="json")
    with django_assert_num_queries(2):  # the incident, its key actions (each scoped by a subquery)
        first = api.get(url(incident))
    for _ in range(3):
        api.post(url(incident), body(action="purge"), format="json")
    with django_assert_num_queries(2):
        response = api.get(url(incident))
    assert (len(first.json()), len(response.json())) == (1, 4)
    assert api.get("/api/key-actions/", {"incident": incident.pk}).json()["count"] == 4


def test_the_form_refuses_key_material_and_shows_the_message(client, editor, incident):
    client.force_login(editor)
    page = client.get(f"/incidents/key-actions/add/?incident={incident.pk}")
    assert page.status_code == 200
    response = client.post("/incidents/key-actions/add/", {
        "incident": incident.pk, "action": "purge", "key_ids": KEY_ID, "sae_ids": "", "kme_ids": "",
        "performed_at": "2026-11-30T08:15", "note": f"dump: {B64_KEY}"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"note": [
        "“note” looks like it holds key material (a run of 24 or more Base64 characters). Record key IDs (UUIDs, or "
        "ranges of them) and never key bytes; remove it and try again."]}
    assert nothing_written()
    response = client.post("/incidents/key-actions/add/", {
        "incident": incident.pk, "action": "purge", "key_ids": KEY_ID, "sae_ids": "", "kme_ids": "",
        "performed_at": "2026-11-30T08:15", "note": ""})
    action = KeyAction.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/incidents/incidents/{incident.pk}/#key-action-{action.pk}"
    page = client.get(f"/incidents/incidents/{incident.pk}/")
    assert KEY_ID in page.content.decode()


def test_a_closed_incident_takes_no_more_key_actions(api_as, editor, incident):
    type(incident).objects.filter(pk=incident.pk).update(status="closed")
    response = api_as(editor).post(url(incident), body(), format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "incident": ["The incident is closed: reopen it to record another key action."]}
    assert nothing_written()


def test_a_closed_incidents_page_offers_no_key_action(client, editor, incident):
    client.force_login(editor)
    assert 'data-testid="add-key-action"' in client.get(incident.get_absolute_url()).content.decode()
    type(incident).objects.filter(pk=incident.pk).update(status="closed")
    assert 'data-testid="add-key-action"' not in client.get(incident.get_absolute_url()).content.decode()
