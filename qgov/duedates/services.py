"""Sending the reminders of every declared due date: dates from the daily beat task, deadlines in
hours from the frequent one."""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from qgov.duedates.declaration import DueDate, declared_due_dates
from qgov.duedates.models import Reminder
from qgov.duedates.selectors import (
    agency_today,
    agency_zone,
    deadline_text,
    due_date_of,
    due_instant_of,
    due_records,
    duration_text,
    owner_of,
    related_to_load,
    seconds_between,
)
from qgov.integrations.events import DUE_DATE_REMINDER, emit, record_data
from qgov.models import Agency
from qgov.permissions import user_can, users_who_can
from qgov.roles import Action

logger = logging.getLogger(__name__)

# Who the agency admins are, by the one permission rule: the members whose role lets them manage
# the agency (its members, tokens and settings, thresholds included). Asking for the action rather
# than for the "admin" role keeps this right if the role table changes.
ADMIN_ACTION = Action.MANAGE_MEMBERS


def due_reminders_send(*, today=None) -> int:
    """Send each reminder that has come due: at each of the agency's thresholds (days before the
    date), to the record's owner and the agency's admins, in-app and by email; for escalating
    due dates the last threshold is an escalation, and one more goes out when the date arrives
    with the record still open. Each reminder exactly once, however often or concurrently this
    runs. After a gap (the task did not run), only the most urgent threshold crossed is sent and
    the ones it passed over are recorded, so they do not follow later.

    Deadlines in hours are left to `hour_reminders_send`.

    `today` (tests) replaces each agency's own date. Returns the number of reminders sent."""
    agencies = {agency.pk: agency for agency in Agency.objects.all()}
    if not agencies:
        return 0
    todays = {pk: today or agency_today(agency) for pk, agency in agencies.items()}
    sent = 0
    for model, due in declared_due_dates():
        if due.in_hours:
            continue
        content_type = ContentType.objects.get_for_model(model)
        for record in _candidates(model, due, content_type, agencies, todays):
            sent += _remind(record, due, content_type, agencies[record.agency_id], todays[record.agency_id])
    return sent


def _candidates(model, due: DueDate, content_type, agencies, todays):
    """Open records whose date is within the widest warning window, each annotated with the
    smallest threshold already recorded for its current date: one query per declared due date."""
    field = model._meta.get_field(due.field)
    # A datetime deadline is due on its date (UTC), which is what Reminder.due_on keeps.
    is_datetime = isinstance(field, models.DateTimeField)
    due_on = OuterRef("due_on_date") if is_datetime else OuterRef(due.field)
    reminders = Reminder.objects.filter(content_type=content_type, object_id=OuterRef("pk"), due_name=due.key,
                                        due_on=due_on)
    widest = max(agency.warning_window_days for agency in agencies.values())
    latest = max(todays.values())
    records = due_records(model, due)
    if is_datetime:
        records = records.annotate(due_on_date=TruncDate(due.field, tzinfo=dt.UTC))
    records = records.filter(**{f"{due.field}__lt": latest + dt.timedelta(days=widest + 1)})
    if due.escalate:
        # Past its date a record is done once its last escalation (threshold 0) is recorded.
        records = records.filter(~Exists(reminders.filter(threshold_days=0)))
    else:
        records = records.filter(**{f"{due.field}__gte": min(todays.values())})
    records = records.annotate(
        reminded_down_to=Subquery(reminders.order_by("threshold_days").values("threshold_days")[:1]))
    # Read whole before sending: each reminder commits on its own while the list is walked.
    return list(records.select_related(*related_to_load(model, due)).order_by(due.field, "pk"))


def _thresholds(agency, due: DueDate) -> list[int]:
    """The agency's thresholds, largest first, and 0 (the date itself) for escalating due dates."""
    return [*sorted(agency.reminder_thresholds, reverse=True), *([0] if due.escalate else [])]


