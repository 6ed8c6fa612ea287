"""Due dates and reminders: each reminder exactly once per threshold, per-agency thresholds,
escalation, catch-up after a gap, reminders stopping when a record is no longer due, the
due-soon page, panel and API."""

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from qgov.choices import RoleChoices
from qgov.duedates import DueDate, declaration_problems, declared_due_dates, declaring_models
from qgov.duedates.selectors import agency_today
from qgov.duedates.services import due_reminders_send
from qgov.models import Notification, Reminder
from risks.models import RiskAcceptance
from tests.concurrency import run_at_once
from tests.core.due_dates.support import DUE, day, run, titles_to
from tests.factories import MembershipFactory
from tests.risks.factories import approved_acceptance

# --- declaration ----------------------------------------------------------------------------


def test_risk_acceptances_declare_their_end():
    # Every declaration is checked in test_conventions.py.
    assert RiskAcceptance in declaring_models()
    assert [(due.key, due.owner, due.escalate) for due in RiskAcceptance.due_dates] == [
        ("valid_until", "risk__owner", True)]


def test_open_risks_are_due_for_review_and_closed_ones_are_not(api_as, agency, people):
    from risks.choices import RiskStatusChoices
    from tests.risks.factories import RiskFactory

    today = agency_today(agency)  # "days left" counts in the agency's zone, not the host's
    review = RiskFactory(agency=agency, owner=people["owner"], title="Detector blinding",
                         review_date=today + dt.timedelta(days=10))
    RiskFactory(agency=agency, owner=people["owner"], status=RiskStatusChoices.CLOSED,
                review_date=today + dt.timedelta(days=5))
    answer = api_as(people["viewer"]).get("/api/due-dates/", {"within": 30, "type": "risks.risk"}).json()
    assert [(r["record"]["id"], r["label"], r["days_left"]) for r in answer["results"]] == [
        (review.pk, "Risk review due", 10)]


def test_a_wrong_declaration_is_reported():
    class Broken:
        __name__ = "Broken"
        _meta = RiskAcceptance._meta
        due_dates = (DueDate(field="rationale", label="x", owner="risk__title"),
                     DueDate(field="nope", label="y", owner="risk__nobody"))

    assert declaration_problems(Broken) == [
        "Broken.due_dates[rationale]: 'rationale' is not a date or datetime field of the model",
        "Broken.due_dates[rationale]: owner 'risk__title' is not a foreign key to the user model",
        "Broken.due_dates[nope]: field 'nope': RiskAcceptance has no field named 'nope'",
        "Broken.due_dates[nope]: owner 'risk__nobody': Risk has no field named 'nobody'",
    ]


# --- one reminder per threshold ---------------------------------------------------------------


def test_one_reminder_per_threshold_exactly(acceptance, people, django_capture_on_commit_callbacks):
    ref = acceptance.risk.reference
    name = f"{ref} acceptance until 2027-03-31"
    sent = {days: run(day(days), django_capture_on_commit_callbacks) for days in (91, 90, 89, 31, 30, 7, 0)}

    assert sent == {91: 0, 90: 1, 89: 0, 31: 0, 30: 1, 7: 1, 0: 1}
    expected = [
        f"Risk acceptance ends in 90 days: {name}",
        f"Risk acceptance ends in 30 days: {name}",
        f"Escalation: Risk acceptance ends in 7 days: {name}",
        f"Escalation: Risk acceptance ends today: {name}",
    ]
    for username in ("admin", "admin2", "owner"):
        assert titles_to(username) == expected
    assert titles_to("viewer") == []
    assert Notification.objects.count() == 12
    assert list(Reminder.objects.order_by("-threshold_days").values_list("threshold_days", "escalated", "skipped")) \
        == [(90, False, False), (30, False, False), (7, True, False), (0, True, False)]
    reminder = Reminder.objects.get(threshold_days=30)
    assert sorted(u.username for u in reminder.recipients.all()) == ["admin", "admin2", "owner"]


