"""Report runs, their output files and the agencies' report schedules. Re-exported by qgov.models."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from qgov.choices import ImportRunStatusChoices as RunStatusChoices
from qgov.fields import LongTextField
from qgov.models import AgencyScopedModel
from qgov.permissions import PLATFORM_ONLY
from qgov.reports.choices import (
    PageSizeChoices,
    ReportFormatChoices,
    ReportKindChoices,
    ReportMarkingChoices,
    ScheduleFrequencyChoices,
)
from qgov.roles import Action


def report_file_path(instance, filename):
    # Never served directly: downloads go through the views, which check the reader's agency.
    return f"private/reports/{instance.run.agency_id}/{instance.run_id}/{filename}"


class ReportSchedule(AgencyScopedModel):
    """A report an agency receives periodically without anyone asking: the beat task queues a run
    when `next_run_at` has passed, then moves it on by the frequency."""

    scope_area = "reports"

    kind = models.CharField(_("report"), max_length=20, choices=ReportKindChoices.choices)
    frequency = models.CharField(_("frequency"), max_length=10, choices=ScheduleFrequencyChoices.choices)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    marking = models.CharField(_("handling marking"), max_length=20, choices=ReportMarkingChoices.choices,
                               default=ReportMarkingChoices.OFFICIAL_SENSITIVE)
    page_size = models.CharField(_("page size"), max_length=10, choices=PageSizeChoices.choices,
                                 default=PageSizeChoices.A4)
    enabled = models.BooleanField(_("enabled"), default=True)
    next_run_at = models.DateTimeField(_("next run"), db_index=True)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True, editable=False)

    action_map = {Action.ADD: Action.MANAGE_MEMBERS, Action.CHANGE: Action.MANAGE_MEMBERS,
                  Action.DELETE: Action.MANAGE_MEMBERS}

    class Meta:
        ordering = ["agency", "kind", "pk"]
        verbose_name = _("report schedule")
        verbose_name_plural = _("report schedules")

    def __str__(self):
        return f"{self.get_kind_display()}, {self.get_frequency_display().lower()}"

    def get_absolute_url(self):
        return reverse("qgov:reportschedule_detail", args=[self.pk])


class ReportRun(AgencyScopedModel):
    """One report built in the background: what was asked, by whom, how far it got, and its files."""

    scope_area = "reports"

    kind = models.CharField(_("report"), max_length=20, choices=ReportKindChoices.choices)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    as_of = models.DateTimeField(_("data as of"))
    marking = models.CharField(_("handling marking"), max_length=20, choices=ReportMarkingChoices.choices,
                               default=ReportMarkingChoices.OFFICIAL_SENSITIVE)
    page_size = models.CharField(_("page size"), max_length=10, choices=PageSizeChoices.choices,
                                 default=PageSizeChoices.A4)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", editable=False, verbose_name=_("requested by"))
    schedule = models.ForeignKey(ReportSchedule, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="runs", editable=False, verbose_name=_("schedule"))
    status = models.CharField(_("status"), max_length=10, choices=RunStatusChoices.choices,
                              default=RunStatusChoices.QUEUED, editable=False)
    started = models.DateTimeField(_("started"), null=True, blank=True, editable=False)
    finished = models.DateTimeField(_("finished"), null=True, blank=True, editable=False)
    # Written while the run works (on a connection of its own): a stale heartbeat on a running run
    # means its worker vanished, and the beat task queues it again.
    heartbeat = models.DateTimeField(_("heartbeat"), null=True, blank=True, editable=False)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0, editable=False)
    stage = models.CharField(_("stage"), max_length=100, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0, editable=False)
    error = LongTextField(_("error"), blank=True, editable=False)
    generator_version = models.CharField(_("generator version"), max_length=40, blank=True, editable=False)

    creator_field = "requested_by"
    # Progress is written often and outside any transaction; the audit trail keeps the outcome.
    audit_exclude = ("created", "last_updated", "heartbeat", "progress", "stage")
    action_map = {Action.ADD: Action.REQUEST_REPORT, Action.CHANGE: Action.REQUEST_REPORT,
                  Action.DELETE: PLATFORM_ONLY}

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["agency", "status"]), models.Index(fields=["status", "heartbeat"])]
        verbose_name = _("report run")
        verbose_name_plural = _("report runs")

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()}" if self.pk else self.get_kind_display()

    def get_absolute_url(self):
        return reverse("qgov:reportrun_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatusChoices.SUCCEEDED, RunStatusChoices.FAILED)


class ReportFile(models.Model):
    """One output of a run (PDF, CSV, JSON, OSCAL) with what identifies it: its SHA-256 is what
    /reports/verify/ looks an uploaded file up by."""

    run = models.ForeignKey(ReportRun, on_delete=models.CASCADE, related_name="files", verbose_name=_("run"))
    format = models.CharField(_("format"), max_length=10, choices=ReportFormatChoices.choices)
    file = models.FileField(_("file"), upload_to=report_file_path, max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    pages = models.PositiveIntegerField(_("pages"), null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["run", "format"]
        constraints = [models.UniqueConstraint(fields=["run", "format"], name="reportfile_one_per_format")]
        verbose_name = _("report file")
        verbose_name_plural = _("report files")

    def __str__(self):
        return f"{self.run} {self.format}"

    @property
    def filename(self) -> str:
        extension = "json" if self.format == ReportFormatChoices.OSCAL else self.format
        suffix = "-oscal-poam" if self.format == ReportFormatChoices.OSCAL else ""
        return f"qgov-{self.run.kind.replace('_', '-')}-{self.run.agency.code}-{self.run_id}{suffix}.{extension}"
