"""What the due-date tests share: the due date, and reading back what was sent."""

import datetime as dt

from qgov.duedates.services import due_reminders_send
from qgov.models import Notification

DUE = dt.date(2027, 3, 31)


def day(days_before: int) -> dt.date:
    return DUE - dt.timedelta(days=days_before)


def run(today, captured):
    with captured(execute=True):
        return due_reminders_send(today=today)


def told(since=0):
    """(username, title) of every notification, oldest first."""
    return [(n.user.username, n.title) for n in Notification.objects.order_by("pk").select_related("user")][since:]


def titles_to(username):
    return [n.title for n in Notification.objects.filter(user__username=username).order_by("pk")]
