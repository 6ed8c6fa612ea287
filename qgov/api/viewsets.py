"""The base viewset every qgov model viewset declares on."""

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from qgov.api.exceptions import etag
from qgov.api.permissions import METHOD_ACTIONS
from qgov.api.serializers import StrictFieldsMixin
from qgov.lifecycle import lifecycle_of
from qgov.roles import Action
from qgov.services import object_delete, object_transition

ERROR_SCHEMA = inline_serializer("Error", {
    "status": serializers.IntegerField(),
    "code": serializers.CharField(),
    "detail": serializers.CharField(),
    "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
})


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
        400: OpenApiResponse(ERROR_SCHEMA, description="Bad input (e.g. a required reason is missing)."),
        403: OpenApiResponse(ERROR_SCHEMA, description=f"The role lacks the '{transition.permission}' action."),
        404: OpenApiResponse(ERROR_SCHEMA, description="No such record in your agencies."),
        409: OpenApiResponse(ERROR_SCHEMA, description="Not possible from the record's state, or a guard "
                                                       "is not met; `errors` says what is missing."),
        412: OpenApiResponse(ERROR_SCHEMA, description="The record changed since the version you sent."),
    }
    description = str(transition.help_text or "") + (" A reason is required." if transition.reason_required else "")
    run = action(detail=True, methods=["post"], url_path=transition.url_segment,
                 url_name=transition.url_segment)(run)
    return extend_schema(request=TransitionSerializer, responses=responses, summary=str(transition.label),
                         description=description.strip())(run)


def parse_if_match(value: str | None) -> int | None:
    if not value or value.strip() == "*":
        return None
    tag = value.split(",")[0].strip().removeprefix("W/").strip('"')
    try:
        return int(tag)
    except ValueError:
        raise ValidationError({"If-Match": [_("Send the ETag of the version you edited, e.g. \"3\".")]}) from None


class QgovReadOnlyViewSet(viewsets.ReadOnlyModelViewSet):
    """Records the API only reads (audit events, checkpoints, import runs), scoped by `restrict()`."""

    ordering = ["-id"]

    def get_queryset(self):
        return super().get_queryset().restrict(self.request.user, Action.VIEW)


class QgovModelViewSet(viewsets.ModelViewSet):
    """Lists and reads through `restrict(user, "view")`; writes through the core services; detail
    responses carry an ETag and updates honour If-Match (412 when stale)."""

    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    ordering_fields = "__all__"
    ordering = ["pk"]

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

    def get_queryset(self):
        queryset = super().get_queryset().restrict(self.request.user, Action.VIEW)
        action = METHOD_ACTIONS.get(self.request.method) if self.detail else None
        if action is not None:
            # The object permission check (RolePermission) reads this instead of a query of its own.
            allowed = queryset.model.objects.restrict(self.request.user, action).filter(pk=OuterRef("pk"))
            queryset = queryset.annotate(qgov_may_write=Exists(allowed))
        return queryset

    def expected_version(self) -> int | None:
        from_header = parse_if_match(self.request.headers.get("If-Match"))
        if from_header is not None:
            return from_header
        body_version = self.request.data.get("version") if isinstance(self.request.data, dict) else None
        if body_version is None:
            return None
        if isinstance(body_version, bool) or not isinstance(body_version, int):
            raise ValidationError({"version": [_("A valid integer is required.")]})
        return body_version

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request is not None and self.request.method in ("PUT", "PATCH"):
            context["expected_version"] = self.expected_version()
        return context

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if (
            self.action not in ("list", "destroy")
            and response.status_code < 300
            and isinstance(response.data, dict)
            and "version" in response.data
        ):
            response["ETag"] = etag(response.data["version"])
        return response

    def perform_destroy(self, instance):
        object_delete(instance=instance, user=self.request.user, expected_version=self.expected_version())
