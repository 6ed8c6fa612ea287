from django.urls import NoReverseMatch, reverse
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type, build_object_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

from qgov.roles import Action


def api_url(obj, request=None):
    try:
        path = reverse(f"api:{obj._meta.model_name}-detail", args=[obj.pk])
    except NoReverseMatch:
        return None
    return request.build_absolute_uri(path) if request is not None else path


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
