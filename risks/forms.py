from django import forms
from django.utils.translation import gettext_lazy as _

from qgov.forms import QgovModelForm
from risks.choices import AssetProtectsChoices
from risks.models import Asset, Control, Risk, RiskAcceptance, RiskMatrix, ThreatVector


class ThreatVectorForm(QgovModelForm):
    class Meta:
        model = ThreatVector
        fields = ["code", "title", "category", "description", "default_likelihood", "default_impact", "rationale",
                  "citations"]


class RiskMatrixForm(QgovModelForm):
    class Meta:
        model = RiskMatrix
        fields = ["name", "size", "likelihood_labels", "impact_labels", "bands", "z_optimistic", "z_central",
                  "policy_deadline_year"]


class AssetForm(QgovModelForm):
    class Meta:
        model = Asset
        fields = ["name", "asset_type", "description", "owner", "criticality", "shelf_life_years", "migration_years",
                  "protects", "harvestable"]

    def clean(self):
        cleaned = super().clean()
        # As in the API: a box left as it was follows what the asset protects, so choosing "integrity
        # only" on a new asset does not trip over the ticked default; a box the user ticked is checked.
        if cleaned.get("protects") == AssetProtectsChoices.INTEGRITY and "harvestable" not in self.changed_data:
            cleaned["harvestable"] = False
        return cleaned


class ControlForm(QgovModelForm):
    class Meta:
        model = Control
        fields = ["title", "description", "control_type", "status", "owner", "due_date", "effectiveness"]


RATING_FIELDS = [f"{kind}_{axis}" for kind in ("inherent", "current", "residual") for axis in ("likelihood", "impact")]


class RiskForm(QgovModelForm):
    class Meta:
        model = Risk
        fields = ["reference", "title", "description", "threat_vectors", "assets", "controls", "owner",
                  *RATING_FIELDS, "treatment", "review_date", "status"]
        widgets = {"threat_vectors": forms.SelectMultiple(attrs={"size": 8})}
        help_texts = {name: _("Type to search; choose as many as apply.")
                      for name in ("threat_vectors", "assets", "controls")}

    def clean_review_date(self):
        value = self.cleaned_data["review_date"]
        error = Risk.past_review_error(value) if self.instance._state.adding else None
        if error:
            raise forms.ValidationError(error)
        return value

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        matrix = RiskMatrix.objects.filter(agency=self.agency).first() if self.agency else None
        if matrix is None:
            return
        # Levels offered are the agency matrix's, with their names.
        for name in RATING_FIELDS:
            labels = matrix.likelihood_labels if name.endswith("likelihood") else matrix.impact_labels
            field = self.fields[name]
            self.fields[name] = forms.TypedChoiceField(
                label=field.label, required=field.required, coerce=int, empty_value=None,
                choices=[("", "—"), *((level, f"{level} · {label}")
                                      for level, label in zip(matrix.levels, labels, strict=True))],
                widget=forms.Select(attrs={"class": "form-select"}))


class RiskAcceptanceForm(QgovModelForm):
    class Meta:
        model = RiskAcceptance
        fields = ["risk", "rationale", "valid_until"]
        help_texts = {"valid_until": _("The acceptance lapses after this date and the risk reopens.")}