def test_the_message_says_what_which_record_when_and_how_long(acceptance, people, django_capture_on_commit_callbacks,
                                                              settings):
    settings.QGOV_SITE_URL = "https://qgov.example.gov/"
    run(day(30), django_capture_on_commit_callbacks)
    note = Notification.objects.get(user=people["owner"])
    assert note.body == (f"Risk acceptance ends on 2027-03-31 (in 30 days) for the risk acceptance "
                         f"“{acceptance}”.")
    assert note.url == f"https://qgov.example.gov/risks/acceptances/{acceptance.pk}/"
    assert note.agency == acceptance.agency


def test_running_twice_the_same_day_sends_nothing_new(acceptance, people, django_capture_on_commit_callbacks):
    assert run(day(30), django_capture_on_commit_callbacks) == 1
    assert run(day(30), django_capture_on_commit_callbacks) == 0
    assert run(day(29), django_capture_on_commit_callbacks) == 0
    assert Notification.objects.count() == 3
    assert Reminder.objects.filter(skipped=False).count() == 1


def test_each_email_goes_out_once(acceptance, people, django_capture_on_commit_callbacks):
    run(day(30), django_capture_on_commit_callbacks)
    run(day(30), django_capture_on_commit_callbacks)
    assert sorted((m.to[0], m.subject) for m in mail.outbox) == sorted(
        (f"{u}@example.org", f"[qgov] Risk acceptance ends in 30 days: {acceptance}")
        for u in ("admin", "admin2", "owner"))
    assert f"/risks/acceptances/{acceptance.pk}/" in mail.outbox[0].body


def test_a_catch_up_run_sends_only_the_most_urgent_threshold(acceptance, people, django_capture_on_commit_callbacks):
    assert run(day(5), django_capture_on_commit_callbacks) == 1
    assert titles_to("owner") == [f"Escalation: Risk acceptance ends in 5 days: {acceptance}"]
    assert list(Reminder.objects.order_by("-threshold_days").values_list("threshold_days", "skipped")) == [
        (90, True), (30, True), (7, False)]
    # The passed-over thresholds never follow; the date itself still escalates.
    assert run(day(4), django_capture_on_commit_callbacks) == 0
    assert run(day(0), django_capture_on_commit_callbacks) == 1
    assert len(titles_to("owner")) == 2


def test_a_record_created_inside_the_window_starts_at_the_threshold_it_is_in(
        acceptance, people, django_capture_on_commit_callbacks):
    run(day(45), django_capture_on_commit_callbacks)
    assert titles_to("owner") == [f"Risk acceptance ends in 45 days: {acceptance}"]
    assert run(day(44), django_capture_on_commit_callbacks) == 0
    assert run(day(30), django_capture_on_commit_callbacks) == 1


def test_after_the_date_the_overdue_escalation_goes_out_once(acceptance, people, django_capture_on_commit_callbacks):
    # The task did not run for a while: the record is three days past its date and still open.
    assert run(DUE + dt.timedelta(days=3), django_capture_on_commit_callbacks) == 1
    assert titles_to("owner") == [f"Escalation: Risk acceptance ends 3 days ago: {acceptance}"]
    assert run(DUE + dt.timedelta(days=4), django_capture_on_commit_callbacks) == 0


def test_thresholds_are_the_agencys(agency, other_agency, people, member_of, django_capture_on_commit_callbacks):
    agency.reminder_thresholds = [60, 14]
    agency.save()
    other_admin = member_of(other_agency, RoleChoices.ADMIN, username="other-admin")
    mine = approved_acceptance(agency=agency, owner=people["owner"], valid_until=DUE)
    theirs = approved_acceptance(agency=other_agency, owner=other_admin, valid_until=DUE)

    sent = {days: run(day(days), django_capture_on_commit_callbacks) for days in (90, 60, 30, 14, 7)}

    assert sent == {90: 1, 60: 1, 30: 1, 14: 1, 7: 1}
    assert titles_to("owner") == [f"Risk acceptance ends in 60 days: {mine}",
                                  f"Escalation: Risk acceptance ends in 14 days: {mine}"]
    assert titles_to("other-admin") == [f"Risk acceptance ends in 90 days: {theirs}",
                                        f"Risk acceptance ends in 30 days: {theirs}",
                                        f"Escalation: Risk acceptance ends in 7 days: {theirs}"]


