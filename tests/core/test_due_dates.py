"""Due dates and reminders: each reminder exactly once per threshold, per-agency thresholds,
escalation, catch-up after a gap, reminders stopping when a record is no longer due, the
due-soon page, panel and API."""

import datetime as dt
import threading
import zoneinfo

import pytest
from django.core import mail
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from qgov.choices import RoleChoices
from qgov.duedates import DueDate, declaration_problems, declared_due_dates, declaring_models
from qgov.duedates.selectors import agency_today, deadline_text
from qgov.duedates.services import due_reminders_send, hour_reminders_send
from qgov.models import Notification, Reminder
from risks.models import RiskAcceptance
from tests.factories import MembershipFactory
from tests.risks.factories import approved_acceptance

DUE = dt.date(2027, 3, 31)


def day(days_before: int) -> dt.date:
    return DUE - dt.timedelta(days=days_before)


@pytest.fixture
def people(agency, member_of):
    """The risk owner (an editor), two admins, a viewer who must never be told."""
    return {
        "owner": member_of(agency, RoleChoices.EDITOR, username="owner"),
        "admin": member_of(agency, RoleChoices.ADMIN, username="admin"),
        "admin2": member_of(agency, RoleChoices.ADMIN, username="admin2"),
        "viewer": member_of(agency, RoleChoices.VIEWER, username="viewer"),
    }


@pytest.fixture
def acceptance(agency, people):
    return approved_acceptance(agency=agency, owner=people["owner"], valid_until=DUE)


def run(today, captured):
    with captured(execute=True):
        return due_reminders_send(today=today)


def told(since=0):
    """(username, title) of every notification, oldest first."""
    return [(n.user.username, n.title) for n in Notification.objects.order_by("pk").select_related("user")][since:]


def titles_to(username):
    return [n.title for n in Notification.objects.filter(user__username=username).order_by("pk")]


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

    barrier, results, errors = threading.Barrier(2), [], []

    def worker():
        try:
            barrier.wait()
            results.append(due_reminders_send(today=day(30)))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

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
    from django.utils import timezone

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


# --- deadlines in hours ------------------------------------------------------------------------

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
DEADLINE = dt.datetime(2026, 12, 3, 14, 0, tzinfo=BERLIN)  # 13:00 UTC
FAR = dt.date(2030, 1, 1)  # the acceptances' own end: no day-level reminder comes into these tests

# A regulator clock, declared the way the incidents' regulator notifications declare theirs. No core
# model has an instant deadline, so the tests declare one on a real model and table (an approved
# acceptance, its `approved_at` standing for the deadline) for the duration of each test.
CLOCK = DueDate(field="approved_at", name="early_warning", label="Regulator early warning", owner="risk__owner",
                open=Q(status="approved"), hours=(12, 4, 1), escalate=True)


@pytest.fixture
def clocked(monkeypatch, agency):
    monkeypatch.setattr(RiskAcceptance, "due_dates", (*RiskAcceptance.due_dates, CLOCK))
    agency.time_zone = "Europe/Berlin"
    agency.save()
    return agency


def clock(agency, people, due_at):
    return approved_acceptance(agency=agency, owner=people["owner"], valid_until=FAR, approved_at=due_at)


def hour_run(now, captured):
    with captured(execute=True):
        return hour_reminders_send(now=now)


def before(hours: float, deadline=DEADLINE) -> dt.datetime:
    # In UTC: arithmetic on a datetime in a zone with DST is wall-clock arithmetic.
    return deadline.astimezone(dt.UTC) - dt.timedelta(hours=hours)


def rows():
    return list(Reminder.objects.order_by("-threshold_hours").values_list(
        "threshold_hours", "threshold_days", "due_at", "escalated", "skipped"))


def test_the_declared_clock_is_valid_and_hours_on_a_date_are_reported():
    class Declared:
        __name__ = "Declared"
        _meta = RiskAcceptance._meta
        due_dates = (CLOCK,)

    class Broken:
        __name__ = "Broken"
        _meta = RiskAcceptance._meta
        due_dates = (DueDate(field="valid_until", label="x", hours=(12, 4, 1)),
                     DueDate(field="approved_at", label="y", hours=(4, 4)),
                     DueDate(field="created", name="zero", label="z", hours=(0,)))

    assert declaration_problems(Declared) == []
    assert declaration_problems(Broken) == [
        "Broken.due_dates[valid_until]: a deadline in hours needs a DateTimeField; 'valid_until' is a date",
        "Broken.due_dates[approved_at]: hours must be 1 to 6 distinct whole numbers of hours from 1 to 8760, "
        "e.g. (12, 4, 1)",
        "Broken.due_dates[zero]: hours must be 1 to 6 distinct whole numbers of hours from 1 to 8760, e.g. (12, 4, 1)",
    ]


