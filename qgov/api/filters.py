import re

import django_filters
from django.db import models
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import get_model_field, translate_validation
from rest_framework.exceptions import ValidationError

from qgov.filters import QgovFilterSet

MULTIPLE_VALUES = (django_filters.MultipleChoiceFilter,)  # ?status=a&status=b; `id` takes commas instead
WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def is_integer_filter(filterset, filter_) -> bool:
    """A number filter on an integer column: the schema declares an integer, and 0.5 is refused."""
    if not isinstance(filter_, django_filters.NumberFilter) or isinstance(filter_, django_filters.BaseCSVFilter):
        return False
    field = get_model_field(filterset._meta.model, filter_.field_name)
    return isinstance(field, models.IntegerField | models.ForeignKey)


class QgovFilterBackend(DjangoFilterBackend):
    """django-filter for the API, holding to the published schema: filtersets built from
    `filterset_fields` get the qgov base (bounded numbers, `id`, `q`); related ids no visible record
    has match nothing (see QgovFilterSet); and what the schema refuses is a 400, not ignored: a
    single-valued parameter sent twice, a yes/no parameter that is not `true` or `false`, an empty
    value where the schema wants a number, a date, a choice or a record."""

    filterset_base = QgovFilterSet

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and issubclass(filterset_class, QgovFilterSet):
            kwargs["unknown_ids_match_nothing"] = True
        return kwargs

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        if not any(name in filterset_class.base_filters for name in request.query_params):
            # No filter is sent: a filter given no value changes nothing (django-filter's rule, which
            # every qgov filter keeps; tests/api/test_api_filters.py checks each list), so neither the
            # filterset nor its form is built.
            return queryset
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        errors = self.schema_errors(request, filterset)
        if not filterset.is_valid():
            errors = {**translate_validation(filterset.errors).detail, **errors}
        if errors:
            raise ValidationError(errors)
        return filterset.qs

    @staticmethod
    def schema_errors(request, filterset) -> dict:
        errors = {}
        for name, filter_ in filterset.filters.items():
            values = request.query_params.getlist(name)
            if not values:
                continue
            if len(values) > 1 and not isinstance(filter_, MULTIPLE_VALUES):
                errors[name] = [_("Send this parameter once.")]
            elif isinstance(filter_, django_filters.BooleanFilter) and any(v not in ("true", "false") for v in values):
                errors[name] = [_("Send true or false.")]
            elif "" in values and not isinstance(filter_, django_filters.BaseCSVFilter) and (
                    type(filter_) is not django_filters.CharFilter):  # an empty list of ids is fine
                errors[name] = [_("Send a value, or leave the parameter out.")]
            elif is_integer_filter(filterset, filter_) and not all(WHOLE_NUMBER.fullmatch(v) for v in values):
                errors[name] = [_("Enter a whole number.")]
        return errors
