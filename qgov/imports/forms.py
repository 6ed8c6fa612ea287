from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from qgov.forms import style_form
from qgov.imports.parsers import supported_extensions


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File"))

    def __init__(self, *args, document=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)
        if document is not None:  # one document format (qgov.imports.documents)
            self.fields["file"].widget.attrs["accept"] = ",".join(document.extensions)
            self.fields["file"].help_text = _("%(label)s (%(formats)s); at most %(size)s.") % {
                "label": document.label, "formats": ", ".join(document.extensions),
                "size": filesizeformat(settings.QGOV_IMPORT_MAX_BYTES)}
            return
        self.fields["file"].widget.attrs["accept"] = ",".join(supported_extensions())
        self.fields["file"].help_text = _("%(formats)s; at most %(size)s and %(rows)s rows.") % {
            "formats": ", ".join(supported_extensions()), "size": filesizeformat(settings.QGOV_IMPORT_MAX_BYTES),
            "rows": settings.QGOV_IMPORT_MAX_ROWS}