def test_hour_thresholds_are_crossed_at_12_4_and_1_hours_and_the_instant_escalates(
        clocked, people, django_capture_on_commit_callbacks):
    record = clock(clocked, people, DEADLINE)
    at = [13, 12, 11.5, 4.05, 4, 2, 1, 0.25, 0, -1]
    sent = [hour_run(before(hours), django_capture_on_commit_callbacks) for hours in at]

    assert sent == [0, 1, 0, 0, 1, 0, 1, 0, 1, 0]
    due = "Regulator early warning due 14:00 CET (UTC+01:00), 3 Dec 2026"
    expected = [f"{due} (in 12 hours): {record}", f"{due} (in 4 hours): {record}",
                f"Escalation: {due} (in 1 hour): {record}", f"Escalation: {due} (now): {record}"]
    for username in ("admin", "admin2", "owner"):
        assert titles_to(username) == expected
    assert titles_to("viewer") == []
    assert rows() == [(12, None, DEADLINE, False, False), (4, None, DEADLINE, False, False),
                      (1, None, DEADLINE, True, False), (0, None, DEADLINE, True, False)]
    assert set(Reminder.objects.values_list("due_on", flat=True)) == {dt.date(2026, 12, 3)}
    note = Notification.objects.filter(user=people["owner"]).order_by("pk")[1]
    assert note.body == (f"Regulator early warning due 14:00 CET (UTC+01:00), 3 Dec 2026 (in 4 hours) for the risk "
                         f"acceptance “{record}”.")


def test_a_4_hour_deadline_starts_at_the_4_hour_threshold_with_12_passed_over(
        clocked, people, django_capture_on_commit_callbacks):
    started = dt.datetime(2026, 12, 3, 10, 0, tzinfo=BERLIN)  # no DST change near: local arithmetic is exact
    record = clock(clocked, people, started + dt.timedelta(hours=4))  # e.g. DORA: 4 hours after classification

    assert hour_run(started, django_capture_on_commit_callbacks) == 1
    assert titles_to("owner") == [
        f"Regulator early warning due 14:00 CET (UTC+01:00), 3 Dec 2026 (in 4 hours): {record}"]
    assert rows() == [(12, None, DEADLINE, False, True), (4, None, DEADLINE, False, False)]
    # The passed-over 12 never follows; the 1-hour one still does.
    assert hour_run(started + dt.timedelta(minutes=5), django_capture_on_commit_callbacks) == 0
    assert hour_run(before(1), django_capture_on_commit_callbacks) == 1


def test_a_second_run_sends_nothing_new(clocked, people, django_capture_on_commit_callbacks):
    clock(clocked, people, DEADLINE)
    assert hour_run(before(4), django_capture_on_commit_callbacks) == 1
    assert hour_run(before(4), django_capture_on_commit_callbacks) == 0
    assert hour_run(before(3.9), django_capture_on_commit_callbacks) == 0
    assert Notification.objects.count() == 3
    assert rows() == [(12, None, DEADLINE, False, True), (4, None, DEADLINE, False, False)]
    assert sorted(message.to[0] for message in mail.outbox) == [
        "admin2@example.org", "admin@example.org", "owner@example.org"]


def test_the_daily_task_leaves_deadlines_in_hours_alone(clocked, people, django_capture_on_commit_callbacks):
    clock(clocked, people, DEADLINE)
    assert run(DEADLINE.date(), django_capture_on_commit_callbacks) == 0
    assert run(DEADLINE.date() + dt.timedelta(days=1), django_capture_on_commit_callbacks) == 0
    assert Reminder.objects.count() == 0


