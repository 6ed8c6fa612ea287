"""Global catalogs: the due-diligence questionnaires and the post-quantum migration policies, and
which policy an agency adopted."""

import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from procurement.choices import (
    ReviewOutcomeChoices,
)
from procurement.models.common import MANAGE_CRYPTO_POLICY
from qgov.fields import LongTextField
from qgov.models import AgencyScopedModel, CatalogModel
from qgov.roles import Action


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
        # By name: the reviews' module imports this one.
        reviews = self._meta.apps.get_model("procurement", "DueDiligenceReview")
        used = reviews._base_manager.filter(questionnaire_id=self.pk).count() if changed else 0
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
