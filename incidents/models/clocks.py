"""Regulator notification clocks: the regimes and their clocks (platform catalog, shipped as data in
incidents/catalog/regimes.json), the regimes each agency reports under, and each incident's
notification rows computed from them (incidents.clocks.notifications_sync)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incidents import deadlines
from incidents.choices import MANAGE_REGIMES, RegulatorClockStartChoices
from incidents.models.incidents import MarkedByIncident
from qgov.duedates import DueDate
from qgov.fields import LongTextField
from qgov.models import AgencyScopedModel, CatalogModel
from qgov.roles import Action


class RegulatorRegime(CatalogModel):
    """A reporting obligation (NIS2, DORA, GDPR…): platform reference data."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    citation = models.CharField(_("citation"), max_length=300, help_text=_("The legal text the clocks come from."))
    description = LongTextField(_("description"), blank=True)
    applies_from = models.DateField(
        _("applies from"), null=True, blank=True,
        help_text=_("Incidents the agency became aware of before this date get no clocks under this regime."))
    sources = models.JSONField(_("sources"), default=list, blank=True,
                               help_text=_("Where the facts were checked, with how firmly."))

    class Meta:
        ordering = ["code"]
        verbose_name = _("regulator regime")
        verbose_name_plural = _("regulator regimes")

    brief_fields = ("code", "name")

    def __str__(self):
        return f"{self.code} — {self.name}"


class RegulatorClock(CatalogModel):
    """One deadline of a regime: from which start, after how long."""

    regime = models.ForeignKey(RegulatorRegime, on_delete=models.CASCADE, related_name="clocks",
                               verbose_name=_("regime"))
    code = models.CharField(_("code"), max_length=40)
    label = models.CharField(_("label"), max_length=120)
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    start = models.CharField(_("starts at"), max_length=20, choices=RegulatorClockStartChoices.choices)
    hours = models.PositiveIntegerField(
        _("hours"), null=True, blank=True,
        help_text=_("Elapsed hours after the start (for “earlier of”: after classification)."))
    months = models.PositiveSmallIntegerField(
        _("months"), null=True, blank=True, help_text=_("Calendar months after the start, in the agency's time zone."))
    awareness_hours = models.PositiveIntegerField(
        _("awareness hours"), null=True, blank=True,
        help_text=_("“Earlier of” only: the bound in elapsed hours after awareness."))
    after = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("after clock"),
                              help_text=_("“After another clock” only: the clock whose notification starts this one."))

    class Meta:
        ordering = ["regime__code", "position"]
        constraints = [models.UniqueConstraint(fields=["regime", "code"], name="regulatorclock_unique_code")]
        verbose_name = _("regulator clock")
        verbose_name_plural = _("regulator clocks")

    brief_fields = ("code", "label")

    def __str__(self):
        return self.label

    @property
    def rule(self) -> deadlines.ClockRule:
        return deadlines.ClockRule(start=self.start, hours=self.hours, months=self.months,
                                   awareness_hours=self.awareness_hours)

    def clean(self):
        errors = {}
        if not self.hours and not self.months:
            errors["hours"] = _("Give hours, months or both.")
        if self.start == RegulatorClockStartChoices.EARLIEST and not (self.hours and self.awareness_hours):
            errors["awareness_hours"] = _("“Earlier of” needs hours after classification and awareness hours.")
        if self.start != RegulatorClockStartChoices.EARLIEST and self.awareness_hours:
            errors["awareness_hours"] = _("Only an “earlier of” clock has awareness hours.")
        if self.start == RegulatorClockStartChoices.AFTER_CLOCK:
            if self.after_id is None:
                errors["after"] = _("Say which clock's notification starts this one.")
            elif self.after.regime_id != self.regime_id or self.after_id == self.pk or (
                    self.after.start == RegulatorClockStartChoices.AFTER_CLOCK):
                errors["after"] = _("Choose another clock of the same regime that does not itself follow a clock.")
        elif self.after_id is not None:
            errors["after"] = _("Only an “after another clock” clock follows one.")
        if errors:
            raise ValidationError(errors)


