"""The base viewset every qgov model viewset declares on."""

import functools
import re
from types import SimpleNamespace

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.models import Exists, OuterRef, Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from qgov.api.exceptions import etag
from qgov.api.fields import BRIEF_VALUES_ATTRIBUTE, BriefRelatedField, BriefValue
from qgov.api.negotiation import QgovContentNegotiation
from qgov.api.permissions import METHOD_ACTIONS
from qgov.api.schema import ErrorSerializer
from qgov.api.serializers import StrictFieldsMixin
from qgov.integrations.idempotency.api import IdempotentWritesMixin
from qgov.lifecycle import lifecycle_of
from qgov.prepared import instance_from_db, read_rows
from qgov.roles import Action
from qgov.services import object_delete, object_transition

ERROR_SCHEMA = ErrorSerializer  # the name other modules import


class TransitionSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=4000,
                                   help_text="Why; required where the transition says so.")
    version = serializers.IntegerField(required=False, min_value=1,
                                       help_text="The version you decided on (or send If-Match); stale → 412.")


def transition_action(transition, serializer_class):
    """The viewset action of one lifecycle transition: POST /api/<resource>/{id}/<transition>/."""

    def run(self, request, pk=None):
        payload = TransitionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        record = object_transition(instance=self.get_object(), name=transition.name, user=request.user,
                                   reason=payload.validated_data.get("reason", ""),
                                   expected_version=self.expected_version())
        return Response(self.get_serializer(self.get_queryset().get(pk=record.pk)).data)

    sources = ", ".join(transition.source)
    run.__name__ = f"transition_{transition.name}"
    run.__doc__ = f"{transition.label}: {sources} → {transition.target}."
    responses = {
        200: serializer_class,
        400: OpenApiResponse(ErrorSerializer, description="Bad input (e.g. a required reason is missing)."),
        403: OpenApiResponse(ErrorSerializer, description=f"The role lacks the '{transition.permission}' action."),
        404: OpenApiResponse(ErrorSerializer, description="No such record in your agencies."),
        409: OpenApiResponse(ErrorSerializer, description="Not possible from the record's state, or a guard "
                                                       "is not met; `errors` says what is missing."),
        412: OpenApiResponse(ErrorSerializer, description="The record changed since the version you sent."),
    }
    description = str(transition.help_text or "") + (" A reason is required." if transition.reason_required else "")
    run = action(detail=True, methods=["post"], url_path=transition.url_segment,
                 url_name=transition.url_segment)(run)
    return extend_schema(request=TransitionSerializer, responses=responses, summary=str(transition.label),
                         description=description.strip())(run)


# RFC 9110 §8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text.
_ENTITY_TAG = r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"'
# A list may hold empty elements ("a", , "b"); RFC 9110 §5.6.1 asks recipients to accept them.
_ENTITY_TAG_LIST = re.compile(rf"[\s,]*{_ENTITY_TAG}(?:\s*,[\s,]*{_ENTITY_TAG})*[\s,]*")
_OUR_ETAG = re.compile(r'"(?:0|[1-9][0-9]{0,17})"')  # etag(version), as a 64-bit version can read


class IfMatch:
    """The entity tags of an If-Match header. The services compare it with the record's version
    (`version != expected`) under their lock; it equals a version whose ETag it lists as a strong
    tag: If-Match uses the strong comparison (RFC 9110 §13.1.1), so weak tags never match."""

    def __init__(self, header: str, strong_tags: frozenset[str]):
        self.header = header
        self.strong_tags = strong_tags

    def __eq__(self, version):
        return isinstance(version, int) and etag(version) in self.strong_tags

    __hash__ = None

    def __str__(self):
        return self.header


def parse_if_match(value: str | None) -> int | IfMatch | None:
    """None for no condition (no header, or `*`: the record exists, since it was found); the
    version for one strong tag of ours, as the body's `version` would be; else an IfMatch. Any
    well-formed tag list is a condition (a stale or foreign tag is a 412); only a header that is
    not an entity-tag list is a 400."""
    value = (value or "").strip()
    if not value or value == "*":
        return None
    if not _ENTITY_TAG_LIST.fullmatch(value):
        raise ValidationError({"If-Match": [_('Send the ETag of the version you edited, e.g. "3", or *.')]})
    tags = re.findall(_ENTITY_TAG, value)
    strong = frozenset(tag for tag in tags if not tag.startswith("W/"))
    if len(tags) == 1 and _OUR_ETAG.fullmatch(tags[0]):
        return int(tags[0][1:-1])
    return IfMatch(value, strong)


