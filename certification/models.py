"""Certification: the schemes devices and people are certified under (a shared catalog, with the
arrangements by which one jurisdiction recognises another's certificates), the agency's devices
and staff, their certificates, and the schemes each agency requires."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from certification.choices import (
    MANAGE_REQUIREMENTS,
    CertificationStatusChoices,
    DeviceKindChoices,
    DeviceStatusChoices,
    PersonnelRoleChoices,
    SchemeKindChoices,
    SchemeValidityRuleChoices,
)
from certification.lifecycles import (
    DEVICE_CERTIFICATION_LIFECYCLE,
    DEVICE_LIFECYCLE,
    PERSONNEL_ACCREDITATION_LIFECYCLE,
)
from qgov.duedates import DueDate
from qgov.fields import LongTextField, MemberField
from qgov.models import AgencyScopedModel, CatalogModel
from qgov.roles import Action

# SHA-256, SHA-384 or SHA-512 of a firmware image, in hex.
FIRMWARE_HASH = re.compile(r"^(?:[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$")
FIRMWARE_HASH_MESSAGE = _("Give the hash as 64, 96 or 128 hexadecimal characters (SHA-256, SHA-384 or SHA-512).")


def add_years(day: datetime.date, years: int) -> datetime.date:
    """The same calendar day `years` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def clean_firmware_hash(value: str) -> str:
    value = (value or "").strip().lower()
    if value and not FIRMWARE_HASH.match(value):
        raise ValidationError(FIRMWARE_HASH_MESSAGE, code="invalid")
    return value


# --- catalog -------------------------------------------------------------------------------------

