"""The base viewset every qgov model viewset declares on."""

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _
from rest_framework import viewsets
from rest_framework.exceptions import ValidationError

from qgov.api.exceptions import etag
from qgov.api.permissions import METHOD_ACTIONS
from qgov.roles import Action
from qgov.services import object_delete


def parse_if_match(value: str | None) -> int | None:
    if not value or value.strip() == "*":
        return None
    tag = value.split(",")[0].strip().removeprefix("W/").strip('"')
    try:
        return int(tag)
    except ValueError:
        raise ValidationError({"If-Match": [_("Send the ETag of the version you edited, e.g. \"3\".")]}) from None


class QgovModelViewSet(viewsets.ModelViewSet):
    """Lists and reads through `restrict(user, "view")`; writes through the core services; detail
    responses carry an ETag and updates honour If-Match (412 when stale)."""

    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    ordering_fields = "__all__"
    ordering = ["pk"]

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
            self.action in ("retrieve", "update", "partial_update", "create")
            and response.status_code < 300
            and isinstance(response.data, dict)
            and "version" in response.data
        ):
            response["ETag"] = etag(response.data["version"])
        return response

    def perform_destroy(self, instance):
        object_delete(instance=instance, user=self.request.user, expected_version=self.expected_version())
