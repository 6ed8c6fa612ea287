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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        extensions = allowed_extensions()
        self.fields["file"].widget.attrs["accept"] = ",".join(f".{ext}" for ext in extensions)
        self.fields["file"].help_text = _("%(types)s; at most %(size)s.") % {
            "types": ", ".join(extensions), "size": filesizeformat(settings.QGOV_EVIDENCE_MAX_BYTES)}
        style_form(self)


class EvidenceHandoverForm(forms.Form):
    to_user = forms.ModelChoiceField(label=_("Hand over to"), queryset=None)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=_("E.g. why, or where the original medium went."))

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].queryset = candidates
        style_form(self)


class EvidenceWithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)
