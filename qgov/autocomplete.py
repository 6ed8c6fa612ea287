"""Record pickers for large relations: a filter or form field over thousands of records (assets,
devices, people) renders only its chosen values and looks the others up as the user types, from
one JSON endpoint scoped exactly as the field's choices are (`scoped_choices`).

Without JavaScript the field is a text box of record ids ("12" or "12, 40"); static/qgov/
autocomplete.js turns it into a Tom Select box that searches `/autocomplete/<app>/<model>/?q=`."""

import json

from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View

from qgov.fields import members_of
from qgov.models import AgencyScopedModel
from qgov.permissions import user_can
from qgov.roles import Action

# A relation with more choices than this is picked by typing rather than from a select.
CHOICES_LIMIT = 100
RESULTS_LIMIT = 20
# Fields a typed term is matched against, when the model does not name its own (`autocomplete_fields`).
LABEL_FIELDS = ("reference", "code", "name", "title", "username", "first_name", "last_name")


def scoped_choices(queryset, user, agency, *, membership_subquery=False):
    """The records of `queryset` a user may pick: those they may view (`restrict`), of the active
    agency in the browser; people are the agency's members. None when there is no rule for the
    model (the queryset is then left as declared).

    In a page, whose permission checks have read the user's memberships already, the active
    agency's records are chosen by that agency alone; `membership_subquery` keeps restrict()'s
    subquery instead, for a request that has not read them (one query rather than two)."""
    if queryset.model is get_user_model():
        return members_of(user, agency)
    if not hasattr(queryset, "restrict"):
        return None
    model = queryset.model
    if agency and issubclass(model, AgencyScopedModel):  # (a lazy None is not "None")
        if (not membership_subquery and not getattr(model, "shared_without_agency", False)
                and user_can(user, agency.pk, Action.VIEW, model)):
            # The active agency's records, which the user may view: restrict()'s subquery of the
            # user's memberships would only repeat it, and beside it SQLite's planner scans and
            # sorts every record instead of walking the (agency, name) index for the first few.
            return queryset.in_agency(agency)
        return queryset.restrict(user, Action.VIEW).in_agency(agency)
    return queryset.restrict(user, Action.VIEW)


def autocomplete_url(model) -> str:
    return reverse("qgov:autocomplete", args=[model._meta.app_label, model._meta.model_name])


def _ids(values) -> list[int]:
    ids = []
    for value in values:
        text = str(getattr(value, "pk", value)).strip()
        if text.isascii() and text.isdigit() and 1 <= int(text) < 2**63:
            ids.append(int(text))
    return list(dict.fromkeys(ids))


class AutocompleteInput(forms.TextInput):
    """A text box of record ids that autocomplete.js makes a search-as-you-type picker. It renders
    the labels of the chosen records only (one query, none when nothing is chosen)."""

    def __init__(self, field, *, url, multiple, attrs=None):
        super().__init__(attrs)
        self.field, self.url, self.multiple = field, url, multiple

    def __deepcopy__(self, memo):
        copy = super().__deepcopy__(memo)
        copy.field = self.field  # the field (and its scoped queryset) is shared, never copied
        return copy

    def value_from_datadict(self, data, files, name):
        # "12, 40" from the text box, or ?asset=12&asset=40 from links: the same ids.
        raw = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        values = [part.strip() for value in raw if value for part in str(value).split(",") if part.strip()]
        if self.multiple:
            return values
        return values[0] if values else None

    def format_value(self, value):
        values = value if isinstance(value, list | tuple) else [value] if value not in (None, "") else []
        return ", ".join(str(getattr(v, "pk", v)) for v in values) or None

    def chosen(self, value) -> list[dict]:
        values = value if isinstance(value, list | tuple) else [value]
        ids = _ids(v for v in values if v not in (None, ""))
        if not ids:
            return []
        field = self.field
        return [{"id": record.pk, "text": field.label_from_instance(record)}
                for record in field.queryset.filter(pk__in=ids)]

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        widget_attrs.update({
            "data-autocomplete": self.url,
            "data-autocomplete-chosen": json.dumps(self.chosen(value)),
            "data-placeholder": _("Type to search…"),
            "data-remove-label": _("Remove"),
            "inputmode": "search",
            "autocomplete": "off",
        })
        if self.multiple:
            widget_attrs["data-autocomplete-multiple"] = ""
            widget_attrs.setdefault("title", _("Record ids, separated by commas"))
        else:
            widget_attrs.setdefault("title", _("Record id"))
        return context


def use_autocomplete(field) -> None:
    """Makes a record field (ModelChoiceField or ModelMultipleChoiceField) an autocomplete picker."""
    widget = AutocompleteInput(field, url=autocomplete_url(field.queryset.model),
                               multiple=isinstance(field, forms.ModelMultipleChoiceField))
    widget.is_required = field.widget.is_required
    widget.attrs.update({k: v for k, v in field.widget.attrs.items() if k in ("id", "aria-describedby")})
    field.widget = widget


def short_choices(field, limit=CHOICES_LIMIT) -> list | None:
    """The field's choices when it offers at most `limit` records, else None (a large relation,
    to pick by typing). The ids come first, unordered and at most limit + 1 of them: a relation of
    thousands costs that one small query, not limit + 1 records built only to be dropped (at 2,000
    assets, 0.15 ms against 1.7 ms); a short one then reads its records for the select (even when
    there were none a moment ago: a page's queries do not depend on its data)."""
    if len(field.queryset.order_by().values_list("pk", flat=True)[:limit + 1]) > limit:
        return None
    records = list(field.queryset[:limit])
    iterator = field.iterator(field)
    empty = [("", field.empty_label)] if getattr(field, "empty_label", None) is not None else []
    return empty + [iterator.choice(record) for record in records]


def pick_widget(field, limit=CHOICES_LIMIT, *, force_autocomplete=False) -> None:
    """A select of the field's records when they are few, otherwise an autocomplete picker."""
    choices = None if force_autocomplete else short_choices(field, limit)
    if choices is None:
        use_autocomplete(field)
    else:
        field.widget.choices = choices


class AutocompleteView(LoginRequiredMixin, View):
    """GET /autocomplete/<app>/<model>/?q=term → {"results": [{"id", "text"}], "more": bool}: records
    of the model the user may view, of the active agency, whose label fields contain the term (or
    whose id it is). Nothing of another agency, nothing the user's role does not show."""

    raise_exception = True  # a script asking without a session gets 403, not the login page

    def get(self, request, app_label, model_name):
        try:
            model = apps.get_model(app_label, model_name)
        except LookupError:
            raise Http404 from None
        scoped = scoped_choices(model._default_manager.all(), request.user, request.agency,
                                membership_subquery=True)
        if scoped is None:
            raise Http404
        term = request.GET.get("q", "").strip()[:100]
        if term:
            scoped = scoped.filter(self.condition(model, term))
        records = list(scoped[:RESULTS_LIMIT + 1])
        return JsonResponse({
            "results": [{"id": record.pk, "text": str(record)} for record in records[:RESULTS_LIMIT]],
            "more": len(records) > RESULTS_LIMIT,
        })

    @staticmethod
    def condition(model, term) -> Q:
        names = getattr(model, "autocomplete_fields", None) or [
            f.name for f in model._meta.concrete_fields if f.name in LABEL_FIELDS]
        condition = Q()
        for name in names:
            condition |= Q(**{f"{name}__icontains": term})
        if term.isascii() and term.isdigit() and int(term) < 2**63:
            condition |= Q(pk=int(term))
        return condition if names or condition else Q(pk__in=[])
