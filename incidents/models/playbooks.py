"""Playbooks: the platform's templates (no agency) and the copies an agency adapts."""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from incidents.choices import MANAGE_PLAYBOOKS, IncidentTypeChoices, PhaseChoices
from qgov.fields import LongTextField
from qgov.models import QgovModel
from qgov.roles import Action


class Playbook(QgovModel):
    """A response plan for one type of incident. Without an agency it is a platform template every
    agency reads; with one it is that agency's copy, adapted by its admins."""

    agency = models.ForeignKey(
        "qgov.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="playbooks",
        verbose_name=_("agency"), help_text=_("Empty for a platform template."))
    code = models.CharField(_("code"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    incident_type = models.CharField(_("incident type"), max_length=40, choices=IncidentTypeChoices.choices)
    description = LongTextField(_("description"), blank=True)
    source = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="copies",
        verbose_name=_("copied from"), help_text=_("The template this copy was made from."))
    source_version = models.PositiveIntegerField(
        _("template version copied"), null=True, blank=True,
        help_text=_("The template's version when it was copied; a later template version means it has moved on."))
    citations = models.JSONField(_("citations"), default=list, blank=True)

    # Rows without an agency are shared templates: read by everyone, changed by platform admins only.
    shared_without_agency = True
    action_map = {Action.ADD: MANAGE_PLAYBOOKS, Action.CHANGE: MANAGE_PLAYBOOKS, Action.DELETE: MANAGE_PLAYBOOKS}
    create_only_fields = ("agency", "source", "source_version")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "code"], name="playbook_unique_code_per_agency"),
            models.UniqueConstraint(fields=["code"], condition=Q(agency__isnull=True),
                                    name="playbook_unique_template_code"),
        ]
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def is_template(self) -> bool:
        return self.agency_id is None

    @property
    def template_moved_on(self) -> bool:
        """The template this copy came from has a newer version than the one copied."""
        return (self.source_id is not None and self.source_version is not None
                and self.source.version > self.source_version)

    def clean(self):
        if self.source_id is not None and self.source.agency_id is not None:
            raise ValidationError({"source": _("A copy is made from a platform template.")})


class PlaybookStep(QgovModel):
    """One instruction of a playbook, in the order and phase it is carried out."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps",
                                 verbose_name=_("playbook"))
    position = models.PositiveSmallIntegerField(_("position"))
    phase = models.CharField(_("phase"), max_length=20, choices=PhaseChoices.choices)
    csf_category = models.CharField(
        _("CSF 2.0 category"), max_length=40, blank=True,
        help_text=_("The CSF 2.0 category or subcategory the step serves, e.g. RS.MI or RS.AN-07."))
    instruction = LongTextField(_("instruction"), max_length=2000)
    mandatory = models.BooleanField(_("mandatory"), default=True,
                                    help_text=_("An open mandatory step holds the incident in its phase."))
    role = models.CharField(_("role responsible"), max_length=120, blank=True)

    agency_lookup = "playbook__agency"
    shared_without_agency = True
    action_map = Playbook.action_map
    create_only_fields = ("playbook",)

    class Meta:
        ordering = ["playbook", "position"]
        constraints = [models.UniqueConstraint(fields=["playbook", "position"],
                                               name="playbook_step_unique_position")]
        verbose_name = _("playbook step")
        verbose_name_plural = _("playbook steps")

    def __str__(self):
        return f"{self.position}. {self.instruction[:60]}"

    @property
    def owning_agency_id(self):
        return self.playbook.agency_id if self.playbook_id else None

    def get_absolute_url(self):
        return self.playbook.get_absolute_url()

    # A change of its steps is a new version of the playbook: copies of a template see it moved on.
    def after_create(self, *, user):
        self.playbook_version_bump()

    def after_update(self, *, user, before):
        self.playbook_version_bump()

    def after_delete(self, *, user):
        self.playbook_version_bump()

    def playbook_version_bump(self):
        playbook = Playbook._base_manager.select_for_update().filter(pk=self.playbook_id).first()
        if playbook is not None:
            playbook.save()  # version + 1, audited
