"""Risk acceptance as a lifecycle: request, approval or rejection by another admin, re-approval
after a material change of the acceptance or of its risk, lapse through the daily beat task —
and the two bypasses of the old generic edit (editing an approved acceptance, setting a risk to
"accepted" by hand) refused."""

import datetime
import re

import pytest
from django.utils import timezone

from qgov.choices import RoleChoices
from qgov.models import AuditEvent, Notification
from qgov.services import object_transition
from qgov.testing import events_for
from risks.models import Risk, RiskAcceptance
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


def approved(agency, people):
    acceptance = RiskAcceptanceFactory(agency=agency, requested_by=people["editor"],
                                       risk=RiskFactory(agency=agency, owner=people["editor"]))
    return object_transition(instance=acceptance, name="approve", user=people["admin"])


def test_request_records_the_requester_and_asks_the_approvers(agency, people, api_as):
    risk = RiskFactory(agency=agency)
    response = request_acceptance(api_as(people["editor"]), risk)
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["requested_by"]["id"], body["approved_by"]) == ("requested", people["editor"].pk,
                                                                                  None)
    asked = Notification.objects.filter(title=f"Risk {risk.reference}: acceptance requested by ed")
    assert sorted(n.user.username for n in asked) == ["ada", "ben"]


def test_an_admins_own_request_is_not_sent_to_them(agency, people, api_as):
    risk = RiskFactory(agency=agency)
    assert request_acceptance(api_as(people["admin"]), risk).status_code == 201
    asked = Notification.objects.filter(title__startswith=f"Risk {risk.reference}: acceptance requested")
    assert [n.user.username for n in asked] == ["ben"]


@pytest.mark.parametrize("days", [0, -1])
def test_an_acceptance_must_end_in_the_future(days, agency, people, api_as):
    risk = RiskFactory(agency=agency)
    response = request_acceptance(api_as(people["editor"]), risk, days=days)
    assert response.status_code == 400
    assert response.json()["errors"] == {"valid_until": ["An acceptance must be valid until a future date."]}
    assert not RiskAcceptance.objects.exists()


