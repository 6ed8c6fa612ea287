"""The record of each reminder sent (or passed over), re-exported from qgov.models."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Reminder(models.Model):
    """One reminder about one due date of one record at one threshold.

    A day-level reminder is identified by its date and `threshold_days`; an hour-level one (a
    deadline declared with `hours`) by its instant `due_at` and `threshold_hours`, with
    `threshold_days` left empty. Each kind has its own unique constraint; a check keeps every row
    one kind or the other, so one of the two always applies.

    The unique constraint is what makes each reminder go out exactly once: the sender inserts
    this row before it creates the notifications, in the same transaction, and a second sender
    (the task run twice, or two workers at once) fails the insert and sends nothing.

    Bookkeeping, not audited: a reminder changes no record, and what it told whom is kept in the
    notifications it created and in `recipients`. The audit trail stays the history of records.
    """

    agency = models.ForeignKey("qgov.Agency", on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("agency"))
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+",
                                     verbose_name=_("record type"))
    # Every qgov model has an integer primary key; an integer keeps the "already sent?" subquery a plain join.
    object_id = models.PositiveBigIntegerField(_("record id"))
    due_name = models.CharField(_("due date"), max_length=50, help_text=_("Which of the record's due dates."))
    due_on = models.DateField(_("due on"))
    threshold_days = models.PositiveSmallIntegerField(
        _("threshold (days)"), null=True, blank=True,
        help_text=_("Days before the date; 0 is the escalation when the date arrives. Empty for a deadline in "
                    "hours."))
    # A deadline in hours: the exact instant (due_on is then its date in UTC) and the hours before it.
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    threshold_hours = models.PositiveSmallIntegerField(
        _("threshold (hours)"), null=True, blank=True,
        help_text=_("Hours before the instant; 0 is the escalation when it passes. Empty for a date."))
    escalated = models.BooleanField(_("escalated"), default=False)
    skipped = models.BooleanField(
        _("passed over"), default=False,
        help_text=_("A threshold crossed while reminders were not sent; only the most urgent one went out."))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+",
                                        verbose_name=_("recipients"))

    class Meta:
        ordering = ["-due_on", "-threshold_days"]
        constraints = [
            # NULLs are distinct in a unique index: hour-level rows (no threshold_days) never meet
            # this one, day-level rows (no due_at) never meet the next.
            models.UniqueConstraint(fields=["content_type", "object_id", "due_name", "due_on", "threshold_days"],
                                    name="reminder_once_per_threshold"),
            models.UniqueConstraint(fields=["content_type", "object_id", "due_name", "due_at", "threshold_hours"],
                                    name="reminder_once_per_hour_threshold"),
            models.CheckConstraint(
                condition=(Q(threshold_days__isnull=False, due_at__isnull=True, threshold_hours__isnull=True)
                           | Q(threshold_days__isnull=True, due_at__isnull=False, threshold_hours__isnull=False)),
                name="reminder_days_or_hours"),
        ]
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")

    def __str__(self):
        if self.due_at is not None:
            return (f"{self.content_type.model} #{self.object_id} {self.due_name} {self.due_at.isoformat()} "
                    f"at {self.threshold_hours}h")
        return f"{self.content_type.model} #{self.object_id} {self.due_name} {self.due_on} at {self.threshold_days}d"