def test_after_the_instant_one_escalation_goes_out(clocked, people, django_capture_on_commit_callbacks):
    # The task did not run for three hours around the deadline: one escalation, the rest passed over.
    record = clock(clocked, people, DEADLINE)
    assert hour_run(DEADLINE + dt.timedelta(hours=3, minutes=2), django_capture_on_commit_callbacks) == 1
    assert titles_to("owner") == [
        f"Escalation: Regulator early warning due 14:00 CET (UTC+01:00), 3 Dec 2026 (3 hours 2 minutes ago): "
        f"{record}"]
    assert Notification.objects.get(user=people["owner"]).body.endswith(
        "The deadline has passed and it is still open; the agency admins are asked to act now.")
    assert rows() == [(12, None, DEADLINE, False, True), (4, None, DEADLINE, False, True),
                      (1, None, DEADLINE, False, True), (0, None, DEADLINE, True, False)]
    assert hour_run(DEADLINE + dt.timedelta(hours=4), django_capture_on_commit_callbacks) == 0


def test_without_escalate_reminders_end_at_the_last_threshold(monkeypatch, clocked, people,
                                                             django_capture_on_commit_callbacks):
    from dataclasses import replace

    monkeypatch.setattr(RiskAcceptance, "due_dates", (replace(CLOCK, escalate=False),))
    record = clock(clocked, people, DEADLINE)
    assert [hour_run(before(hours), django_capture_on_commit_callbacks) for hours in (1, 0, -1)] == [1, 0, 0]
    assert titles_to("owner") == [
        f"Regulator early warning due 14:00 CET (UTC+01:00), 3 Dec 2026 (in 1 hour): {record}"]


def test_a_closed_record_gets_nothing_more(clocked, people, django_capture_on_commit_callbacks):
    record = clock(clocked, people, DEADLINE)
    assert hour_run(before(12), django_capture_on_commit_callbacks) == 1
    RiskAcceptance.objects.filter(pk=record.pk).update(status="rejected")  # leaves `open`
    assert [hour_run(before(hours), django_capture_on_commit_callbacks) for hours in (4, 1, 0, -2)] == [0, 0, 0, 0]
    assert Notification.objects.count() == 3
    assert rows() == [(12, None, DEADLINE, False, False)]


def test_a_moved_deadline_gets_its_own_reminders(clocked, people, django_capture_on_commit_callbacks):
    record = clock(clocked, people, DEADLINE)
    assert hour_run(before(4), django_capture_on_commit_callbacks) == 1
    later = DEADLINE + dt.timedelta(hours=24)
    RiskAcceptance.objects.filter(pk=record.pk).update(approved_at=later)
    assert hour_run(before(1), django_capture_on_commit_callbacks) == 0  # 25 hours away now
    assert hour_run(before(12, later), django_capture_on_commit_callbacks) == 1
    assert list(Reminder.objects.filter(skipped=False).order_by("due_at").values_list("due_at", "threshold_hours")) \
        == [(DEADLINE, 4), (later, 12)]


@pytest.mark.parametrize(("zone", "started", "expected_due", "shown"), [
    # Europe/Berlin leaves summer time on 2026-10-25 at 03:00 CEST (back to 02:00 CET): a 24-hour
    # clock started at noon the day before ends at 11:00 local, not at noon.
    ("Europe/Berlin", dt.datetime(2026, 10, 24, 12, 0, tzinfo=BERLIN),
     dt.datetime(2026, 10, 25, 10, 0, tzinfo=dt.UTC), "11:00 CET (UTC+01:00), 25 Oct 2026"),
    # America/New_York leaves daylight time on 2026-11-01 at 02:00 EDT (back to 01:00 EST).
    ("America/New_York", dt.datetime(2026, 10, 31, 12, 0, tzinfo=NEW_YORK),
     dt.datetime(2026, 11, 1, 16, 0, tzinfo=dt.UTC), "11:00 EST (UTC-05:00), 1 Nov 2026"),
])
def test_a_deadline_across_the_dst_change_is_stated_in_local_time_with_its_offset(
        clocked, people, django_capture_on_commit_callbacks, zone, started, expected_due, shown):
    clocked.time_zone = zone
    clocked.save()
    # 24 hours of elapsed time, added in UTC (`started + 24 h` in the zone would be wall-clock time).
    due_at = started.astimezone(dt.UTC) + dt.timedelta(hours=24)
    assert due_at == expected_due
    assert due_at.astimezone(zoneinfo.ZoneInfo(zone)).hour == 11
    record = clock(clocked, people, due_at)
    # 12 hours before is midnight local, 11 wall-clock hours before 11:00 across the change: the
    # message counts the 12 hours that really remain.
    assert before(12, due_at).astimezone(zoneinfo.ZoneInfo(zone)).hour == 0
    assert hour_run(before(12, due_at), django_capture_on_commit_callbacks) == 1
    assert titles_to("owner") == [f"Regulator early warning due {shown} (in 12 hours): {record}"]
    assert rows() == [(12, None, expected_due, False, False)]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_hour_runs_send_each_reminder_once(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises the whole database)")
    from tests.factories import AgencyFactory, MembershipFactory, UserFactory

    monkeypatch.setattr(RiskAcceptance, "due_dates", (CLOCK,))
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN", time_zone="Europe/Berlin")
    owner = UserFactory(username="owner")
    MembershipFactory(agency=agency, user=owner, role=RoleChoices.EDITOR)
    MembershipFactory(agency=agency, user=UserFactory(username="admin"), role=RoleChoices.ADMIN)
    for _ in range(20):
        approved_acceptance(agency=agency, owner=owner, valid_until=FAR, approved_at=DEADLINE)

    barrier, results, errors = threading.Barrier(2), [], []

    def worker():
        try:
            barrier.wait()
            results.append(hour_reminders_send(now=before(4)))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(results) == 20
    assert Reminder.objects.filter(skipped=False, threshold_hours=4).count() == 20
    assert Reminder.objects.filter(skipped=True, threshold_hours=12).count() == 20
    assert Reminder.objects.count() == 40
    assert Notification.objects.count() == 40
    assert Notification.objects.values("user", "url").distinct().count() == 40


