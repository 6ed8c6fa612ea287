"""A record as the API serialises it, outside any request: the `data` of a webhook and the
`record` of a change-feed entry. URLs are absolute against QGOV_SITE_URL (relative without it)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from rest_framework.request import Request

_serializers: dict | None = None
_querysets: dict | None = None


def _serializer_classes() -> dict:
    """{model: serializer class} of every model the API serves read-write or read-only, from the
    API router (the core's routes and each app's `api_routes`)."""
    global _serializers
    if _serializers is None:
        from qgov.api.urls import router

        found = {}
        for _prefix, viewset, _basename in router.registry:
            queryset = getattr(viewset, "queryset", None)
            serializer_class = getattr(viewset, "serializer_class", None)
            if queryset is not None and serializer_class is not None:
                found.setdefault(queryset.model, serializer_class)
        _serializers = found
    return _serializers


def _queryset_of(model):
    """The queryset the model's API viewset declares (with its select_related / prefetch_related)."""
    global _querysets
    if _querysets is None:
        from qgov.api.urls import router

        found = {}
        for _prefix, viewset, _basename in router.registry:
            queryset = getattr(viewset, "queryset", None)
            if queryset is not None and getattr(viewset, "serializer_class", None) is not None:
                found.setdefault(queryset.model, queryset)
        _querysets = found
    return _querysets.get(model)


def serializer_class_for(model):
    """The API serializer of `model`, or None when the API does not serve it."""
    return _serializer_classes().get(model)


def _request() -> Request:
    site = urlsplit(settings.QGOV_SITE_URL or "")
    default_port = 443 if site.scheme == "https" else 80
    factory = RequestFactory(**({"SERVER_NAME": site.hostname, "SERVER_PORT": str(site.port or default_port),
                                 "wsgi.url_scheme": site.scheme} if site.hostname else {}))
    http_request = factory.get("/api/")
    http_request.user = AnonymousUser()
    request = Request(http_request)
    if not site.hostname:
        http_request.qgov_absolute_prefix = ""  # relative URLs (qgov.api.fields.absolute_prefix)
    return request


def represent(instance) -> dict | None:
    """`instance` as its API serializer writes it, or None when the API does not serve its model."""
    serializer_class = serializer_class_for(type(instance))
    if serializer_class is None:
        return None
    return dict(serializer_class(instance, context={"request": _request()}).data)


def represent_many(model, pks, request=None) -> dict:
    """{pk: representation} of the records of `model` among `pks` that still exist, read in one go
    through the API viewset's queryset (so relations cost a query per relation, not per record).
    URLs follow `request` when one is given (an API answer), else QGOV_SITE_URL."""
    serializer_class, queryset = serializer_class_for(model), _queryset_of(model)
    if serializer_class is None or queryset is None or not pks:
        return {}
    records = list(queryset.all().filter(pk__in=pks).order_by())
    data = serializer_class(records, many=True, context={"request": request or _request()}).data
    return {record.pk: dict(item) for record, item in zip(records, data, strict=True)}
