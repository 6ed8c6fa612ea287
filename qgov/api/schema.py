"""The OpenAPI schema says what the API does: every error an operation can answer, in the one error
shape (qgov.api.exceptions), and the constraints the filters and the pagination enforce. Agency
systems generate their clients from it, so what it allows must be accepted and what it refuses
must be refused."""

import django_filters
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from rest_framework import serializers

from qgov.api.filters import is_integer_filter
from qgov.api.serializers import StrictFieldsMixin
from qgov.filters import IdInFilter, QgovFilterSet

# The largest id or count a 64-bit column holds; the filters and the pagination refuse more.
MAX_INT64 = 2**63 - 1
RECORD_ID = {"type": "integer", "minimum": 1, "maximum": MAX_INT64}


class ErrorSerializer(serializers.Serializer):
    """Every error the API answers has this shape."""

    status = serializers.IntegerField(help_text="The HTTP status, repeated.")
    code = serializers.CharField(help_text="A stable, machine-readable reason, e.g. `invalid`, `not_found`, "
                                           "`permission_denied`, `stale_version`.")
    detail = serializers.CharField(help_text="What went wrong, for people.")
    errors = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Per field (or `non_field_errors`, or a header such as `If-Match`), the list of what is wrong "
                  "with it; empty when the error is not about the input.")


# Why each status may be answered; which operations may answer it is decided in error_statuses().
ERROR_DESCRIPTIONS = {
    400: "The input is not valid (body, query parameters or If-Match); `errors` says what, per field.",
    401: "No valid credentials: send `Authorization: Token <key>` (the token may have expired or been revoked).",
    403: "Your role in the record's agency does not allow this.",
    404: "No such record among those you may see.",
    412: "If-Match (or the body's `version`) names a version that is no longer current; the response's "
         "ETag is the current one.",
    413: "The request body is larger than the server accepts.",
    415: "The request body is not in a media type this operation reads.",
    422: "The Idempotency-Key was sent before with a different request (method, path, query or body).",
    429: "Too many requests with this API token; the Retry-After header says in how many seconds to try again.",
}
KEY_IN_USE = ("A request with the same Idempotency-Key is still being processed; send it again after "
              "Retry-After seconds.")


EXTRA_REQUEST_FIELDS = {
    "version": {"type": "integer", "minimum": 1, "maximum": MAX_INT64, "writeOnly": True,
                "description": "On an update, the version you edited, for clients that cannot send If-Match; "
                               "a version that is no longer current is a 412."},
}


class QgovAutoSchema(AutoSchema):
    """Adds to each operation the error responses it can answer, all referencing one Error component.
    Responses an operation declares itself (e.g. a transition's 409) are kept as they are."""

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        responses = operation["responses"]
        for status in self.error_statuses(operation):
            responses.setdefault(str(status), {
                "description": ERROR_DESCRIPTIONS[status],
                "content": {"application/json": {"schema": error}},
            })
        if self.takes_idempotency_key():
            self.add_idempotency_key(operation, error)
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def takes_idempotency_key(self) -> bool:
        from qgov.integrations.idempotency.api import METHODS, IdempotentWritesMixin

        return self.method in METHODS and isinstance(self.view, IdempotentWritesMixin)

    def add_idempotency_key(self, operation, error):
        """The Idempotency-Key header, its replay header on success, and its 409 and 422."""
        from qgov.integrations.idempotency.api import HEADER, KEY_PATTERN, REPLAYED

        operation.setdefault("parameters", []).append({
            "in": "header", "name": HEADER, "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
            "description": "A key of your choosing (e.g. a UUID) that makes this write safe to retry: sent "
                           "again, with the same request, within the retention (72 hours by default), it "
                           "answers the first answer again, with `Idempotent-Replayed: true`, and changes "
                           "nothing. Scoped to your token (or session user).",
        })
        responses = operation["responses"]
        for code, response in responses.items():
            if code.startswith("2"):
                response.setdefault("headers", {})[REPLAYED] = {
                    "schema": {"type": "string", "enum": ["true"]},
                    "description": "Present when this is the stored answer to an earlier request with the "
                                   "same Idempotency-Key.",
                }
        retry_after = {"Retry-After": {"schema": {"type": "integer", "minimum": 1},
                                       "description": "Seconds to wait before sending the request again."}}
        if "409" in responses:
            responses["409"]["description"] += f" Or: {KEY_IN_USE[0].lower()}{KEY_IN_USE[1:]}"
        else:
            responses["409"] = {"description": KEY_IN_USE, "content": {"application/json": {"schema": error}}}
        responses["409"].setdefault("headers", {}).update(retry_after)
        responses.setdefault("422", {"description": ERROR_DESCRIPTIONS[422],
                                     "content": {"application/json": {"schema": error}}})

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        serializer = force_instance(serializer)
        if direction == "response" and isinstance(serializer, serializers.ModelSerializer) and schema.get("properties"):
            # A record's answer always carries every field (null when unset): required, so that generated
            # clients type `reference` as a string, not as "a string or absent".
            schema["required"] = sorted(schema["properties"])
        extra = getattr(serializer, "extra_known_fields", ())
        if direction == "request" and isinstance(serializer, StrictFieldsMixin) and set(extra) <= set(
                EXTRA_REQUEST_FIELDS):
            # Unknown fields are a 400 (StrictFieldsMixin): the schema says so, and names the extra
            # fields the serializer reads besides its own. (Query serializers that also read the
            # pagination's parameters are parameters, not bodies.)
            for name in extra:
                schema["properties"][name] = EXTRA_REQUEST_FIELDS[name]  # in place of its read-only answer
                if name in schema.get("required", ()):  # read-only fields are required answers, never inputs
                    schema["required"].remove(name)
                    if not schema["required"]:
                        del schema["required"]
            schema["additionalProperties"] = False
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (isinstance(field, serializers.JSONField) and not field.allow_null
                and not {"type", "$ref", "oneOf", "anyOf", "allOf"} & set(schema)):
            # Untyped, the schema would allow null, which the field refuses.
            schema.update(json_value_schema(field))
        if isinstance(field, serializers.DecimalField) and "pattern" in schema and field.max_digits is not None:
            # drf-spectacular's pattern (^-?\d{0,3}(?:\.\d{0,1})?$) also matches "", "-" and ".",
            # which the field refuses: at least one digit.
            whole, places = field.max_digits - (field.decimal_places or 0), field.decimal_places or 0
            number = rf"\d{{1,{whole}}}" if whole else "0"
            if places:
                number = rf"(?:{number}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})"
            sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
            schema["pattern"] = rf"^{sign}{number}$"
        return schema

    def error_statuses(self, operation) -> list[int]:
        from qgov.api.viewsets import QgovModelViewSet

        writes = self.method not in ("GET", "HEAD", "OPTIONS")
        authenticated = any(requirement for requirement in operation.get("security", []))
        statuses = []
        if writes or any(parameter["in"] == "query" for parameter in operation.get("parameters", ())):
            statuses.append(400)
        if authenticated:
            statuses += [401, 403, 429]  # 429: the per-token rate limit (qgov.api.throttling)
        if any(parameter["in"] == "path" for parameter in operation.get("parameters", ())):
            statuses.append(404)
        if writes and self.method != "POST" and isinstance(self.view, QgovModelViewSet):
            statuses.append(412)
        if "requestBody" in operation:
            statuses += [413, 415]
        return statuses


