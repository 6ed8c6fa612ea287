"""The incident timeline: append-only (no PUT/PATCH/DELETE, 405 and nothing changed; the model's
save and delete refuse), corrections as new entries shown with the entry they correct, automatic
entries for status changes and steps, roles and agency isolation, query counts."""

import datetime as dt

import pytest
from django.utils import timezone

from incidents.clocks import timeline_add
from incidents.models import TimelineEntry
from qgov.models import AuditEvent
from tests.incidents.factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(agency, member_of):
    return member_of(agency, "editor", username="ed", first_name="Eda", last_name="Kraus")


@pytest.fixture
def incident(agency):
    return IncidentFactory(agency=agency, reference="INC-2026-0003", detected_at=timezone.now() - dt.timedelta(days=1))


def url(incident):
    return f"/api/incidents/{incident.pk}/timeline/"


def test_entries_are_added_and_listed_oldest_first(api_as, editor, incident):
    api = api_as(editor)
    second = api.post(url(incident), {"text": "KMS alert confirmed by the SOC.", "at": "2026-11-30T09:00:00Z"},
                      format="json")
    first = api.post(url(incident), {"text": "Alert raised.", "at": "2026-11-30T08:00:00Z"}, format="json")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["author_name"] == "Eda Kraus" and first.json()["kind"] == "note"
    listed = api.get(url(incident)).json()
    assert [(e["text"], e["at"], e["author"]["id"]) for e in listed] == [
        ("Alert raised.", "2026-11-30T09:00:00+01:00", editor.pk),
        ("KMS alert confirmed by the SOC.", "2026-11-30T10:00:00+01:00", editor.pk)]


def test_put_patch_and_delete_are_405_and_change_nothing(api_as, editor, incident):
    api = api_as(editor)
    entry = api.post(url(incident), {"text": "Alert raised."}, format="json").json()
    detail = f"/api/timeline-entries/{entry['id']}/"
    events = AuditEvent.objects.count()
    assert api.put(detail, {"text": "Rewritten"}, format="json").status_code == 405
    assert api.patch(detail, {"text": "Rewritten"}, format="json").status_code == 405
    assert api.delete(detail).status_code == 405
    stored = TimelineEntry.objects.get()
    assert (stored.text, stored.version) == ("Alert raised.", 1)
    assert AuditEvent.objects.count() == events


def test_the_model_refuses_save_and_delete_of_an_existing_entry(editor, incident):
    entry = timeline_add(incident=incident, user=editor, text="Alert raised.")
    entry.text = "Rewritten"
    with pytest.raises(PermissionError, match="append-only"):
        entry.save()
    with pytest.raises(PermissionError, match="append-only"):
        entry.delete()
    assert TimelineEntry.objects.get().text == "Alert raised."


def test_a_correction_is_a_new_entry_shown_with_the_one_it_corrects(api_as, client, editor, incident):
    api = api_as(editor)
    wrong = api.post(url(incident), {"text": "Link BER-POT aborted at 07:00."}, format="json").json()
    fixed = api.post(url(incident), {"text": "Link BER-POT aborted at 07:40, not 07:00.", "corrects": wrong["id"]},
                     format="json")
    assert fixed.status_code == 201
    assert fixed.json()["corrects"]["id"] == wrong["id"]
    assert TimelineEntry.objects.get(pk=wrong["id"]).text == "Link BER-POT aborted at 07:00."
    client.force_login(editor)
    page = client.get(incident.get_absolute_url()).content.decode()
    original = page.index(f'id="timeline-{wrong["id"]}"')
    assert page.index("Link BER-POT aborted at 07:40, not 07:00.", original) < page.index(
        f'id="timeline-{fixed.json()["id"]}"')  # shown under the original first


def test_a_correction_of_another_incident_entry_or_a_future_entry_is_refused(api_as, agency, editor, incident):
    other = IncidentFactory(agency=agency)
    elsewhere = timeline_add(incident=other, user=editor, text="Elsewhere.")
    api = api_as(editor)
    response = api.post(url(incident), {"text": "Fix.", "corrects": elsewhere.pk}, format="json")
    assert (response.status_code, response.json()["errors"]) == (400, {
        "corrects": ["Correct an entry of the same incident."]})
    response = api.post(url(incident), {"text": "Later.", "at": "2099-01-01T00:00:00Z"}, format="json")
    assert (response.status_code, response.json()["errors"]) == (400, {
        "at": ["A timeline entry records what happened: not in the future."]})
    assert TimelineEntry.objects.filter(incident=incident).count() == 0


def test_roles_and_agencies(api_as, agency, other_agency, member_of, incident):
    viewer = member_of(agency, "viewer")
    assert api_as(viewer).get(url(incident)).status_code == 200
    assert api_as(viewer).post(url(incident), {"text": "x"}, format="json").status_code == 403
    outsider = member_of(other_agency, "editor")
    assert api_as(outsider).get(url(incident)).status_code == 404
    assert api_as(outsider).post(url(incident), {"text": "x"}, format="json").status_code == 404
    assert api_as(outsider).post("/api/timeline-entries/", {"incident": incident.pk, "text": "x"},
                                 format="json").status_code == 400  # not an incident they can see
    assert TimelineEntry.objects.count() == 0


def test_status_changes_are_written_on_the_timeline(api_as, editor, incident):
    response = api_as(editor).post(f"/api/incidents/{incident.pk}/triage/", {}, format="json")
    assert response.status_code == 200, response.json()
    entry = TimelineEntry.objects.get()
    assert (entry.kind, entry.text, entry.author_id) == ("lifecycle", "Start triage: now triage.", editor.pk)


def test_the_timeline_list_costs_two_queries(api_as, editor, incident, django_assert_num_queries):
    api = api_as(editor)
    for n in range(4):
        api.post(url(incident), {"text": f"Entry {n}"}, format="json")
    with django_assert_num_queries(2):
        assert len(api.get(url(incident)).json()) == 4


def test_the_add_form_leads_back_to_the_incident(client, editor, incident):
    client.force_login(editor)
    assert client.get(f"/incidents/timeline/add/?incident={incident.pk}").status_code == 200
    response = client.post("/incidents/timeline/add/", {"incident": incident.pk, "at": "2026-11-30T08:00",
                                                        "text": "Regulator called back."})
    entry = TimelineEntry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/incidents/incidents/{incident.pk}/#timeline-{entry.pk}"
    assert client.get(f"/incidents/timeline/{entry.pk}/edit/").status_code == 403
    assert client.post(f"/incidents/timeline/{entry.pk}/delete/").status_code == 403
    assert TimelineEntry.objects.get().text == "Regulator called back."
