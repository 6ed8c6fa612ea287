"""The base filterset (one per model, shared by the UI list, the API and internal queries)
and the core models' filtersets."""

import datetime as dt
from datetime import timedelta
from functools import reduce
from operator import or_

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.constants import EMPTY_VALUES

from qgov.autocomplete import scoped_choices
from qgov.choices import AuditActionChoices, AuditSourceChoices, MembershipSourceChoices, RoleChoices
from qgov.models import Agency, AuditEvent, Membership


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

    def clean(self, value):
        # Django answers an empty optional value with `queryset.none()`, which django-filter then
        # tests for truth: an SQL compilation on every request that does not use the filter.
        if not self.required and value in self.empty_values:
            return []
        return super().clean(value)


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


class _UnknownIdsMatchNothing:
    """In the API, a well-formed id (1 … 2⁶³−1) of no record the caller may see is a value that
    matches nothing, as `?id=` does, rather than a 400: the published schema cannot say which ids
    exist, and a client must not be refused what it allows. The UI's forms keep the choice check."""

    def _by_pk(self) -> bool:
        return self.to_field_name in (None, self.queryset.model._meta.pk.name)

    @staticmethod
    def _record_id(value) -> int | None:
        text = str(value)
        if text.isascii() and text.isdigit() and len(text) <= 19 and 1 <= int(text) <= 2**63 - 1:
            return int(text)
        return None


class ApiModelMultipleChoiceField(_UnknownIdsMatchNothing, BoundedModelMultipleChoiceField):
    def _check_values(self, value):
        ids = [self._record_id(pk) for pk in value] if isinstance(value, list | tuple) else [None]
        if None in ids or not self._by_pk():
            return super()._check_values(value)
        found = list(self.queryset.filter(pk__in=ids))
        present = {record.pk for record in found}
        return found + [pk for pk in dict.fromkeys(ids) if pk not in present]  # bare ids match no record