def _remind(record, due: DueDate, content_type, agency, today) -> int:
    due_on = due_date_of(record, due)
    days_left = (due_on - today).days
    thresholds = _thresholds(agency, due)
    crossed = [days for days in thresholds if days_left <= days]
    if not crossed or (days_left < 0 and not due.escalate):
        return 0
    most_urgent = crossed[-1]
    done = record.reminded_down_to
    if done is not None and done <= most_urgent:
        return 0  # sent already (or passed over by a more urgent one)
    passed_over = [days for days in crossed[:-1] if done is None or days < done]
    escalated = due.escalate and most_urgent <= agency.last_threshold_days
    key = {"due_on": due_on}
    return _send(record, due, content_type, agency, key=key, escalated=escalated,
                 sent={**key, "threshold_days": most_urgent},
                 skipped=[{**key, "threshold_days": days} for days in passed_over],
                 message=lambda: _message(record, due, due_on, days_left, escalated))


def _send(record, due: DueDate, content_type, agency, *, key, escalated, sent, skipped, message) -> int:
    """Insert the reminder's row, then tell the recipients, in one transaction; 0 when another run
    inserted it first. `sent` and each of `skipped` are the row's identifying fields."""
    common = {"agency": agency, "content_type": content_type, "object_id": record.pk, "due_name": due.key}
    with transaction.atomic():
        reminder = Reminder(**common, **sent, escalated=escalated, sent_at=timezone.now())
        try:
            with transaction.atomic():  # a savepoint: losing the race must not spoil the outer transaction
                reminder.save()
        except IntegrityError:
            logger.info("Reminder %s already sent by another run", reminder)
            return 0
        Reminder.objects.bulk_create([Reminder(**common, **row, skipped=True) for row in skipped],
                                     ignore_conflicts=True)
        recipients = _recipients(record, due, agency)
        reminder.recipients.set(recipients)
        title, body = message()
        from qgov.services import notify

        notify(users=recipients, agency=agency, title=title, body=body,
               url=settings.QGOV_SITE_URL.rstrip("/") + record.get_absolute_url())
        emit(agency_id=agency.pk, event_type=DUE_DATE_REMINDER, data=lambda: record_data(
            record, due=due.key, label=str(due.label), escalated=escalated, title=title, **sent))
    return 1


def _recipients(record, due: DueDate, agency) -> list:
    """The owner (while they may still see the record) and the agency admins: active, each once."""
    people = {user.pk: user for user in users_who_can(agency.pk, ADMIN_ACTION)}
    owner = owner_of(record, due)
    if owner is not None and owner.is_active and user_can(owner, agency.pk, Action.VIEW, type(record), fresh=True):
        people.setdefault(owner.pk, owner)
    return sorted(people.values(), key=lambda user: user.get_username())


def _message(record, due: DueDate, due_on, days_left: int, escalated: bool) -> tuple[str, str]:
    what = {"label": due.label, "record": str(record), "type": record._meta.verbose_name,
            "date": due_on.isoformat(), "days": abs(days_left)}
    if days_left > 0:
        when = ngettext("in %(days)s day", "in %(days)s days", days_left) % what
    elif days_left == 0:
        when = _("today")
    else:
        when = ngettext("%(days)s day ago", "%(days)s days ago", -days_left) % what
    what["when"] = when
    title = _("%(label)s %(when)s: %(record)s") % what
    body = _("%(label)s on %(date)s (%(when)s) for the %(type)s “%(record)s”.") % what
    if escalated:
        title = _("Escalation: %(title)s") % {"title": title}
        body += " " + (_("It is still open after the last reminder; the agency admins are asked to see that it "
                         "is renewed or closed.") if days_left > 0 else
                       _("The date has arrived and it is still open; the agency admins are asked to act now."))
    return title, body


# --- deadlines in hours ---------------------------------------------------------------------------