class Scheme(CatalogModel):
    """A certification or vetting scheme: who issues it, its ordered assurance levels, how long its
    certificates last, and the sources for each fact."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=SchemeKindChoices.choices)
    family = models.SlugField(
        _("family"), max_length=40,
        help_text=_("Schemes of one family share their levels (e.g. every Common Criteria scheme rates in EALs); "
                    "only certificates of the same family can stand in for each other."))
    issuing_body = models.CharField(_("issuing body"), max_length=200)
    jurisdictions = models.JSONField(
        _("jurisdictions"), default=list, blank=True,
        help_text=_('ISO 3166-1 alpha-2 codes of the countries the scheme issues for, e.g. ["US", "CA"].'))
    levels = models.JSONField(_("assurance levels"), help_text=_("Level names, lowest first."))
    validity_rule = models.CharField(_("validity rule"), max_length=20, choices=SchemeValidityRuleChoices.choices)
    validity_years = models.PositiveSmallIntegerField(
        _("validity (years)"), null=True, blank=True,
        help_text=_("The years the validity rule counts from issue; empty where each certificate states its date."))
    interim_validity_years = models.PositiveSmallIntegerField(
        _("interim validity (years)"), null=True, blank=True,
        help_text=_("For schemes that issue interim certificates with a shorter life (CMVP: 2 years)."))
    description = LongTextField(_("description"), blank=True)
    citations = models.JSONField(_("citations"), default=list, blank=True)
    unverified = LongTextField(
        _("not verified"), blank=True,
        help_text=_("Facts in this entry that could not be confirmed at their source."))

    class Meta:
        ordering = ["code"]
        verbose_name = _("scheme")
        verbose_name_plural = _("schemes")

    def __str__(self):
        return f"{self.code} {self.name}"

    def level_rank(self, level: str) -> int | None:
        """1 for the lowest level; None for a level the scheme does not have."""
        try:
            return self.levels.index(level) + 1
        except (ValueError, AttributeError):
            return None


class RecognitionArrangement(CatalogModel):
    """An agreement by which member jurisdictions accept each other's certificates (CCRA, SOG-IS,
    EUCC inside the EU, the joint US–Canada CMVP), up to a level per scheme."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    member_jurisdictions = models.JSONField(
        _("member jurisdictions"), default=list, help_text=_("ISO 3166-1 alpha-2 codes."))
    description = LongTextField(_("description"), blank=True)
    citations = models.JSONField(_("citations"), default=list, blank=True)
    unverified = LongTextField(_("not verified"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("recognition arrangement")
        verbose_name_plural = _("recognition arrangements")

    def __str__(self):
        return f"{self.code} {self.name}"


class Recognition(CatalogModel):
    """Under `arrangement`, certificates of `scheme` up to `max_level` count in every member
    jurisdiction."""

    arrangement = models.ForeignKey(RecognitionArrangement, on_delete=models.CASCADE, related_name="recognitions",
                                    verbose_name=_("arrangement"))
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="recognitions",
                               verbose_name=_("scheme"))
    max_level = models.CharField(_("up to level"), max_length=40)
    max_level_rank = models.PositiveSmallIntegerField(_("up to level (rank)"), editable=False)
    conditions = LongTextField(_("conditions"), blank=True)

    natural_key_field = None

    class Meta:
        ordering = ["arrangement__code", "scheme__code"]
        constraints = [models.UniqueConstraint(fields=["arrangement", "scheme"],
                                               name="recognition_one_per_arrangement_scheme")]
        verbose_name = _("recognition")
        verbose_name_plural = _("recognitions")

    def __str__(self):
        return f"{self.arrangement.code}: {self.scheme.code} ≤ {self.max_level}"

    def clean(self):
        if self.scheme_id and self.max_level:
            rank = self.scheme.level_rank(self.max_level)
            if rank is None:
                raise ValidationError({"max_level": _("%(scheme)s has no level %(level)s.") % {
                    "scheme": self.scheme.code, "level": self.max_level}})
            self.max_level_rank = rank


# --- agency records ------------------------------------------------------------------------------

class Device(AgencyScopedModel):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=30, choices=DeviceKindChoices.choices)
    vendor = models.CharField(_("vendor"), max_length=200)
    model = models.CharField(_("model"), max_length=200)
    serial = models.CharField(_("serial number"), max_length=100)
    firmware_version = models.CharField(_("firmware version"), max_length=100, blank=True)
    firmware_sha256 = models.CharField(
        _("firmware hash"), max_length=128, blank=True,
        help_text=_("SHA-256 (or SHA-384/512) of the firmware image in service, in hex."))
    site = models.CharField(_("site"), max_length=200, blank=True)
    end_of_support = models.DateField(
        _("end of support"), null=True, blank=True,
        help_text=_("The vendor's end of support (end of life): no security fixes after it. Sunset reviews list it."))
    owner = MemberField(verbose_name=_("owner"))
    assets = models.ManyToManyField("risks.Asset", blank=True, related_name="devices", verbose_name=_("assets"),
                                    help_text=_("The QKD links, trusted nodes and systems that depend on it."))
    status = models.CharField(_("status"), max_length=20, choices=DeviceStatusChoices.choices,
                              default=DeviceStatusChoices.PLANNED)
    status_note = LongTextField(_("status note"), blank=True)
    notes = LongTextField(_("notes"), blank=True)

    lifecycle = DEVICE_LIFECYCLE

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["agency", "vendor", "serial"],
                                               name="device_unique_serial_per_vendor")]
        verbose_name = _("device")
        verbose_name_plural = _("devices")

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        try:
            self.firmware_sha256 = clean_firmware_hash(self.firmware_sha256)
        except ValidationError as error:
            errors["firmware_sha256"] = error.messages
        self.vendor, self.serial = (self.vendor or "").strip(), (self.serial or "").strip()
        if self.agency_id and self.vendor and self.serial:
            duplicate = Device._base_manager.filter(agency_id=self.agency_id, vendor__iexact=self.vendor,
                                                    serial=self.serial).exclude(pk=self.pk).first()
            if duplicate is not None:
                errors["serial"] = [_("%(vendor)s serial %(serial)s is already registered (%(device)s).") % {
                    "vendor": self.vendor, "serial": self.serial, "device": duplicate.name}]
        if errors:
            raise ValidationError(errors)