class ApiModelChoiceField(_UnknownIdsMatchNothing, BoundedModelChoiceField):
    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError as error:
            pk = self._record_id(value)
            if error.code != "invalid_choice" or pk is None or not self._by_pk():
                raise
            return pk  # filters on the bare id, which no visible record has


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 instant, held in UTC: PostgreSQL refuses offsets beyond ±15:59 that ISO 8601 (and so
    the parser) accepts, and an instant at the edge of the calendar may not exist in UTC at all."""

    default_error_messages = {"out_of_range": _("This instant is outside the range of dates.")}

    def to_python(self, value):
        instant = super().to_python(value)
        if instant is None or timezone.is_naive(instant):
            return instant
        try:
            return instant.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError(self.error_messages["out_of_range"], code="out_of_range") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """The filter for instants in every filterset (see UtcIsoDateTimeField)."""

    field_class = UtcIsoDateTimeField


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


# At most this many related records matching a search are resolved to ids up front; beyond it the
# match stays a subquery.
SEARCH_RELATED_IDS_MAX = 1000


def search_condition(model, search_fields, value) -> Q:
    """Any of `search_fields` contains `value` (`icontains`, which the trigram indexes of
    `qgov.migrations_ops.AddSearchIndex` serve on PostgreSQL).

    Fields across a to-many relation (`threat_vectors__code`) are matched in two steps: the
    matching related records are resolved first (one small query, on their own indexes), then the
    record's ids are read through the link table — or the relation drops out of the condition when
    nothing related matches, which leaves an OR of indexed columns the planner can BitmapOr. A
    join would repeat a record once per matching related row, and DISTINCT over whole rows is costly."""
    own, across = [], {}
    for path in search_fields:
        relation, _sep, rest = path.partition("__")
        field = model._meta.get_field(relation) if rest else None
        if field is not None and (field.many_to_many or field.one_to_many):
            across.setdefault(field, []).append(rest)
        else:
            own.append(Q(**{f"{path}__icontains": value}))
    for field, paths in across.items():
        matches = reduce(or_, (Q(**{f"{path}__icontains": value}) for path in paths))
        related = field.related_model._base_manager.filter(matches).values_list("pk", flat=True)
        related_ids = list(related[:SEARCH_RELATED_IDS_MAX + 1])
        if not related_ids:
            continue
        if len(related_ids) > SEARCH_RELATED_IDS_MAX:
            related_ids = related  # too many to list: the database resolves them
        own.append(ProbedExists(_links_to(field, related_ids)))
    return reduce(or_, own) if own else Q(pk__in=[])


class ProbedExists(Exists):
    """EXISTS that PostgreSQL checks row by row, one index probe each. Left to itself the planner
    turns an EXISTS into `id = ANY(hashed subplan)` and reads and hashes every link of the matched
    related records before the first row: 24 of the 26 ms of a 50-row page whose search word named
    a related record linked to 72,000 records; probing the 318 rows that page checks, the page takes
    6 ms. `OFFSET 0` in the subquery is the usual fence against that rewrite; the rows are the same."""

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="EXISTS(%(subquery)s OFFSET 0)", **extra_context)


def _links_to(field, related_ids):
    """The rows linking the outer record through `field` (a to-many relation) to any of
    `related_ids`, for an EXISTS: the link table alone for a many-to-many. Per record that is one
    probe of the link table's (record, related) key, so a page stops after its rows; `pk IN (every
    linked id)` read the links of the matched related records first, however many."""
    if field.many_to_many:
        forward = field if field.concrete else field.remote_field
        through = forward.remote_field.through
        # The through table's columns: to the model declaring the field, and to the other side.
        declaring, other = forward.m2m_field_name(), forward.m2m_reverse_field_name()
        here, there = (declaring, other) if field.concrete else (other, declaring)
        return through._base_manager.filter(**{f"{here}_id": OuterRef("pk"), f"{there}__in": related_ids})
    # One-to-many: the related rows hold the key.
    return field.related_model._base_manager.filter(**{field.field.attname: OuterRef("pk"), "pk__in": related_ids})


def crosses_to_many(model, path: str) -> bool:
    """Does the lookup path (`threat_vectors__category`) pass through a to-many relation?"""
    for name in path.split("__"):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return False  # a lookup (`__in`) or transform: the path ends here
        if field.many_to_many or field.one_to_many:
            return True
        if not field.is_relation:
            return False
        model = field.related_model
    return False


class ExistsAcross:
    """A filter across a to-many relation as one EXISTS subquery: the record matches when a
    related row does. The filter's own lookup runs inside the subquery, so results are those of
    the join, each record once, without DISTINCT over the whole row."""

    def __init__(self, filter_):
        self.join_filter = filter_.filter  # the bound method of django-filter's own class

    def __call__(self, qs, value):
        base = qs.model._base_manager.all()
        joined = self.join_filter(base, value)
        if joined is base:  # no value, or every choice chosen: nothing to filter
            return qs
        return qs.filter(Exists(joined.filter(pk=OuterRef("pk")).values("pk")))


def without_distinct(filter_, model):
    """No filter makes a list `SELECT DISTINCT`: over all columns it costs a sort of the whole
    result (a count of 64 ms became 910 ms over a million records). A filter on the model's own fields
    needs none; one across a to-many relation filters through an EXISTS subquery instead of a join.
    Apps just declare the path (`field_name="threat_vectors__category"`)."""
    filter_.distinct = False
    if getattr(filter_, "method", None) is None and filter_.field_name and crosses_to_many(model, filter_.field_name):
        filter_.filter = ExistsAcross(filter_)


class QgovFilterSet(django_filters.FilterSet):
    """Adds `q`, a case-insensitive search over `search_fields`, and `id` (one or more).

    Choices of related filters list only what the requesting user may see: records through
    `restrict()`, people through `members_of()`; in the browser, the active agency's only."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    id = IdInFilter(field_name="id", label=_("IDs"))

    search_fields: tuple[str, ...] = ()

    @classmethod
    def get_filters(cls):
        """The declared filters, plus `updated_after` / `updated_before` on every model that keeps
        `last_updated` (every QgovModel): what an incremental sync asks for (docs/integrating.md)."""
        filters = super().get_filters()
        model = cls._meta.model
        if model is not None and any(f.name == "last_updated" for f in model._meta.concrete_fields):
            for name, lookup, label in (("updated_after", "gte", _("Updated at or after")),
                                        ("updated_before", "lt", _("Updated before"))):
                filters.setdefault(name, UtcIsoDateTimeFilter(
                    field_name="last_updated", lookup_expr=lookup, label=label,
                    widget=forms.DateTimeInput(attrs={"type": "datetime-local"})))
        return filters

    def __init__(self, data=None, queryset=None, *, request=None, unknown_ids_match_nothing=False, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        self.unknown_ids_match_nothing = unknown_ids_match_nothing
        user = getattr(request, "user", None)
        # In the browser, lists are the active agency's; API callers may span several agencies.
        agency = getattr(request, "agency", None) if isinstance(request, HttpRequest) else None
        # An API filterset is never rendered: the choices of a filter the request does not use are
        # never read, so they are not scoped (building those querysets was a third of a list call).
        sent = set(self.data) if unknown_ids_match_nothing and self.data is not None else None
        for name, filter_ in self.filters.items():
            scope_user = user if sent is None or name in sent else None
            self._adapt(filter_, scope_user, agency, unknown_ids_match_nothing)
            without_distinct(filter_, self._meta.model or self.queryset.model)

    @staticmethod
    def _adapt(filter_, user, agency, unknown_ids_match_nothing=False):
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
            filter_.field_class = (ApiModelMultipleChoiceField if unknown_ids_match_nothing
                                   else BoundedModelMultipleChoiceField)
        elif isinstance(filter_, django_filters.ModelChoiceFilter):
            filter_.field_class = ApiModelChoiceField if unknown_ids_match_nothing else BoundedModelChoiceField
        elif isinstance(filter_, django_filters.NumberFilter):
            # Numbers a 64-bit column cannot hold are a 400, not an overflow in the database driver.
            filter_.extra.setdefault("max_value", 2**63 - 1)
            filter_.extra.setdefault("min_value", -(2**63))
        choices = getattr(filter_, "queryset", None)
        if choices is None or user is None or callable(choices):
            return  # no request (internal queries, the schema generator): the declared choices
        scoped = scoped_choices(choices, user, agency)  # the same rule as the autocomplete endpoint's
        if scoped is not None:
            filter_.queryset = scoped

    def search(self, queryset, name, value):
        value = value.strip()
        if not value or not self.search_fields:
            return queryset
        return queryset.filter(search_condition(queryset.model, self.search_fields, value))


class AgencyFilterSet(QgovFilterSet):
    search_fields = ("name", "code", "description")

    class Meta:
        model = Agency
        fields = ["sector", "parent", "code"]


class MembershipFilterSet(QgovFilterSet):
    search_fields = ("user__username", "user__email", "user__first_name", "user__last_name")
    role = django_filters.MultipleChoiceFilter(choices=RoleChoices.choices)
    source = django_filters.MultipleChoiceFilter(choices=MembershipSourceChoices.choices)
    user = django_filters.NumberFilter(field_name="user_id", label=_("User id"))

    class Meta:
        model = Membership
        fields = ["agency", "user", "role", "source"]


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
    since = UtcIsoDateTimeFilter(
        field_name="timestamp", lookup_expr="gte", label=_("Since"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    until = UtcIsoDateTimeFilter(
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
