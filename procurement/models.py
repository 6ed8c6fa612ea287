"""Procurement: who the agency buys from (suppliers and their due-diligence reviews, answered by the
supplier through a one-time portal link), what it bought (components, with their provenance and the
cryptography inside them, from CycloneDX SBOM/CBOM files), the contracts that bind them, and the
post-quantum migration policy that sets when quantum-vulnerable cryptography must go."""

import calendar
import datetime
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from procurement.choices import (
    AnswerChoices,
    AuthenticityResultChoices,
    ContractStatusChoices,
    CriticalityChoices,
    CryptoAssetTypeChoices,
    CryptoPrimitiveChoices,
    KeyStateChoices,
    OpenInterfaceChoices,
    PortalLinkStatusChoices,
    ReviewOutcomeChoices,
    ReviewStatusChoices,
    SupplierStatusChoices,
)
from procurement.lifecycles import CONTRACT_LIFECYCLE, REVIEW_LIFECYCLE, SUPPLIER_LIFECYCLE
from qgov.duedates import DueDate
from qgov.fields import LongTextField, MemberField
from qgov.models import AgencyScopedModel, CatalogModel
from qgov.roles import Action

COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
FIRMWARE_HASH = re.compile(r"^(?:[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$")

# Only agency admins choose the migration policy that dates every component.
MANAGE_CRYPTO_POLICY = "manage_crypto_policy"


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, or the last day of that month (31 January + 1 → 28 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, min(day.day, last))


def clean_country(value: str) -> str:
    value = (value or "").strip().upper()
    if value and not COUNTRY_CODE.match(value):
        raise ValidationError(_("Give the ISO 3166-1 alpha-2 code, e.g. DE or JP."), code="invalid")
    return value


# --- catalogs --------------------------------------------------------------------------------------

class Questionnaire(CatalogModel):
    """One version of the supplier due-diligence questionnaire: questions with weights (totalling
    100), the escalation rule and the outcome bands. A new version is a new row; reviews keep the
    version they were made with, and once one does, what it was answered and scored against can no
    longer change (`SCORED_FIELDS`, refused by `clean()` on every write path)."""

    # What a review is answered and scored against, and what names the version: changing one under
    # a review would silently re-score open reviews and rewrite the questions of submitted ones. The
    # title, description, citations and "not verified" note only describe the version (a typo, a
    # better source) and stay correctable.
    SCORED_FIELDS = ("code", "series", "edition", "questions", "escalation", "outcome_bands")

    code = models.CharField(_("code"), max_length=40, unique=True, help_text=_("e.g. QKD-SCRM-1"))
    series = models.SlugField(_("series"), max_length=40,
                              help_text=_("Versions of one questionnaire share the series."))
    edition = models.PositiveSmallIntegerField(_("edition"), help_text=_("1 for the first version of the series."))
    title = models.CharField(_("title"), max_length=200)
    description = LongTextField(_("description"), blank=True)
    questions = models.JSONField(
        _("questions"),
        help_text=_('[{"code": "Q1", "text": "…", "weight": 8, "guidance": "…", "citations": ["…"]}, …]; '
                    "weights total 100."))
    escalation = models.JSONField(
        _("escalation rule"), default=dict, blank=True,
        help_text=_('{"criticality": ["critical"], "questions": ["Q1", "Q6", "Q8"]}: an "unknown" answer to one '
                    "of these questions from a supplier of one of these criticalities escalates the review."))
    outcome_bands = models.JSONField(
        _("outcome bands"),
        help_text=_('[{"min_score": 75, "outcome": "approve"}, {"min_score": 50, "outcome": "conditional"}, '
                    '{"min_score": 0, "outcome": "reject"}], highest first.'))
    citations = models.JSONField(_("citations"), default=list, blank=True)
    unverified = LongTextField(_("not verified"), blank=True)

    class Meta:
        ordering = ["series", "-edition"]
        constraints = [models.UniqueConstraint(fields=["series", "edition"], name="questionnaire_unique_edition")]
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")

    def __str__(self):
        return f"{self.title} (v{self.edition})"

    def question_codes(self) -> list[str]:
        return [question["code"] for question in self.questions or ()]

    def clean(self):
        errors = {}
        questions = self.questions if isinstance(self.questions, list) else None
        if not questions:
            errors["questions"] = _("List the questions.")
        else:
            codes = [q.get("code") if isinstance(q, dict) else None for q in questions]
            if None in codes or any(not isinstance(q.get("weight"), int) or q["weight"] <= 0 or not q.get("text")
                                    for q in questions):
                errors["questions"] = _("Each question needs a code, a text and a positive whole weight.")
            elif len(set(codes)) != len(codes):
                errors["questions"] = _("Question codes must be unique.")
            elif sum(q["weight"] for q in questions) != 100:
                errors["questions"] = _("The weights total %(total)s; they must total 100.") % {
                    "total": sum(q["weight"] for q in questions)}
            unknown = set((self.escalation or {}).get("questions", ())) - set(codes)
            if unknown and "questions" not in errors:
                errors["escalation"] = _("The escalation rule names questions the questionnaire does not have: "
                                         "%(codes)s.") % {"codes": ", ".join(sorted(unknown))}
        bands = self.outcome_bands if isinstance(self.outcome_bands, list) else []
        outcomes = set(ReviewOutcomeChoices.values)
        if (not bands or any(b.get("outcome") not in outcomes or not isinstance(b.get("min_score"), int | float)
                             for b in bands) or min(b.get("min_score", 1) for b in bands) != 0):
            errors["outcome_bands"] = _("Give outcome bands with a minimum score each, the lowest at 0.")
        for name, message in self.in_use_changes().items():
            errors.setdefault(name, message)
        if errors:
            raise ValidationError(errors)

    def in_use_changes(self) -> dict[str, str]:
        """{field: why it cannot change} for each of the SCORED_FIELDS changed from the stored row
        while reviews use this version; empty when nothing of the sort."""
        if self.pk is None:
            return {}
        stored = Questionnaire._base_manager.filter(pk=self.pk).values(*self.SCORED_FIELDS).first()
        changed = [name for name in self.SCORED_FIELDS if stored is not None and getattr(self, name) != stored[name]]
        used = DueDiligenceReview._base_manager.filter(questionnaire_id=self.pk).count() if changed else 0
        if not used:
            return {}
        message = ngettext(
            "Edition %(edition)s of %(code)s is used by %(count)s review; publish a new edition instead.",
            "Edition %(edition)s of %(code)s is used by %(count)s reviews; publish a new edition instead.",
            used) % {"edition": stored["edition"], "code": stored["code"], "count": used}
        return dict.fromkeys(changed, message)