def declared_brief_fields(model) -> tuple[str, ...] | None:
    """What `str()` of a `model` record reads: the model's `brief_fields`, or for a user model whose
    `str()` is AbstractBaseUser's (Django's User), its username field. None when nothing says."""
    declared = getattr(model, "brief_fields", None)
    if declared is None and issubclass(model, AbstractBaseUser) and model.__str__ is AbstractBaseUser.__str__ and (
            model.get_username is AbstractBaseUser.get_username):
        return (model.USERNAME_FIELD,)
    return declared


@functools.cache
def brief_fields_of(model) -> frozenset[str]:
    """The fields a record needs to read as a brief reference: its id and what `__str__` reads,
    as the model declares them (`brief_fields = ("code", "title")`). A model that declares none is
    loaded whole: a serializer may read more of a related record than its `__str__` does (a
    questionnaire's questions), and only the model knows."""
    declared = declared_brief_fields(model)
    if declared is not None:
        return frozenset({model._meta.pk.name, *declared})
    return frozenset(field.name for field in model._meta.concrete_fields)


@functools.cache
def deferred_for_brief(model) -> tuple[str, ...]:
    keep = brief_fields_of(model)
    return tuple(field.name for field in model._meta.concrete_fields
                 if field.name not in keep and not field.primary_key)


def brief_relations(serializer_class, model) -> list[tuple[str, type]]:
    """(field name, related model) of each relation the serializer reads as {id, display, url}."""
    relations = []
    fields = serializer_class().fields.values()
    # A relation another field reads through (`source="questionnaire.code"`) is loaded whole.
    read_through = {field.source.split(".")[0] for field in fields if "." in (field.source or "")}
    for field in fields:
        child = getattr(field, "child_relation", field)
        if not isinstance(child, BriefRelatedField) or "." in field.source or field.source == "*" or (
                field.source in read_through):
            continue
        try:
            model_field = model._meta.get_field(field.source)
        except FieldDoesNotExist:
            continue
        if model_field.is_relation and model_field.related_model is not None:
            relations.append((field.source, model_field.related_model))
    return relations


def load_brief_relations(queryset, relations):
    """Related records read only as {id, display, url} are loaded without the columns that needs not
    (descriptions were 29 % of a risk page's time): `defer()` on the joined ones (select_related),
    a deferring `Prefetch` for the prefetched ones. A relation something else reaches through
    (`select_related("review__supplier")`) or a queryset already cut with only() is left whole."""
    query = queryset.query
    if not query.deferred_loading[1]:  # only(): the viewset chose its columns itself
        return queryset
    selected = query.select_related if isinstance(query.select_related, dict) else {}
    lookups = list(queryset._prefetch_related_lookups)
    deferred, changed = [], False
    for name, related_model in relations:
        hidden = deferred_for_brief(related_model)
        if not hidden:
            continue
        if selected.get(name) == {}:
            deferred += [f"{name}__{field}" for field in hidden]
        if name in lookups and not any(isinstance(lookup, str) and lookup.startswith(f"{name}__")
                                       for lookup in lookups):
            lookups[lookups.index(name)] = Prefetch(name, queryset=related_model._default_manager.defer(*hidden))
            changed = True
    if deferred:
        queryset = queryset.defer(*deferred)
    if changed:
        queryset = queryset.prefetch_related(None).prefetch_related(*lookups)
    return queryset


# Column types every supported database returns as the Python value itself (no converter to run).
PLAIN_COLUMN_TYPES = frozenset({
    "CharField", "TextField", "SlugField", "AutoField", "BigAutoField", "SmallAutoField", "IntegerField",
    "BigIntegerField", "SmallIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField",
    "PositiveBigIntegerField"})


def values_loadable(model, name, related_model) -> dict | None:
    """How a list page reads the many-to-many relation `name` as values (attach_brief_values): the
    link table joined to the related model's brief fields, in the related model's order. None when
    that would not give what prefetching gives: a related model that declares no brief fields (a
    serializer may read more of it), whose default manager filters, whose ordering is not its own
    columns, or whose brief fields need a converter from the database."""
    from django.db.models.manager import BaseManager

    model_field = model._meta.get_field(name)
    if not model_field.many_to_many or model_field.auto_created or declared_brief_fields(related_model) is None:
        return None
    if type(related_model._default_manager).get_queryset is not BaseManager.get_queryset:
        return None
    through = model_field.remote_field.through
    keep = brief_fields_of(related_model)
    columns = [field for field in related_model._meta.concrete_fields if field.name in keep]
    if any(field.get_internal_type() not in PLAIN_COLUMN_TYPES or hasattr(field, "from_db_value")
           for field in columns):
        return None
    order = []
    for term in [*related_model._meta.ordering, "pk"]:
        if not isinstance(term, str) or term == "?" or "__" in term:
            return None
        name = term.lstrip("-")
        try:
            field = related_model._meta.pk if name == "pk" else related_model._meta.get_field(name)
        except FieldDoesNotExist:
            return None
        if field.is_relation or not field.concrete:
            return None
        order.append((field.column, term.startswith("-")))
    return {"through_table": through._meta.db_table,
            "source_column": through._meta.get_field(model_field.m2m_field_name()).column,
            "target_column": through._meta.get_field(model_field.m2m_reverse_field_name()).column,
            "table": related_model._meta.db_table, "pk_column": related_model._meta.pk.column,
            "columns": [field.column for field in columns], "attnames": [field.attname for field in columns],
            "order": order}