def test_recipients_are_the_owner_and_the_admins_of_the_records_agency_only(
        agency, other_agency, people, member_of, django_capture_on_commit_callbacks):
    member_of(other_agency, RoleChoices.ADMIN, username="foreign-admin")
    retired = member_of(agency, RoleChoices.ADMIN, username="retired-admin")
    retired.is_active = False
    retired.save()
    approved_acceptance(agency=agency, owner=people["owner"], valid_until=DUE)
    run(day(30), django_capture_on_commit_callbacks)
    assert sorted(n.user.username for n in Notification.objects.select_related("user")) == [
        "admin", "admin2", "owner"]


def test_an_owner_who_is_also_an_admin_is_told_once(agency, people, django_capture_on_commit_callbacks):
    approved_acceptance(agency=agency, owner=people["admin"], valid_until=DUE)
    run(day(30), django_capture_on_commit_callbacks)
    assert sorted(n.user.username for n in Notification.objects.select_related("user")) == ["admin", "admin2"]


def test_an_owner_who_left_the_agency_is_not_told(agency, people, acceptance, django_capture_on_commit_callbacks):
    people["owner"].memberships.all().delete()
    run(day(30), django_capture_on_commit_callbacks)
    assert sorted(n.user.username for n in Notification.objects.select_related("user")) == ["admin", "admin2"]


# --- reminders stop when the record is no longer due -------------------------------------------


@pytest.mark.parametrize("status", ["rejected", "lapsed", "requested"])
def test_reminders_stop_when_the_record_leaves_open(acceptance, people, status, django_capture_on_commit_callbacks):
    assert run(day(30), django_capture_on_commit_callbacks) == 1
    RiskAcceptance.objects.filter(pk=acceptance.pk).update(status=status)
    assert [run(day(days), django_capture_on_commit_callbacks) for days in (7, 0)] == [0, 0]
    assert Notification.objects.count() == 3


def test_re_approval_required_is_still_due(acceptance, people, django_capture_on_commit_callbacks):
    RiskAcceptance.objects.filter(pk=acceptance.pk).update(status="reapproval_required")
    assert run(day(30), django_capture_on_commit_callbacks) == 1


def test_a_moved_date_gets_its_own_reminders(acceptance, people, django_capture_on_commit_callbacks):
    run(day(7), django_capture_on_commit_callbacks)
    new_date = DUE + dt.timedelta(days=365)
    RiskAcceptance.objects.filter(pk=acceptance.pk).update(valid_until=new_date)
    assert run(day(7), django_capture_on_commit_callbacks) == 0  # a year away: nothing yet
    assert run(new_date - dt.timedelta(days=90), django_capture_on_commit_callbacks) == 1
    assert list(Reminder.objects.filter(skipped=False).order_by("due_on").values_list("due_on", "threshold_days")) \
        == [(DUE, 7), (new_date, 90)]


# --- concurrency (PostgreSQL) -----------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_send_each_reminder_once(django_capture_on_commit_callbacks):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises the whole database)")
    from tests.factories import AgencyFactory, MembershipFactory, UserFactory

    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    owner = UserFactory(username="owner")
    MembershipFactory(agency=agency, user=owner, role=RoleChoices.EDITOR)
    MembershipFactory(agency=agency, user=UserFactory(username="admin"), role=RoleChoices.ADMIN)
    for _ in range(20):
        approved_acceptance(agency=agency, owner=owner, valid_until=DUE)

    results, errors = run_at_once(lambda: due_reminders_send(today=day(30)), 2)

    assert errors == []
    assert sum(results) == 20
    assert Reminder.objects.filter(skipped=False).count() == 20
    assert Notification.objects.count() == 40
    assert Notification.objects.values("user", "url").distinct().count() == 40


# --- the due-soon page, panel and API -------------------------------------------------------