def test_a_request_cannot_carry_its_own_decision(agency, people, api_as):
    risk = RiskFactory(agency=agency)
    response = api_as(people["editor"]).post("/api/risk-acceptances/", {
        "agency": agency.pk, "risk": risk.pk, "rationale": "x", "status": "approved",
        "valid_until": str(timezone.localdate() + datetime.timedelta(days=9))}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["status"]
    assert not RiskAcceptance.objects.exists()


def test_the_requester_cannot_approve(agency, people, api_as):
    risk = RiskFactory(agency=agency)
    client = api_as(people["admin"])
    acceptance_id = request_acceptance(client, risk).json()["id"]
    response = client.post(f"/api/risk-acceptances/{acceptance_id}/approve/")
    assert response.status_code == 409
    assert response.json()["code"] == "transition_refused"
    assert response.json()["errors"] == {
        "non_field_errors": ["The approver must be someone other than the requester."]}
    acceptance = RiskAcceptance.objects.get(pk=acceptance_id)
    assert (acceptance.status, acceptance.approved_by) == ("requested", None)


@pytest.mark.parametrize("role", [RoleChoices.EDITOR, RoleChoices.AUDITOR, RoleChoices.VIEWER])
def test_only_admins_approve(role, agency, people, member_of, api_as):
    acceptance = RiskAcceptanceFactory(agency=agency, requested_by=people["admin"])
    response = api_as(member_of(agency, role)).post(f"/api/risk-acceptances/{acceptance.pk}/approve/")
    assert response.status_code == 403
    acceptance.refresh_from_db()
    assert (acceptance.status, acceptance.version) == ("requested", 1)


def test_approval_by_another_admin_accepts_the_risk(agency, people, api_as):
    risk = RiskFactory(agency=agency, inherent_likelihood=3, inherent_impact=4, residual_likelihood=2,
                       residual_impact=3, owner=people["editor"])
    acceptance_id = request_acceptance(api_as(people["editor"]), risk).json()["id"]
    response = api_as(people["admin"]).post(f"/api/risk-acceptances/{acceptance_id}/approve/",
                                            {"reason": "Compensating controls verified."}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["approved_by"]["id"], body["residual_score_at_decision"],
            body["rating_at_decision"], body["decision_note"]) == (
        "approved", people["admin"].pk, 6, "Medium", "Compensating controls verified.")
    assert response["ETag"] == f'"{body["version"]}"'
    risk.refresh_from_db()
    assert (risk.status, risk.treatment) == ("accepted", "accept")
    # One event per record, each naming the transition and its reason.
    event = events_for(RiskAcceptance, acceptance_id).get(action="transition")
    assert (event.actor, event.detail) == (people["admin"], {"transition": "approve",
                                                            "reason": "Compensating controls verified."})
    assert set(event.changed_fields) >= {"status", "approved_by_id", "approved_at", "decision_note"}
    risk_event = events_for(risk).get(action="transition")
    assert risk_event.detail["transition"] == "accept"
    assert risk.status_note == f"Accepted by ada until {body['valid_until']}."
    assert Notification.objects.filter(user=people["editor"], title__startswith=f"Risk {risk.reference} accepted"
                                       ).count() == 1


def test_an_approved_acceptance_cannot_be_approved_again(agency, people, api_as):
    acceptance = RiskAcceptanceFactory(agency=agency, requested_by=people["editor"])
    client = api_as(people["admin"])
    assert client.post(f"/api/risk-acceptances/{acceptance.pk}/approve/").status_code == 200
    again = client.post(f"/api/risk-acceptances/{acceptance.pk}/approve/")
    assert again.status_code == 409
    assert again.json()["detail"] == ("This risk acceptance is “approved”; “Approve” is only possible when it is "
                                      "“requested” or “re-approval required”.")
    assert again.json()["errors"] == {"status": ["Currently approved."]}


def test_an_expired_request_cannot_be_approved(agency, people, api_as):
    acceptance = RiskAcceptanceFactory(agency=agency, requested_by=people["editor"])
    RiskAcceptance.objects.filter(pk=acceptance.pk).update(valid_until=timezone.localdate())
    response = api_as(people["admin"]).post(f"/api/risk-acceptances/{acceptance.pk}/approve/")
    assert response.status_code == 409
    assert response.json()["errors"]["non_field_errors"] == [
        f"This acceptance expired on {timezone.localdate().isoformat()}; request a new one."]


def test_another_agency_cannot_approve(agency, other_agency, people, member_of, api_as):
    acceptance = RiskAcceptanceFactory(agency=agency, requested_by=people["editor"])
    response = api_as(member_of(other_agency, RoleChoices.ADMIN)).post(
        f"/api/risk-acceptances/{acceptance.pk}/approve/")
    assert response.status_code == 404
    acceptance.refresh_from_db()
    assert acceptance.status == "requested"


def test_a_stale_version_is_412(agency, people, api_as):
    acceptance = RiskAcceptanceFactory(agency=agency, requested_by=people["editor"])
    response = api_as(people["admin"]).post(f"/api/risk-acceptances/{acceptance.pk}/approve/",
                                            HTTP_IF_MATCH='"7"')
    assert response.status_code == 412
    acceptance.refresh_from_db()
    assert acceptance.status == "requested"


def test_rejection_needs_a_reason_and_freezes_the_record(agency, people, api_as):
    acceptance = RiskAcceptanceFactory(agency=agency, requested_by=people["editor"])
    admin = api_as(people["admin"])
    missing = admin.post(f"/api/risk-acceptances/{acceptance.pk}/reject/", {}, format="json")
    assert missing.status_code == 400
    assert missing.json()["errors"] == {"reason": ["Give a reason for “Reject”."]}
    rejected = admin.post(f"/api/risk-acceptances/{acceptance.pk}/reject/",
                          {"reason": "Residual risk too high for a national backbone."}, format="json")
    assert rejected.status_code == 200
    assert (rejected.json()["status"], rejected.json()["decision_note"]) == (
        "rejected", "Residual risk too high for a national backbone.")
    assert Notification.objects.filter(user=people["editor"], title__endswith="rejected").count() == 1
    before = AuditEvent.objects.count()
    edit = api_as(people["editor"]).patch(f"/api/risk-acceptances/{acceptance.pk}/", {"rationale": "Again"},
                                          format="json")
    assert edit.status_code == 400
    assert edit.json()["errors"] == {"non_field_errors": [
        "This risk acceptance is “rejected” and can no longer be edited."]}
    delete = api_as(people["admin"]).delete(f"/api/risk-acceptances/{acceptance.pk}/")
    assert delete.status_code == 400
    assert AuditEvent.objects.count() == before
    assert RiskAcceptance.objects.get(pk=acceptance.pk).rationale != "Again"


# --- the bypasses the generic edit used to allow --------------------------------------------------

def test_editing_an_approved_acceptance_sends_it_back_for_reapproval(agency, people, api_as):
    acceptance = approved(agency, people)
    response = api_as(people["editor"]).patch(f"/api/risk-acceptances/{acceptance.pk}/",
                                              {"valid_until": "2031-12-31"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["approved_by"], body["valid_until"]) == ("reapproval_required", None, "2031-12-31")
    risk = Risk.objects.get(pk=acceptance.risk_id)
    assert risk.status == "assessed"  # no longer accepted without an approved decision
    event = events_for(acceptance).latest("seq")
    assert (event.action, event.detail) == ("update", {"transition": "require_reapproval",
                                                       "reason": "Edited: valid until."})
    told = Notification.objects.filter(title__endswith="its acceptance needs re-approval")
    assert sorted(n.user.username for n in told) == ["ada", "ben"]


def test_an_acceptance_cannot_be_moved_to_another_risk(agency, people, api_as):
    acceptance = approved(agency, people)
    other = RiskFactory(agency=agency)
    response = api_as(people["editor"]).patch(f"/api/risk-acceptances/{acceptance.pk}/", {"risk": other.pk},
                                              format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["risk"]
    acceptance.refresh_from_db()
    assert (acceptance.risk_id, acceptance.status) != (other.pk, "reapproval_required")


@pytest.mark.parametrize("field", ["status", "approved_by", "approved_at", "decision_note",
                                   "residual_score_at_decision", "rating_at_decision"])
def test_the_decision_fields_cannot_be_patched(field, agency, people, api_as):
    acceptance = RiskAcceptanceFactory(agency=agency, requested_by=people["editor"])
    value = {"status": "approved", "approved_by": people["admin"].pk, "approved_at": "2026-01-01T00:00:00Z",
             "decision_note": "ok", "residual_score_at_decision": 1, "rating_at_decision": "Low"}[field]
    response = api_as(people["admin"]).patch(f"/api/risk-acceptances/{acceptance.pk}/", {field: value},
                                             format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
    assert "use its actions (POST …/approve/, POST …/reject/)" in response.json()["errors"][field][0]
    acceptance.refresh_from_db()
    assert (acceptance.status, acceptance.version) == ("requested", 1)


def test_a_risk_cannot_be_set_to_accepted_by_hand(agency, people, api_as, client):
    risk = RiskFactory(agency=agency)
    response = api_as(people["editor"]).patch(f"/api/risks/{risk.pk}/", {"treatment": "accept",
                                                                          "status": "accepted"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["status"]
    risk.refresh_from_db()
    assert (risk.status, risk.treatment, risk.version) == ("draft", "mitigate", 1)
    # The form has no status field at all; a posted one is ignored.
    client.force_login(people["editor"])
    form = client.get(f"/risks/register/{risk.pk}/edit/").context["form"]
    assert "status" not in form.fields
    # Treatment "accept" is a plan; the status stays until an acceptance is approved.
    ok = api_as(people["editor"]).patch(f"/api/risks/{risk.pk}/", {"treatment": "accept"}, format="json")
    assert (ok.status_code, ok.json()["status"]) == (200, "draft")


@pytest.mark.parametrize(("change", "status"), [
    ({"residual_likelihood": 2, "residual_impact": 2}, "reapproval_required"),
    ({"treatment": "mitigate"}, "reapproval_required"),
    ({"inherent_impact": 5}, "reapproval_required"),
    ({"title": "Renamed", "description": "More words"}, "approved"),
])
def test_material_changes_of_the_risk_require_reapproval(change, status, agency, people, api_as):
    acceptance = approved(agency, people)
    response = api_as(people["editor"]).patch(f"/api/risks/{acceptance.risk_id}/", change, format="json")
    assert response.status_code == 200
    acceptance.refresh_from_db()
    assert acceptance.status == status
    assert response.json()["status"] == ("assessed" if status != "approved" else "accepted")
    told = Notification.objects.filter(title__endswith="its acceptance needs re-approval")
    assert {n.user for n in told} == ({people["admin"], people["admin2"]} if status != "approved" else set())
    if status != "approved":
        # The edit and the status it cost are one event on the risk.
        event = events_for(acceptance.risk).latest("seq")
        assert (event.action, event.detail["transition"]) == ("update", "revoke_acceptance")
        assert "status" in event.changed_fields


def test_reapproval_by_an_admin_restores_the_acceptance(agency, people, api_as):
    acceptance = approved(agency, people)
    api_as(people["editor"]).patch(f"/api/risks/{acceptance.risk_id}/", {"inherent_impact": 5}, format="json")
    response = api_as(people["admin2"]).post(f"/api/risk-acceptances/{acceptance.pk}/approve/")
    assert response.status_code == 200
    assert response.json()["approved_by"]["id"] == people["admin2"].pk
    assert Risk.objects.get(pk=acceptance.risk_id).status == "accepted"


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
    assert (event.source, event.actor_repr, event.after["status"], event.action, event.detail["transition"]) == (
        "task", "task:lapse_risk_acceptances", "assessed", "transition", "revoke_acceptance")
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


def test_lapse_is_a_system_transition_not_offered_by_hand(agency, people, api_as):
    acceptance = approved(agency, people)
    response = api_as(people["admin2"]).post(f"/api/risk-acceptances/{acceptance.pk}/lapse/")
    assert response.status_code == 404  # no such route: system transitions are not exposed
    assert "/api/risk-acceptances/{id}/lapse/" not in api_as(people["admin2"]).get("/api/schema/?format=json").json()[
        "paths"]


def test_the_beat_schedule_runs_the_lapse_task_daily():
    from qgov.celery import app

    entry = app.conf.beat_schedule["lapse-risk-acceptances-daily"]
    assert entry["task"] == "risks.tasks.lapse_risk_acceptances"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({2}, {0})


def test_the_schema_lists_each_transition(agency, people, api_as):
    paths = api_as(people["admin"]).get("/api/schema/?format=json").json()["paths"]
    for path in ("/api/risk-acceptances/{id}/approve/", "/api/risk-acceptances/{id}/reject/",
                 "/api/risks/{id}/assess/", "/api/risks/{id}/start-treatment/", "/api/risks/{id}/close/",
                 "/api/risks/{id}/reopen/"):
        operation = paths[path]["post"]
        assert set(operation["responses"]) == {"200", "400", "401", "403", "404", "409", "412", "413", "415",
                                               "422", "429"}, path
    assert "/api/risks/{id}/accept/" not in paths


def test_ui_transition_buttons_and_confirm_page(client, agency, people):
    acceptance = RiskAcceptanceFactory(agency=agency, requested_by=people["admin"])
    client.force_login(people["admin"])
    page = client.get(f"/risks/acceptances/{acceptance.pk}/")
    offered = {t.name: missing for t, _url, missing in page.context["transitions"]}
    assert offered == {"approve": ["The approver must be someone other than the requester."],
                       "reject": ["The approver must be someone other than the requester."]}
    client.force_login(people["editor"])
    assert client.get(f"/risks/acceptances/{acceptance.pk}/").context["transitions"] == []
    assert client.get(f"/risks/acceptances/{acceptance.pk}/approve/").status_code == 403
    client.force_login(people["admin2"])
    page = client.get(f"/risks/acceptances/{acceptance.pk}/")
    assert {t.name: missing for t, _url, missing in page.context["transitions"]} == {"approve": [], "reject": []}
    confirm = client.get(f"/risks/acceptances/{acceptance.pk}/reject/")
    assert confirm.status_code == 200
    assert confirm.context["form"].fields["reason"].required is True
    refused = client.post(f"/risks/acceptances/{acceptance.pk}/reject/", {"reason": "", "version": 1})
    assert refused.status_code == 200
    assert refused.context["form"].errors == {"reason": ["This field is required."]}
    done = client.post(f"/risks/acceptances/{acceptance.pk}/approve/", {"reason": "", "version": 1}, follow=True)
    assert "” is now approved." in done.content.decode()
    acceptance.refresh_from_db()
    assert acceptance.status == "approved"
    # Approved: the page now offers nothing more, and the edit form says it needs re-approval after saving.
    assert client.get(f"/risks/acceptances/{acceptance.pk}/").context["transitions"] == []


def test_ui_frozen_record_shows_why_it_cannot_be_edited(client, agency, people):
    acceptance = RiskAcceptanceFactory(agency=agency, requested_by=people["editor"])
    object_transition(instance=acceptance, name="reject", user=people["admin"], reason="No.")
    client.force_login(people["admin"])
    page = client.get(f"/risks/acceptances/{acceptance.pk}/")
    assert (page.context["can_change"], page.context["can_delete"]) == (False, False)
    page = client.get(f"/risks/acceptances/{acceptance.pk}/edit/")
    assert page.context["notice"] == "This risk acceptance is “rejected” and can no longer be edited."
    response = client.post(f"/risks/acceptances/{acceptance.pk}/edit/", {
        "rationale": "Changed", "valid_until": "2031-01-01", "version": 2})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "This risk acceptance is “rejected” and can no longer be edited."]
    acceptance.refresh_from_db()
    assert acceptance.rationale != "Changed"


def test_dashboard_shows_what_awaits_your_approval(client, agency, people):
    mine = RiskAcceptanceFactory(agency=agency, requested_by=people["admin"])
    theirs = RiskAcceptanceFactory(agency=agency, requested_by=people["editor"])
    client.force_login(people["admin"])
    panels = {str(panel.title): ctx for panel, ctx in client.get("/").context["panels"]}
    assert [a.pk for a in panels["Awaiting your approval"]["acceptances"]] == [theirs.pk]
    assert mine.pk not in [a.pk for a in panels["Awaiting your approval"]["acceptances"]]
    client.force_login(people["editor"])
    panels = {str(panel.title): ctx for panel, ctx in client.get("/").context["panels"]}
    assert "Awaiting your approval" not in panels


def test_one_open_acceptance_per_risk_and_none_for_a_closed_risk(agency, people, api_as, client):
    acceptance = approved(agency, people)
    again = request_acceptance(api_as(people["editor"]), acceptance.risk)
    assert again.status_code == 400
    assert again.json()["errors"] == {"risk": [
        "This risk already has an acceptance that is requested, approved or awaiting re-approval."]}
    closed = RiskFactory(agency=agency)
    object_transition(instance=closed, name="close", user=people["editor"], reason="Link decommissioned.")
    refused = request_acceptance(api_as(people["editor"]), closed)
    assert refused.json()["errors"] == {"risk": ["This risk is closed; reopen it before requesting an acceptance."]}
    assert RiskAcceptance.objects.count() == 1
    client.force_login(people["editor"])
    assert client.get(f"/risks/register/{acceptance.risk_id}/").context["can_request_acceptance"] is False
    assert client.get(f"/risks/register/{closed.pk}/").context["can_request_acceptance"] is False
    assert client.get(f"/risks/register/{RiskFactory(agency=agency).pk}/").context["can_request_acceptance"] is True


def test_the_edit_page_says_what_saving_will_cost(agency, people, client):
    acceptance = approved(agency, people)
    client.force_login(people["editor"])
    page = client.get(f"/risks/acceptances/{acceptance.pk}/edit/")
    assert page.context["notice"] == ("This risk acceptance is “approved”: saving a change makes it "
                                      "“re-approval required”.")
    page = client.get(f"/risks/register/{acceptance.risk_id}/edit/")
    assert page.context["notice"] == (
        "This risk is “accepted”: changing current impact, current likelihood, inherent impact, inherent "
        "likelihood, residual impact, residual likelihood, treatment makes it “assessed”.")
    response = client.post(f"/risks/acceptances/{acceptance.pk}/edit/", {
        "rationale": acceptance.rationale, "valid_until": "2031-12-31", "version": acceptance.version})
    assert response.status_code == 302
    acceptance.refresh_from_db()
    assert acceptance.status == "reapproval_required"
    assert events_for(acceptance).latest("id").detail == {"transition": "require_reapproval",
                                                          "reason": "Edited: valid until."}


def test_the_acceptance_page_shows_status_requester_approver_and_rating_at_decision(agency, people, client):
    acceptance = approved(agency, people)
    client.force_login(people["editor"])
    html = client.get(acceptance.get_absolute_url()).content.decode()
    rows = dict(re.findall(r'<th scope="row"[^>]*>([^<]+)</th><td>(.*?)</td>', html, re.S))
    shown = {label: re.sub(r"<[^>]+>", "", value).strip() for label, value in rows.items()}
    assert shown["Status"] == "Approved"
    assert shown["Requested by"] == "ed"
    assert shown["Approved by"] == "ada"
    assert shown["Rating at decision"] == "High"
    assert shown["Score at decision"] == "12"
