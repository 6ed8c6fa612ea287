"""SCIM 2.0 endpoints of an agency's identity provider, under /scim/v2/<provider id>/ (RFC 7644).

Hand-written on DRF rather than django-scim2: django-scim2 authenticates a SCIM client as a Django
user with one global configuration and serves one tenant, while here each provider has its own bearer
token and every request is confined to that provider's users and groups (and so to its agency); its
adapters would have had to be rewritten to get that. The wire format is small enough to write down
in qgov.identity.scim.representation.

Every request authenticates with the provider's bearer token (401 otherwise, the same answer for an
unknown provider); a provider switched off in qgov (inactive) answers 403 to its own token, so an
agency admin's "off" stops provisioning as it stops sign-in; a resource of another provider answers 404.
Writes go through qgov.identity.scim.services (one transaction each) inside an audit context naming the provider.
"""

import uuid

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from qgov.audit import audit_context
from qgov.choices import AuditSourceChoices
from qgov.identity.providers.models import IdentityProvider
from qgov.identity.scim import representation as scim
from qgov.identity.scim.models import ScimGroup, ScimUser
from qgov.identity.scim.patch import apply_group_patch, apply_user_patch
from qgov.identity.scim.services import (
    ScimConflict,
    ScimInvalid,
    scim_group_change,
    scim_group_create,
    scim_group_delete,
    scim_token_matches,
    scim_user_create,
    scim_user_delete,
    scim_user_replace,
)

SCIM_MEDIA_TYPE = "application/scim+json"


class ScimRenderer(JSONRenderer):
    media_type = SCIM_MEDIA_TYPE


class ScimParser(JSONParser):
    media_type = SCIM_MEDIA_TYPE


class ProviderTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` of the provider named in the URL; no user is signed in."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].lower() != b"bearer":
            raise exceptions.NotAuthenticated(_("Send the provider's SCIM token as a Bearer token."))
        try:
            key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        provider_id = request.parser_context["kwargs"].get("provider")
        provider = IdentityProvider.objects.select_related("agency").filter(pk=provider_id).first()
        if provider is None or not scim_token_matches(provider, key):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not provider.is_active:
            # The token is right, the provider is off: nothing is read or changed until it is on again.
            raise exceptions.PermissionDenied(_("This identity provider is inactive in qgov: SCIM is refused until "
                                                "an agency admin makes it active again."))
        return AnonymousUser(), provider

    def authenticate_header(self, request):
        return 'Bearer realm="SCIM"'


def scim_exception_handler(exc, context):
    """Every error as a SCIM error body (RFC 7644 §3.12)."""
    if isinstance(exc, ScimInvalid):
        code, detail, scim_type = status.HTTP_400_BAD_REQUEST, str(exc), exc.scim_type
    elif isinstance(exc, ValidationError):  # a model's own check (e-mail address, lengths)
        code, scim_type = status.HTTP_400_BAD_REQUEST, "invalidValue"
        detail = " ".join(exc.messages)
    elif isinstance(exc, ScimConflict | IntegrityError):
        code, detail, scim_type = status.HTTP_409_CONFLICT, str(exc) if isinstance(exc, ScimConflict) else _(
            "The change conflicts with another resource."), "uniqueness"
    elif isinstance(exc, Http404 | exceptions.NotFound):
        code, detail, scim_type = status.HTTP_404_NOT_FOUND, _("No such resource of this provider."), None
    elif isinstance(exc, exceptions.ParseError):
        code, detail, scim_type = status.HTTP_400_BAD_REQUEST, _("The body is not valid JSON."), "invalidSyntax"
    elif isinstance(exc, exceptions.APIException):
        code, detail, scim_type = exc.status_code, str(exc.detail), None
    else:
        return None
    response = Response(scim.error_body(code, detail, scim_type), status=code)
    if code == status.HTTP_401_UNAUTHORIZED:
        response["WWW-Authenticate"] = ProviderTokenAuthentication().authenticate_header(None)
    return response


class ScimView(APIView):
    authentication_classes = (ProviderTokenAuthentication,)
    permission_classes = ()
    throttle_classes = ()
    renderer_classes = (ScimRenderer,)
    parser_classes = (ScimParser, JSONParser)
    versioning_class = None
    schema = None  # not part of qgov's REST API schema: see docs/scim.md

    def get_exception_handler(self):
        return scim_exception_handler

    @property
    def provider(self) -> IdentityProvider:
        return self.request.auth

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self._audit = audit_context(source=AuditSourceChoices.API, request=request,
                                    request_id=getattr(request._request, "id", None),
                                    label=_("SCIM of identity provider %(name)s (%(agency)s)")
                                    % {"name": self.provider.name, "agency": self.provider.agency.code})
        self._audit.__enter__()

    def finalize_response(self, request, response, *args, **kwargs):
        audit = getattr(self, "_audit", None)
        if audit is not None:
            self._audit = None
            audit.__exit__(None, None, None)
        return super().finalize_response(request, response, *args, **kwargs)

    def body(self):
        try:
            return self.request.data
        except exceptions.ParseError:
            raise ScimInvalid(_("The body is not valid JSON."), "invalidSyntax") from None


class ScimResourceMixin:
    model = None
    filters: dict[str, str] = {}
    route = ""

    def queryset(self):
        return self.model.objects.filter(provider=self.provider).order_by("created", "pk")

    def get_object(self, scim_id):
        try:
            scim_id = uuid.UUID(scim_id)
        except ValueError:
            raise Http404 from None
        found = self.queryset().filter(scim_id=scim_id).first()
        if found is None:
            raise Http404
        return found

    def created(self, obj, resource):
        return Response(resource, status=status.HTTP_201_CREATED, headers={"Location": resource["meta"]["location"]})


USERS = ("identity__user",)


class UserListView(ScimResourceMixin, ScimView):
    model = ScimUser

    def get(self, request, provider):
        lookup = scim.parse_filter(request.query_params.get("filter"),
                                   {"username": "user_name__iexact", "externalid": "external_id"})
        start, count = scim.page_bounds(request.query_params)
        users = self.queryset().select_related(*USERS).prefetch_related("groups").filter(**(lookup or {}))
        page = list(users[start - 1:start - 1 + count]) if count else []
        return Response(scim.list_response([scim.user_resource(request, u) for u in page], users.count(), start))

    def post(self, request, provider):
        scim_user = scim_user_create(provider=self.provider, data=scim.user_data(self.body()))
        return self.created(scim_user, scim.user_resource(request, scim_user))


class UserView(ScimResourceMixin, ScimView):
    model = ScimUser

    def get_object(self, scim_id):
        return ScimUser.objects.select_related(*USERS).get(pk=super().get_object(scim_id).pk)

    def get(self, request, provider, scim_id):
        return Response(scim.user_resource(request, self.get_object(scim_id)))

    def put(self, request, provider, scim_id):
        scim_user = scim_user_replace(scim_user=self.get_object(scim_id), data=scim.user_data(self.body()))
        return Response(scim.user_resource(request, scim_user))

    def patch(self, request, provider, scim_id):
        scim_user = self.get_object(scim_id)
        data = apply_user_patch(scim.user_data_of(scim_user), scim.patch_operations(self.body()))
        scim_user = scim_user_replace(scim_user=scim_user, data=data)
        return Response(scim.user_resource(request, scim_user))

    def delete(self, request, provider, scim_id):
        scim_user_delete(scim_user=self.get_object(scim_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupListView(ScimResourceMixin, ScimView):
    model = ScimGroup

    def get(self, request, provider):
        lookup = scim.parse_filter(request.query_params.get("filter"),
                                   {"displayname": "display_name", "externalid": "external_id"})
        start, count = scim.page_bounds(request.query_params)
        groups = self.queryset().prefetch_related("members").filter(**(lookup or {}))
        page = list(groups[start - 1:start - 1 + count]) if count else []
        return Response(scim.list_response([scim.group_resource(request, g) for g in page], groups.count(), start))

    def post(self, request, provider):
        group = scim_group_create(provider=self.provider, data=scim.group_data(self.body()))
        return self.created(group, scim.group_resource(request, group))


class GroupView(ScimResourceMixin, ScimView):
    model = ScimGroup

    def get(self, request, provider, scim_id):
        return Response(scim.group_resource(request, self.get_object(scim_id)))

    def put(self, request, provider, scim_id):
        group = scim_group_change(group=self.get_object(scim_id), data=scim.group_data(self.body()))
        return Response(scim.group_resource(request, group))

    def patch(self, request, provider, scim_id):
        group = self.get_object(scim_id)
        data, add, remove = apply_group_patch(group, scim.patch_operations(self.body()))
        group = scim_group_change(group=group, data=data, add=add, remove=remove)
        return Response(scim.group_resource(request, group))

    def delete(self, request, provider, scim_id):
        scim_group_delete(group=self.get_object(scim_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

