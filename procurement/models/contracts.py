"""Contracts and the terms that keep the agency free to leave a supplier."""


from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from procurement.choices import (
    ContractStatusChoices,
    OpenInterfaceChoices,
)
from procurement.lifecycles import CONTRACT_LIFECYCLE
from procurement.models.common import CURRENCY_CODE, add_months
from procurement.models.suppliers import Supplier
from qgov.duedates import DueDate
from qgov.fields import LongTextField, MemberField
from qgov.models import AgencyScopedModel

LIVE_CONTRACT = (ContractStatusChoices.ACTIVE, ContractStatusChoices.RENEWED)


class Contract(AgencyScopedModel):
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="contracts",
                                 verbose_name=_("supplier"))
    reference = models.CharField(_("reference"), max_length=100)
    title = models.CharField(_("title"), max_length=200)
    devices = models.ManyToManyField("certification.Device", blank=True, related_name="contracts",
                                     verbose_name=_("devices covered"))
    assets = models.ManyToManyField("risks.Asset", blank=True, related_name="contracts",
                                    verbose_name=_("assets covered"))
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2, null=True, blank=True,
                                validators=[MinValueValidator(0)])
    currency = models.CharField(_("currency"), max_length=3, blank=True, help_text=_("ISO 4217, e.g. EUR."))
    start = models.DateField(_("start"))
    end = models.DateField(_("end"), null=True, blank=True)
    sunset_date = models.DateField(
        _("sunset date"), null=True, blank=True,
        help_text=_("When the agency must have decided to renew, re-tender or exit."))
    reevaluation_months = models.PositiveSmallIntegerField(
        _("re-evaluation interval (months)"), null=True, blank=True, validators=[MinValueValidator(1)])
    next_reevaluation = models.DateField(_("next re-evaluation"), null=True, blank=True,
                                         help_text=_("Left empty, the start plus the interval."))
    open_interfaces = models.JSONField(
        _("open-interface commitments"), default=list, blank=True,
        help_text=_('Interfaces the supplier commits to, e.g. ["ETSI GS QKD 014", "ETSI GS QKD 015"].'))
    multi_vendor_terms = LongTextField(_("multi-vendor terms"), blank=True)
    escrow_terms = LongTextField(_("escrow terms"), blank=True)
    exit_plan = LongTextField(_("exit plan"), blank=True)
    owner = MemberField(verbose_name=_("owner"))
    status = models.CharField(_("status"), max_length=20, choices=ContractStatusChoices.choices,
                              default=ContractStatusChoices.DRAFT)
    status_note = LongTextField(_("status note"), blank=True)
    notes = LongTextField(_("notes"), blank=True)

    lifecycle = CONTRACT_LIFECYCLE
    accepts_evidence = True  # the signed contract, amendments, escrow certificates
    due_dates = (
        DueDate(field="sunset_date", name="sunset", label=_("Contract sunset"), owner="owner", escalate=True,
                open=Q(status__in=[*LIVE_CONTRACT, ContractStatusChoices.UNDER_REEVALUATION])),
        DueDate(field="next_reevaluation", name="reevaluation", label=_("Contract re-evaluation due"),
                owner="owner", open=Q(status__in=LIVE_CONTRACT)),
        DueDate(field="end", label=_("Contract ends"), owner="owner",
                open=Q(status__in=[*LIVE_CONTRACT, ContractStatusChoices.UNDER_REEVALUATION,
                                   ContractStatusChoices.EXITING])),
    )

    class Meta:
        ordering = ["reference"]
        constraints = [models.UniqueConstraint(fields=["agency", "reference"],
                                               name="contract_unique_reference_per_agency")]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")

    def __str__(self):
        return f"{self.reference} {self.title}"

    def open_interface_labels(self) -> list[str]:
        labels = dict(OpenInterfaceChoices.choices)
        return [str(labels.get(value, value)) for value in self.open_interfaces or ()]

    def clean(self):
        errors = {}
        self.currency = (self.currency or "").strip().upper()
        if self.currency and not CURRENCY_CODE.match(self.currency):
            errors["currency"] = _("Give the ISO 4217 code, e.g. EUR.")
        if self.value is not None and not self.currency:
            errors["currency"] = _("Give the currency of the value.")
        if self.start and self.end and self.end <= self.start:
            errors["end"] = _("The end must be after the start.")
        if self.start and self.sunset_date and self.sunset_date <= self.start:
            errors["sunset_date"] = _("The sunset date must be after the start (%(start)s).") % {
                "start": self.start.isoformat()}
        elif self.end and self.sunset_date and self.sunset_date > self.end:
            errors["sunset_date"] = _("The sunset date falls after the end (%(end)s).") % {"end": self.end.isoformat()}
        if self.supplier_id and self.agency_id and self.supplier.agency_id != self.agency_id:
            errors["supplier"] = _("Choose a supplier of this agency.")
        interfaces = self.open_interfaces if self.open_interfaces not in (None, "") else []
        if not isinstance(interfaces, list) or not all(isinstance(item, str) for item in interfaces):
            errors["open_interfaces"] = _("Give a list of interfaces.")
        else:
            unknown = [item for item in interfaces if item not in OpenInterfaceChoices.values]
            if unknown:
                errors["open_interfaces"] = _("Unknown interfaces: %(unknown)s. Choose from: %(known)s.") % {
                    "unknown": ", ".join(unknown), "known": ", ".join(OpenInterfaceChoices.values)}
            else:  # stored once each, in the catalogue's order, so equal commitments compare equal
                self.open_interfaces = [value for value in OpenInterfaceChoices.values if value in interfaces]
        if self.start and self.reevaluation_months and not self.next_reevaluation:
            self.next_reevaluation = add_months(self.start, self.reevaluation_months)
        if errors:
            raise ValidationError(errors)
