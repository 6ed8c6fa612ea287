"""Evidence files and their custody log. Re-exported by qgov.models."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qgov.evidence.choices import CustodyEventActionChoices
from qgov.evidence.storage import evidence_storage
from qgov.fields import LongTextField
from qgov.models import AgencyScopedModel, RestrictedQuerySet
from qgov.permissions import agency_ids_where
from qgov.roles import Action


def evidence_models() -> list[type]:
    """The models whose records take evidence files (`accepts_evidence = True`)."""
    from django.apps import apps

    return [model for model in apps.get_models() if getattr(model, "accepts_evidence", False)]


def restrict_by_record(queryset, user, action: str, *, prefix: str = ""):
    """Evidence rows (or rows reached through `prefix`) on which `user` may do `action`: the
    permission is the record's, as its model maps the action, in the record's agency."""
    allowed = Q(pk__in=[])
    content_types = ContentType.objects.get_for_models(*evidence_models())
    for model, content_type in content_types.items():
        allowed |= Q(**{f"{prefix}content_type": content_type,
                        f"{prefix}agency__in": agency_ids_where(user, action, model)})
    return queryset.filter(allowed)


class EvidenceFileQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = Action.VIEW):
        return restrict_by_record(self, user, action)

    def for_record(self, record):
        return self.filter(content_type=ContentType.objects.get_for_model(record), object_id=record.pk)


class EvidenceFile(AgencyScopedModel):
    """A file kept as evidence for one record of the record's agency. Never deleted through the
    UI or the API; a file found to be wrong is withdrawn, with a reason, and kept."""

    scope_area = "evidence"

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("record type"))
    object_id = models.PositiveBigIntegerField(_("record id"))
    record = GenericForeignKey("content_type", "object_id")
    file = models.FileField(_("stored file"), storage=evidence_storage, max_length=255, editable=False)
    file_name = models.CharField(_("file name"), max_length=255, help_text=_("The name it was uploaded with."))
    description = LongTextField(_("description"), blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    size = models.PositiveBigIntegerField(_("size (bytes)"), editable=False)
    media_type = models.CharField(_("media type"), max_length=100, editable=False)
    # Null leaves room for uploads by someone without an account (a supplier's one-time link);
    # uploader_name then says who.
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    related_name="+", editable=False, verbose_name=_("uploaded by"))
    uploader_name = models.CharField(_("uploaded by (name)"), max_length=200, editable=False)
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now, editable=False)
    custodian = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                  related_name="+", editable=False, verbose_name=_("custodian"))
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True, editable=False)
    withdrawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", editable=False, verbose_name=_("withdrawn by"))
    withdrawn_reason = LongTextField(_("reason for withdrawal"), blank=True, editable=False)

    objects = EvidenceFileQuerySet.as_manager()

    create_only_fields = ("agency", "content_type", "object_id")

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        indexes = [models.Index(fields=["content_type", "object_id"])]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self):
        return self.file_name

    def get_absolute_url(self):
        return reverse("qgov:evidencefile_detail", args=[self.pk])

    @property
    def record_model(self):
        return ContentType.objects.get_for_id(self.content_type_id).model_class()

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    # Evidence of a record with a handling marking (an incident's TLP and classification) carries
    # it on its own pages too (templates/base.html). Other records' evidence costs no query here.
    @property
    def handling_marking(self) -> str:
        if not hasattr(self.record_model, "handling_marking"):
            return ""
        return getattr(self.record, "handling_marking", "")

    @property
    def handling_colour(self) -> str:
        return getattr(self.record, "handling_colour", "secondary") if self.handling_marking else "secondary"


class CustodyEventQuerySet(RestrictedQuerySet):
    def restrict(self, user, action: str = Action.VIEW):
        return restrict_by_record(self, user, action, prefix="evidence__")


class CustodyEvent(AgencyScopedModel):
    """One entry of an evidence file's custody log. Append-only; being an audited record, each
    entry is also an event of the agency's audit chain."""

    scope_area = "evidence"

    evidence = models.ForeignKey(EvidenceFile, on_delete=models.PROTECT, related_name="custody_events",
                                 verbose_name=_("evidence file"))
    action = models.CharField(_("action"), max_length=20, choices=CustodyEventActionChoices.choices)
    # Who did it. A user today; actor_name keeps who it was, and will name actors without an
    # account (a supplier contact answering through a one-time link).
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+",
                              verbose_name=_("actor"))
    actor_name = models.CharField(_("by"), max_length=200)
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+", verbose_name=_("from"))
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("to"))
    # Where and why: the place of collection or of a hand-over, the reason for a hand-over or a
    # withdrawal.
    location = models.CharField(_("where"), max_length=200, blank=True)
    reason = LongTextField(_("reason"), blank=True)
    # At collection (the "uploaded" entry): when and by whom the evidence was collected, which may
    # be before, and someone other than, the upload.
    collected_at = models.DateTimeField(_("collected"), null=True, blank=True)
    collected_by_name = models.CharField(_("collected by"), max_length=200, blank=True)
    note = LongTextField(_("note"), blank=True)
    observed_sha256 = models.CharField(_("SHA-256 found"), max_length=64, blank=True,
                                       help_text=_("What a verification computed from the stored file."))
    # A verification's finding about the custody chain itself (null on other entries).
    chain_intact = models.BooleanField(_("custody chain intact"), null=True, blank=True)
    at = models.DateTimeField(_("when"), default=timezone.now)
    # The file's own hash chain (qgov.evidence.custody): 1, 2, 3… per file; each entry's hash
    # covers its fields and the previous entry's hash.
    sequence = models.PositiveIntegerField(_("sequence"))
    previous_hash = models.CharField(_("previous entry's hash"), max_length=64)
    entry_hash = models.CharField(_("entry hash"), max_length=64)

    objects = CustodyEventQuerySet.as_manager()

    class Meta:
        ordering = ["sequence", "pk"]
        constraints = [models.UniqueConstraint(fields=["evidence", "sequence"],
                                               name="qgov_custodyevent_unique_sequence")]
        verbose_name = _("custody event")
        verbose_name_plural = _("custody events")

    def __str__(self):
        return f"{self.get_action_display()}: {self.evidence_id and self.evidence.file_name} ({self.actor_name})"

    def get_absolute_url(self):
        return reverse("qgov:evidencefile_detail", args=[self.evidence_id])

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Custody events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Custody events are append-only.")
