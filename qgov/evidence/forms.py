from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from qgov.evidence.content import allowed_extensions
from qgov.forms import style_form


class EvidenceUploadForm(forms.Form):
    file = forms.FileField(label=_("File"))
    description = forms.CharField(label=_("Description"), required=False, max_length=2000,
                                  widget=forms.TextInput)
    # Collection: when it differs from the upload (a log extract taken on site last week).
    collected_at = forms.DateTimeField(label=_("Collected at"), required=False,
                                       widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                       help_text=_("When the evidence was collected, if not at upload; not in the "
                                                   "future."))
    collected_by_name = forms.CharField(label=_("Collected by"), required=False, max_length=200,
                                        help_text=_("Who collected it, if not you."))
    location = forms.CharField(label=_("Where collected"), required=False, max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        extensions = allowed_extensions()
        self.fields["file"].widget.attrs["accept"] = ",".join(f".{ext}" for ext in extensions)
        self.fields["file"].help_text = _("%(types)s; at most %(size)s.") % {
            "types": ", ".join(extensions), "size": filesizeformat(settings.QGOV_EVIDENCE_MAX_BYTES)}
        style_form(self)


class EvidenceHandoverForm(forms.Form):
    to_user = forms.ModelChoiceField(label=_("Hand over to"), queryset=None)
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Why custody changes hands."))
    location = forms.CharField(label=_("Where"), required=False, max_length=200,
                               help_text=_("Where it was handed over, or where the original medium went."))
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = candidates
        style_form(self)


class EvidenceWithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)
