"""REST endpoints of the core: agencies, users, memberships, audit events, API tokens,
notifications and token login."""

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from qgov import services, tokens
from qgov.api.exceptions import lockout_response
from qgov.api.fields import TimeZoneField
from qgov.api.permissions import IsPlatformAdminOrReadOnly
from qgov.api.schema import ErrorSerializer
from qgov.api.serializers import PortableModelSerializer, QgovModelSerializer, StrictFieldsMixin
from qgov.api.viewsets import QgovModelViewSet, QgovReadOnlyViewSet
from qgov.filters import AgencyFilterSet, AuditEventFilterSet, MembershipFilterSet, UserFilterSet
from qgov.identity import lockout
from qgov.identity.reauth import refuse_stale_browser_session
from qgov.identity.validators import MIN_SESSION_MINUTES
from qgov.integrations.idempotency.api import IdempotentWritesMixin
from qgov.models import (
    RECORD_FIELDS,
    Agency,
    ApiToken,
    AuditCheckpoint,
    AuditEvent,
    Membership,
    Notification,
    validate_reminder_thresholds,
)
from qgov.permissions import agency_ids_where
from qgov.roles import Action

User = get_user_model()


# --- agencies and memberships ---------------------------------------------------------------


@extend_schema_field({"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 3650},
                     "minItems": 1, "maxItems": 6, "uniqueItems": True})
class DayCountsField(serializers.JSONField):
    """A list of distinct day counts (stored largest first)."""


class AgencySerializer(QgovModelSerializer):
    time_zone = TimeZoneField(required=False, help_text="An IANA time-zone name, e.g. Europe/Brussels (default UTC): "
                                                        "dates and deadlines of the agency are counted in it.")
    reminder_thresholds = DayCountsField(
        required=False, validators=[validate_reminder_thresholds],
        help_text="Days before a due date when the owner and the agency admins are reminded, e.g. [90, 30, 7]; "
                  "the largest is the warning window.")

    # The session policy's bounds in the schema: at least MIN_SESSION_MINUTES, at most the platform's limit.
    session_limit_errors = {
        "min_value": gettext_lazy("At least {min_value} minutes."),
        "max_value": gettext_lazy("At most {max_value} minutes: the platform's limit. An agency may make sessions "
                                  "shorter, not longer.")}
    session_idle_minutes = serializers.IntegerField(
        required=False, allow_null=True, min_value=MIN_SESSION_MINUTES,
        max_value=settings.QGOV_SESSION_IDLE_SECONDS // 60, error_messages=session_limit_errors,
        help_text=Agency._meta.get_field("session_idle_minutes").help_text)
    session_absolute_minutes = serializers.IntegerField(
        required=False, allow_null=True, min_value=MIN_SESSION_MINUTES,
        max_value=settings.QGOV_SESSION_ABSOLUTE_SECONDS // 60, error_messages=session_limit_errors,
        help_text=Agency._meta.get_field("session_absolute_minutes").help_text)

    class Meta:
        model = Agency
        fields = (*QgovModelSerializer.base_fields, "name", "code", "sector", "parent", "time_zone", "jurisdiction",
                  "reminder_thresholds", "session_idle_minutes", "session_absolute_minutes",
                  "phishing_resistant_required", "totp_allowed", "description", *RECORD_FIELDS)

    def validate(self, attrs):
        # A browser session changing the session policy needs a fresh sign-in (a token was issued after one).
        changes_policy = any(name in attrs and attrs[name] != getattr(self.instance, name, None)
                             for name in ("session_idle_minutes", "session_absolute_minutes",
                                          "phishing_resistant_required", "totp_allowed"))
        if changes_policy:
            refuse_stale_browser_session(
                self.context.get("request"),
                _("Changing the session or MFA policy needs a recent sign-in: sign in again first."))
        return super().validate(attrs)


class AgencyViewSet(QgovModelViewSet):
    queryset = Agency.objects.select_related("parent")
    serializer_class = AgencySerializer
    filterset_class = AgencyFilterSet
    http_method_names = ["get", "post", "put", "patch", "head", "options"]


class MembershipSerializer(QgovModelSerializer):
    create_only_fields = ("agency", "user")

    class Meta:
        model = Membership
        fields = (*QgovModelSerializer.base_fields, "agency", "user", "role", "source", "provider", *RECORD_FIELDS)
        # Kept by whoever is the source: a sign-in through the provider recomputes provider ones.
        read_only_fields = ("source", "provider")

    def validate(self, attrs):
        # Granting a role from a browser session needs a fresh sign-in, as issuing a token does.
        if self.instance is None or attrs.get("role", self.instance.role) != self.instance.role:
            refuse_stale_browser_session(self.context.get("request"),
                                         _("Granting a role needs a recent sign-in: sign in again first."))
        return super().validate(attrs)


