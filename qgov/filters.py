"""The base filterset (one per model, shared by the UI list, the API and internal queries)
and the core models' filtersets."""

from datetime import timedelta
from functools import reduce
from operator import or_

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES

from qgov.choices import AuditActionChoices, AuditSourceChoices, RoleChoices
from qgov.fields import members_of
from qgov.models import Agency, AgencyScopedModel, AuditEvent, Membership
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


class DateConditionFilter(django_filters.BooleanFilter):
    """Yes: records meeting a date condition; No: the others. The condition may reach through
    relations (`acceptances__valid_until`): a record matches when one related row does."""

    def __init__(self, date_field, *, when=None, unless=None, **kwargs):
        super().__init__(field_name=date_field, **kwargs)
        self.when = when or {}  # further lookups the matching rows meet, e.g. {"acceptances__status": "approved"}
        self.unless = unless or {}  # lookups that take a record out, e.g. {"status__in": ["closed"]}

    def date_condition(self, today) -> Q:
        raise NotImplementedError

    def condition(self, today=None) -> Q:
        condition = self.date_condition(today or timezone.localdate()) & Q(**self.when)
        return condition & ~Q(**self.unless) if self.unless else condition

    def filter(self, qs, value):
        if value in EMPTY_VALUES:
            return qs
        condition = self.condition()
        if "__" in self.field_name:  # across a relation: one related row must meet all of it
            condition = Q(pk__in=qs.model._base_manager.filter(condition).values("pk"))
        return qs.filter(condition) if value else qs.exclude(condition)


class OverdueFilter(DateConditionFilter):
    """The date has passed (and the record is not taken out by `unless`, e.g. closed)."""

    def __init__(self, date_field, **kwargs):
        kwargs.setdefault("label", _("Overdue"))
        super().__init__(date_field, **kwargs)

    def date_condition(self, today) -> Q:
        return Q(**{f"{self.field_name}__lt": today})


class ExpiringWithinFilter(DateConditionFilter):
    """The date falls between today and `days` days from now."""

    def __init__(self, date_field, days: int, **kwargs):
        kwargs.setdefault("label", _("Expires within %(days)s days") % {"days": days})
        super().__init__(date_field, **kwargs)
        self.days = days

    def date_condition(self, today) -> Q:
        return Q(**{f"{self.field_name}__gte": today, f"{self.field_name}__lte": today + timedelta(days=self.days)})


class QgovFilterSet(django_filters.FilterSet):
    """Adds `q`, a case-insensitive search over `search_fields`, and `id` (one or more).

    Choices of related filters list only what the requesting user may see: records through
    `restrict()`, people through `members_of()`; in the browser, the active agency's only."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    id = IdInFilter(field_name="id", label=_("IDs"))

    search_fields: tuple[str, ...] = ()

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        user = getattr(request, "user", None)
        # In the browser, lists are the active agency's; API callers may span several agencies.
        agency = getattr(request, "agency", None) if isinstance(request, HttpRequest) else None
        for filter_ in self.filters.values():
            self._adapt(filter_, user, agency)

    @staticmethod
    def _adapt(filter_, user, agency):
        # self.filters are copies of the class's base_filters; a form field cached on a base filter
        # (the OpenAPI schema generator builds some) must not stand in for the one adapted here.
        vars(filter_).pop("_field", None)
        filter_.extra = dict(filter_.extra)
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
        if choices is None or user is None or callable(choices):
            return  # no request (internal queries, the schema generator): the declared choices
        if choices.model is get_user_model():
            scoped = members_of(user, agency)
        elif hasattr(choices, "restrict"):
            scoped = choices.restrict(user, Action.VIEW)
            if agency is not None and issubclass(choices.model, AgencyScopedModel):
                scoped = scoped.in_agency(agency)
        else:
            return
        filter_.queryset = scoped

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
