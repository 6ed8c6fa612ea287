"""The base serializer every qgov model serializer declares on."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from qgov import services
from qgov.api.fields import BriefRelatedField, api_url


class QgovModelSerializer(serializers.ModelSerializer):
    """Adds `url`, `display` and `version`; writes go through the core services (permission
    re-check, version check, model validation, audit); unknown fields are an error."""

    serializer_related_field = BriefRelatedField
    url = serializers.SerializerMethodField()
    display = serializers.SerializerMethodField()

    base_fields = ("id", "url", "display")
    # Fields that may be set on create but never changed afterwards.
    create_only_fields = ("agency",)

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
        if self.instance is not None:
            for name in self.create_only_fields:
                if name in fields:
                    fields[name].read_only = True
        return fields

    def to_internal_value(self, data):
        if isinstance(data, dict):
            known = set(self.fields) | {"version"}
            unknown = sorted(key for key in data if key not in known)
            if unknown:
                raise serializers.ValidationError({key: [_("Unknown field.")] for key in unknown})
        return super().to_internal_value(data)

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