def json_value_schema(field) -> dict:
    """A JSON field's values: a list or an object when its model field defaults to one, else any
    JSON value but null."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    try:
        default = model._meta.get_field(field.source).default if model is not None else None
    except Exception:  # not a model field
        default = None
    value = default() if callable(default) else default
    if isinstance(value, list):
        return {"type": "array", "items": {}}
    if isinstance(value, dict):
        return {"type": "object", "additionalProperties": {}}
    return {"anyOf": [{"type": "object", "additionalProperties": {}}, {"type": "array", "items": {}},
                      {"type": "string"}, {"type": "number"}, {"type": "boolean"}]}


class QgovFilterExtension(DjangoFilterExtension):
    """django-filter's parameters, with the bounds the qgov filters enforce: ids and related ids are
    1 … 2⁶³−1 (an unknown or invisible related id matches nothing, see QgovFilterSet), numbers fit
    64 bits."""

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        for parameter in parameters:
            schema = parameter["schema"]
            target = schema["items"] if schema.get("type") == "array" else schema
            if isinstance(filter_field, IdInFilter | django_filters.ModelChoiceFilter
                          | django_filters.ModelMultipleChoiceFilter) and target.get("type") == "integer":
                target.update(RECORD_ID)
            elif isinstance(filter_field, django_filters.NumberFilter) and issubclass(filterset_class, QgovFilterSet):
                if is_integer_filter(filterset_class, filter_field):
                    target["type"] = "integer"  # QgovFilterBackend refuses fractions there
                    target.pop("format", None)
                target.setdefault("minimum", filter_field.extra.get("min_value", -MAX_INT64 - 1))
                target.setdefault("maximum", filter_field.extra.get("max_value", MAX_INT64))
        return parameters


def lib_doc_excludes() -> list:
    """drf-spectacular's GET_LIB_DOC_EXCLUDES: the classes whose docstrings are not descriptions in
    the schema. Besides DRF's, the qgov base classes: their docstrings are for developers, and would
    otherwise describe every component and operation that declares none of its own."""
    from drf_spectacular.plumbing import get_lib_doc_excludes

    from qgov.api.serializers import PortableModelSerializer, QgovModelSerializer, QueryParametersSerializer
    from qgov.api.viewsets import QgovModelViewSet, QgovReadOnlyViewSet
    from qgov.imports.api import ImportActionMixin

    return [*get_lib_doc_excludes(), StrictFieldsMixin, QueryParametersSerializer, PortableModelSerializer,
            QgovModelSerializer, QgovModelViewSet, QgovReadOnlyViewSet, ImportActionMixin]