@pytest.fixture
def due_records(agency, other_agency, people, member_of):
    """Acceptances due in 3, 20 and 200 days, one overdue (still approved), one rejected, and one
    of another agency."""
    today = agency_today(agency)  # days left count in the agency's zone, whatever the host's hour
    made = {}
    for key, days in (("soon", 20), ("very_soon", 3), ("far", 200)):
        made[key] = approved_acceptance(agency=agency, owner=people["owner"],
                                        valid_until=today + dt.timedelta(days=days))
    made["overdue"] = approved_acceptance(agency=agency, owner=people["owner"], valid_until=today)
    RiskAcceptance.objects.filter(pk=made["overdue"].pk).update(valid_until=today - dt.timedelta(days=2))
    made["rejected"] = approved_acceptance(agency=agency, valid_until=today + dt.timedelta(days=5))
    RiskAcceptance.objects.filter(pk=made["rejected"].pk).update(status="rejected")
    made["foreign"] = approved_acceptance(agency=other_agency, valid_until=today + dt.timedelta(days=4))
    return made


def test_the_due_page_lists_my_agencys_open_records_by_date(client, people, due_records):
    client.force_login(people["viewer"])
    page = client.get("/due/")
    assert page.status_code == 200
    assert [(item.record.pk, item.days_left) for item in page.context["items"]] == [
        (due_records["overdue"].pk, -2), (due_records["very_soon"].pk, 3), (due_records["soon"].pk, 20)]
    assert [item.escalated for item in page.context["items"]] == [True, True, False]
    assert page.context["overdue_count"] == 1
    html = page.content.decode()
    assert f'href="/risks/acceptances/{due_records["soon"].pk}/"' in html
    assert "2 days overdue" in html


def test_the_due_page_filters(client, people, due_records):
    client.force_login(people["viewer"])
    ids = lambda **query: [i.record.pk for i in client.get("/due/", query).context["items"]]  # noqa: E731
    assert ids(within=365, overdue="no") == [due_records[k].pk for k in ("very_soon", "soon", "far")]
    assert ids(within=7) == [due_records[k].pk for k in ("overdue", "very_soon")]
    assert ids(type="risks.riskacceptance", within=7, overdue="no") == [due_records["very_soon"].pk]
    assert ids(within=5000) == ids()  # a window not on offer falls back to the agency's


def test_the_due_page_needs_a_login(client):
    assert client.get("/due/").status_code == 302


def test_the_dashboard_panel_counts_overdue_and_lists_the_next(client, people, due_records):
    client.force_login(people["viewer"])
    panels = {str(panel.title): ctx for panel, ctx in client.get("/").context["panels"]}
    due = panels["Due soon"]
    assert (due["overdue_count"], due["upcoming_count"], due["window"]) == (1, 2, 90)
    assert [item.record.pk for item in due["next"]] == [due_records["very_soon"].pk, due_records["soon"].pk]


def test_the_api_lists_due_dates_of_my_agencies(api_as, people, due_records):
    body = api_as(people["viewer"]).get("/api/due-dates/", {"within": 90}).json()
    assert body["count"] == 3
    first = body["results"][0]
    assert (first["type"], first["record"]["id"], first["days_left"], first["overdue"], first["escalated"],
            first["label"], first["owner"]["display"], first["url"]) == (
        "risks.riskacceptance", due_records["overdue"].pk, -2, True, True, "Risk acceptance ends", "owner",
        f"/risks/acceptances/{due_records['overdue'].pk}/")
    assert [r["record"]["id"] for r in body["results"]] == [due_records[k].pk for k in ("overdue", "very_soon",
                                                                                        "soon")]
    paged = api_as(people["viewer"]).get("/api/due-dates/", {"within": 365, "limit": 2, "offset": 2}).json()
    assert (paged["count"], [r["record"]["id"] for r in paged["results"]]) == (
        4, [due_records["soon"].pk, due_records["far"].pk])


