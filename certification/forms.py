import json

from django import forms
from django.utils.translation import gettext_lazy as _

from certification.choices import SchemeKindChoices
from certification.models import (
    Device,
    DeviceCertification,
    Person,
    PersonnelAccreditation,
    Recognition,
    RecognitionArrangement,
    RequiredScheme,
    Scheme,
)
from qgov.forms import QgovModelForm


class SchemeLevelSelect(forms.Select):
    """The levels of every offered scheme, grouped by scheme; `levels.js` narrows them to the
    chosen scheme's. Without JavaScript the groups still say which level belongs where, and the
    model's validation refuses a level the chosen scheme does not have."""

    def __init__(self, schemes, scheme_field, attrs=None):
        schemes = list(schemes)
        super().__init__(attrs, choices=[("", "—"), *((s.code, [(level, level) for level in s.levels])
                                                       for s in schemes)])
        self.attrs.update({
            "data-scheme-field": scheme_field,
            "data-levels": json.dumps({str(s.pk): s.levels for s in schemes}),
        })

    class Media:
        js = ("certification/levels.js",)


class SchemeLevelFormMixin:
    """A scheme select limited to one kind of scheme, and the level field as a select of that
    scheme's levels."""

    scheme_kind: str | None = None  # None: every scheme
    level_field = "level"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scheme_field = self.fields["scheme"]
        if self.scheme_kind is not None:
            scheme_field.queryset = scheme_field.queryset.filter(kind=self.scheme_kind)
        level = self.fields[self.level_field]
        level.widget = SchemeLevelSelect(scheme_field.queryset.only("pk", "code", "levels"),
                                         scheme_field=self.add_prefix("scheme"), attrs={"class": "form-select"})
        level.help_text = _("The levels offered are the chosen scheme's.")


class SchemeForm(QgovModelForm):
    class Meta:
        model = Scheme
        fields = ["code", "name", "kind", "family", "issuing_body", "jurisdictions", "levels", "validity_rule",
                  "validity_years", "interim_validity_years", "description", "citations", "unverified"]


class RecognitionArrangementForm(QgovModelForm):
    class Meta:
        model = RecognitionArrangement
        fields = ["code", "name", "member_jurisdictions", "description", "citations", "unverified"]


class RecognitionForm(QgovModelForm):
    class Meta:
        model = Recognition
        fields = ["arrangement", "scheme", "max_level", "conditions"]


class DeviceForm(QgovModelForm):
    class Meta:
        model = Device
        fields = ["name", "kind", "vendor", "model", "serial", "firmware_version", "firmware_sha256", "site",
                  "end_of_support", "owner", "assets", "notes"]
        widgets = {"assets": forms.SelectMultiple(attrs={"size": 6})}
        help_texts = {"assets": _("The QKD links, trusted nodes and systems that depend on it. "
                                  "Type to search; choose as many as apply.")}


class DeviceCertificationForm(SchemeLevelFormMixin, QgovModelForm):
    scheme_kind = SchemeKindChoices.DEVICE

    class Meta:
        model = DeviceCertification
        fields = ["device", "scheme", "level", "certificate_id", "evaluation_lab", "protection_profile",
                  "product_version", "firmware_version", "firmware_sha256", "interim", "issued", "expires",
                  "review_due", "notes"]


class PersonForm(QgovModelForm):
    class Meta:
        model = Person
        fields = ["name", "email", "user", "role", "unit", "active", "notes"]


class PersonnelAccreditationForm(SchemeLevelFormMixin, QgovModelForm):
    scheme_kind = SchemeKindChoices.PERSONNEL

    class Meta:
        model = PersonnelAccreditation
        fields = ["person", "scheme", "level", "credential_id", "issued", "expires", "review_due", "notes"]


class RequiredSchemeForm(SchemeLevelFormMixin, QgovModelForm):
    level_field = "min_level"

    class Meta:
        model = RequiredScheme
        fields = ["scheme", "min_level", "device_kind", "personnel_role", "notes"]
        help_texts = {"device_kind": _("Either a device kind…"), "personnel_role": _("…or a personnel role.")}