class AgencyRegime(AgencyScopedModel):
    """A regime the agency reports under: new incidents get it by default."""

    regime = models.ForeignKey(RegulatorRegime, on_delete=models.PROTECT, related_name="+", verbose_name=_("regime"))
    notes = LongTextField(_("notes"), blank=True, max_length=2000,
                          help_text=_("Why it applies, the authority reported to, its portal."))

    # Admins only (the app's `manage_regimes` action); everyone in the agency reads them.
    action_map = {Action.ADD: MANAGE_REGIMES, Action.CHANGE: MANAGE_REGIMES, Action.DELETE: MANAGE_REGIMES}
    create_only_fields = ("agency", "regime")

    class Meta:
        ordering = ["regime__code"]
        constraints = [models.UniqueConstraint(fields=["agency", "regime"], name="agencyregime_unique")]
        verbose_name = _("agency regime")
        verbose_name_plural = _("agency regimes")

    def __str__(self):
        return str(self.regime)


class RegulatorNotification(MarkedByIncident, AgencyScopedModel):
    """One regulator deadline of one incident. Computed (clock start, due at) by
    incidents.clocks.notifications_sync; staff only record that it was sent, when and under which
    reference. `agency` is the incident's, for the core's due dates and scoping."""

    incident = models.ForeignKey("incidents.Incident", on_delete=models.CASCADE, related_name="notifications",
                                 verbose_name=_("incident"))
    regime = models.ForeignKey(RegulatorRegime, on_delete=models.PROTECT, related_name="+", verbose_name=_("regime"))
    clock = models.ForeignKey(RegulatorClock, on_delete=models.PROTECT, related_name="+", verbose_name=_("clock"))
    clock_start = models.DateTimeField(_("clock start"), null=True, blank=True, editable=False,
                                       help_text=_("Empty until the start is known (e.g. no classification yet)."))
    due_at = models.DateTimeField(_("due at"), null=True, blank=True, editable=False, db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    reference = models.CharField(_("reference"), max_length=120, blank=True,
                                 help_text=_("The regulator's case or submission reference."))
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+", verbose_name=_("sent by"))

    # Rows come and go with the incident's regimes (the sync); people record only the sending.
    action_map = {Action.ADD: None, Action.DELETE: None}
    create_only_fields = ("agency", "incident", "regime", "clock")
    due_dates = (
        DueDate(field="due_at", label=_("Regulator deadline"), owner="incident__reported_by",
                open=Q(sent_at__isnull=True), escalate=True, hours=(12, 4, 1)),
    )

    class Meta:
        ordering = ["incident", "regime__code", "clock__position"]
        constraints = [models.UniqueConstraint(fields=["incident", "clock"], name="regulatornotification_unique")]
        verbose_name = _("regulator notification")
        verbose_name_plural = _("regulator notifications")

    def __str__(self):
        return f"{self.incident.reference}: {self.regime.code} {self.clock.label}"

    def get_absolute_url(self):
        return self.incident.get_absolute_url()

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None

    @property
    def is_overdue(self) -> bool:
        reference = self.sent_at or timezone.now()
        return self.due_at is not None and reference > self.due_at

    def clean(self):
        errors = {}
        if self.incident_id and self.agency_id and self.incident.agency_id != self.agency_id:
            errors["incident"] = _("Choose an incident of the same agency.")
        if self.clock_id and self.regime_id and self.clock.regime_id != self.regime_id:
            errors["clock"] = _("Choose a clock of the regime.")
        if self.sent_at is not None:
            if self.sent_at > timezone.now():
                errors["sent_at"] = _("It cannot have been sent in the future.")
            else:
                # Before the clock started it was not this notification; with no start known yet
                # (no classification), not before the agency was aware of the incident.
                start = self.clock_start or (self.incident.detected_at if self.incident_id else None)
                if start is not None and self.sent_at < start:
                    errors["sent_at"] = _("It cannot have been sent before its clock started (%(start)s).") % {
                        "start": timezone.localtime(start).strftime("%Y-%m-%d %H:%M %Z")}
        if errors:
            raise ValidationError(errors)
