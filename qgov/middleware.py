import re
import uuid
import zoneinfo

from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from qgov.audit import audit_context
from qgov.choices import AuditSourceChoices
from qgov.permissions import memberships_of, request_scope
from qgov.selectors import agencies_of

ACTIVE_AGENCY_SESSION_KEY = "qgov_active_agency"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    """Gives every request an id (kept from a sane incoming X-Request-ID) and opens the audit
    context that records which door a change came through and who opened it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        if request.path.startswith("/api/"):
            source = AuditSourceChoices.API
        elif request.path.startswith("/admin/"):
            source = AuditSourceChoices.ADMIN
        else:
            source = AuditSourceChoices.UI
        with audit_context(source=source, request=request, request_id=request.id), request_scope():
            response = self.get_response(request)
        response["X-Request-ID"] = request.id
        return response


def _active_agency(request):
    if not request.user.is_authenticated:
        return None
    agencies = request.agencies
    if not agencies:
        return None
    wanted = request.session.get(ACTIVE_AGENCY_SESSION_KEY)
    for agency in agencies:
        if agency.pk == wanted:
            return agency
    return agencies[0]


def active_role(request) -> str | None:
    """The user's role in the active agency, read once per request."""
    if not hasattr(request, "_qgov_active_role"):
        user, agency = request.user, request.agency
        if not user.is_authenticated or not agency:  # a lazy object of None is falsy, not None
            request._qgov_active_role = None
        else:
            request._qgov_active_role = "admin" if user.is_superuser else memberships_of(user).get(agency.pk)
    return request._qgov_active_role


class ActiveAgencyMiddleware:
    """The agency the browser user works in (chosen with the switcher), and its time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.agencies = SimpleLazyObject(lambda: list(agencies_of(request.user)))
        request.agency = SimpleLazyObject(lambda: _active_agency(request))
        if request.user.is_authenticated and not request.path.startswith(("/api/", "/static/")):
            agency = request.agency
            if agency:
                timezone.activate(zoneinfo.ZoneInfo(agency.time_zone))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