def test_the_reminder_row_is_either_days_or_hours(acceptance):
    from django.contrib.contenttypes.models import ContentType
    from django.db import IntegrityError, transaction

    common = {"agency": acceptance.agency, "content_type": ContentType.objects.get_for_model(RiskAcceptance),
              "object_id": acceptance.pk, "due_name": "x", "due_on": DUE}
    for wrong in ({"threshold_days": 7, "due_at": DEADLINE, "threshold_hours": 4},  # both
                  {"threshold_hours": 4},  # hours without the instant
                  {"due_at": DEADLINE}):  # an instant without a threshold
        with pytest.raises(IntegrityError), transaction.atomic():
            Reminder.objects.create(**common, **wrong)
    assert Reminder.objects.count() == 0


def test_sending_in_hours_costs_one_query_per_clock_however_many_wait(
        clocked, people, django_assert_max_num_queries, django_capture_on_commit_callbacks):
    from django.contrib.contenttypes.models import ContentType

    from qgov.duedates.declaration import declared_due_dates

    in_hours = [model for model, due in declared_due_dates() if due.in_hours]
    assert RiskAcceptance in in_hours  # this test's clock, beside the apps' own (regulator deadlines)
    for model in in_hours:
        ContentType.objects.get_for_model(model)  # cached, as in a running worker
    for hours in range(10):  # ten clocks, none at a threshold yet
        clock(clocked, people, DEADLINE + dt.timedelta(hours=hours))
    with django_assert_max_num_queries(len(in_hours)):  # one per declared deadline in hours
        assert hour_reminders_send(now=before(13)) == 0


# --- deadlines in hours on the page, the panel and the API ---------------------------------------


@pytest.fixture
def mixed(clocked, people):
    """A deadline in hours 50 hours ahead (date D where the agency is), an acceptance ending on D
    (due by the end of D: listed after it) and one ending the day before D (listed before it),
    and a deadline in hours that passed two hours ago, still open."""
    now = timezone.now()
    deadline = now + dt.timedelta(hours=50)
    day_d = deadline.astimezone(BERLIN).date()
    return {
        "deadline": deadline,
        "passed_at": now - dt.timedelta(hours=2),
        "passed": clock(clocked, people, now - dt.timedelta(hours=2)),
        "day_before": approved_acceptance(agency=clocked, owner=people["owner"], valid_until=day_d - dt.timedelta(1)),
        "clock": clock(clocked, people, deadline),
        "same_day": approved_acceptance(agency=clocked, owner=people["owner"], valid_until=day_d),
    }


def _listed(items):
    return [(item.record.pk, item.due.key) for item in items]