class CertificateBase(AgencyScopedModel):
    """What device certifications and personnel accreditations share: a scheme, a level, dates and
    a status lifecycle."""

    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="+", verbose_name=_("scheme"))
    level = models.CharField(_("level"), max_length=40)
    level_rank = models.PositiveSmallIntegerField(_("level (rank)"), editable=False)
    issued = models.DateField(_("issued"))
    expires = models.DateField(
        _("expires"), null=True, blank=True,
        help_text=_("Left empty, it follows the scheme's validity rule."))
    status = models.CharField(_("status"), max_length=20, choices=CertificationStatusChoices.choices,
                              default=CertificationStatusChoices.PENDING)
    review_due = models.DateField(
        _("review due"), null=True, blank=True,
        help_text=_("For certificates and clearances that are reviewed rather than expiring; left empty, it "
                    "follows the scheme's review rule."))
    status_note = LongTextField(_("status note"), blank=True)
    notes = LongTextField(_("notes"), blank=True)

    scheme_kind = None  # the SchemeKindChoices value this record's scheme must have
    holder_field = None  # whose certificate it is: "device" or "person"
    accepts_evidence = True  # the certificate itself, the issuer's letter, the register entry

    class Meta:
        abstract = True

    def clean(self):
        errors = {}
        if self.scheme_id:
            scheme = self.scheme
            if scheme.kind != self.scheme_kind:
                errors["scheme"] = _("Choose a %(kind)s scheme.") % {
                    "kind": SchemeKindChoices(self.scheme_kind).label.lower()}
            rank = scheme.level_rank(self.level)
            if rank is None:
                errors["level"] = _("%(scheme)s has no level “%(level)s”; its levels are %(levels)s.") % {
                    "scheme": scheme.code, "level": self.level, "levels": ", ".join(scheme.levels)}
            else:
                self.level_rank = rank
            if self.issued and not errors:
                errors.update(self._apply_validity_rule(scheme))
        if self.issued and self.expires and self.expires <= self.issued:
            errors["expires"] = _("The expiry must be after the issue date.")
        if self.issued and self.review_due and self.review_due <= self.issued:
            errors["review_due"] = _("The review date must be after the issue date.")
        elif self.expires and self.review_due and self.review_due > self.expires and "expires" not in errors:
            errors["review_due"] = _("The review date falls after the expiry (%(expires)s); leave it empty or "
                                     "set it earlier.") % {"expires": self.expires.isoformat()}
        holder_id = getattr(self, f"{self.holder_field}_id")
        if holder_id and self.agency_id and getattr(self, self.holder_field).agency_id != self.agency_id:
            errors[self.holder_field] = _("Choose a %(holder)s of this agency.") % {
                "holder": self._meta.get_field(self.holder_field).verbose_name}
        if errors:
            raise ValidationError(errors)

    @classmethod
    def renewals(cls):
        """For a subquery: a valid certificate of the same holder and scheme issued later — the
        record that renews the outer one."""
        return cls.objects.filter(**{f"{cls.holder_field}_id": OuterRef(f"{cls.holder_field}_id")},
                                  scheme_id=OuterRef("scheme_id"), status=CertificationStatusChoices.VALID,
                                  issued__gt=OuterRef("issued"))

    def _apply_validity_rule(self, scheme) -> dict:
        """Fill the expiry (or review date) the scheme's rule gives; refuse an expiry beyond a
        maximum. Returns the errors."""
        rule = scheme.validity_rule
        years = (scheme.interim_validity_years if getattr(self, "interim", False) and scheme.interim_validity_years
                 else scheme.validity_years)
        if rule in (SchemeValidityRuleChoices.FIXED, SchemeValidityRuleChoices.MAXIMUM) and years:
            limit = add_years(self.issued, years)
            if self.expires is None:
                self.expires = limit
            elif rule == SchemeValidityRuleChoices.MAXIMUM and self.expires > limit:
                return {"expires": _("%(scheme)s certificates are valid for at most %(years)s years: the expiry "
                                     "may be %(limit)s at the latest.") % {
                    "scheme": scheme.code, "years": years, "limit": limit.isoformat()}}
        elif rule == SchemeValidityRuleChoices.REVIEW and years:
            review = add_years(self.issued, years)
            # A certificate that states its own expiry needs no review after it.
            if self.review_due is None and (self.expires is None or review < self.expires):
                self.review_due = review
        elif rule == SchemeValidityRuleChoices.PER_CERTIFICATE and self.expires is None and self.review_due is None:
            return {"expires": _("%(scheme)s has no standard validity: give the expiry or the review date the "
                                 "certificate states.") % {"scheme": scheme.code}}
        return {}


