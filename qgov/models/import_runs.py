"""Import runs: one uploaded file imported into one model in the background."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from qgov.choices import (
    ImportRunStatusChoices,
)
from qgov.models.base import AgencyScopedModel


def import_upload_path(instance, filename):
    # A random name in a folder that is never served: the file is read by the run, then removed.
    return f"private/imports/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()[:10]}"


class ImportRun(AgencyScopedModel):
    """One uploaded file imported into one model in the background: who, when, what file, how far,
    and what came of it (counts and the row-by-row report)."""

    scope_area = "imports"

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("record type"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     editable=False, verbose_name=_("requested by"))
    file = models.FileField(_("file"), upload_to=import_upload_path, max_length=255, blank=True, editable=False,
                            help_text=_("Kept, privately, until the run ends."))
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    format = models.CharField(_("format"), max_length=20)
    status = models.CharField(_("status"), max_length=10, choices=ImportRunStatusChoices.choices,
                              default=ImportRunStatusChoices.QUEUED, editable=False)
    started = models.DateTimeField(_("started"), null=True, blank=True, editable=False)
    finished = models.DateTimeField(_("finished"), null=True, blank=True, editable=False)
    rows_total = models.PositiveIntegerField(_("rows"), null=True, blank=True, editable=False)
    rows_processed = models.PositiveIntegerField(_("rows processed"), default=0, editable=False)
    created_count = models.PositiveIntegerField(_("created"), default=0, editable=False)
    updated_count = models.PositiveIntegerField(_("updated"), default=0, editable=False)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0, editable=False)
    failed_count = models.PositiveIntegerField(_("failed rows"), default=0, editable=False)
    errors = models.JSONField(_("problems"), default=list, blank=True, editable=False,
                              help_text=_('[{"row": 2, "field": "title", "message": "…"}, …]; row 1 is the header, '
                                          "row 0 the file as a whole."))

    creator_field = "requested_by"
    # Progress is written often and outside the import's transaction; the audit trail keeps the outcome.
    # The stored file's random name says nothing (file_name and sha256 identify the upload).
    audit_exclude = ("created", "last_updated", "rows_processed", "file")

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["agency", "status"])]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")

    def __str__(self):
        return f"#{self.pk} {self.file_name}" if self.pk else self.file_name

    def get_absolute_url(self):
        return reverse("qgov:importrun_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportRunStatusChoices.SUCCEEDED, ImportRunStatusChoices.FAILED)

    @property
    def target_model(self):
        return self.content_type.model_class()
