import zoneinfo
from functools import lru_cache

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
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
    return brief_url(type(obj), obj.pk, request)


def record_url(model, pk, request=None):
    """api_url() of the record of `model` with primary key `pk`, without the record."""
    template = detail_path_template(model)
    if template is None:
        return None
    if isinstance(pk, int) and not isinstance(pk, bool):
        path = f"{template[0]}{pk}{template[1]}"
    else:  # a key that needs quoting: the long way
        path = reverse(f"api:{model._meta.model_name}-detail", args=[pk])
    return absolute_prefix(request) + path if request is not None else path


def brief_url(model, pk, request):
    """record_url(), with the model's absolute URL parts worked out once per request, not once
    per record of a page."""
    if request is None or not isinstance(pk, int) or isinstance(pk, bool):
        return record_url(model, pk, request)
    http_request = getattr(request, "_request", request)
    parts = http_request.__dict__.setdefault("qgov_record_url_parts", {})
    if model not in parts:
        template = detail_path_template(model)
        parts[model] = None if template is None else (absolute_prefix(request) + template[0], template[1])
    found = parts[model]
    return None if found is None else f"{found[0]}{pk}{found[1]}"


class BriefValue:
    """A related record as a list page reads it: its model, id and display, loaded as values
    (qgov.api.viewsets.attach_brief_values) rather than as a model instance per row."""

    __slots__ = ("model", "pk", "display")

    def __init__(self, model, pk, display: str):
        self.model, self.pk, self.display = model, pk, display


BRIEF_VALUES_ATTRIBUTE = "_qgov_brief_values"  # {relation name: [BriefValue, …]} on a listed record


class BriefManyRelatedField(serializers.ManyRelatedField):
    """A list of ids looked up in one query (not one per id). The value is the evaluated queryset,
    in the related model's order, which the write services hand on to the response. Read from a
    listed record, the relation is the BriefValues its list attached, when it did."""

    def get_attribute(self, instance):
        attached = instance.__dict__.get(BRIEF_VALUES_ATTRIBUTE)
        if attached is not None and self.source in attached:
            return attached[self.source]
        return super().get_attribute(instance)

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
        if type(field) is serializers.ManyRelatedField:
            field.__class__ = BriefManyRelatedField
        return field

    def to_representation(self, value):
        request = self.context.get("request")
        if type(value) is BriefValue:
            return brief_representation(value.model, value.pk, value.display, request)
        return brief_representation(type(value), value.pk, str(value), request)


def brief_representation(model, pk, display: str, request) -> dict:
    """{id, display, url}: how a related record reads in the API."""
    return {"id": pk, "display": display, "url": brief_url(model, pk, request)}


NOT_READ = object()  # what a field reader answers when the field's own path must answer


def brief_reader(field, request):
    """A function of a record giving what `field` (a BriefRelatedField, or the many form of one)
    shows of it, as to_representation gives it, without DRF's per-field dispatch: for a serializer's
    read plan (qgov.api.serializers), which calls it once per row. NOT_READ for what it does not
    know (a relation not attached to a listed record, a missing attribute), which the field itself
    then answers. None when `field` is not such a field or reads a dotted source."""
    many = isinstance(field, BriefManyRelatedField)
    child = field.child_relation if many else field
    if type(child) is not BriefRelatedField or len(field.source_attrs) != 1 or request is None:
        return None
    attribute = field.source_attrs[0]

    if many:
        def read_many(record):
            attached = record.__dict__.get(BRIEF_VALUES_ATTRIBUTE)
            if attached is None or attribute not in attached:
                return NOT_READ  # not a listed record: the relation is queried, as DRF does
            return [brief_representation(value.model, value.pk, value.display, request)
                    for value in attached[attribute]]
        return read_many

    def read_one(record):
        try:
            related = getattr(record, attribute)
        except ObjectDoesNotExist:
            return None
        except (AttributeError, KeyError):
            return NOT_READ  # the field's own rules (default, allow_null, required) answer
        return None if related is None else brief_representation(type(related), related.pk, str(related), request)
    return read_one


# One named schema component, BriefRecord, rather than an inline object per relation: generated
# clients get one class for them all, not one per field (whose names also clashed with a model's:
# Recognition.arrangement's with RecognitionArrangement).
class BriefRecordSerializer(serializers.Serializer):
    """A related record: its id, what it reads as, and its API URL (null when the API has none)."""

    id = serializers.IntegerField()
    display = serializers.CharField()
    url = serializers.URLField(allow_null=True)


class BriefRelatedFieldExtension(OpenApiSerializerFieldExtension):
    target_class = BriefRelatedField

    def map_serializer_field(self, auto_schema, direction):
        if direction == "request":
            return build_basic_type(OpenApiTypes.INT)
        return auto_schema.resolve_serializer(BriefRecordSerializer, direction).ref


@lru_cache(maxsize=1)
def _known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())  # reads the zone files: once per process


class TimeZoneField(serializers.CharField):
    """An IANA time-zone name (e.g. Europe/Brussels), checked against the server's zone data.

    A plain string in the schema, not an enum: the list is about 600 names that differ with each
    machine's zone data (so the schema would too), and clients generated from it broke on it
    (openapi-python-client turns both GMT0 and Etc/GMT0 into the member GMT0)."""

    default_error_messages = {
        "unknown_zone": _('"{input}" is not a time zone: send an IANA time-zone name, e.g. Europe/Brussels or UTC.'),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 64)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value not in _known_time_zones():
            self.fail("unknown_zone", input=value)
        return value


class TimeZoneFieldExtension(OpenApiSerializerFieldExtension):
    target_class = TimeZoneField

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        # The shape of a zone name, so that clients can check it; whether the zone exists is the server's to say.
        schema["pattern"] = r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$"
        schema["example"] = "Europe/Brussels"
        return schema


class OptionalChoiceField(serializers.ChoiceField):
    """A choice that may be left unset (a model CharField with choices and blank=True): null in the
    API, "" in the database. The schema says `nullable` rather than listing "" as a member of the
    enum, which generated clients cannot name."""

    def __init__(self, **kwargs):
        kwargs["allow_null"] = True
        kwargs["allow_blank"] = False
        super().__init__(**kwargs)

    def validate_empty_values(self, data):
        if data is None and not self.read_only:
            return (True, "")  # unset
        return super().validate_empty_values(data)

    def to_representation(self, value):
        return None if value in ("", None) else super().to_representation(value)