class MembershipViewSet(QgovModelViewSet):
    queryset = Membership.objects.select_related("agency", "user")
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilterSet


# --- users ----------------------------------------------------------------------------------


class UserSerializer(QgovModelSerializer):
    password = serializers.CharField(write_only=True, required=False, style={"input_type": "password"})
    create_only_fields = ("username",)

    class Meta:
        model = User
        fields = (*QgovModelSerializer.base_fields, "username", "email", "first_name", "last_name", "is_active",
                  "password", "date_joined")
        read_only_fields = ("date_joined",)

    def validate(self, attrs):
        password = attrs.get("password")
        if self.instance is None and not password:
            raise serializers.ValidationError({"password": [_("This field is required.")]})
        if password:
            candidate = User(**{k: v for k, v in attrs.items() if k != "password"})
            try:
                validate_password(password, user=self.instance or candidate)
            except Exception as exc:  # django ValidationError carries the validators' messages
                raise serializers.ValidationError({"password": list(getattr(exc, "messages", [str(exc)]))}) from exc
        return attrs

    @transaction.atomic
    def create(self, validated_data):
        password = validated_data.pop("password")
        user = User(**validated_data)
        user.set_password(password)
        user.full_clean()
        user.save()
        return user

    @transaction.atomic
    def update(self, instance, validated_data):
        password = validated_data.pop("password", None)
        for key, value in validated_data.items():
            setattr(instance, key, value)
        if password:
            instance.set_password(password)
        instance.full_clean()
        instance.save()
        return instance


class UserViewSet(IdempotentWritesMixin, viewsets.ModelViewSet):
    """Platform admins create and change users; agency admins see the members of their agencies."""

    queryset = User.objects.none()  # the model, for the schema; get_queryset() scopes the real one
    serializer_class = UserSerializer
    filterset_class = UserFilterSet
    permission_classes = [IsPlatformAdminOrReadOnly]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ordering_fields = ["id", "username", "email", "date_joined"]
    ordering = ["username"]

    def get_queryset(self):
        user = self.request.user
        if user.is_superuser:
            return User.objects.all()  # platform admins create and manage every account
        managed = agency_ids_where(user, Action.MANAGE_MEMBERS)
        return User.objects.filter(Q(pk=user.pk) | Q(memberships__agency_id__in=managed)).distinct()


# --- audit events ---------------------------------------------------------------------------


class AuditEventSerializer(PortableModelSerializer):
    object_type = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = ("id", "chain", "seq", "timestamp", "actor", "actor_repr", "agency", "object_type", "object_id",
                  "object_repr", "action", "changed_fields", "before", "after", "request_id", "source",
                  "prev_hash", "hash", "key_id")

    def get_object_type(self, obj) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"


class AuditEventViewSet(QgovReadOnlyViewSet):
    """The audit trail of the agencies where the caller is auditor or admin."""

    queryset = AuditEvent.objects.select_related("content_type")
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    ordering_fields = ["id", "seq", "timestamp"]