class DeviceCertification(CertificateBase):
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="certifications",
                               verbose_name=_("device"))
    certificate_id = models.CharField(_("certificate id"), max_length=100)
    evaluation_lab = models.CharField(_("evaluation lab"), max_length=200, blank=True)
    product_version = models.CharField(_("product version covered"), max_length=100, blank=True)
    firmware_version = models.CharField(_("firmware version covered"), max_length=100, blank=True)
    firmware_sha256 = models.CharField(
        _("firmware hash covered"), max_length=128, blank=True,
        help_text=_("Where the certificate pins the firmware image: its hash, in hex."))
    protection_profile = models.CharField(_("protection profile"), max_length=200, blank=True,
                                          help_text=_("e.g. ETSI GS QKD 016 V2.1.1 (BSI-CC-PP-0120-2024)."))
    interim = models.BooleanField(_("interim"), default=False,
                                  help_text=_("An interim validation, with the scheme's shorter life."))

    scheme_kind = SchemeKindChoices.DEVICE
    holder_field = "device"
    create_only_fields = ("agency", "device")
    lifecycle = DEVICE_CERTIFICATION_LIFECYCLE
    # Reminded at the agency's thresholds until it is renewed (a newer valid certificate of the
    # same device and scheme) or leaves "valid"; escalated to the admins at the last threshold.
    due_dates = (
        DueDate(field="expires", label=_("Certificate expires"), owner="device__owner", escalate=True,
                open=lambda: Q(status=CertificationStatusChoices.VALID) & ~Exists(DeviceCertification.renewals())),
        # Common Criteria certificates do not expire but are reviewed (archived) after about five years.
        DueDate(field="review_due", name="review", label=_("Certificate review due"), owner="device__owner",
                open=lambda: Q(status=CertificationStatusChoices.VALID) & ~Exists(DeviceCertification.renewals())),
    )

    class Meta:
        ordering = ["-issued", "pk"]
        constraints = [models.UniqueConstraint(fields=["agency", "scheme", "certificate_id"],
                                               name="devicecertification_unique_certificate")]
        verbose_name = _("device certification")
        verbose_name_plural = _("device certifications")

    def __str__(self):
        return f"{self.scheme.code} {self.certificate_id}"

    def clean(self):
        errors = {}
        try:
            super().clean()
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        try:
            self.firmware_sha256 = clean_firmware_hash(self.firmware_sha256)
        except ValidationError as error:
            errors["firmware_sha256"] = error.messages
        self.certificate_id = (self.certificate_id or "").strip()
        if self.agency_id and self.scheme_id and self.certificate_id and DeviceCertification._base_manager.filter(
                agency_id=self.agency_id, scheme_id=self.scheme_id, certificate_id=self.certificate_id,
        ).exclude(pk=self.pk).exists():
            errors["certificate_id"] = [_("This agency already records certificate %(id)s of this scheme.") % {
                "id": self.certificate_id}]
        if errors:
            raise ValidationError(errors)