@pytest.mark.parametrize(("query", "errors"), [
    ({"within": 0}, {"within": ["Ensure this value is greater than or equal to 1."]}),
    ({"within": 3651}, {"within": ["Ensure this value is less than or equal to 3650."]}),
    ({"type": "risks.control"}, {"type": ['"risks.control" is not a valid choice.']}),
    ({"wihtin": 30}, {"wihtin": ["Unknown field."]}),
])
def test_the_api_refuses_bad_parameters(api_as, people, query, errors):
    response = api_as(people["viewer"]).get("/api/due-dates/", query)
    assert response.status_code == 400
    assert response.json() == {"status": 400, "code": "invalid", "detail": "Invalid input.", "errors": errors}


def test_the_api_does_not_offer_another_agency(api_as, people, other_agency, due_records):
    response = api_as(people["viewer"]).get("/api/due-dates/", {"agency": other_agency.pk})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["agency"]


def test_the_api_lists_one_of_the_users_agencies_when_asked(api_as, people, agency, other_agency, due_records):
    MembershipFactory(agency=other_agency, role=RoleChoices.VIEWER, user=people["viewer"])
    both = api_as(people["viewer"]).get("/api/due-dates/", {"within": 30}).json()["results"]
    assert {item["agency"]["id"] for item in both} == {agency.pk, other_agency.pk}
    response = api_as(people["viewer"]).get("/api/due-dates/", {"within": 30, "agency": other_agency.pk})
    assert response.status_code == 200
    assert {item["agency"]["id"] for item in response.json()["results"]} == {other_agency.pk}


def test_the_schema_documents_the_due_dates_api(api_as, superuser):
    schema = api_as(superuser).get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/due-dates/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"within", "type", "overdue", "agency", "limit", "offset"}
    assert set(operation["responses"]) == {"200", "400", "401", "403", "429"}  # the core adds these when authenticated


def _many(agency, owner, n, start):
    for i in range(n):
        approved_acceptance(agency=agency, owner=owner, valid_until=start + dt.timedelta(days=i % 60))


def test_query_counts_do_not_grow_with_the_records(client, api_as, agency, people, django_assert_num_queries):

    today = timezone.localdate()
    _many(agency, people["owner"], 3, today + dt.timedelta(days=1))
    client.force_login(people["viewer"])
    api = api_as(people["viewer"])
    # Page: session, user, memberships, agencies, one query per declaring model, unread count.
    # API: one query per declaring model.
    with django_assert_num_queries(PAGE_QUERIES) as few_page:
        client.get("/due/")
    with django_assert_num_queries(API_QUERIES):
        api.get("/api/due-dates/")
    _many(agency, people["owner"], 30, today + dt.timedelta(days=1))
    with django_assert_num_queries(len(few_page.captured_queries)):
        assert len(client.get("/due/").context["items"]) == 33
    with django_assert_num_queries(API_QUERIES):
        assert api.get("/api/due-dates/").json()["count"] == 33


# One query per declared due date (risk acceptances' end, certifications' expiry, accreditations' expiry
# and review): the counts grow with the declarations, never with the records.
PAGE_QUERIES = 5 + len(declared_due_dates())
API_QUERIES = len(declared_due_dates())


def test_sending_queries_grow_with_reminders_sent_not_with_records_waiting(
        agency, people, django_assert_max_num_queries, django_capture_on_commit_callbacks):
    for days in range(10):  # ten records, none at a threshold yet: one query for them all
        approved_acceptance(agency=agency, owner=people["owner"], valid_until=day(0) + dt.timedelta(days=days + 100))
    # agencies, content type, and the candidates of each declared due date
    with django_assert_max_num_queries(3 + len(declared_due_dates())):
        assert due_reminders_send(today=day(0)) == 0


# --- agency settings --------------------------------------------------------------------------


