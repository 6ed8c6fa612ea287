"""Incidents and their checklists."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents.choices import (
    MARKING_COLOURS,
    IncidentStatusChoices,
    IncidentTypeChoices,
    MarkingChoices,
    PhaseChoices,
    SeverityChoices,
)
from incidents.lifecycles import INCIDENT_LIFECYCLE
from qgov.fields import LongTextField
from qgov.models import Agency, AgencyScopedModel, QgovModel

REFERENCE = re.compile(r"^INC-(\d{4})-(\d{4,})$")


def next_reference(agency_id: int, year: int) -> str:
    """The agency's next free "INC-<year>-<nnnn>"; the unique constraint guards a concurrent twin."""
    prefix = f"INC-{year}-"
    taken = Incident._base_manager.filter(agency_id=agency_id, reference__startswith=prefix).values_list(
        "reference", flat=True)
    numbers = [int(match.group(2)) for ref in taken if (match := REFERENCE.match(ref))]
    return f"{prefix}{max(numbers, default=0) + 1:04d}"


class MarkedByIncident:
    """A part of an incident (a checklist step, a timeline entry, a key action, a regulator
    notification) carries the incident's handling marking on its own pages (templates/base.html)."""

    @property
    def handling_marking(self) -> str:
        return self.incident.handling_marking if self.incident_id else ""

    @property
    def handling_colour(self) -> str:
        return self.incident.handling_colour if self.incident_id else "secondary"


class Incident(AgencyScopedModel):
    reference = models.CharField(
        _("reference"), max_length=40, blank=True,
        help_text=_('Left empty, the next "INC-<year>-<nnnn>" of the agency.'))
    title = models.CharField(_("title"), max_length=200)
    description = LongTextField(_("description"), blank=True)
    incident_type = models.CharField(_("incident type"), max_length=40, choices=IncidentTypeChoices.choices)
    severity = models.PositiveSmallIntegerField(_("severity"), choices=SeverityChoices.choices,
                                                help_text=_("1 is the most severe; 1 and 2 alert the agency's admins."))
    detected_at = models.DateTimeField(_("detected at"), default=timezone.now,
                                       help_text=_("When the agency became aware of it."))
    classified_at = models.DateTimeField(
        _("classified at"), null=True, blank=True,
        help_text=_("When it was classified as significant or major."))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name=_("reported by"))
    reporter_name = models.CharField(_("reporter name"), max_length=200, blank=True,
                                     help_text=_("Who reported it, when not a user (a SOC, a supplier)."))
    playbook = models.ForeignKey("incidents.Playbook", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="incidents", verbose_name=_("playbook"))
    status = models.CharField(_("status"), max_length=20, choices=IncidentStatusChoices.choices,
                              default=IncidentStatusChoices.REPORTED)
    status_note = LongTextField(_("status note"), blank=True)
    marking = models.CharField(_("marking"), max_length=20, choices=MarkingChoices.choices,
                               default=MarkingChoices.AMBER)
    classification = models.CharField(_("classification"), max_length=60, blank=True,
                                      help_text=_('The national protective marking, e.g. "OFFICIAL-SENSITIVE".'))
    devices = models.ManyToManyField("certification.Device", blank=True, related_name="incidents",
                                     verbose_name=_("devices"))
    assets = models.ManyToManyField("risks.Asset", blank=True, related_name="incidents", verbose_name=_("assets"))
    risks = models.ManyToManyField("risks.Risk", blank=True, related_name="incidents", verbose_name=_("risks"))
    suppliers = models.ManyToManyField("procurement.Supplier", blank=True, related_name="incidents",
                                       verbose_name=_("suppliers"))
    # Added by the regulator clocks (their migration); new incidents get the agency's regimes.
    regimes = models.ManyToManyField("incidents.RegulatorRegime", blank=True, related_name="incidents",
                                     verbose_name=_("regulator regimes"),
                                     help_text=_("The regimes whose clocks run for this incident."))
    review_summary = LongTextField(_("review summary"), blank=True)
    root_cause = LongTextField(_("root cause"), blank=True)
    lessons = LongTextField(_("lessons learned"), blank=True)
    follow_up_risks = models.ManyToManyField(
        "risks.Risk", blank=True, related_name="follow_up_of_incidents", verbose_name=_("follow-up risks"),
        help_text=_("Register entries created or updated because of this incident."))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)

    creator_field = "reported_by"
    accepts_evidence = True
    lifecycle = INCIDENT_LIFECYCLE
    brief_fields = ("reference", "title")

    class Meta:
        ordering = ["-detected_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["agency", "reference"],
                                               name="incident_unique_reference_per_agency")]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self):
        return f"{self.reference} {self.title}"

    def clean(self):
        errors = {}
        self.reference = (self.reference or "").strip().upper()
        duplicate = self.reference and self.agency_id and Incident._base_manager.filter(
            agency_id=self.agency_id, reference=self.reference).exclude(pk=self.pk).exists()
        if duplicate:
            errors["reference"] = [_("The agency already has an incident %(ref)s.") % {"ref": self.reference}]
        if self.playbook_id and self.playbook.agency_id not in (None, self.agency_id):
            errors["playbook"] = [_("Choose a platform template or one of the agency's playbooks.")]
        if self.classified_at and self.detected_at and self.classified_at < self.detected_at:
            errors["classified_at"] = [_("It cannot be classified before it was detected.")]
        if errors:
            raise ValidationError(errors)

    @property
    def handling_marking(self) -> str:
        """The banner every page of the incident carries (templates/base.html) and its files print."""
        return " · ".join(part for part in (self.marking, self.classification) if part)

    @property
    def handling_colour(self) -> str:
        return MARKING_COLOURS.get(self.marking, "secondary")

    def after_create(self, *, user):
        from incidents.services import incident_created

        incident_created(self, user=user)

    def after_update(self, *, user, before):
        from incidents.services import incident_updated

        incident_updated(self, user=user, before=before)

    def save(self, *args, **kwargs):
        if self.reference or not self.agency_id:
            return super().save(*args, **kwargs)
        with transaction.atomic():
            # Two incidents reported at once in one agency would both read the same highest number:
            # the agency's row lock makes the second wait for the first's commit (on PostgreSQL;
            # SQLite writes one transaction at a time anyway).
            Agency._base_manager.select_for_update().filter(pk=self.agency_id).values_list("pk").first()
            self.reference = next_reference(self.agency_id, (self.detected_at or timezone.now()).year)
            super().save(*args, **kwargs)