class Person(AgencyScopedModel):
    """A member of staff who operates, administers or audits the quantum estate; optionally a qgov user."""

    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"), blank=True)
    user = MemberField(verbose_name=_("qgov user"), help_text=_("Where the person signs in to qgov."))
    role = models.CharField(_("role"), max_length=30, choices=PersonnelRoleChoices.choices)
    unit = models.CharField(_("unit"), max_length=200, blank=True)
    active = models.BooleanField(_("active"), default=True,
                                 help_text=_("People who left keep their records but are no longer checked."))
    notes = LongTextField(_("notes"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("person")
        verbose_name_plural = _("personnel")

    def __str__(self):
        return self.name


class PersonnelAccreditation(CertificateBase):
    """A clearance, credential or qualification a person holds."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="accreditations",
                               verbose_name=_("person"))
    credential_id = models.CharField(_("credential id"), max_length=100, blank=True)

    scheme_kind = SchemeKindChoices.PERSONNEL
    holder_field = "person"
    create_only_fields = ("agency", "person")
    lifecycle = PERSONNEL_ACCREDITATION_LIFECYCLE
    # The holder (where they sign in to qgov) and the admins are reminded of the expiry and of the
    # review date, until the accreditation is renewed or leaves "valid".
    due_dates = (
        DueDate(field="expires", label=_("Accreditation expires"), owner="person__user", escalate=True,
                open=lambda: Q(status=CertificationStatusChoices.VALID) & ~Exists(PersonnelAccreditation.renewals())),
        DueDate(field="review_due", label=_("Accreditation review due"), owner="person__user",
                open=lambda: Q(status=CertificationStatusChoices.VALID) & ~Exists(PersonnelAccreditation.renewals())),
    )

    class Meta:
        ordering = ["-issued", "pk"]
        verbose_name = _("personnel accreditation")
        verbose_name_plural = _("personnel accreditations")

    def __str__(self):
        return f"{self.scheme.code} {self.level} — {self.person}"


class RequiredScheme(AgencyScopedModel):
    """What an agency requires: each device of a kind, or each person in a role, must hold a
    certificate under `scheme` at `min_level` or above (or one recognised as equivalent)."""

    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="+", verbose_name=_("scheme"))
    min_level = models.CharField(_("minimum level"), max_length=40)
    min_level_rank = models.PositiveSmallIntegerField(_("minimum level (rank)"), editable=False)
    device_kind = models.CharField(_("device kind"), max_length=30, choices=DeviceKindChoices.choices, blank=True)
    personnel_role = models.CharField(_("personnel role"), max_length=30, choices=PersonnelRoleChoices.choices,
                                      blank=True)
    notes = LongTextField(_("notes"), blank=True)

    # Admins only (the app's `manage_requirements` action); everyone in the agency reads them.
    action_map = {Action.ADD: MANAGE_REQUIREMENTS, Action.CHANGE: MANAGE_REQUIREMENTS,
                  Action.DELETE: MANAGE_REQUIREMENTS}

    class Meta:
        ordering = ["scheme__code", "device_kind", "personnel_role"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "scheme", "device_kind", "personnel_role"],
                                    name="requiredscheme_unique"),
            models.CheckConstraint(
                condition=(models.Q(device_kind="") & ~models.Q(personnel_role=""))
                | (~models.Q(device_kind="") & models.Q(personnel_role="")),
                name="requiredscheme_device_kind_or_role"),
        ]
        verbose_name = _("required scheme")
        verbose_name_plural = _("required schemes")

    def __str__(self):
        applies = self.get_device_kind_display() or self.get_personnel_role_display()
        return f"{applies}: {self.scheme.code} ≥ {self.min_level}"

    def clean(self):
        errors = {}
        if bool(self.device_kind) == bool(self.personnel_role):
            errors["device_kind"] = _("Say which device kind or which personnel role this applies to (one of them).")
        if self.scheme_id:
            scheme = self.scheme
            if self.device_kind and scheme.kind != SchemeKindChoices.DEVICE:
                errors["scheme"] = _("Devices are certified under device schemes.")
            if self.personnel_role and scheme.kind != SchemeKindChoices.PERSONNEL:
                errors["scheme"] = _("People are accredited under personnel schemes.")
            rank = scheme.level_rank(self.min_level)
            if rank is None:
                errors["min_level"] = _("%(scheme)s has no level %(level)s; its levels are %(levels)s.") % {
                    "scheme": scheme.code, "level": self.min_level, "levels": ", ".join(scheme.levels)}
            else:
                self.min_level_rank = rank
        if errors:
            raise ValidationError(errors)


__all__ = ["Scheme", "RecognitionArrangement", "Recognition", "Device", "DeviceCertification", "Person",
           "PersonnelAccreditation", "RequiredScheme"]