def hour_reminders_send(*, now=None) -> int:
    """Send each reminder of a deadline in hours (`DueDate(hours=...)`) that has come due: at each
    of the declaration's thresholds (hours before the instant), to the same people as a date's;
    for escalating deadlines the last threshold is an escalation and one more goes out once the
    instant has passed with the record still open. Exactly once, and after a gap only the most
    urgent threshold crossed, as for dates (a deadline set shorter than the widest threshold
    starts at the most urgent one it is already inside).

    Called every few minutes by the beat task: one query per deadline declared in hours, however
    many records wait. `now` (tests) replaces the clock. Returns the number of reminders sent."""
    now = now or timezone.now()
    declared = [(model, due) for model, due in declared_due_dates() if due.in_hours]
    if not declared:
        return 0
    sent = 0
    for model, due in declared:
        content_type = ContentType.objects.get_for_model(model)
        for record in _hour_candidates(model, due, content_type, now):  # each with its agency
            sent += _remind_in_hours(record, due, content_type, record.agency, now)
    return sent


def _hour_candidates(model, due: DueDate, content_type, now):
    """Open records whose instant is within the widest threshold (or passed, unescalated, for
    escalating deadlines), each annotated with the smallest threshold recorded for that instant."""
    reminders = Reminder.objects.filter(content_type=content_type, object_id=OuterRef("pk"), due_name=due.key,
                                        due_at=OuterRef(due.field))
    records = due_records(model, due).filter(**{f"{due.field}__lte": now + dt.timedelta(hours=max(due.hours))})
    if due.escalate:
        records = records.filter(~Exists(reminders.filter(threshold_hours=0)))
    else:
        records = records.filter(**{f"{due.field}__gt": now})
    records = records.annotate(
        reminded_down_to=Subquery(reminders.order_by("threshold_hours").values("threshold_hours")[:1]))
    return list(records.select_related(*related_to_load(model, due)).order_by(due.field, "pk"))


def _remind_in_hours(record, due: DueDate, content_type, agency, now) -> int:
    due_at = due_instant_of(record, due)
    seconds_left = seconds_between(now, due_at)  # elapsed time, not a wall-clock difference
    crossed = [hours for hours in due.hour_thresholds() if seconds_left <= hours * 3600]
    if not crossed or (seconds_left <= 0 and not due.escalate):
        return 0
    most_urgent = crossed[-1]
    done = record.reminded_down_to
    if done is not None and done <= most_urgent:
        return 0  # sent already (or passed over by a more urgent one)
    passed_over = [hours for hours in crossed[:-1] if done is None or hours < done]
    escalated = due.escalate and most_urgent <= min(due.hours)
    key = {"due_on": due_at.astimezone(dt.UTC).date(), "due_at": due_at}
    return _send(record, due, content_type, agency, key=key, escalated=escalated,
                 sent={**key, "threshold_hours": most_urgent},
                 skipped=[{**key, "threshold_hours": hours} for hours in passed_over],
                 message=lambda: _hour_message(record, due, due_at.astimezone(agency_zone(agency)), seconds_left,
                                               escalated))


def _hour_message(record, due: DueDate, due_at, seconds_left: float, escalated: bool) -> tuple[str, str]:
    """"Regulator early warning due 14:00 CET (UTC+01:00), 3 Dec 2026 (in 4 hours): <record>"."""
    what = {"label": due.label, "record": str(record), "type": record._meta.verbose_name,
            "deadline": deadline_text(due_at), "duration": duration_text(seconds_left)}
    if seconds_left > 0:
        what["when"] = _("in %(duration)s") % what
    elif round(seconds_left / 60) == 0:
        what["when"] = _("now")
    else:
        what["when"] = _("%(duration)s ago") % what
    title = _("%(label)s due %(deadline)s (%(when)s): %(record)s") % what
    body = _("%(label)s due %(deadline)s (%(when)s) for the %(type)s “%(record)s”.") % what
    if escalated:
        title = _("Escalation: %(title)s") % {"title": title}
        body += " " + (_("It is still open after the last reminder; the agency admins are asked to see that it "
                         "is done in time.") if seconds_left > 0 else
                       _("The deadline has passed and it is still open; the agency admins are asked to act now."))
    return title, body
