"""The daily due-date task on a real worker: queued twice, it sends the reminder once, from the
worker process, through the same database. (The emails the worker queues in turn go to the default
queue, which this test's private worker does not consume; test_celery_worker covers emailing.)"""

import datetime as dt

import pytest
from django.utils import timezone

from qgov import tasks
from qgov.choices import RoleChoices
from qgov.models import Notification, Reminder
from tests.factories import AgencyFactory, MembershipFactory, UserFactory
from tests.integration.test_celery_worker import TASK_TIMEOUT, worker  # noqa: F401 - the fixture
from tests.risks.factories import approved_acceptance

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_beat_task_sends_each_reminder_once_from_the_worker(worker):  # noqa: F811
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN", time_zone="UTC")
    owner = UserFactory(username="owner")
    MembershipFactory(agency=agency, user=owner, role=RoleChoices.EDITOR)
    acceptance = approved_acceptance(agency=agency, owner=owner,
                                     valid_until=timezone.localdate() + dt.timedelta(days=30))

    first = tasks.send_due_date_reminders.delay()
    second = tasks.send_due_date_reminders.delay()

    assert sorted([first.get(timeout=TASK_TIMEOUT), second.get(timeout=TASK_TIMEOUT)]) == [0, 1]
    reminder = Reminder.objects.get(skipped=False)
    assert (reminder.object_id, reminder.threshold_days) == (acceptance.pk, 30)
    assert list(Notification.objects.values_list("user__username", "title")) == [
        ("owner", f"Risk acceptance ends in 30 days: {acceptance}")]


def test_the_hour_task_runs_on_the_worker(worker):  # noqa: F811
    # The worker is another process: a declaration made in this one (as tests/core/due_dates/test_hours.py makes its
    # regulator clock) does not reach it, so this checks the task's name, routing and run; the
    # sending itself, exactly once, is tested in tests/core/due_dates/.
    first = tasks.send_hour_reminders.delay()
    second = tasks.send_hour_reminders.delay()
    assert [first.get(timeout=TASK_TIMEOUT), second.get(timeout=TASK_TIMEOUT)] == [0, 0]
    assert Reminder.objects.count() == 0
