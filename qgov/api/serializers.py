"""The base serializer every qgov model serializer declares on."""

import copy
import functools

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import ISO_8601, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from qgov import services
from qgov.api.fields import NOT_READ, BriefRelatedField, OptionalChoiceField, api_url, brief_reader
from qgov.lifecycle import lifecycle_of, owned_fields_of


def _comparable(value):
    # A related record reads as {id, display, url} and is written as its id.
    return value["id"] if isinstance(value, dict) and "id" in value else value


def portable_integer_bounds(model_field) -> dict:
    """min_value and max_value of an integer model field: its own validators within what the column
    holds on every supported database (PostgreSQL's ranges, Django's defaults), not only on the one in
    use. SQLite stores 64 bits in any integer column, so the API, and its schema, would otherwise
    differ with the database it runs on."""
    ranges = BaseDatabaseOperations.integer_field_ranges
    low, high = ranges.get(model_field.get_internal_type(), ranges["BigIntegerField"])
    for validator in model_field._validators:  # the declared ones, without the database's range
        if isinstance(validator, MaxValueValidator) and not callable(validator.limit_value):
            high = min(high, validator.limit_value)
        elif isinstance(validator, MinValueValidator) and not callable(validator.limit_value):
            low = max(low, validator.limit_value)
    return {"min_value": low, "max_value": high}


class StrictFieldsMixin:
    """Unknown fields in a request are a 400 naming them, never silently dropped (a typo in a
    field name must not look like success)."""

    extra_known_fields: tuple[str, ...] = ()

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(key for key in data if key not in self.fields and key not in self.extra_known_fields)
            if unknown:
                raise serializers.ValidationError({key: [_("Unknown field.")] for key in unknown})
        return super().to_internal_value(data)


class QueryParametersSerializer(StrictFieldsMixin, serializers.Serializer):
    """Query parameters read through a serializer (operations with no queryset to filter), held to
    the schema as QgovFilterBackend holds filters: DRF passes over an optional parameter sent empty,
    the schema does not allow it, so it is a 400."""

    def validate(self, attrs):
        data = self.initial_data
        empty = [name for name, field in self.fields.items()
                 if hasattr(data, "getlist") and "" in data.getlist(name) and type(field) is not serializers.CharField]
        if empty:
            message = _("Send a value, or leave the parameter out.")
            raise serializers.ValidationError({name: [message] for name in empty})
        return super().validate(attrs)


def fresh_field(field):
    """A copy of an unbound field for one serializer instance to bind: a shallow copy (DRF's
    deepcopy builds the field again from its arguments), with its child fields copied and bound to
    the copy so that they read the context of their own serializer. Nested serializers keep DRF's
    deepcopy: their fields and state are their own."""
    if isinstance(field, serializers.BaseSerializer):
        return copy.deepcopy(field)
    # copy.copy() without its __reduce_ex__ round trip, a third of the cost of a page's fields.
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    for name in ("child_relation", "child"):
        child = clone.__dict__.get(name)
        if child is not None:
            child = fresh_field(child)
            child.parent = clone  # bound as the template's was, to the copy
            setattr(clone, name, child)
    return clone


# Serializer fields whose representation of a value of exactly this type is the value itself.
_REPRESENTED_AS_IS = {serializers.CharField: str, serializers.IntegerField: int, serializers.BooleanField: bool}


def column_reader(field, model):
    """How to_representation reads `field` straight off a model instance: (attribute, the value type
    it shows as it is, or None), when the field shows one of the model's own columns; None for
    every other field (methods, relations, dotted sources), which takes DRF's general path."""
    if len(field.source_attrs) != 1:
        return None
    attname = field.source_attrs[0]
    if attname not in _plain_columns(model):
        return None
    return attname, _REPRESENTED_AS_IS.get(type(field))


def method_reader(field, serializer):
    """The serializer's get_<name> method of a SerializerMethodField: what DRF calls with the record,
    after a get_attribute and to_representation of the field's own. None for any other field."""
    if type(field) is not serializers.SerializerMethodField or field.source != "*":
        return None
    return getattr(serializer, field.method_name)


def date_time_reader(field, model):
    """A function of a record giving what `field`, a plain DateTimeField showing one of the model's
    date-time columns in ISO 8601, shows of it, as DRF's to_representation gives it, with the time
    zone looked up once (per serializer, so per request) rather than once per value. None for any
    other field."""
    if type(field) is not serializers.DateTimeField or len(field.source_attrs) != 1:
        return None
    attname = field.source_attrs[0]
    if attname not in _date_time_columns(model):
        return None
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    if not isinstance(output_format, str) or output_format.lower() != ISO_8601:
        return None
    zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if zone is None:
        return None

    def read(record):
        value = getattr(record, attname)
        if value is None:
            return None
        if value.utcoffset() is None:
            return NOT_READ  # naive: DRF's path makes it aware, or says why it cannot
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:
            return NOT_READ
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return read


@functools.cache
def _date_time_columns(model) -> frozenset[str]:
    return frozenset(f.attname for f in model._meta.concrete_fields if isinstance(f, models.DateTimeField))


@functools.cache
def _plain_columns(model) -> frozenset[str]:
    return frozenset(f.attname for f in model._meta.concrete_fields if not f.is_relation)


class PortableModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose fields generated clients can use as they are, on every database: integer
    fields are bounded by what the column holds everywhere (portable_integer_bounds), not by what the
    database in use would store, and a choice that may be left unset is null (OptionalChoiceField),
    not "". Every model serializer of the API derives from it.

    Its fields are built from the model once per class, not once per serializer: each serializer
    binds its own copies of them (fresh_field), so no field is shared between two serializers and
    a field reads its own request's context."""

    _field_templates: dict = {}  # serializer class: its unbound fields, as ModelSerializer builds them

    def get_fields(self):
        cls = type(self)
        templates = PortableModelSerializer._field_templates.get(cls)
        if templates is None:
            templates = PortableModelSerializer._field_templates[cls] = super().get_fields()
        return {name: fresh_field(field) for name, field in templates.items()}

    def to_representation(self, instance):
        """DRF's to_representation, with the model's own columns read as attributes and the commonest
        other fields by a reader made for this serializer (method_reader, brief_reader for related
        records, date_time_reader): DRF's per-field dispatch (a generator of readable fields,
        get_attribute with its error handling, then to_representation, each relation's URL and each
        date-time's zone looked up again) was most of a 10-row API page's serialisation. The plan is
        made once per serializer, so once for all the rows of a list; a field no reader knows, or a
        value a reader leaves (NOT_READ), takes DRF's path."""
        plan = self.__dict__.get("_qgov_read_plan")
        if plan is None:
            model, request = self.Meta.model, self.context.get("request")
            plan = self._qgov_read_plan = []
            for field in self.fields.values():
                if not field.write_only:
                    reader = (method_reader(field, self) or brief_reader(field, request)
                              or date_time_reader(field, model))
                    column = None if reader is not None else column_reader(field, model)
                    plan.append((field.field_name, field, column, reader))
        representation = {}
        for name, field, column, reader in plan:
            if column is not None:
                value = getattr(instance, column[0])
                if value is None or type(value) is column[1]:
                    representation[name] = value
                else:
                    representation[name] = field.to_representation(value)
                continue
            if reader is not None:
                value = reader(instance)
                if value is not NOT_READ:
                    representation[name] = value
                    continue
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            representation[name] = None if check_for_none is None else field.to_representation(attribute)
        return representation

    def build_standard_field(self, field_name, model_field):
        field_class, field_kwargs = super().build_standard_field(field_name, model_field)
        if "choices" in field_kwargs and model_field.blank and not model_field.null and isinstance(
                model_field, models.CharField):
            # Unset is null in the API, "" in the database: no "" member in the schema's enum.
            field_class = OptionalChoiceField
            field_kwargs.pop("allow_blank", None)
        if isinstance(model_field, models.IntegerField):
            if "choices" in field_kwargs:  # the choices bound it; the database's range would only add noise
                field_kwargs["validators"] = [
                    validator for validator in field_kwargs.get("validators", ())
                    if validator in model_field._validators
                    or not isinstance(validator, MinValueValidator | MaxValueValidator)]
            elif not field_kwargs.get("read_only"):
                field_kwargs.update(portable_integer_bounds(model_field))
        return field_class, field_kwargs


class QgovModelSerializer(StrictFieldsMixin, PortableModelSerializer):
    """Adds `url`, `display` and `version`; writes go through the core services (permission
    re-check, version check, model validation, audit); unknown fields are an error."""

    serializer_related_field = BriefRelatedField
    url = serializers.SerializerMethodField()
    display = serializers.SerializerMethodField()

    base_fields = ("id", "url", "display")
    # Fields that may be set on create but never changed afterwards; by default the model's.
    create_only_fields: tuple[str, ...] | None = None

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_url(self, obj):
        return api_url(obj, self.context.get("request"))

    def get_display(self, obj) -> str:
        return str(obj)

    def get_unique_together_validators(self):
        # Uniqueness is the model's to judge (full_clean in the write services), so the API and
        # the UI give the same message.
        return []

    def get_fields(self):
        fields = super().get_fields()
        read_only = set(owned_fields_of(self.Meta.model))
        if self.instance is not None:
            read_only |= set(self._create_only())
        for name in read_only & set(fields):
            fields[name].read_only = True
        return fields

    extra_known_fields = ("version",)  # read by the viewset for If-Match-less clients

    def to_internal_value(self, data):
        value = super().to_internal_value(data)  # unknown fields first, then the fields' own checks
        self._refuse_fixed_fields(data)
        return value

    def _refuse_fixed_fields(self, data):
        """Lifecycle-owned fields are written only by transitions, create-only fields only on
        create: sending a new value is a 400 that says so (sending back the current value, as a
        PUT of a GET does, is fine)."""
        errors = {}
        lifecycle = lifecycle_of(self.Meta.model)
        for name in sorted(set(lifecycle.owned_fields if lifecycle else ()) & set(data)):
            if self.instance is None or data[name] != self._current(name):
                actions = ", ".join(f"POST …/{t.url_segment}/" for t in lifecycle.public_transitions)
                errors[name] = [_("Set by the record's lifecycle, not by editing; use its actions (%(actions)s).")
                                % {"actions": actions or "—"}]
        if self.instance is not None:
            for name in sorted(set(self._create_only()) & set(data)):
                if data[name] != self._current(name):
                    errors[name] = [_("Set when the record was created; it cannot be changed.")]
        if errors:
            raise serializers.ValidationError(errors)

    def _create_only(self):
        if self.create_only_fields is not None:
            return self.create_only_fields
        return getattr(self.Meta.model, "create_only_fields", ("agency",))

    def _current(self, name):
        field = self.fields.get(name)
        if field is None:
            return None
        value = field.get_attribute(self.instance)
        return _comparable(field.to_representation(value)) if value is not None else None

    def _user(self):
        return self.context["request"].user

    def create(self, validated_data):
        return services.object_create(model=self.Meta.model, user=self._user(), data=validated_data)

    def update(self, instance, validated_data):
        return services.object_update(
            instance=instance,
            user=self._user(),
            data=validated_data,
            expected_version=self.context.get("expected_version"),
        )
