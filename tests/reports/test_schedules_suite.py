"""Report schedules: the CRUD × role × agency suite of the generic test case (agency admins write,
every member reads), and the checks of what a schedule may ask for."""

import pytest

from qgov.choices import RoleChoices
from qgov.reports.models import ReportSchedule
from qgov.testing import ModelTestSuite
from tests.reports.factories import make_schedule


class TestReportSchedule(ModelTestSuite):
    model = ReportSchedule
    api_path = "/api/report-schedules/"
    list_queries = 2
    ui_list_queries = 7

    def make_record(self, agency):
        return make_schedule(agency)

    def create_payload(self, agency):
        return {"agency": agency.pk, "kind": "sunset_review", "frequency": "weekly",
                "parameters": {"horizon_months": 6}}

    def update_payload(self, record):
        return {"frequency": "quarterly"}

    def form_data(self, agency, record=None):
        return {"kind": "sunset_review", "frequency": "weekly", "horizon_months": "6", "register_filters": "",
                "marking": "OFFICIAL", "page_size": "A4", "enabled": "on", "next_run_at": "2030-01-02T03:04"}


@pytest.mark.parametrize(("body", "errors"), [
    ({"kind": "weather"}, {"kind": ['"weather" is not a valid choice.']}),
    ({"frequency": "hourly"}, {"frequency": ['"hourly" is not a valid choice.']}),
    ({"kind": "sunset_review", "parameters": {"horizon_months": 61}},
     {"horizon_months": ["A whole number of months from 1 to 60."]}),
    ({"parameters": {"colour": "red"}}, {"parameters": ["Not a parameter of this report: colour."]}),
], ids=["kind", "frequency", "horizon", "unknown-parameter"])
def test_schedule_input_is_checked_like_a_request(body, errors, agency, member_of, api_as):
    payload = {"agency": agency.pk, "kind": "compliance", "frequency": "monthly", **body}
    response = api_as(member_of(agency, RoleChoices.ADMIN)).post("/api/report-schedules/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert ReportSchedule.objects.count() == 0


def test_a_new_schedule_runs_first_now_unless_told(agency, member_of, api_as):
    from django.utils import timezone

    client = api_as(member_of(agency, RoleChoices.ADMIN))
    before = timezone.now()
    body = client.post("/api/report-schedules/", {"agency": agency.pk, "kind": "compliance", "frequency": "monthly"},
                       format="json").json()
    schedule = ReportSchedule.objects.get(pk=body["id"])
    assert before <= schedule.next_run_at <= timezone.now()
    assert (schedule.parameters, schedule.enabled, schedule.marking) == ({}, True, "OFFICIAL-SENSITIVE")
    later = client.post("/api/report-schedules/", {"agency": agency.pk, "kind": "transparency", "frequency": "weekly",
                                                   "next_run_at": "2030-01-06T08:00:00+01:00"}, format="json")
    assert later.json()["next_run_at"] == "2030-01-06T07:00:00Z"


def test_changing_the_kind_checks_the_parameters_again(agency, member_of, api_as):
    schedule = make_schedule(agency, kind="sunset_review", parameters={"horizon_months": 6})
    client = api_as(member_of(agency, RoleChoices.ADMIN))
    response = client.patch(f"/api/report-schedules/{schedule.pk}/", {"kind": "compliance"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"parameters": ["Not a parameter of this report: horizon_months."]}
    schedule.refresh_from_db()
    assert schedule.kind == "sunset_review"