class CryptoPolicy(CatalogModel):
    """A post-quantum migration policy (NIST IR 8547 draft, CNSA 2.0, the EU roadmap, NCSC): the date
    by which each quantum-vulnerable component must be replaced.

    `deadlines` are rules, the first that matches a component wins:
    `[{"date": "2030-12-31", "label": "…", "classical_bits_at_most": 112}, {"date": "2035-12-31", "label": "…"}]`.
    A rule may require `classical_bits_at_most` (the component's classical security level),
    `primitives` (its CycloneDX primitive) or `harvestable_asset` (it protects an asset exposed to
    harvest-now-decrypt-later); the last rule should have no condition."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    issuer = models.CharField(_("issuer"), max_length=200)
    description = LongTextField(_("description"), blank=True)
    deadlines = models.JSONField(_("deadline rules"))
    milestones = models.JSONField(_("milestones"), default=list, blank=True,
                                  help_text=_('[{"date": "2027-01-01", "label": "…"}]: shown, not applied.'))
    citations = models.JSONField(_("citations"), default=list, blank=True)
    unverified = LongTextField(_("not verified"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("crypto policy")
        verbose_name_plural = _("crypto policies")

    def __str__(self):
        return self.name

    def clean(self):
        rules = self.deadlines if isinstance(self.deadlines, list) else []
        try:
            for rule in rules:
                datetime.date.fromisoformat(rule["date"])
        except (KeyError, TypeError, ValueError):
            rules = []
        if not rules:
            raise ValidationError({"deadlines": _('Give deadline rules, each with an ISO "date".')})

    def deadline_for(self, component) -> tuple[datetime.date, str] | None:
        """(date, label) of the first rule that matches `component`; None when none does."""
        return deadline_rule_match(self.deadlines, component)


def deadline_rule_match(rules, component) -> tuple[datetime.date, str] | None:
    """(date, label) of the first of a policy's deadline `rules` that matches `component`; None when
    none does. Reads only fields, so the data migrations can call it on historical models."""
    for rule in rules:
        bits = rule.get("classical_bits_at_most")
        if bits is not None and (component.classical_security_level is None
                                 or component.classical_security_level > bits):
            continue
        if rule.get("primitives") and component.primitive not in rule["primitives"]:
            continue
        if rule.get("harvestable_asset") and not (component.asset_id and component.asset.harvestable):
            continue
        return datetime.date.fromisoformat(rule["date"]), rule.get("label", "")
    return None


DEFAULT_CRYPTO_POLICY = "NIST-IR-8547"


class CryptoPolicyAdoption(AgencyScopedModel):
    """The migration policy an agency follows; without one, NIST IR 8547 (draft) applies."""

    policy = models.ForeignKey(CryptoPolicy, on_delete=models.PROTECT, related_name="adoptions",
                               verbose_name=_("policy"))
    adopted_on = models.DateField(_("adopted on"))
    notes = LongTextField(_("notes"), blank=True)

    action_map = {Action.ADD: MANAGE_CRYPTO_POLICY, Action.CHANGE: MANAGE_CRYPTO_POLICY,
                  Action.DELETE: MANAGE_CRYPTO_POLICY}

    class Meta:
        ordering = ["agency"]
        constraints = [models.UniqueConstraint(fields=["agency"], name="cryptopolicyadoption_one_per_agency")]
        verbose_name = _("crypto policy adoption")
        verbose_name_plural = _("crypto policy adoptions")

    def __str__(self):
        return str(self.policy)


# --- suppliers and due diligence -------------------------------------------------------------------

class Supplier(AgencyScopedModel):
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country of registration"), max_length=2,
                               help_text=_("ISO 3166-1 alpha-2 code, e.g. CH."))
    criticality = models.CharField(_("criticality"), max_length=10, choices=CriticalityChoices.choices,
                                   default=CriticalityChoices.MEDIUM)
    beneficial_ownership = LongTextField(_("beneficial ownership"), blank=True)
    foreign_control_notes = LongTextField(
        _("foreign ownership, control or influence"), blank=True,
        help_text=_("Any foreign government ownership, control or influence, and jurisdictions able to compel "
                    "access to keys, data or code."))
    export_control_notes = LongTextField(
        _("export control"), blank=True,
        help_text=_("Classification (e.g. Wassenaar Cat. 5 Pt. 2, ECCN 5A002) and the licences held."))
    contact_name = models.CharField(_("contact name"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True,
                                      help_text=_("Where questionnaires are sent by default."))
    owner = MemberField(verbose_name=_("owner"))
    status = models.CharField(_("status"), max_length=20, choices=SupplierStatusChoices.choices,
                              default=SupplierStatusChoices.CANDIDATE)
    status_note = LongTextField(_("status note"), blank=True)
    # From the latest submitted due-diligence review (procurement.services.review_submit).
    rating_score = models.DecimalField(_("rating"), max_digits=4, decimal_places=1, null=True, blank=True,
                                       editable=False, help_text=_("Score of the latest submitted review (0–100)."))
    rating_outcome = models.CharField(_("rating outcome"), max_length=20, choices=ReviewOutcomeChoices.choices,
                                      blank=True, editable=False)
    rated_on = models.DateField(_("rated on"), null=True, blank=True, editable=False)
    notes = LongTextField(_("notes"), blank=True)

    lifecycle = SUPPLIER_LIFECYCLE
    accepts_evidence = True  # ownership filings, export licences, audit reports

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["agency", "name"], name="supplier_unique_name_per_agency")]
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        try:
            self.country = clean_country(self.country)
        except ValidationError as error:
            errors["country"] = error.messages
        self.name = (self.name or "").strip()
        if self.agency_id and self.name and Supplier._base_manager.filter(
                agency_id=self.agency_id, name__iexact=self.name).exclude(pk=self.pk).exists():
            errors["name"] = [_("This agency already has a supplier named %(name)s.") % {"name": self.name}]
        if errors:
            raise ValidationError(errors)


class DueDiligenceReview(AgencyScopedModel):
    """One due-diligence review of a supplier against one questionnaire version. Submitted reviews
    are frozen; the next review supersedes the last, never overwrites it."""

    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="reviews",
                                 verbose_name=_("supplier"))
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="+",
                                      verbose_name=_("questionnaire"))
    reviewer = MemberField(verbose_name=_("reviewer"))
    status = models.CharField(_("status"), max_length=20, choices=ReviewStatusChoices.choices,
                              default=ReviewStatusChoices.DRAFT)
    status_note = LongTextField(_("status note"), blank=True)
    score = models.DecimalField(_("score"), max_digits=4, decimal_places=1, null=True, blank=True,
                                help_text=_("Σ weight × points / 2, from 0 to 100."))
    outcome = models.CharField(_("outcome"), max_length=20, choices=ReviewOutcomeChoices.choices, blank=True)
    escalation_reasons = models.JSONField(_("escalation reasons"), default=list, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("submitted by"))
    supersedes = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="superseded_by", verbose_name=_("supersedes"))
    conclusion = LongTextField(_("reviewer's conclusion"), blank=True)
    next_review_due = models.DateField(_("next review due"), null=True, blank=True)

    create_only_fields = ("agency", "supplier", "questionnaire")
    lifecycle = REVIEW_LIFECYCLE
    accepts_evidence = True
    due_dates = (
        # Only the current review of a supplier still in business is chased.
        DueDate(field="next_review_due", label=_("Supplier review due"), owner="supplier__owner", escalate=True,
                open=lambda: Q(status=ReviewStatusChoices.SUBMITTED) & ~Q(
                    supplier__status=SupplierStatusChoices.EXITED)),
    )

    class Meta:
        ordering = ["-created", "pk"]
        verbose_name = _("due-diligence review")
        verbose_name_plural = _("due-diligence reviews")

    def __str__(self):
        return f"{self.supplier} — {self.questionnaire.code} ({self.created:%Y-%m-%d})" if self.created else str(
            self.supplier)

    def clean(self):
        if self.supplier_id and self.agency_id and self.supplier.agency_id != self.agency_id:
            raise ValidationError({"supplier": _("Choose a supplier of this agency.")})

    def after_create(self, *, user):
        from procurement.services import review_answers_create

        review_answers_create(self)


class DueDiligenceAnswer(AgencyScopedModel):
    """The supplier's answer to one question of a review, rated by how well it is evidenced."""

    review = models.ForeignKey(DueDiligenceReview, on_delete=models.CASCADE, related_name="answers",
                               verbose_name=_("review"))
    question = models.CharField(_("question"), max_length=10)
    answer = models.CharField(_("answer"), max_length=20, choices=AnswerChoices.choices,
                              default=AnswerChoices.UNKNOWN)
    comment = LongTextField(_("comment"), blank=True)

    create_only_fields = ("agency", "review", "question")
    accepts_evidence = True
    # Set by the supplier portal's save (procurement.services.portal_answers_save) on the rows it
    # writes: while a review is with the supplier, only the supplier changes its answers. Every other
    # write (the generic services behind the API and the pages, the reviewer's answers service)
    # leaves it False and is refused then.
    written_at_portal = False

    class Meta:
        ordering = ["review", "pk"]
        constraints = [models.UniqueConstraint(fields=["review", "question"], name="duediligenceanswer_unique")]
        verbose_name = _("due-diligence answer")
        verbose_name_plural = _("due-diligence answers")

    def __str__(self):
        return f"{self.question}: {self.get_answer_display()}"

    def clean(self):
        errors = {}
        if self.review_id:
            review = self.review
            if self.agency_id and review.agency_id != self.agency_id:
                errors["review"] = _("Choose a review of this agency.")
            if self.question not in review.questionnaire.question_codes():
                errors["question"] = _("%(code)s is not a question of %(questionnaire)s.") % {
                    "code": self.question, "questionnaire": review.questionnaire}
            self._refuse_if_locked(review, at_portal=self.written_at_portal)
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def _refuse_if_locked(review, *, at_portal=False):
        # A submitted review is scored on these answers: they are frozen with it, whoever writes. A
        # review with the supplier is theirs to answer: the agency's side waits or recalls it.
        from procurement.services import answers_locked_message

        message = answers_locked_message(review, at_portal=at_portal)
        if message:
            raise ValidationError(message, code="locked")

    def clean_delete(self):
        self._refuse_if_locked(self.review)