class IncidentStep(MarkedByIncident, QgovModel):
    """One line of an incident's checklist, copied from its playbook's step when the playbook was set
    (so later edits of the playbook do not rewrite a running response)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="steps",
                                 verbose_name=_("incident"))
    step = models.ForeignKey("incidents.PlaybookStep", on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("playbook step"))
    position = models.PositiveSmallIntegerField(_("position"))
    phase = models.CharField(_("phase"), max_length=20, choices=PhaseChoices.choices)
    csf_category = models.CharField(_("CSF 2.0 category"), max_length=40, blank=True)
    instruction = LongTextField(_("instruction"), max_length=2000)
    mandatory = models.BooleanField(_("mandatory"), default=True)
    role = models.CharField(_("role responsible"), max_length=120, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+", verbose_name=_("completed by"))
    note = LongTextField(_("note"), blank=True)

    agency_lookup = "incident__agency"
    # A step keeps the phase and weight it was given: an editor cannot wave a mandatory step through
    # (deleting one is an admin's, audited act).
    create_only_fields = ("incident", "step", "phase", "mandatory")

    class Meta:
        ordering = ["incident", "position"]
        constraints = [models.UniqueConstraint(fields=["incident", "position"],
                                               name="incident_step_unique_position")]
        verbose_name = _("incident step")
        verbose_name_plural = _("incident steps")

    def __str__(self):
        return f"{self.position}. {self.instruction[:60]}"

    @property
    def owning_agency_id(self):
        return self.incident.agency_id

    def clean(self):
        if self.incident_id and self.incident.lifecycle.is_frozen(self.incident):
            raise ValidationError(self.incident.lifecycle.frozen_message(self.incident))

    @property
    def is_done(self) -> bool:
        return self.completed_at is not None

    def get_absolute_url(self):
        return self.incident.get_absolute_url()