def test_agency_admins_set_thresholds_and_jurisdiction_in_the_form(client, agency, people):
    client.force_login(people["admin"])
    form = client.get(f"/agencies/{agency.pk}/edit/").context["form"]
    data = {name: "" if form.initial.get(name) is None else form.initial[name] for name in form.fields}
    data.update({"reminder_thresholds": "14, 60, 120", "jurisdiction": "DE", "parent": "", "version": agency.version})
    response = client.post(f"/agencies/{agency.pk}/edit/", data)
    assert response.status_code == 302, response.context["form"].errors
    agency.refresh_from_db()
    assert (agency.reminder_thresholds, agency.jurisdiction, agency.warning_window_days) == ([120, 60, 14], "DE", 120)
    from qgov.models import AuditEvent

    event = AuditEvent.objects.for_object(agency).order_by("-seq").first()
    assert set(event.changed_fields) >= {"reminder_thresholds", "jurisdiction"}


@pytest.mark.parametrize(("typed", "message"), [
    ("90, 90", "Give each number of days once."),
    ("0, 30", "Each threshold is a whole number of days from 1 to 3650."),
    ("3651", "Each threshold is a whole number of days from 1 to 3650."),
    ("1,2,3,4,5,6,7", "Give from 1 to 6 numbers of days, e.g. 90, 30, 7."),
    ("ninety", "Give whole numbers of days separated by commas, e.g. 90, 30, 7."),
])
def test_the_form_refuses_bad_thresholds(client, agency, people, typed, message):
    client.force_login(people["admin"])
    form = client.get(f"/agencies/{agency.pk}/edit/").context["form"]
    data = {name: "" if form.initial.get(name) is None else form.initial[name] for name in form.fields}
    data.update({"reminder_thresholds": typed, "parent": "", "version": agency.version})
    response = client.post(f"/agencies/{agency.pk}/edit/", data)
    assert response.status_code == 200
    assert response.context["form"].errors["reminder_thresholds"] == [message]
    agency.refresh_from_db()
    assert agency.reminder_thresholds == [90, 30, 7]


def test_the_api_sets_thresholds_sorted(api_as, agency, people):
    response = api_as(people["admin"]).patch(f"/api/agencies/{agency.pk}/",
                                             {"reminder_thresholds": [7, 180], "jurisdiction": "FR"}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["reminder_thresholds"], response.json()["jurisdiction"]) == ([180, 7], "FR")


@pytest.mark.parametrize(("payload", "errors"), [
    ({"reminder_thresholds": []}, {"reminder_thresholds": ["Give from 1 to 6 numbers of days, e.g. 90, 30, 7."]}),
    ({"reminder_thresholds": [30, "7"]},
     {"reminder_thresholds": ["Each threshold is a whole number of days from 1 to 3650."]}),
    ({"reminder_thresholds": [30, 30]}, {"reminder_thresholds": ["Give each number of days once."]}),
    ({"reminder_thresholds": 30}, {"reminder_thresholds": ["Give from 1 to 6 numbers of days, e.g. 90, 30, 7."]}),
    ({"jurisdiction": "de"}, {"jurisdiction": ["Use the two capital letters of the ISO 3166-1 country code."]}),
    ({"jurisdiction": "DEU"}, {"jurisdiction": ["Use the two capital letters of the ISO 3166-1 country code.",
                                                "Ensure this field has no more than 2 characters."]}),
])
def test_the_api_refuses_bad_agency_settings(api_as, agency, people, payload, errors):
    response = api_as(people["admin"]).patch(f"/api/agencies/{agency.pk}/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    agency.refresh_from_db()
    assert (agency.reminder_thresholds, agency.jurisdiction, agency.version) == ([90, 30, 7], "", 1)


def test_only_admins_change_the_thresholds(api_as, agency, people):
    response = api_as(people["owner"]).patch(f"/api/agencies/{agency.pk}/", {"reminder_thresholds": [5]},
                                             format="json")
    assert response.status_code == 403
    agency.refresh_from_db()
    assert agency.reminder_thresholds == [90, 30, 7]


@pytest.mark.parametrize("name", ["type", "within", "agency"])
def test_an_empty_parameter_is_refused_not_ignored(api_as, people, name):
    answer = api_as(people["viewer"]).get("/api/due-dates/", {name: ""})
    assert answer.status_code == 400
    assert answer.json()["errors"] == {name: ["Send a value, or leave the parameter out."]}
