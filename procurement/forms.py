from django import forms
from django.utils.translation import gettext_lazy as _

from procurement.choices import AnswerChoices, CriticalityChoices, OpenInterfaceChoices, ReviewOutcomeChoices
from procurement.models import (
    Component,
    Contract,
    CryptoPolicy,
    CryptoPolicyAdoption,
    DueDiligenceAnswer,
    DueDiligenceReview,
    Questionnaire,
    Supplier,
)
from procurement.services import COMMENT_MAX_LENGTH, REVIEWER_ANSWER_STATES
from qgov.autocomplete import pick_widget, scoped_choices
from qgov.forms import QgovModelForm, style_form

OUTCOME_LABELS = ReviewOutcomeChoices.choices
CRITICALITY_LABELS = CriticalityChoices.choices


class QuestionnaireForm(QgovModelForm):
    class Meta:
        model = Questionnaire
        fields = ["code", "series", "edition", "title", "description", "questions", "escalation", "outcome_bands",
                  "citations", "unverified"]


class CryptoPolicyForm(QgovModelForm):
    class Meta:
        model = CryptoPolicy
        fields = ["code", "name", "issuer", "description", "deadlines", "milestones", "citations", "unverified"]


class CryptoPolicyAdoptionForm(QgovModelForm):
    class Meta:
        model = CryptoPolicyAdoption
        fields = ["policy", "adopted_on", "notes"]


class SupplierForm(QgovModelForm):
    class Meta:
        model = Supplier
        fields = ["name", "country", "criticality", "owner", "contact_name", "contact_email", "beneficial_ownership",
                  "foreign_control_notes", "export_control_notes", "notes"]


class DueDiligenceReviewForm(QgovModelForm):
    class Meta:
        model = DueDiligenceReview
        fields = ["supplier", "questionnaire", "reviewer", "conclusion"]


class DueDiligenceAnswerForm(QgovModelForm):
    class Meta:
        model = DueDiligenceAnswer
        fields = ["review", "question", "answer", "comment"]


class ComponentForm(QgovModelForm):
    class Meta:
        model = Component
        fields = ["name", "component_type", "supplier", "part_number", "component_version", "purl", "origin_country",
                  "firmware_sha256", "authenticity_method", "authenticity_checked_on", "authenticity_result",
                  "device", "asset", "crypto_asset_type", "primitive", "algorithm", "parameter_set_identifier",
                  "classical_security_level", "nist_quantum_security_level", "certification_level", "key_state",
                  "risks", "notes"]
        help_texts = {"risks": _("The register risks this component raises. Type to search; choose as many as "
                                 "apply.")}


class ComponentRiskLinkForm(forms.Form):
    """Picks one of the agency's register risks to link to a component (the same picker as the
    component form's: a select when the register is short, search-as-you-type when it is long)."""

    risk = forms.ModelChoiceField(label=_("Register risk"), queryset=None)

    def __init__(self, *args, user, agency, **kwargs):
        from risks.models import Risk

        super().__init__(*args, **kwargs)
        field = self.fields["risk"]
        field.queryset = scoped_choices(Risk.objects.order_by("reference"), user, agency)
        pick_widget(field)
        style_form(self)


class ContractForm(QgovModelForm):
    # A choice of the known interfaces, stored as the list the model validates (not free JSON).
    open_interfaces = forms.MultipleChoiceField(
        label=_("Open-interface commitments"), choices=OpenInterfaceChoices.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Standard interfaces the supplier commits to support; name any other in the notes."))

    class Meta:
        model = Contract
        fields = ["supplier", "reference", "title", "owner", "devices", "assets", "value", "currency", "start", "end",
                  "sunset_date", "reevaluation_months", "next_reevaluation", "open_interfaces",
                  "multi_vendor_terms", "escrow_terms", "exit_plan", "notes"]
        widgets = {"devices": forms.SelectMultiple(attrs={"size": 6}),
                   "assets": forms.SelectMultiple(attrs={"size": 6})}
        help_texts = {"assets": _("Type to search; choose as many as apply.")}


class ReviewAnswersForm(forms.Form):
    """The review's questionnaire as one form: an answer (unknown / partial / evidenced) and a comment
    per question. `items()` is what the answers service takes, as the API sends it."""

    def __init__(self, review, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.review = review
        current = {answer.question: answer for answer in review.answers.all()}
        frozen = review.status not in REVIEWER_ANSWER_STATES
        for question in review.questionnaire.questions or ():
            code, answer = question["code"], current.get(question["code"])
            self.fields[self.answer_name(code)] = forms.ChoiceField(
                label=f"{code}. {question['text']}", choices=AnswerChoices.choices, widget=forms.RadioSelect,
                initial=answer.answer if answer else AnswerChoices.UNKNOWN, disabled=frozen)
            self.fields[self.comment_name(code)] = forms.CharField(
                label=_("Comment on %(code)s") % {"code": code}, required=False, max_length=COMMENT_MAX_LENGTH,
                initial=answer.comment if answer else "", disabled=frozen,
                widget=forms.Textarea(attrs={"rows": 2, "class": "form-control form-control-sm"}))

    @staticmethod
    def answer_name(code: str) -> str:
        return f"{code}-answer"

    @staticmethod
    def comment_name(code: str) -> str:
        return f"{code}-comment"

    def items(self) -> list[dict]:
        return [{"question": q["code"], "answer": self.cleaned_data[self.answer_name(q["code"])],
                 "comment": self.cleaned_data[self.comment_name(q["code"])]}
                for q in self.review.questionnaire.questions or ()]

    def add_error(self, field, error):
        # The service keys item errors "<index>.<field>"; show them at the question's own field.
        from django.core.exceptions import ValidationError

        if field is None and isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            codes = [q["code"] for q in self.review.questionnaire.questions or ()]
            for key, messages in error.error_dict.items():
                index, _dot, name = key.partition(".")
                if index.isdigit() and int(index) < len(codes):
                    target = (self.comment_name if name == "comment" else self.answer_name)(codes[int(index)])
                    super().add_error(target, messages)
                else:
                    super().add_error(None, messages)
            return
        super().add_error(field, error)
