import re
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qgov.duedates import DueDate
from qgov.fields import LongTextField, MemberField
from qgov.models import AgencyScopedModel, CatalogModel
from risks import mosca
from risks.choices import (
    DEFAULT_BANDS,
    DEFAULT_IMPACT_LABELS,
    DEFAULT_LIKELIHOOD_LABELS,
    MOSCA_BAND_COLOURS,
    AssetCriticalityChoices,
    AssetProtectsChoices,
    AssetTypeChoices,
    ControlEffectivenessChoices,
    ControlStatusChoices,
    ControlTypeChoices,
    MoscaBandChoices,
    RiskAcceptanceStatusChoices,
    RiskMatrixSizeChoices,
    RiskStatusChoices,
    RiskTreatmentChoices,
    ThreatVectorCategoryChoices,
)
from risks.lifecycles import ACCEPTANCE_LIFECYCLE, OPEN_ACCEPTANCE_STATES, RISK_LIFECYCLE, ask_for_approval

ONE_TO_FIVE = [MinValueValidator(1), MaxValueValidator(5)]
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class ThreatVector(CatalogModel):
    code = models.CharField(_("code"), max_length=10, unique=True)
    title = models.CharField(_("title"), max_length=200)
    category = models.CharField(_("category"), max_length=30, choices=ThreatVectorCategoryChoices.choices)
    description = LongTextField(_("description"))
    default_likelihood = models.PositiveSmallIntegerField(_("default likelihood"), validators=ONE_TO_FIVE)
    default_impact = models.PositiveSmallIntegerField(_("default impact"), validators=ONE_TO_FIVE)
    rationale = LongTextField(_("rationale"), blank=True)
    citations = models.JSONField(_("citations"), default=list, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("threat vector")
        verbose_name_plural = _("threat vectors")

    brief_fields = ("code", "title")  # what __str__ reads: all a brief reference loads

    def __str__(self):
        return f"{self.code} {self.title}"


def _default_z_policy():
    # Kept for migration 0001, which names it; the policy deadline is now a year (policy_deadline_year).
    return max(2035 - date.today().year, 0)


class RiskMatrix(AgencyScopedModel):
    """How an agency rates risks (a likelihood × impact grid with named levels and rating bands)
    and the quantum timeline it assumes for Mosca's inequality."""

    name = models.CharField(_("name"), max_length=100, default=_("Agency risk matrix"))
    size = models.PositiveSmallIntegerField(_("size"), choices=RiskMatrixSizeChoices.choices, default=5)
    likelihood_labels = models.JSONField(_("likelihood levels"), help_text=_("One name per level, lowest first."))
    impact_labels = models.JSONField(_("impact levels"), help_text=_("One name per level, lowest first."))
    bands = models.JSONField(
        _("rating bands"),
        help_text=_('Lowest band first: [{"name": "Low", "min_score": 1, "colour": "#2e7d32"}, …]; '
                    "a score is likelihood × impact."),
    )
    z_optimistic = models.DecimalField(
        _("years to a CRQC (optimistic)"), max_digits=4, decimal_places=1, default=Decimal("10"),
        validators=[MinValueValidator(0)],
        help_text=_("z in Mosca's inequality, soonest case: years until a CRQC (cryptographically relevant quantum "
                    "computer) can break today's public-key cryptography. At most the central estimate."))
    z_central = models.DecimalField(
        _("years to a CRQC (central)"), max_digits=4, decimal_places=1, default=Decimal("15"),
        validators=[MinValueValidator(0)],
        help_text=_("z in Mosca's inequality, the agency's central estimate of the years until a CRQC "
                    "(cryptographically relevant quantum computer)."))
    # Most roadmaps (EU NIS CG, UK NCSC, NSA CNSA 2.0) end quantum-vulnerable use by 2035.
    policy_deadline_year = models.PositiveSmallIntegerField(
        _("policy deadline (year)"), default=2035, validators=[MinValueValidator(2000), MaxValueValidator(2100)],
        help_text=_("The year by which policy ends quantum-vulnerable cryptography. The deadline falls at the end "
                    "of that year (31 December); the years left to it (the policy z) are counted from today."))

    class Meta:
        ordering = ["agency__name"]
        constraints = [models.UniqueConstraint(fields=["agency"], name="riskmatrix_one_per_agency")]
        verbose_name = _("risk matrix")
        verbose_name_plural = _("risk matrices")

    def __str__(self):
        return f"{self.name} ({self.size}×{self.size})"

    @classmethod
    def defaults(cls, size: int = 5) -> dict:
        return {
            "size": size,
            "likelihood_labels": list(DEFAULT_LIKELIHOOD_LABELS[size]),
            "impact_labels": list(DEFAULT_IMPACT_LABELS[size]),
            "bands": [{"name": n, "min_score": m, "colour": c} for n, m, c in DEFAULT_BANDS[size]],
        }

    def band_for(self, score: int | None) -> dict | None:
        if not score:
            return None
        chosen = None
        for band in self.bands:
            if score >= band["min_score"]:
                chosen = band
        return chosen

    @property
    def levels(self):
        return range(1, self.size + 1)

    def policy_years(self, today: date | None = None) -> Decimal:
        """The policy z: years from today to the end of the policy deadline year."""
        return mosca.years_until_end_of(self.policy_deadline_year, today or timezone.localdate())

    @property
    def z_policy(self) -> Decimal:
        return self.policy_years()

    def clean(self):
        errors = {}
        for name in ("likelihood_labels", "impact_labels"):
            labels = getattr(self, name)
            if not isinstance(labels, list) or len(labels) != self.size or not all(
                    isinstance(label, str) and label.strip() for label in labels):
                errors[name] = _("Give exactly %(size)s non-empty names, lowest first.") % {"size": self.size}
        errors.update(self._band_errors())
        if self.z_optimistic is not None and self.z_central is not None and self.z_optimistic > self.z_central:
            errors["z_optimistic"] = _("The optimistic estimate cannot be later than the central one (at most "
                                       "%(central)s years).") % {"central": f"{Decimal(self.z_central):.1f}"}
        if self.pk is not None and not errors:
            stored = RiskMatrix.objects.filter(pk=self.pk).values("size", "bands").first()
            rescales = stored and (stored["size"] != self.size or stored["bands"] != self.bands)
            if rescales and self.risks.exists():
                errors["size"] = _(
                    "Risks are rated on this matrix; changing its size or bands would silently re-rate them. "
                    "Close or re-rate those risks first.")
        if errors:
            raise ValidationError(errors)

    def _band_errors(self) -> dict:
        bands = self.bands
        message = None
        if bands in (None, [], {}, ""):
            return {}  # reported by the field itself as required
        if not isinstance(bands, list):
            message = _("Give a list of bands.")
        else:
            previous = 0
            for band in bands:
                if not isinstance(band, dict) or set(band) != {"name", "min_score", "colour"}:
                    message = _('Each band needs exactly "name", "min_score" and "colour".')
                elif not isinstance(band["name"], str) or not band["name"].strip():
                    message = _("Each band needs a name.")
                elif not isinstance(band["colour"], str) or not HEX_COLOUR.match(band["colour"]):
                    message = _("Colours are written #rrggbb.")
                elif not isinstance(band["min_score"], int) or band["min_score"] <= previous:
                    message = _("Lowest scores must be whole numbers rising band by band.")
                elif band["min_score"] > self.size * self.size:
                    message = _("A band starts above the highest possible score.")
                if message:
                    break
                previous = band["min_score"]
            if not message and bands[0]["min_score"] != 1:
                message = _("The first band must start at score 1.")
        return {"bands": message} if message else {}

    def clean_delete(self):
        if self.risks.exists():
            raise ValidationError(_("Risks are rated on this matrix; it cannot be deleted."))


class Asset(AgencyScopedModel):
    """Something the agency protects; x and y feed Mosca's inequality."""

    name = models.CharField(_("name"), max_length=200)
    asset_type = models.CharField(_("type"), max_length=30, choices=AssetTypeChoices.choices)
    description = LongTextField(_("description"), blank=True)
    owner = MemberField(verbose_name=_("owner"))
    criticality = models.CharField(_("criticality"), max_length=10, choices=AssetCriticalityChoices.choices,
                                   default=AssetCriticalityChoices.MEDIUM)
    shelf_life_years = models.DecimalField(
        _("confidentiality shelf-life x (years)"), max_digits=4, decimal_places=1, validators=[MinValueValidator(0)],
        help_text=_("How long the data or keys must stay confidential or trustworthy."))
    migration_years = models.DecimalField(
        _("migration time y (years)"), max_digits=4, decimal_places=1, validators=[MinValueValidator(0)],
        help_text=_("How long moving this asset to quantum-safe protection will take."))
    protects = models.CharField(
        _("protects"), max_length=20, choices=AssetProtectsChoices.choices,
        default=AssetProtectsChoices.CONFIDENTIALITY,
        help_text=_("What its cryptography protects. Harvest-now-decrypt-later concerns confidentiality only."))
    harvestable = models.BooleanField(
        _("harvest-now-decrypt-later applies"), default=True,
        help_text=_("Its traffic or data could be recorded today and decrypted later. Never for an integrity-only "
                    "(signature) asset; left unset (API) or untouched (form), it follows what the asset protects."))

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="asset_unique_name_per_agency")]
        verbose_name = _("asset")
        verbose_name_plural = _("assets")

    brief_fields = ("name",)  # what __str__ reads: all a brief reference loads

    def __str__(self):
        return self.name

    def clean(self):
        if self.harvestable and self.protects == AssetProtectsChoices.INTEGRITY:
            raise ValidationError({"harvestable": _(
                "Harvest-now-decrypt-later needs something confidential to record; an integrity-only (signature) "
                "asset has none.")})

    def exposure(self, matrix: RiskMatrix, today: date | None = None) -> dict:
        """Mosca margins against the agency's three z values (the policy one as of today), and the urgency band."""
        x, y = self.shelf_life_years, self.migration_years
        band = mosca.band(x, y, matrix.z_central, z_optimistic=matrix.z_optimistic, harvestable=self.harvestable,
                          confidential=self.protects == AssetProtectsChoices.CONFIDENTIALITY)
        return {
            "margin_optimistic": mosca.gap(x, y, matrix.z_optimistic),
            "margin_central": mosca.gap(x, y, matrix.z_central),
            "margin_policy": mosca.gap(x, y, matrix.policy_years(today)),
            "exposed": mosca.is_exposed(x, y, matrix.z_central),
            "band": band,
            "band_label": MoscaBandChoices(band).label,
            "colour": MOSCA_BAND_COLOURS[band],
        }


