from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from qgov.forms import style_form
from qgov.imports.parsers import supported_extensions


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ",".join(supported_extensions())
        self.fields["file"].help_text = _("%(formats)s; at most %(size)s and %(rows)s rows.") % {
            "formats": ", ".join(supported_extensions()), "size": filesizeformat(settings.QGOV_IMPORT_MAX_BYTES),
            "rows": settings.QGOV_IMPORT_MAX_ROWS}
        style_form(self)
