"""One JSON shape for every API error:

    {"status": 400, "code": "invalid", "detail": "Invalid input.", "errors": {"field": ["message"]}}
"""

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from qgov.lifecycle import TransitionRefused
from qgov.services import VersionConflict


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "transition_refused"

    def __init__(self, detail, errors):
        super().__init__(detail)
        self.errors = errors


class ContentTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"
    default_detail = gettext_lazy("The request body is larger than the server accepts.")


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "stale_version"


def _field_errors(detail) -> dict:
    if isinstance(detail, dict):
        # Model validation names errors of no single field "__all__"; the API calls them non_field_errors.
        return {("non_field_errors" if key == NON_FIELD_ERRORS else key): value if isinstance(value, list) else [value]
                for key, value in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": detail}
    return {}


def exception_handler(exc, context):
    headers = {}
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, TransitionRefused):
        exc = Conflict(exc.message, exc.errors)
    elif isinstance(exc, RequestDataTooBig):
        # Django's own answer would be a bare HTML 400 page.
        exc = ContentTooLarge()
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        exc = exceptions.ParseError(str(exc))
    elif isinstance(exc, VersionConflict):
        headers["ETag"] = etag(exc.current.version)
        exc = PreconditionFailed(str(exc))
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        body = {
            "status": response.status_code,
            "code": "invalid",
            "detail": _("Invalid input."),
            "errors": _field_errors(exc.detail),
        }
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = {
            "status": response.status_code,
            "code": code if isinstance(code, str) else "error",
            "detail": str(detail),
            "errors": getattr(exc, "errors", {}),
        }
    headers.update({key: value for key, value in response.items() if key in ("WWW-Authenticate", "Retry-After")})
    return Response(body, status=response.status_code, headers=headers)


def etag(version: int) -> str:
    return f'"{version}"'


def lockout_response(request, locked):
    """The answer to a sign-in refused by qgov.identity.lockout (`locked`: its LockedOut): the
    API's error shape under /api/, the lockout page elsewhere; both 429 with Retry-After."""
    from django.http import JsonResponse
    from django.shortcuts import render

    if request.path.startswith("/api/"):
        body = {
            "status": status.HTTP_429_TOO_MANY_REQUESTS,
            "code": "locked_out",
            "detail": _("Too many failed sign-in attempts. Try again later."),
            "errors": {},
        }
        response = JsonResponse(body, status=status.HTTP_429_TOO_MANY_REQUESTS)
    else:
        response = render(request, "registration/locked_out.html", {"retry_minutes": -(-locked.retry_after // 60)},
                          status=status.HTTP_429_TOO_MANY_REQUESTS)
    response["Retry-After"] = str(locked.retry_after)
    return response


def error_response(status_code: int, *, code: str, detail: str, errors: dict | None = None) -> Response:
    """An error in the one API shape, for views that answer errors themselves (values keep their types)."""
    return Response({"status": status_code, "code": code, "detail": detail, "errors": errors or {}},
                    status=status_code)


@csrf_exempt  # the answer is 404 whatever the method; Django's CSRF page would be an HTML 403
def not_found(request, *args, **kwargs):
    """An /api/ path that names no operation."""
    from django.http import JsonResponse

    body = {"status": status.HTTP_404_NOT_FOUND, "code": "not_found", "detail": str(exceptions.NotFound.default_detail),
            "errors": {}}
    return JsonResponse(body, status=status.HTTP_404_NOT_FOUND)
