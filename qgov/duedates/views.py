"""The due-soon page: everything due in the active agency, across all apps."""

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from qgov.duedates.api import type_choices
from qgov.duedates.selectors import due_items
from qgov.forms import style_form

WINDOWS = (7, 30, 90, 365)


class DueSoonFilterForm(forms.Form):
    within = forms.TypedChoiceField(label=_("Within"), coerce=int, required=False,
                                    choices=[(days, _("%(days)s days") % {"days": days}) for days in WINDOWS])
    type = forms.ChoiceField(label=_("Record type"), required=False)
    overdue = forms.TypedChoiceField(label=_("Overdue"), required=False, initial="yes",
                                     coerce=lambda value: value != "no",
                                     choices=[("yes", _("Included")), ("no", _("Left out"))])

    def __init__(self, *args, default_window: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.default_window = default_window
        if default_window not in WINDOWS:  # the agency's own warning window is offered too
            self.fields["within"].choices = sorted(
                [*self.fields["within"].choices, (default_window, _("%(days)s days") % {"days": default_window})])
        self.fields["within"].initial = default_window
        self.fields["type"].choices = [("", _("All")), *type_choices()]
        style_form(self)

    def values(self) -> dict:
        """The filter as asked, or its defaults where a value is missing or not on offer."""
        data = self.cleaned_data if self.is_valid() else {}
        return {"within_days": data.get("within") or self.default_window,
                "types": {data["type"]} if data.get("type") else None,
                "overdue": data.get("overdue", True) if self.data.get("overdue") else True}


class DueSoonView(LoginRequiredMixin, TemplateView):
    template_name = "qgov/due_soon.html"
    paginate_by = 100

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agency = self.request.agency
        if agency is None:
            return context
        form = DueSoonFilterForm(self.request.GET or None, default_window=agency.warning_window_days)
        query = form.values()
        items = due_items(user=self.request.user, agency=agency, **query)
        page = Paginator(items, self.paginate_by).get_page(self.request.GET.get("page"))
        context.update(form=form, page_obj=page, items=page.object_list, within_days=query["within_days"],
                       overdue_count=sum(1 for item in items if item.overdue), total=len(items))
        return context
