"""Risk acceptance: request, approval by another admin, re-approval after a material change,
and lapse through the daily beat task."""

import datetime

import pytest
from django.utils import timezone

from qgov.choices import RoleChoices
from qgov.models import AuditEvent, Notification
from qgov.testing import events_for
from risks.models import RiskAcceptance
from tests.risks.factories import RiskAcceptanceFactory, RiskFactory


@pytest.fixture
def people(agency, member_of):
    return {
        "editor": member_of(agency, RoleChoices.EDITOR, username="ed"),
        "admin": member_of(agency, RoleChoices.ADMIN, username="ada"),
        "admin2": member_of(agency, RoleChoices.ADMIN, username="ben"),
    }


def request_acceptance(client, risk, days=60):
    return client.post("/api/risk-acceptances/", {
        "agency": risk.agency_id, "risk": risk.pk, "rationale": "Isolators fitted; physical access needed.",
        "valid_until": str(timezone.localdate() + datetime.timedelta(days=days))}, format="json")


def test_request_records_the_requester(agency, people, api_as):
    risk = RiskFactory(agency=agency)
    response = request_acceptance(api_as(people["editor"]), risk)
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["requested_by"]["id"], body["approved_by"]) == ("requested", people["editor"].pk,
                                                                                  None)


@pytest.mark.parametrize("days", [0, -1])
def test_an_acceptance_must_end_in_the_future(days, agency, people, api_as):
    risk = RiskFactory(agency=agency)
    response = request_acceptance(api_as(people["editor"]), risk, days=days)
    assert response.status_code == 400
    assert response.json()["errors"] == {"valid_until": ["An acceptance must be valid until a future date."]}
    assert not RiskAcceptance.objects.exists()


def test_the_requester_cannot_approve(agency, people, api_as):
    risk = RiskFactory(agency=agency)
    client = api_as(people["admin"])
    acceptance_id = request_acceptance(client, risk).json()["id"]
    response = client.post(f"/api/risk-acceptances/{acceptance_id}/approve/")
    assert response.status_code == 400
    assert response.json()["errors"] == {"approved_by": ["The approver must be someone other than the requester."]}
    acceptance = RiskAcceptance.objects.get(pk=acceptance_id)
    assert (acceptance.status, acceptance.approved_by) == ("requested", None)


def test_only_admins_approve(agency, people, api_as):
    acceptance = RiskAcceptanceFactory(agency=agency, requested_by=people["admin"])
    response = api_as(people["editor"]).post(f"/api/risk-acceptances/{acceptance.pk}/approve/")
    assert response.status_code == 403
    acceptance.refresh_from_db()
    assert acceptance.status == "requested"


def test_approval_by_another_admin_accepts_the_risk(agency, people, api_as):
    risk = RiskFactory(agency=agency, inherent_likelihood=3, inherent_impact=4, residual_likelihood=2,
                       residual_impact=3, owner=people["editor"])
    acceptance_id = request_acceptance(api_as(people["editor"]), risk).json()["id"]
    response = api_as(people["admin"]).post(f"/api/risk-acceptances/{acceptance_id}/approve/")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["approved_by"]["id"], body["residual_score_at_decision"],
            body["rating_at_decision"]) == ("approved", people["admin"].pk, 6, "Medium")
    risk.refresh_from_db()
    assert (risk.status, risk.treatment) == ("accepted", "accept")
    assert events_for(RiskAcceptance, acceptance_id).filter(action="update", actor=people["admin"]).count() == 1
    assert Notification.objects.filter(user=people["editor"], title__startswith=f"Risk {risk.reference} accepted"
                                       ).count() == 1


def test_an_approved_acceptance_cannot_be_approved_again(agency, people, api_as):
    acceptance = RiskAcceptanceFactory(agency=agency, requested_by=people["editor"])
    client = api_as(people["admin"])
    assert client.post(f"/api/risk-acceptances/{acceptance.pk}/approve/").status_code == 200
    again = client.post(f"/api/risk-acceptances/{acceptance.pk}/approve/")
    assert again.status_code == 400
    assert "this one is approved" in again.json()["errors"]["status"][0]


def test_another_agency_cannot_approve(agency, other_agency, people, member_of, api_as):
    acceptance = RiskAcceptanceFactory(agency=agency, requested_by=people["editor"])
    response = api_as(member_of(other_agency, RoleChoices.ADMIN)).post(
        f"/api/risk-acceptances/{acceptance.pk}/approve/")
    assert response.status_code == 404
    acceptance.refresh_from_db()
    assert acceptance.status == "requested"


