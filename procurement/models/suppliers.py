"""Suppliers, their due-diligence reviews and answers, and the one-time portal links reviews are answered through."""


from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from procurement.choices import (
    AnswerChoices,
    CriticalityChoices,
    PortalLinkStatusChoices,
    ReviewOutcomeChoices,
    ReviewStatusChoices,
    SupplierStatusChoices,
)
from procurement.lifecycles import REVIEW_LIFECYCLE, SUPPLIER_LIFECYCLE
from procurement.models.catalogs import Questionnaire
from procurement.models.common import clean_country
from qgov.duedates import DueDate
from qgov.fields import LongTextField, MemberField
from qgov.models import AgencyScopedModel


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