class Control(AgencyScopedModel):
    title = models.CharField(_("title"), max_length=200)
    description = LongTextField(_("description"), blank=True)
    control_type = models.CharField(_("type"), max_length=20, choices=ControlTypeChoices.choices)
    status = models.CharField(_("status"), max_length=20, choices=ControlStatusChoices.choices,
                              default=ControlStatusChoices.PLANNED)
    owner = MemberField(verbose_name=_("owner"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    effectiveness = models.CharField(_("effectiveness"), max_length=20, choices=ControlEffectivenessChoices.choices,
                                     default=ControlEffectivenessChoices.NOT_ASSESSED)

    accepts_evidence = True  # test reports and audit findings that show the control works

    class Meta:
        ordering = ["title"]
        verbose_name = _("control")
        verbose_name_plural = _("controls")

    brief_fields = ("title",)  # what __str__ reads: all a brief reference loads

    def __str__(self):
        return self.title


class Risk(AgencyScopedModel):
    reference = models.CharField(_("reference"), max_length=20, blank=True,
                                 help_text=_("Left empty, the next R-number is given."))
    title = models.CharField(_("title"), max_length=200)
    description = LongTextField(_("description"), blank=True)
    threat_vectors = models.ManyToManyField(ThreatVector, blank=True, related_name="risks",
                                            verbose_name=_("threat vectors"))
    assets = models.ManyToManyField(Asset, blank=True, related_name="risks", verbose_name=_("assets"))
    controls = models.ManyToManyField(Control, blank=True, related_name="risks", verbose_name=_("controls"))
    owner = MemberField(verbose_name=_("owner"))
    matrix = models.ForeignKey(RiskMatrix, on_delete=models.PROTECT, related_name="risks", editable=False,
                               verbose_name=_("matrix"))
    inherent_likelihood = models.PositiveSmallIntegerField(_("inherent likelihood"))
    inherent_impact = models.PositiveSmallIntegerField(_("inherent impact"))
    current_likelihood = models.PositiveSmallIntegerField(_("current likelihood"), null=True, blank=True)
    current_impact = models.PositiveSmallIntegerField(_("current impact"), null=True, blank=True)
    residual_likelihood = models.PositiveSmallIntegerField(_("residual likelihood"), null=True, blank=True)
    residual_impact = models.PositiveSmallIntegerField(_("residual impact"), null=True, blank=True)
    # Levels are checked against the agency matrix in clean(), not by field validators: the matrix may be 3×3.
    # Derived on save from the ratings above and the agency matrix, stored so lists filter and sort on them.
    inherent_score = models.PositiveSmallIntegerField(_("inherent score"), editable=False, default=0)
    residual_score = models.PositiveSmallIntegerField(_("residual score"), editable=False, null=True)
    rating_score = models.PositiveSmallIntegerField(_("score"), editable=False, default=0)
    rating = models.CharField(_("rating"), max_length=50, editable=False, blank=True,
                              help_text=_("Band of the current rating (inherent while none is given)."))
    treatment = models.CharField(_("treatment"), max_length=10, choices=RiskTreatmentChoices.choices,
                                 default=RiskTreatmentChoices.MITIGATE)
    review_date = models.DateField(_("next review"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=RiskStatusChoices.choices,
                              default=RiskStatusChoices.DRAFT)
    status_note = LongTextField(_("status note"), blank=True,
                                   help_text=_("Why the status last changed."))

    lifecycle = RISK_LIFECYCLE
    accepts_evidence = True  # evidence of the treatment: assessments, test results, decisions
    # An open risk is reviewed by its date; the owner and the admins are reminded, not escalated.
    due_dates = (
        DueDate(field="review_date", label=_("Risk review due"), owner="owner",
                open=~Q(status=RiskStatusChoices.CLOSED)),
    )

    class Meta:
        ordering = ["reference"]
        constraints = [models.UniqueConstraint(fields=["agency", "reference"], name="risk_unique_reference")]
        indexes = [models.Index(fields=["agency", "status"]), models.Index(fields=["agency", "review_date"]),
                   # Covers the register's heat maps: one grouped count over an agency's ratings, read from
                   # the index alone (risks.selectors.all_heatmap_counts).
                   models.Index(fields=["agency", "inherent_likelihood", "inherent_impact", "current_likelihood",
                                        "current_impact", "residual_likelihood", "residual_impact"],
                                name="risk_heatmap_idx"),
                   # A list page in id order (the API's default, and its cursor) is a walk of the agency's
                   # ids that stops after the page, instead of reading and sorting the whole agency.
                   models.Index(fields=["agency", "id"], name="risk_agency_id_idx")]
        verbose_name = _("risk")
        verbose_name_plural = _("risks")

    brief_fields = ("reference", "title")  # what __str__ reads: all a brief reference loads

    def __str__(self):
        return f"{self.reference} {self.title}".strip()

    @staticmethod
    def past_review_error(review_date) -> str | None:
        """What the add form and the API say to a new risk reviewed in the past. Not a model rule:
        an import of an existing register, or an existing risk, may be overdue (listed and reminded)."""
        if review_date and review_date < timezone.localdate():
            return _("A new risk's next review cannot be in the past; choose today or a later date.")
        return None

    @property
    def is_overdue(self) -> bool:
        return self.overdue_on(timezone.localdate())

    def overdue_on(self, today) -> bool:
        """is_overdue, for a list that looks up today's date once rather than once per risk."""
        return bool(self.review_date and self.review_date < today and self.status != RiskStatusChoices.CLOSED)

    def pairs(self):
        return {
            "inherent": (self.inherent_likelihood, self.inherent_impact),
            "current": (self.current_likelihood, self.current_impact),
            "residual": (self.residual_likelihood, self.residual_impact),
        }

    def clean(self):
        errors = {}
        if self.agency_id and not self.matrix_id:
            matrix = RiskMatrix.objects.filter(agency_id=self.agency_id).first()
            if matrix is None:
                raise ValidationError(_("The agency has no risk matrix yet."))
            self.matrix = matrix
        size = self.matrix.size if self.matrix_id else 5
        for kind, (likelihood, impact) in self.pairs().items():
            if (likelihood is None) != (impact is None):
                errors[f"{kind}_impact" if impact is None else f"{kind}_likelihood"] = _(
                    "Give likelihood and impact together.")
            for name, value in ((f"{kind}_likelihood", likelihood), (f"{kind}_impact", impact)):
                if value is not None and not 1 <= value <= size:
                    errors[name] = _("Must be between 1 and %(size)s on this agency's matrix.") % {"size": size}
        if self.reference and Risk.objects.filter(agency_id=self.agency_id, reference=self.reference).exclude(
                pk=self.pk).exists():
            errors["reference"] = _("This reference is already used in the agency.")
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        # The reference lock (next_reference) must last until the row is written; inside a caller's
        # transaction no savepoint is needed (the query budgets count them).
        with transaction.atomic(savepoint=False):
            if not self.matrix_id:
                self.matrix = RiskMatrix.objects.get(agency_id=self.agency_id)
            if not self.reference:
                self.reference = self.next_reference(self.agency_id)
            self.inherent_score = self.inherent_likelihood * self.inherent_impact
            self.residual_score = (self.residual_likelihood * self.residual_impact
                                   if self.residual_likelihood and self.residual_impact else None)
            current = self.current_likelihood * self.current_impact if self.current_likelihood and self.current_impact \
                else None
            self.rating_score = current or self.inherent_score
            band = self.matrix.band_for(self.rating_score)
            self.rating = band["name"] if band else ""
            super().save(*args, **kwargs)

    @staticmethod
    def next_reference(agency_id) -> str:
        # Lock the agency's matrix row so two simultaneous creates cannot take the same number.
        RiskMatrix.objects.select_for_update().filter(agency_id=agency_id).first()
        numbers = Risk.objects.filter(agency_id=agency_id, reference__regex=r"^R-[0-9]+$").values_list(
            "reference", flat=True)
        highest = max((int(ref[2:]) for ref in numbers), default=0)
        return f"R-{highest + 1:04d}"



class RiskAcceptance(AgencyScopedModel):
    risk = models.ForeignKey(Risk, on_delete=models.CASCADE, related_name="acceptances", verbose_name=_("risk"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     editable=False, verbose_name=_("requested by"))
    rationale = LongTextField(_("rationale"))
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(_("status"), max_length=20, choices=RiskAcceptanceStatusChoices.choices,
                              default=RiskAcceptanceStatusChoices.REQUESTED)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name=_("approved by"))
    approved_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = LongTextField(_("decision note"), blank=True,
                                     help_text=_("The approver's reason, required when rejecting."))
    residual_score_at_decision = models.PositiveSmallIntegerField(_("score at decision"), null=True, blank=True)
    rating_at_decision = models.CharField(_("rating at decision"), max_length=50, blank=True)

    creator_field = "requested_by"
    create_only_fields = ("agency", "risk")  # an acceptance is a decision about one risk
    lifecycle = ACCEPTANCE_LIFECYCLE
    # The acceptance lapses the day after; before that the risk owner and the approvers (agency
    # admins) are reminded, and escalated to at the last threshold, to renew it or let it go.
    due_dates = (
        DueDate(field="valid_until", label=_("Risk acceptance ends"), owner="risk__owner", escalate=True,
                open=Q(status__in=[RiskAcceptanceStatusChoices.APPROVED,
                                   RiskAcceptanceStatusChoices.REAPPROVAL_REQUIRED])),
    )

    class Meta:
        ordering = ["-created"]
        verbose_name = _("risk acceptance")
        verbose_name_plural = _("risk acceptances")

    def __str__(self):
        return f"{self.risk.reference} acceptance until {self.valid_until:%Y-%m-%d}"

    def clean(self):
        errors = {}
        if self.risk_id and self.agency_id and self.risk.agency_id != self.agency_id:
            errors["risk"] = _("Choose a risk of the same agency.")
        elif self._state.adding and self.risk_id:
            if self.risk.status == RiskStatusChoices.CLOSED:
                errors["risk"] = _("This risk is closed; reopen it before requesting an acceptance.")
            elif self.risk.acceptances.filter(status__in=OPEN_ACCEPTANCE_STATES).exists():
                errors["risk"] = _("This risk already has an acceptance that is requested, approved or awaiting "
                                   "re-approval.")
        if self._state.adding and self.valid_until and self.valid_until <= timezone.localdate():
            errors["valid_until"] = _("An acceptance must be valid until a future date.")
        if errors:
            raise ValidationError(errors)

    def after_create(self, *, user):
        ask_for_approval(self, title=_("Risk %(ref)s: acceptance requested by %(user)s") % {
            "ref": self.risk.reference, "user": self.requested_by.get_username()}, body=self.rationale)
