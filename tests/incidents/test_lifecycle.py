"""The incident lifecycle through the API: every step of the way, and each refusal changing nothing."""

import pytest
from django.utils import timezone

from incidents.models import Incident, IncidentStep
from qgov.models import AuditEvent, Notification
from tests.incidents.factories import playbook_with_steps
from tests.risks.factories import RiskFactory

pytestmark = pytest.mark.django_db

API = "/api/incidents/"


@pytest.fixture
def editor(agency, member_of):
    return member_of(agency, "editor", username="ed")


@pytest.fixture
def playbook():
    return playbook_with_steps(code="PB-X")


def create(api, agency, playbook, **extra):
    response = api.post(API, {"agency": agency.pk, "title": "Keys delivered to an unknown SAE",
                              "incident_type": "key_compromise", "severity": 3, "playbook": playbook.pk,
                              "detected_at": "2026-11-30T08:00:00Z", **extra}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def post(api, incident_id, action, **body):
    return api.post(f"{API}{incident_id}/{action}/", body, format="json")


def complete(api, incident_id, step_id, note=""):
    return api.post(f"{API}{incident_id}/steps/{step_id}/complete/", {"note": note}, format="json")


def step_ids(data, phase=None):
    return [s["id"] for s in data["steps"] if phase is None or s["phase"] == phase]


def test_create_generates_the_reference_and_copies_the_checklist(api_as, agency, editor, playbook):
    data = create(api_as(editor), agency, playbook)
    assert data["reference"] == "INC-2026-0001"
    assert data["status"] == "reported"
    assert [(s["position"], s["phase"], s["mandatory"], s["instruction"]) for s in data["steps"]] == [
        (1, "detect", True, "Detect step 1"), (2, "detect", False, "Detect step 2"),
        (3, "contain", True, "Contain step 3"), (4, "recover", True, "Recover step 4"),
        (5, "forensics", True, "Forensics step 5"), (6, "review", True, "Review step 6")]
    second = create(api_as(editor), agency, playbook)
    assert second["reference"] == "INC-2026-0002"


def test_whole_lifecycle_through_the_api(api_as, agency, editor, playbook):
    api = api_as(editor)
    data = create(api, agency, playbook)
    pk = data["id"]
    assert post(api, pk, "triage").json()["status"] == "triage"
    for step_id in step_ids(data, "detect")[:1]:  # the optional detect step may stay open
        assert complete(api, pk, step_id, "Scoped the key IDs.").status_code == 200
    assert post(api, pk, "contain").json()["status"] == "contained"
    for phase, action in (("contain", "eradicate"), ("recover", "recover")):
        for step_id in step_ids(data, phase):
            assert complete(api, pk, step_id).status_code == 200
        assert post(api, pk, action).status_code == 200
    for step_id in step_ids(data, "forensics") + step_ids(data, "review"):
        assert complete(api, pk, step_id).status_code == 200
    risk = RiskFactory(agency=agency)
    patched = api.patch(f"{API}{pk}/", {"review_summary": "Contained in an hour.", "root_cause": "A leaked cert.",
                                        "lessons": "Shorter certificate lives.", "follow_up_risks": [risk.pk]},
                        format="json")
    assert patched.status_code == 200, patched.json()
    closed = post(api, pk, "close", reason="Reviewed.")
    assert closed.status_code == 200, closed.json()
    body = closed.json()
    assert body["status"] == "closed"
    assert body["closed_at"] is not None
    assert body["follow_up_risks"][0]["id"] == risk.pk
    reopened = post(api, pk, "reopen", reason="New evidence of a second SAE.")
    assert reopened.status_code == 200
    assert reopened.json()["status"] == "triage"
    assert reopened.json()["closed_at"] is None
    assert reopened.json()["status_note"] == "New evidence of a second SAE."
    transitions = list(AuditEvent.objects.filter(object_id=str(pk), action="transition").order_by("id")
                       .values_list("detail__transition", flat=True))
    assert transitions == ["triage", "contain", "eradicate", "recover", "close", "reopen"]


def test_completing_a_step_records_who_and_when(api_as, agency, editor, playbook):
    api = api_as(editor)
    data = create(api, agency, playbook)
    step_id = step_ids(data, "detect")[0]
    before = timezone.now()
    response = complete(api, data["id"], step_id, "Checked the KMS log.")
    assert response.status_code == 200
    step = IncidentStep.objects.get(pk=step_id)
    assert step.completed_by == editor
    assert step.completed_at >= before
    assert step.note == "Checked the KMS log."
    event = AuditEvent.objects.filter(object_id=str(step_id), content_type__model="incidentstep").latest("id")
    assert event.action == "update"
    assert event.actor == editor
    again = complete(api, data["id"], step_id)
    assert again.status_code == 400
    assert again.json()["errors"] == {"non_field_errors": ["Step 1 was already completed."]}


def test_out_of_order_transition_is_refused_and_changes_nothing(api_as, agency, editor, playbook):
    api = api_as(editor)
    data = create(api, agency, playbook)
    before = Incident.objects.get(pk=data["id"])
    response = post(api, data["id"], "close")
    assert response.status_code == 409
    assert response.json()["errors"] == {"status": ["Currently reported."]}
    after = Incident.objects.get(pk=data["id"])
    assert (after.status, after.version) == ("reported", before.version)


def test_leaving_a_phase_with_open_mandatory_steps_lists_them(api_as, agency, editor, playbook):
    api = api_as(editor)
    data = create(api, agency, playbook)
    post(api, data["id"], "triage")
    version = Incident.objects.get(pk=data["id"]).version
    response = post(api, data["id"], "contain")
    assert response.status_code == 409
    assert response.json()["errors"] == {"non_field_errors": ["Step 1 (Detect & analyse): Detect step 1"]}
    incident = Incident.objects.get(pk=data["id"])
    assert (incident.status, incident.version) == ("triage", version)


def test_closing_without_the_review_lists_what_is_missing(api_as, agency, editor, playbook):
    api = api_as(editor)
    data = create(api, agency, playbook)
    pk = data["id"]
    post(api, pk, "triage")
    complete(api, pk, step_ids(data, "detect")[0])
    post(api, pk, "contain")
    for step_id in step_ids(data, "contain"):
        complete(api, pk, step_id)
    post(api, pk, "eradicate")
    for step_id in step_ids(data, "recover"):
        complete(api, pk, step_id)
    post(api, pk, "recover")
    version = Incident.objects.get(pk=pk).version
    response = post(api, pk, "close")
    assert response.status_code == 409
    assert response.json()["errors"] == {"non_field_errors": [
        "Step 5 (Forensics): Forensics step 5", "Step 6 (Post-incident review): Review step 6",
        "Review summary is empty.", "Root cause is empty.", "Lessons learned is empty.",
        "No follow-up risk is linked: link a register risk or raise one."]}
    incident = Incident.objects.get(pk=pk)
    assert (incident.status, incident.version, incident.closed_at) == ("recovered", version, None)


def test_completing_another_incidents_step_is_404_and_changes_nothing(api_as, agency, editor, playbook):
    api = api_as(editor)
    first, second = create(api, agency, playbook), create(api, agency, playbook)
    foreign_step = step_ids(second, "detect")[0]
    response = complete(api, first["id"], foreign_step)
    assert response.status_code == 404
    assert IncidentStep.objects.get(pk=foreign_step).completed_at is None
    assert IncidentStep.objects.filter(completed_at__isnull=False).count() == 0


def test_a_viewer_cannot_complete_a_step(api_as, agency, editor, member_of, playbook):
    data = create(api_as(editor), agency, playbook)
    viewer = member_of(agency, "viewer")
    response = api_as(viewer).post(f"{API}{data['id']}/steps/{step_ids(data)[0]}/complete/", {}, format="json")
    assert response.status_code == 403
    assert IncidentStep.objects.filter(completed_at__isnull=False).count() == 0


def test_playbook_set_later_instantiates_the_checklist_once(api_as, agency, editor, playbook):
    api = api_as(editor)
    response = api.post(API, {"agency": agency.pk, "title": "No plan yet", "incident_type": "other", "severity": 4},
                        format="json")
    pk = response.json()["id"]
    assert response.json()["steps"] == []
    patched = api.patch(f"{API}{pk}/", {"playbook": playbook.pk}, format="json")
    assert len(patched.json()["steps"]) == 6
    other = playbook_with_steps(code="PB-Y", steps=[("detect", True)])
    swapped = api.patch(f"{API}{pk}/", {"playbook": other.pk}, format="json")
    assert [s["instruction"] for s in swapped.json()["steps"]][:1] == ["Detect step 1"]
    assert len(swapped.json()["steps"]) == 6


def test_severity_one_or_two_alerts_the_agency_admins(api_as, agency, editor, member_of, playbook):
    admin = member_of(agency, "admin", username="boss")
    member_of(agency, "viewer", username="someone")
    data = create(api_as(editor), agency, playbook, severity=4)
    assert Notification.objects.count() == 0
    api_as(editor).patch(f"{API}{data['id']}/", {"severity": 2}, format="json")
    assert list(Notification.objects.values_list("user__username", "title")) == [
        ("boss", "Severity 2 incident INC-2026-0001: Keys delivered to an unknown SAE")]
    api_as(editor).patch(f"{API}{data['id']}/", {"severity": 3}, format="json")
    assert Notification.objects.count() == 1  # lowered: no alert
    create(api_as(editor), agency, playbook, severity=1, title="Second")
    assert list(Notification.objects.filter(user=admin).order_by("id").values_list("title", flat=True))[1:] == [
        "Severity 1 incident INC-2026-0002: Second"]