def brief_values_sql(load, connection, count: int) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(f"r.{quote(column)}" for column in load["columns"])
    order = ", ".join(f"r.{quote(column)}{' DESC' if descending else ' ASC'}" for column, descending in load["order"])
    # Only names from the models' metadata, quoted; the ids are parameters.
    source, target = quote(load["source_column"]), quote(load["target_column"])
    through, table, pk = quote(load["through_table"]), quote(load["table"]), quote(load["pk_column"])
    placeholders = ", ".join(["%s"] * count)
    return (f"SELECT t.{source}, {columns} FROM {through} t INNER JOIN {table} r ON r.{pk} = t.{target} "  # noqa: S608
            f"WHERE t.{source} IN ({placeholders}) ORDER BY {order}")


def attach_brief_values(rows, loads) -> None:
    """Reads the many-to-many relations of a page's records as BriefValues: one query per relation,
    the link table joined to the related table's brief columns (prefetching built the same rows as
    model instances through the ORM, which was most of a small page's time). The serializer's
    BriefManyRelatedField reads them."""
    if not rows:
        return
    ids = [row.pk for row in rows]
    db = rows[0]._state.db or "default"
    connection = connections[db]
    for row in rows:
        row.__dict__[BRIEF_VALUES_ATTRIBUTE] = {}
    for name, related_model, load in loads:
        with connection.cursor() as cursor:
            cursor.execute(brief_values_sql(load, connection, len(ids)), ids)
            found = cursor.fetchall()
        by_row, built = {}, {}
        pk_index = load["attnames"].index(related_model._meta.pk.attname)
        attnames = load["attnames"]
        for source_id, *values in found:
            pk = values[pk_index]
            value = built.get(pk)
            if value is None:
                value = built[pk] = BriefValue(related_model, pk,
                                               str(instance_from_db(related_model, db, attnames, values)))
            by_row.setdefault(source_id, []).append(value)
        for row in rows:
            row.__dict__[BRIEF_VALUES_ATTRIBUTE][name] = by_row.get(row.pk, [])


class RecordContentNegotiation(QgovContentNegotiation):
    """Records are JSON: `?format=` is left to the filters (the import runs' own `format` filter
    answered 404, read as a renderer name). The schema view keeps `?format=json`."""

    settings = SimpleNamespace(URL_FORMAT_OVERRIDE=None)


class QgovReadOnlyViewSet(IdempotentWritesMixin, viewsets.ReadOnlyModelViewSet):
    """Records the API only reads (audit events, checkpoints, import runs), scoped by `restrict()`; the
    POST actions some add honour Idempotency-Key."""

    content_negotiation_class = RecordContentNegotiation

    ordering = ["-id"]
    cursor_pagination = True  # ?cursor= walks the list newest first (qgov.api.pagination)

    def get_queryset(self):
        return super().get_queryset().restrict(self.request.user, Action.VIEW)


