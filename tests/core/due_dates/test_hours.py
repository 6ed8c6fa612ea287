"""Deadlines in hours (regulator clocks): thresholds at 12, 4 and 1 hours, escalation at the
instant, local times across DST, concurrency, and the due-soon page, panel and API."""

import datetime as dt
import zoneinfo

import pytest
from django.core import mail
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from qgov.choices import RoleChoices
from qgov.duedates import DueDate, declaration_problems, declared_due_dates
from qgov.duedates.selectors import deadline_text
from qgov.duedates.services import hour_reminders_send
from qgov.models import Notification, Reminder
from risks.models import RiskAcceptance
from tests.concurrency import run_at_once
from tests.core.due_dates.support import DUE, run, titles_to
from tests.factories import MembershipFactory
from tests.risks.factories import approved_acceptance

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
    from tests.factories import AgencyFactory, UserFactory

    monkeypatch.setattr(RiskAcceptance, "due_dates", (CLOCK,))
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN", time_zone="Europe/Berlin")
    owner = UserFactory(username="owner")
    MembershipFactory(agency=agency, user=owner, role=RoleChoices.EDITOR)
    MembershipFactory(agency=agency, user=UserFactory(username="admin"), role=RoleChoices.ADMIN)
    for _ in range(20):
        approved_acceptance(agency=agency, owner=owner, valid_until=FAR, approved_at=DEADLINE)

    results, errors = run_at_once(lambda: hour_reminders_send(now=before(4)), 2)

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