def approved(agency, people):
    from risks.services import acceptance_approve

    acceptance = RiskAcceptanceFactory(agency=agency, requested_by=people["editor"],
                                       risk=RiskFactory(agency=agency, owner=people["editor"]))
    return acceptance_approve(acceptance=acceptance, user=people["admin"])


@pytest.mark.parametrize(("change", "status"), [
    ({"residual_likelihood": 2, "residual_impact": 2}, "reapproval_required"),
    ({"treatment": "mitigate"}, "reapproval_required"),
    ({"inherent_impact": 5}, "reapproval_required"),
    ({"title": "Renamed", "description": "More words"}, "approved"),
])
def test_material_changes_require_reapproval(change, status, agency, people, api_as):
    acceptance = approved(agency, people)
    response = api_as(people["editor"]).patch(f"/api/risks/{acceptance.risk_id}/", change, format="json")
    assert response.status_code == 200
    acceptance.refresh_from_db()
    assert acceptance.status == status
    told = Notification.objects.filter(title__endswith="its acceptance needs re-approval")
    assert {n.user for n in told} == ({people["admin"], people["admin2"]} if status != "approved" else set())


def test_reapproval_by_an_admin_restores_the_acceptance(agency, people, api_as):
    acceptance = approved(agency, people)
    api_as(people["editor"]).patch(f"/api/risks/{acceptance.risk_id}/", {"inherent_impact": 5}, format="json")
    response = api_as(people["admin2"]).post(f"/api/risk-acceptances/{acceptance.pk}/approve/")
    assert response.status_code == 200
    assert response.json()["approved_by"]["id"] == people["admin2"].pk


def test_the_beat_task_lapses_expired_acceptances_and_reopens_risks(agency, people, mailoutbox,
                                                                    django_capture_on_commit_callbacks):
    from risks.tasks import lapse_risk_acceptances

    acceptance = approved(agency, people)
    still_valid = approved(agency, people)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    RiskAcceptance.objects.filter(pk=acceptance.pk).update(valid_until=yesterday)
    with django_capture_on_commit_callbacks(execute=True):
        assert lapse_risk_acceptances.delay().get() == 1
    acceptance.refresh_from_db()
    risk = acceptance.risk
    risk.refresh_from_db()
    assert acceptance.status == "lapsed"
    assert risk.status == "assessed"
    assert risk.status_note == (f"Reopened on {timezone.localdate().isoformat()}: the risk acceptance valid until "
                                f"{yesterday.isoformat()} lapsed.")
    event = events_for(risk).latest("seq")
    assert (event.source, event.actor_repr, event.after["status"]) == ("task", "task:lapse_risk_acceptances",
                                                                       "assessed")
    notification = Notification.objects.get(title=f"Risk {risk.reference} reopened: its acceptance lapsed")
    assert notification.user == people["editor"]
    assert [m.subject for m in mailoutbox if "reopened" in m.subject] == [
        f"[qgov] Risk {risk.reference} reopened: its acceptance lapsed"]
    still_valid.refresh_from_db()
    assert still_valid.status == "approved"
    # Running again changes nothing.
    before = AuditEvent.objects.count()
    assert lapse_risk_acceptances.delay().get() == 0
    assert AuditEvent.objects.count() == before


def test_the_beat_schedule_runs_the_lapse_task_daily():
    from qgov.celery import app

    entry = app.conf.beat_schedule["lapse-risk-acceptances-daily"]
    assert entry["task"] == "risks.tasks.lapse_risk_acceptances"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({2}, {0})


def test_ui_approve_button_and_refusal(client, agency, people):
    acceptance = RiskAcceptanceFactory(agency=agency, requested_by=people["admin"])
    client.force_login(people["admin"])
    page = client.get(f"/risks/acceptances/{acceptance.pk}/")
    assert page.context["can_approve"] is False  # one's own request
    client.force_login(people["admin2"])
    page = client.get(f"/risks/acceptances/{acceptance.pk}/")
    assert page.context["can_approve"] is True
    response = client.post(f"/risks/acceptances/{acceptance.pk}/approve/", follow=True)
    assert "Acceptance approved" in response.content.decode()
    acceptance.refresh_from_db()
    assert acceptance.status == "approved"