def test_the_due_page_lists_deadlines_in_hours_among_the_dates(client, people, mixed):
    client.force_login(people["viewer"])
    page = client.get("/due/", {"within": 30})
    assert _listed(page.context["items"]) == [
        (mixed["passed"].pk, "early_warning"), (mixed["day_before"].pk, "valid_until"),
        (mixed["clock"].pk, "early_warning"), (mixed["same_day"].pk, "valid_until")]
    passed, _before, ahead, _same = page.context["items"]
    assert (passed.overdue, passed.escalated, passed.time_left) == (True, True, "2 hours")
    assert (ahead.overdue, ahead.escalated, ahead.time_left) == (False, False, "2 days 2 hours")
    assert ahead.due_at == mixed["deadline"] and ahead.due_at.tzinfo == BERLIN
    html = page.content.decode()
    local = mixed["deadline"].astimezone(BERLIN)
    assert (f'<time datetime="{local.isoformat()}">{deadline_text(local)}</time>' in html)
    assert deadline_text(local).startswith(local.strftime("%H:%M C"))  # CET or CEST, then the offset
    assert "2 hours overdue" in html and "in 2 days 2 hours" in html
    assert page.context["overdue_count"] == 1
    upcoming = _listed(client.get("/due/", {"within": 30, "overdue": "no"}).context["items"])
    assert upcoming[0] == (mixed["day_before"].pk, "valid_until")


def test_the_dashboard_panel_lists_deadlines_in_hours(client, people, mixed):
    client.force_login(people["viewer"])
    panels = {str(panel.title): ctx for panel, ctx in client.get("/").context["panels"]}
    due = panels["Due soon"]
    assert (due["overdue_count"], due["upcoming_count"]) == (1, 3)
    assert _listed(due["next"]) == [(mixed["day_before"].pk, "valid_until"), (mixed["clock"].pk, "early_warning"),
                                    (mixed["same_day"].pk, "valid_until")]


def test_the_api_gives_the_instant_with_the_agencys_offset(api_as, people, mixed):
    body = api_as(people["viewer"]).get("/api/due-dates/", {"within": 30}).json()
    assert [(r["record"]["id"], r["due_name"]) for r in body["results"]] == [
        (mixed["passed"].pk, "early_warning"), (mixed["day_before"].pk, "valid_until"),
        (mixed["clock"].pk, "early_warning"), (mixed["same_day"].pk, "valid_until")]
    passed, day_before, ahead, _same = body["results"]
    local = mixed["deadline"].astimezone(BERLIN)
    assert (ahead["due_at"], ahead["due_on"], ahead["overdue"], ahead["escalated"], ahead["label"]) == (
        local.isoformat(), local.date().isoformat(), False, False, "Regulator early warning")
    assert ahead["due_at"][-6:] in {"+01:00", "+02:00"}
    assert dt.datetime.fromisoformat(ahead["due_at"]) == mixed["deadline"]
    assert dt.datetime.fromisoformat(passed["due_at"]) == mixed["passed_at"]
    assert (passed["overdue"], passed["escalated"]) == (True, True)
    assert day_before["due_at"] is None


def test_query_counts_stay_flat_with_deadlines_in_hours(client, api_as, clocked, people, django_assert_num_queries):
    def add(n):
        for i in range(n):
            clock(clocked, people, timezone.now() + dt.timedelta(hours=5 + i))

    add(3)
    client.force_login(people["viewer"])
    api = api_as(people["viewer"])
    declared = len(declared_due_dates())  # the acceptance's end and the clock, among the others
    with django_assert_num_queries(5 + declared):
        client.get("/due/")
    with django_assert_num_queries(declared):
        api.get("/api/due-dates/")
    add(30)
    with django_assert_num_queries(5 + declared):
        assert len(client.get("/due/").context["items"]) == 33
    with django_assert_num_queries(declared):
        assert api.get("/api/due-dates/").json()["count"] == 33


@pytest.mark.parametrize(("seconds", "text"), [
    (45 * 60, "45 minutes"), (4 * 3600, "4 hours"), (3 * 3600 + 57 * 60, "3 hours 57 minutes"),
    (47 * 3600 + 59 * 60, "47 hours 59 minutes"), (48 * 3600, "2 days"), (49 * 3600 + 30 * 60, "2 days 1 hour"),
    (794 * 3600 + 55 * 60, "33 days 2 hours"), (-(2 * 3600), "2 hours")])
def test_time_left_reads_in_minutes_up_to_two_days_then_in_days_and_hours(seconds, text):
    from qgov.duedates.selectors import duration_text

    assert duration_text(seconds) == text
