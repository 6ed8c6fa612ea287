"""`Idempotency-Key` on the API's writes (draft-ietf-httpapi-idempotency-key-header; docs/integrating.md).

An agency system that retries a POST after a timeout sends the same key again and gets the first
answer back instead of a second record. The mechanism is one viewset mixin, on the core's base
viewsets, so every app's API has it:

- the key is the caller's: scoped to the API token, or to the user of a browser session;
- a keyed write runs in one transaction with the stored answer (status, body, Content-Type,
  Location, ETag): the key exists exactly when the change does;
- on PostgreSQL, a transaction-level advisory lock on (scope, key) is taken before the lookup: a
  second request with the key while the first runs answers 409 with Retry-After. SQLite has one
  writer at a time; there the unique (scope, key) constraint catches the rare race (also a 409);
- only answers below 400 are stored (and not streamed ones, which no write answers today): after
  an error nothing was written, and the same key may be sent again, with the same request or a
  corrected one. A 5xx (or an exception) also rolls back whatever the request wrote.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.http import HttpResponse, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status

from qgov.integrations.idempotency.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
# Methods that change something; the draft allows the key on any non-idempotent one, and PUT and
# DELETE take it too (a replayed DELETE answers its first 204 rather than a 404).
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# 1-255 printable ASCII characters, compared exactly (quoted as the draft's sf-string or not). No
# space at either end: HTTP strips it, so a key sent with one would never match itself.
KEY_PATTERN = r"^[\x21-\x7e](?:[\x20-\x7e]{0,253}[\x21-\x7e])?$"
RETRY_AFTER_SECONDS = 2
REPLAYED_HEADERS = ("Content-Type", "Location", "ETag")


class KeyInUse(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "idempotency_key_in_use"
    default_detail = gettext_lazy("A request with this Idempotency-Key is still being processed; "
                                  "send it again once that one has finished.")
    wait = RETRY_AFTER_SECONDS  # DRF's exception handler answers it as Retry-After


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = gettext_lazy("This Idempotency-Key was sent with a different request.")

    def __init__(self):
        super().__init__()
        self.errors = {HEADER: [_("This key was first sent with another method, path, query or body; "
                                  "send a new key for a new request.")]}


class Replay(Exception):
    """Raised once the stored answer is found: the view's handler never runs."""

    def __init__(self, stored: IdempotencyKey):
        super().__init__(stored.key)
        self.stored = stored


@dataclass(frozen=True)
class Claim:
    scope: str
    key: str
    fingerprint: str


def scope_of(request) -> str | None:
    from qgov.models import ApiToken

    if isinstance(request.auth, ApiToken):
        return f"token:{request.auth.pk}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return None


def _canonical(value):
    """The request's data as plain JSON values; an uploaded file as its name, size and SHA-256
    (a multipart body's boundary differs on every send)."""
    if isinstance(value, UploadedFile):
        digest = hashlib.sha256()
        for chunk in value.chunks():
            digest.update(chunk)
        value.seek(0)
        return {"file": value.name, "size": value.size, "sha256": digest.hexdigest()}
    if isinstance(value, QueryDict):
        return {name: [_canonical(item) for item in value.getlist(name)] for name in value}
    if isinstance(value, dict):
        return {str(name): _canonical(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def fingerprint_of(request) -> str:
    """SHA-256 of the method, path, query (sorted) and body (parsed, keys sorted): the same request
    sent again has the same fingerprint whatever its key order or whitespace."""
    query = sorted(parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True))
    text = json.dumps([request.method, request.path, query, _canonical(request.data)], sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def lock_id(scope: str, key: str) -> int:
    """The key's PostgreSQL advisory lock: one bigint, a key space apart from the runs' two-integer
    locks (qgov.runs)."""
    return int.from_bytes(hashlib.sha256(f"{scope}\n{key}".encode()).digest()[:8], "big", signed=True)


def _lock_taken(scope: str, key: str) -> bool:
    """On PostgreSQL, the key's advisory lock for the rest of the transaction, unless another
    transaction holds it (then the request with the key is still running)."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id(scope, key)])
        return cursor.fetchone()[0]


def claim(request) -> Claim | None:
    """The key of this write, claimed in the request's transaction; raises Replay when it has a
    stored answer, KeyReused when that answer was to another request, KeyInUse when the request
    with the key is still running."""
    key = request.headers[HEADER]
    if not re.fullmatch(KEY_PATTERN, key):
        raise exceptions.ValidationError({HEADER: [_("Send 1 to 255 printable ASCII characters, e.g. a UUID.")]})
    scope = scope_of(request)
    if scope is None:  # writes need a signed-in caller; the permission check has answered already
        return None
    fingerprint = fingerprint_of(request)
    if not _lock_taken(scope, key):
        raise KeyInUse()
    stored = IdempotencyKey.objects.filter(scope=scope, key=key).first()
    if stored is not None and stored.expires <= timezone.now():
        stored.delete()  # past its retention a key may be used again
        stored = None
    if stored is None:
        return Claim(scope, key, fingerprint)
    if stored.fingerprint != fingerprint:
        raise KeyReused()
    raise Replay(stored)


def replayed_response(stored: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(bytes(stored.body), status=stored.status)
    if "Content-Type" not in stored.headers:
        del response["Content-Type"]
    for name, value in stored.headers.items():
        response[name] = value
    response[REPLAYED] = "true"
    return response


def store(claimed: Claim, request, response) -> bool:
    """Saves the answer with the key, in the request's transaction; False when another request
    with the key committed first (SQLite only: PostgreSQL's advisory lock keeps them apart)."""
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    now = timezone.now()
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                scope=claimed.scope, key=claimed.key, fingerprint=claimed.fingerprint, method=request.method,
                path=request.path[:2000], status=response.status_code, body=response.content,
                headers={name: response[name] for name in REPLAYED_HEADERS if name in response},
                created=now, expires=now + timedelta(hours=settings.QGOV_IDEMPOTENCY_KEY_HOURS))
    except IntegrityError:
        return False
    return True


def is_keyed(request) -> bool:
    return request.method in METHODS and HEADER in request.headers


class IdempotentWritesMixin:
    """Honours `Idempotency-Key` on the viewset's writes (this module's docstring)."""

    idempotency_claim: Claim | None = None

    def dispatch(self, request, *args, **kwargs):
        if not is_keyed(request):
            return super().dispatch(request, *args, **kwargs)
        # The services' own atomic blocks become savepoints of this one; their on_commit callbacks
        # (tasks, files kept) run once the change and its stored answer have both committed.
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)  # finalized: its ETag is set
            return self.keep_answer(response)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authenticated and permitted first
        method = request.method.lower()
        # A method the view does not take is its 405, whatever the key.
        if is_keyed(request) and method in self.http_method_names and hasattr(self, method):
            self.idempotency_claim = claim(request)

    def handle_exception(self, exc):
        if isinstance(exc, Replay):
            return replayed_response(exc.stored)
        return super().handle_exception(exc)

    def keep_answer(self, response):
        """Stores an answer below 400 with the claimed key; undoes whatever a 5xx wrote."""
        claimed, self.idempotency_claim = self.idempotency_claim, None
        if response.status_code >= 500:
            transaction.set_rollback(True)  # nothing of a failed keyed request stays: the key may be retried
        elif (claimed is not None and response.status_code < 400 and not response.streaming
              and not store(claimed, self.request, response)):
            transaction.set_rollback(True)
            response = self.finalize_response(self.request, self.handle_exception(KeyInUse()))
        return response