class PortalLink(models.Model):
    """A one-time link by which a supplier contact answers one review without an account. Only the
    SHA-256 of the token is kept; the link is shown once, to the reviewer who sends it."""

    review = models.ForeignKey(DueDiligenceReview, on_delete=models.CASCADE, related_name="portal_links",
                               verbose_name=_("review"))
    contact_name = models.CharField(_("contact name"), max_length=200)
    contact_email = models.EmailField(_("contact e-mail"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=20, choices=PortalLinkStatusChoices.choices,
                              default=PortalLinkStatusChoices.ACTIVE)
    created = models.DateTimeField(_("sent"), auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("sent by"))
    expires_at = models.DateTimeField(_("expires"))
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("portal link")
        verbose_name_plural = _("portal links")

    def __str__(self):
        return f"{self.contact_email} ({self.get_status_display()})"

    @property
    def owning_agency_id(self):  # its audit events go to the review's agency chain
        return self.review.agency_id


# --- components ------------------------------------------------------------------------------------

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


# --- contracts -------------------------------------------------------------------------------------

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


__all__ = ["Questionnaire", "CryptoPolicy", "CryptoPolicyAdoption", "Supplier", "DueDiligenceReview",
           "DueDiligenceAnswer", "PortalLink", "Component", "Contract"]
