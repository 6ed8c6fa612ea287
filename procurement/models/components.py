"""Components: what the agency bought, with their provenance and the cryptography inside them (CycloneDX)."""


from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from procurement.choices import (
    AuthenticityResultChoices,
    CryptoAssetTypeChoices,
    CryptoPrimitiveChoices,
    KeyStateChoices,
)
from procurement.models.common import FIRMWARE_HASH, clean_country
from procurement.models.suppliers import Supplier
from qgov.duedates import DueDate
from qgov.fields import LongTextField
from qgov.models import AgencyScopedModel


class Component(AgencyScopedModel):
    """A part the agency runs — hardware, firmware, software or a cryptographic asset — with where it
    came from and, for cryptography, what CycloneDX 1.6 `cryptoProperties` say of it."""

    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="components", verbose_name=_("supplier"))
    name = models.CharField(_("name"), max_length=200)
    component_type = models.CharField(
        _("type"), max_length=30, default="library",
        help_text=_("The CycloneDX component type: application, library, firmware, device, cryptographic-asset…"))
    part_number = models.CharField(_("part number"), max_length=100, blank=True)
    component_version = models.CharField(_("version"), max_length=100, blank=True)
    purl = models.CharField(_("package URL"), max_length=500, blank=True)
    origin_country = models.CharField(_("origin country"), max_length=2, blank=True)
    firmware_sha256 = models.CharField(_("firmware hash"), max_length=128, blank=True,
                                       help_text=_("SHA-256 (or SHA-384/512) of the image, in hex."))
    authenticity_method = models.CharField(_("authenticity check"), max_length=200, blank=True,
                                           help_text=_("e.g. signature verified against the vendor key, X-ray"))
    authenticity_checked_on = models.DateField(_("checked on"), null=True, blank=True)
    authenticity_result = models.CharField(_("authenticity"), max_length=20,
                                           choices=AuthenticityResultChoices.choices,
                                           default=AuthenticityResultChoices.NOT_CHECKED)
    device = models.ForeignKey("certification.Device", on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="components", verbose_name=_("device"))
    asset = models.ForeignKey("risks.Asset", on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="components", verbose_name=_("asset"))
    # CycloneDX cryptoProperties (crypto_asset_type set: a cryptographic asset)
    crypto_asset_type = models.CharField(_("crypto asset type"), max_length=30,
                                         choices=CryptoAssetTypeChoices.choices, blank=True)
    primitive = models.CharField(_("primitive"), max_length=20, choices=CryptoPrimitiveChoices.choices, blank=True)
    algorithm = models.CharField(_("algorithm"), max_length=100, blank=True, help_text=_("e.g. RSA, ML-KEM, AES"))
    parameter_set_identifier = models.CharField(_("parameter set"), max_length=100, blank=True,
                                                help_text=_("e.g. 2048, 768, 256"))
    classical_security_level = models.PositiveSmallIntegerField(_("classical security (bits)"), null=True,
                                                                blank=True)
    nist_quantum_security_level = models.PositiveSmallIntegerField(
        _("NIST quantum security level"), null=True, blank=True, validators=[MaxValueValidator(6)],
        help_text=_("0 to 6; 0 means no security against a quantum computer."))
    certification_level = models.JSONField(_("certification level"), default=list, blank=True,
                                           help_text=_('CycloneDX values, e.g. ["fips140-3-l2"].'))
    key_state = models.CharField(_("key state"), max_length=20, choices=KeyStateChoices.choices, blank=True)
    quantum_vulnerable = models.BooleanField(_("quantum-vulnerable"), default=False, editable=False)
    policy_deadline = models.DateField(_("policy deadline"), null=True, blank=True, editable=False,
                                       help_text=_("When the agency's migration policy requires it gone."))
    # Where the record came from: a CycloneDX BOM (serial number, version, bom-ref), or by hand.
    bom_serial = models.CharField(_("BOM serial number"), max_length=100, blank=True, editable=False)
    bom_version = models.PositiveIntegerField(_("BOM version"), null=True, blank=True, editable=False)
    bom_ref = models.CharField(_("BOM reference"), max_length=300, blank=True, editable=False)
    depends_on = models.ManyToManyField("self", symmetrical=False, blank=True, related_name="dependents",
                                        verbose_name=_("depends on"))
    # The register risks this component raises (quantum-vulnerable cryptography, a failed authenticity
    # check). Declared here, not on Risk: procurement depends on the register, never the other way.
    risks = models.ManyToManyField("risks.Risk", blank=True, related_name="components",
                                   verbose_name=_("register risks"))
    notes = LongTextField(_("notes"), blank=True)

    accepts_evidence = True  # authenticity test reports, X-ray images, signature checks
    due_dates = (
        DueDate(field="policy_deadline", label=_("Quantum-vulnerable cryptography must be replaced"),
                owner="supplier__owner", escalate=True, open=Q(quantum_vulnerable=True)),
    )

    class Meta:
        ordering = ["name", "component_version", "pk"]
        constraints = [models.UniqueConstraint(fields=["agency", "bom_serial", "bom_ref"],
                                               condition=~Q(bom_serial=""), name="component_unique_bom_ref")]
        verbose_name = _("component")
        verbose_name_plural = _("components")

    def __str__(self):
        return f"{self.name} {self.component_version}".strip()

    def save(self, *args, **kwargs):
        from procurement.services import component_classify

        component_classify(self)
        super().save(*args, **kwargs)

    def clean(self):
        errors = {}
        try:
            self.origin_country = clean_country(self.origin_country)
        except ValidationError as error:
            errors["origin_country"] = error.messages
        self.firmware_sha256 = (self.firmware_sha256 or "").strip().lower()
        if self.firmware_sha256 and not FIRMWARE_HASH.match(self.firmware_sha256):
            errors["firmware_sha256"] = _("Give the hash as 64, 96 or 128 hexadecimal characters.")
        for name in ("supplier", "device", "asset"):
            related = getattr(self, name) if getattr(self, f"{name}_id") else None
            if related is not None and self.agency_id and related.agency_id != self.agency_id:
                errors[name] = _("Choose one of this agency's records.")
        # The linked risks are many-to-many, set after the row is saved, so clean() cannot see them:
        # the core's write path refuses another agency's risk for every caller (qgov.services
        # `_assert_same_agency`, before anything is written), as it does for a contract's devices.
        if (self.authenticity_result != AuthenticityResultChoices.NOT_CHECKED
                and not self.authenticity_checked_on):
            errors["authenticity_checked_on"] = _("Say when the authenticity was checked.")
        if errors:
            raise ValidationError(errors)