class QgovModelViewSet(IdempotentWritesMixin, viewsets.ModelViewSet):
    """Lists and reads through `restrict(user, "view")`; writes through the core services; detail
    responses carry an ETag, updates honour If-Match (412 when stale) and every write Idempotency-Key."""

    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    content_negotiation_class = RecordContentNegotiation
    ordering_fields = "__all__"
    ordering = ["pk"]
    cursor_pagination = True  # ?cursor= walks the list in id order (qgov.api.pagination)
    list_etag = True  # lists answer an ETag and 304 on If-None-Match (qgov.api.pagination)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A model's lifecycle transitions become this viewset's actions, declared nowhere else.
        queryset, serializer_class = cls.__dict__.get("queryset"), cls.__dict__.get("serializer_class")
        lifecycle = lifecycle_of(queryset.model) if queryset is not None else None
        for transition in lifecycle.public_transitions if lifecycle else ():
            setattr(cls, f"transition_{transition.name}", transition_action(transition, serializer_class))
        # A model that accepts evidence gets GET|POST …/{id}/evidence/ (docs/evidence.md).
        if queryset is not None and getattr(queryset.model, "accepts_evidence", False):
            from qgov.evidence.api import add_evidence_action

            add_evidence_action(cls)

    _brief_relations: dict = {}  # per serializer class, worked out once
    _brief_value_loads: dict = {}  # per serializer class, model and viewset, worked out once

    def get_queryset(self):
        queryset = super().get_queryset().restrict(self.request.user, Action.VIEW)
        if self.request.method in ("GET", "HEAD"):
            if self.action == "list":
                # The relations read as values are attached to the page (list()), not prefetched.
                queryset = self.without_value_loaded_prefetches(queryset)
            queryset = load_brief_relations(queryset, self.brief_relations(queryset.model))
        action = METHOD_ACTIONS.get(self.request.method) if self.detail else None
        if action is not None:
            # The object permission check (RolePermission) reads this instead of a query of its own.
            allowed = queryset.model.objects.restrict(self.request.user, action).filter(pk=OuterRef("pk"))
            queryset = queryset.annotate(qgov_may_write=Exists(allowed))
        return queryset

    def brief_relations(self, model):
        serializer_class = self.get_serializer_class()
        key = (serializer_class, model)
        if key not in QgovModelViewSet._brief_relations:
            QgovModelViewSet._brief_relations[key] = brief_relations(serializer_class, model)
        return QgovModelViewSet._brief_relations[key]

    def brief_value_loads(self, model) -> list:
        """(name, related model, load) of each prefetched many-to-many relation a list reads as
        BriefValues (values_loadable); the list attaches them to its page (attach_brief_values)."""
        key = (self.get_serializer_class(), model, type(self))
        if key not in QgovModelViewSet._brief_value_loads:
            lookups = self.queryset._prefetch_related_lookups if self.queryset is not None else ()
            nested = {lookup.split("__")[0] for lookup in lookups if isinstance(lookup, str) and "__" in lookup}
            loads = []
            for name, related_model in self.brief_relations(model):
                if name in lookups and name not in nested:
                    load = values_loadable(model, name, related_model)
                    if load is not None:
                        loads.append((name, related_model, load))
            QgovModelViewSet._brief_value_loads[key] = loads
        return QgovModelViewSet._brief_value_loads[key]

    def without_value_loaded_prefetches(self, queryset):
        """`queryset` without the prefetches of the relations attach_brief_values reads."""
        loads = self.brief_value_loads(queryset.model)
        if not loads:
            return queryset
        names = {name for name, _model, _load in loads}
        # A lookup may be a Prefetch already (load_brief_relations defers a relation's other columns).
        kept = [lookup for lookup in queryset._prefetch_related_lookups
                if getattr(lookup, "prefetch_to", lookup) not in names]
        return queryset.prefetch_related(None).prefetch_related(*kept)

    def expected_version(self) -> int | None:
        from_header = parse_if_match(self.request.headers.get("If-Match"))
        if from_header is not None:
            return from_header
        body_version = self.request.data.get("version") if isinstance(self.request.data, dict) else None
        if body_version is None:
            return None
        if isinstance(body_version, bool) or not isinstance(body_version, int) or not 1 <= body_version < 2**63:
            raise ValidationError({"version": [_("A valid integer is required.")]})
        return body_version

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request is not None and self.request.method in ("PUT", "PATCH"):
            context["expected_version"] = self.expected_version()
        return context

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        if self.paginator is None:
            rows = read_rows(queryset)
            attach_brief_values(rows, self.brief_value_loads(queryset.model))
            return Response(self.get_serializer(rows, many=True).data)
        page = self.paginate_queryset(queryset)
        if getattr(self.paginator, "not_modified", False):
            return Response(status=304, headers={"ETag": self.paginator.etag})
        attach_brief_values(page, self.brief_value_loads(queryset.model))
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        if getattr(self.paginator, "etag", None):
            response["ETag"] = self.paginator.etag
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if (
            self.action not in ("list", "destroy")
            and response.status_code < 300
            and isinstance(getattr(response, "data", None), dict)  # not a replayed answer (Idempotency-Key)
            and "version" in response.data
        ):
            response["ETag"] = etag(response.data["version"])
        return response

    def perform_destroy(self, instance):
        object_delete(instance=instance, user=self.request.user, expected_version=self.expected_version())
