"""The base filterset (one per model, shared by the UI list, the API and internal queries)
and the core models' filtersets."""

from functools import reduce
from operator import or_

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from qgov.choices import AuditActionChoices, AuditSourceChoices, RoleChoices
from qgov.models import Agency, AuditEvent, Membership
from qgov.roles import Action


class IdInFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    """Comma-separated integer ids: anything else is a 400, never a database error."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)  # the largest id a 64-bit column holds
        super().__init__(*args, **kwargs)


class BoundedModelMultipleChoiceField(django_filters.fields.ModelMultipleChoiceField):
    """Refuses ids beyond 64 bits before they reach the database: SQLite raises OverflowError
    on them in the `IN (...)` lookup that checks the choices."""

    def _check_values(self, value):
        for pk in value if isinstance(value, list | tuple | set | frozenset) else ():
            try:
                number = int(pk)
            except (TypeError, ValueError):
                continue  # not a number: the usual check refuses it
            if not -(2**63) <= number < 2**63:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)


class BoundedModelChoiceField(django_filters.fields.ModelChoiceField):
    """A single related id beyond 64 bits is an invalid choice, not a database error."""

    def to_python(self, value):
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if not -(2**63) <= number < 2**63:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class AnyYesNoWidget(django_filters.widgets.BooleanWidget):
    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = (("", _("Any")), ("true", _("Yes")), ("false", _("No")))


class QgovFilterSet(django_filters.FilterSet):
    """Adds `q`, a case-insensitive search over `search_fields`, and `id` (one or more)."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    id = IdInFilter(field_name="id", label=_("IDs"))

    search_fields: tuple[str, ...] = ()

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        # Choices of related filters list only what the user may see: never another agency's records.
        user = getattr(request, "user", None)
        for filter_ in self.filters.values():
            if isinstance(filter_, django_filters.BooleanFilter):
                filter_.extra.setdefault("widget", AnyYesNoWidget)
            # A handful of fixed choices reads best as checkboxes; records stay a compact list.
            if isinstance(filter_, django_filters.MultipleChoiceFilter) and not isinstance(
                    filter_, django_filters.ModelMultipleChoiceFilter):
                filter_.extra.setdefault("widget", forms.CheckboxSelectMultiple)
            if isinstance(filter_, django_filters.ModelMultipleChoiceFilter):
                filter_.field_class = BoundedModelMultipleChoiceField
            elif isinstance(filter_, django_filters.ModelChoiceFilter):
                filter_.field_class = BoundedModelChoiceField
            elif isinstance(filter_, django_filters.NumberFilter):
                # Numbers a 64-bit column cannot hold are a 400, not an overflow in the database driver.
                filter_.extra.setdefault("max_value", 2**63 - 1)
                filter_.extra.setdefault("min_value", -(2**63))
            choices = getattr(filter_, "queryset", None)
            if choices is not None and hasattr(choices, "restrict"):
                filter_.queryset = choices.restrict(user, Action.VIEW)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value or not self.search_fields:
            return queryset
        return queryset.filter(reduce(or_, (Q(**{f"{field}__icontains": value}) for field in self.search_fields)))


class AgencyFilterSet(QgovFilterSet):
    search_fields = ("name", "code", "description")

    class Meta:
        model = Agency
        fields = ["sector", "parent", "code"]


class MembershipFilterSet(QgovFilterSet):
    search_fields = ("user__username", "user__email", "user__first_name", "user__last_name")
    role = django_filters.MultipleChoiceFilter(choices=RoleChoices.choices)
    user = django_filters.NumberFilter(field_name="user_id", label=_("User id"))

    class Meta:
        model = Membership
        fields = ["agency", "user", "role"]


class UserFilterSet(QgovFilterSet):
    search_fields = ("username", "email", "first_name", "last_name")

    class Meta:
        model = get_user_model()
        fields = ["is_active", "username", "email"]


class AuditEventFilterSet(QgovFilterSet):
    search_fields = ("object_repr", "actor_repr", "request_id")
    action = django_filters.MultipleChoiceFilter(choices=AuditActionChoices.choices)
    source = django_filters.MultipleChoiceFilter(choices=AuditSourceChoices.choices)
    object_type = django_filters.CharFilter(method="filter_object_type", label=_("Object type (app.model)"))
    since = django_filters.IsoDateTimeFilter(
        field_name="timestamp", lookup_expr="gte", label=_("Since"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    until = django_filters.IsoDateTimeFilter(
        field_name="timestamp", lookup_expr="lt", label=_("Until"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    actor = django_filters.CharFilter(field_name="actor_repr", label=_("Actor"))

    class Meta:
        model = AuditEvent
        fields = ["agency", "action", "source", "object_id", "request_id"]

    def filter_object_type(self, queryset, name, value):
        app_label, _dot, model = value.lower().partition(".")
        content_type = ContentType.objects.filter(app_label=app_label, model=model).first()
        return queryset.filter(content_type=content_type) if content_type else queryset.none()
