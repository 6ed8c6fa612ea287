from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type, build_object_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

from qgov.roles import Action

_PLACEHOLDER_PK = 918273645546372819  # a number no route spells otherwise
_path_templates: dict = {}


def detail_path_template(model) -> tuple[str, str] | None:
    """(before, after) the id in the API detail path of `model`'s records, or None when it has none.
    Reversed once per model, URL prefix and URLconf, not once per record: a 50-row page with its
    relations reversed 427 times."""
    key = (model._meta.label, get_script_prefix(), get_urlconf())
    if key not in _path_templates:
        try:
            path = reverse(f"api:{model._meta.model_name}-detail", args=[_PLACEHOLDER_PK])
        except NoReverseMatch:
            template = None
        else:
            before, found, after = path.partition(str(_PLACEHOLDER_PK))
            template = (before, after) if found and str(_PLACEHOLDER_PK) not in after else None
        _path_templates[key] = template
    return _path_templates[key]


def absolute_prefix(request) -> str:
    """The scheme and host of the request's absolute URLs, worked out once per request."""
    http_request = getattr(request, "_request", request)  # DRF's Request wraps Django's
    prefix = getattr(http_request, "qgov_absolute_prefix", None)
    if prefix is None:
        prefix = http_request.qgov_absolute_prefix = request.build_absolute_uri("/")[:-1]
    return prefix


def api_url(obj, request=None):
    """The API URL of a record: the same as reverse() and build_absolute_uri() give, built from
    the model's path template and the request's prefix."""
    template = detail_path_template(type(obj))
    if template is None:
        return None
    pk = obj.pk
    if isinstance(pk, int) and not isinstance(pk, bool):
        path = f"{template[0]}{pk}{template[1]}"
    else:  # a key that needs quoting: the long way
        path = reverse(f"api:{obj._meta.model_name}-detail", args=[pk])
    return absolute_prefix(request) + path if request is not None else path


class BriefManyRelatedField(serializers.ManyRelatedField):
    """A list of ids looked up in one query (not one per id). The value is the evaluated queryset,
    in the related model's order, which the write services hand on to the response."""

    def to_internal_value(self, data):
        if isinstance(data, str) or not hasattr(data, "__iter__"):
            self.fail("not_a_list", input_type=type(data).__name__)
        if not self.allow_empty and len(data) == 0:
            self.fail("empty")
        child = self.child_relation
        pk_field = child.get_queryset().model._meta.pk
        try:
            low, high = connection.ops.integer_field_range(pk_field.get_internal_type())
        except KeyError:  # not an integer key
            low = high = None
        wanted = []
        for item in data:
            value = child.pk_field.to_internal_value(item) if child.pk_field is not None else item
            try:
                if isinstance(value, bool):
                    raise TypeError
                pk = pk_field.get_prep_value(value)
            except (TypeError, ValueError, DjangoValidationError):
                child.fail("incorrect_type", data_type=type(item).__name__)
            in_range = pk is not None and (low is None or low <= pk <= high)
            wanted.append((item, pk if in_range else None))
        found = child.get_queryset().filter(pk__in=[pk for _, pk in wanted if pk is not None])
        present = {obj.pk for obj in found}
        for item, pk in wanted:
            if pk not in present:
                child.fail("does_not_exist", pk_value=item)
        return found


class BriefRelatedField(serializers.PrimaryKeyRelatedField):
    """A relation written as an id and read as {id, display, url}. Only records the caller may
    view are valid choices, so an id from another agency is a 400, not a leak."""

    def get_queryset(self):
        queryset = super().get_queryset()
        request = self.context.get("request")
        if hasattr(queryset, "restrict"):
            queryset = queryset.restrict(request.user if request else None, Action.VIEW)
        return queryset

    def use_pk_only_optimization(self):
        return False

    @classmethod
    def many_init(cls, *args, **kwargs):
        field = super().many_init(*args, **kwargs)
        if isinstance(field, serializers.ManyRelatedField) and not field.read_only:
            field.__class__ = BriefManyRelatedField
        return field

    def to_representation(self, value):
        return {"id": value.pk, "display": str(value), "url": api_url(value, self.context.get("request"))}


BRIEF_OBJECT_SCHEMA = build_object_type(
    properties={
        "id": build_basic_type(OpenApiTypes.INT),
        "display": build_basic_type(OpenApiTypes.STR),
        "url": {**build_basic_type(OpenApiTypes.URI), "nullable": True},
    },
    required=["id", "display", "url"],
)


class BriefRelatedFieldExtension(OpenApiSerializerFieldExtension):
    target_class = BriefRelatedField

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            return build_basic_type(OpenApiTypes.INT)
        return BRIEF_OBJECT_SCHEMA