class AuditCheckpointSerializer(PortableModelSerializer):
    download = serializers.SerializerMethodField()

    class Meta:
        model = AuditCheckpoint
        fields = ("id", "chain", "agency", "seq", "hash", "created", "key_id", "signature", "download")

    def get_download(self, obj) -> str:
        path = reverse("api:auditcheckpoint-download", args=[obj.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class AuditCheckpointViewSet(QgovReadOnlyViewSet):
    """Signed checkpoints of the audit chains of the agencies where the caller is auditor or admin."""

    queryset = AuditCheckpoint.objects.all()
    serializer_class = AuditCheckpointSerializer
    filterset_fields = ["chain", "agency"]
    ordering_fields = ["id", "created", "seq"]

    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        """The signed checkpoint file, for `manage.py verify_audit --checkpoint FILE`."""
        from qgov.views.core import checkpoint_file_response

        return checkpoint_file_response(self.get_object())


# --- tokens ---------------------------------------------------------------------------------


class TokenRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class ObtainTokenView(APIView):
    """Exchange a username and password for an expiring API token."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            201: inline_serializer(
                "TokenResponse", {"token": serializers.CharField(), "expires": serializers.DateTimeField()}
            ),
            400: OpenApiResponse(ErrorSerializer, description="Missing fields, or a username and password that "
                                                              "do not sign in (`non_field_errors`)."),
            429: OpenApiResponse(ErrorSerializer, description="Too many failed sign-in attempts for this username "
                                                              "from this address; try again later."),
        },
    )
    def post(self, request):
        payload = TokenRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = authenticate(request._request, **payload.validated_data)
        locked = lockout.locked_out(request._request)
        if locked is not None:  # refused before the password was checked
            return lockout_response(request._request, locked)
        if user is None:
            raise serializers.ValidationError({"non_field_errors": [_("Unable to sign in with these credentials.")]})
        token, key = services.token_issue(user=user, name=_("API login"))
        return Response({"token": key, "expires": token.expires}, status=status.HTTP_201_CREATED)


class ApiTokenSerializer(PortableModelSerializer):
    is_active = serializers.BooleanField(read_only=True)
    scopes = serializers.ListField(child=serializers.CharField(), read_only=True)
    allowed_ips = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ApiToken
        fields = (
            "id", "name", "prefix", "user", "agencies", "scopes", "allowed_ips", "created", "expires", "revoked_at",
            "last_used", "is_active",
        )
        read_only_fields = fields


class IssuedTokenSerializer(ApiTokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret, shown in this response only.")

    class Meta(ApiTokenSerializer.Meta):
        fields = (*ApiTokenSerializer.Meta.fields, "token")
        read_only_fields = fields


@extend_schema_field({"type": "array", "items": {"type": "integer"}, "minItems": 1})
class AgencyIdsField(serializers.ManyRelatedField):
    """Agency ids, at least one (which the schema of a plain many-related field does not say)."""


class SystemTokenRequestSerializer(StrictFieldsMixin, serializers.Serializer):
    name = serializers.CharField(max_length=100)
    agencies = AgencyIdsField(
        child_relation=serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all()), allow_empty=False,
        help_text="Agencies where you are an admin; the token acts in these only.")
    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=tokens.scope_choices()), min_length=1,
        help_text="read, write (includes read), or per area: <area>:read, <area>:write, <area>:manage.")
    allowed_ips = serializers.ListField(
        child=serializers.RegexField(tokens.NETWORK_PATTERN, max_length=43), required=False, default=list,
        help_text="Addresses or networks in CIDR notation (normalised to their networks) the token may be "
                  "used from; empty: any address.")
    expires = serializers.DateTimeField(help_text="Required; at most 366 days from now.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:  # other agencies are invisible, as everywhere: an unknown id
            self.fields["agencies"].child_relation.queryset = Agency.objects.filter(
                pk__in=agency_ids_where(request.user, Action.MANAGE_MEMBERS))


class ApiTokenViewSet(IdempotentWritesMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The caller's own tokens and, for agency admins, their agencies' system tokens. POST issues a
    system token (agency admins); DELETE revokes."""

    queryset = ApiToken.objects.none()  # the model, for the schema; get_queryset() scopes the real one
    serializer_class = ApiTokenSerializer
    permission_classes = [IsAuthenticated]  # the queryset and the services decide
    ordering = ["-created"]

    def get_queryset(self):
        user = self.request.user
        managed = services.token_agency_ids_managed_by(user)
        return (ApiToken.objects.filter(Q(user=user) | Q(agencies__in=managed)).distinct()
                .prefetch_related("agencies"))

    @extend_schema(
        request=SystemTokenRequestSerializer,
        responses={201: IssuedTokenSerializer,
                   400: OpenApiResponse(ErrorSerializer, description="Invalid fields, e.g. an agency where you "
                                                                     "are not an admin, or an expiry too far away."),
                   403: OpenApiResponse(ErrorSerializer, description="Not an agency admin.")},
    )
    def create(self, request):
        payload = SystemTokenRequestSerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        token, key = services.system_token_create(created_by=request.user, **payload.validated_data)
        body = IssuedTokenSerializer(token, context={"request": request}).data
        body["token"] = key
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.token_revoke(token=instance, user=self.request.user)


# --- notifications --------------------------------------------------------------------------


class NotificationSerializer(PortableModelSerializer):
    class Meta:
        model = Notification
        fields = ("id", "title", "body", "url", "agency", "created", "read_at")
        read_only_fields = fields


class NotificationViewSet(IdempotentWritesMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Notification.objects.none()  # the model, for the schema; get_queryset() scopes the real one
    serializer_class = NotificationSerializer
    permission_classes = [IsAuthenticated]  # only the caller's own notifications are listed
    ordering = ["-created"]

    def get_queryset(self):
        return Notification.objects.filter(user=self.request.user)

    @extend_schema(request=None, responses={200: inline_serializer("MarkRead", {"marked": serializers.IntegerField()})})
    @action(detail=False, methods=["post"], url_path="mark-read")
    def mark_read(self, request):
        return Response({"marked": services.notifications_mark_read(user=request.user)})
