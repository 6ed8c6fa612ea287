"""`/api/changes/`: the agency's audit events after an opaque cursor, for clients that keep a copy
in step (docs/integrating.md, "Incremental sync").

Order and the never-skip promise. Events are served in (transaction id, id) order, and only those
written by transactions that no open transaction can still precede:

- PostgreSQL: each event keeps the id of the transaction that wrote it (`AuditEvent.txid`). Ids
  are taken in insert order but become visible in commit order, so a cursor on the event id alone
  skips: T1 writes event 10, T2 writes event 11 and commits, a client reads 11 and moves its cursor
  past 10, then T1 commits. Instead the feed serves only events whose transaction id is below the
  xmin of the current snapshot (every transaction below it has ended: its events are all visible
  or never will be), ordered by (txid, id). A transaction still open has a txid ≥ xmin, so its
  events sort after any cursor the feed has handed out.
- SQLite: writers are serialised and ids never reused, so ids follow commit order; txid is 0.

Either way the bound is read first and the page is filtered by it, so a page never holds an event
whose predecessors could still appear. The feed lags behind the oldest open transaction of the
database cluster (normally milliseconds).
"""

import base64
import binascii
import datetime as dt
import json
import re
from collections import defaultdict

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from qgov.api.exceptions import error_response
from qgov.api.schema import ErrorSerializer
from qgov.audit import is_audited
from qgov.choices import AuditActionChoices
from qgov.integrations.events import VERB_OF_ACTION, event_type_of
from qgov.integrations.representation import represent_many, serializer_class_for
from qgov.models import AuditEvent
from qgov.permissions import agency_ids_where, user_can
from qgov.roles import Action

MAX_INT64 = 2**63 - 1
CURSOR_PREFIX = "c1:"  # versions the token, so its form can change without misreading old ones
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
# `types`: event types or their prefixes (app, app.model, app.model.verb), comma-separated.
_TYPE = r"[a-z0-9_]+(?:\.[a-z0-9_]+){0,2}"
TYPES_PATTERN = rf"^(?:{_TYPE}(?:,{_TYPE})*)?$"


CURSOR_REFUSED = "Not a cursor of the change feed: leave it out to start, then send each answer's `next_cursor`."


class Position:
    """Where a client stands in the feed: after the event (txid, id); `time` dates the cursor for
    the retention check (the event's time, or when the client was last told it had caught up)."""

    def __init__(self, txid: int, event_id: int, time: dt.datetime):
        self.txid, self.event_id, self.time = txid, event_id, time

    def key(self) -> tuple[int, int]:
        return self.txid, self.event_id

    def encode(self) -> str:
        text = f"{CURSOR_PREFIX}{json.dumps([self.txid, self.event_id, int(self.time.timestamp())])}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> "Position":
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            if not text.startswith(CURSOR_PREFIX):
                raise ValueError
            txid, event_id, seconds = json.loads(text[len(CURSOR_PREFIX):])
            if not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_INT64
                       for n in (txid, event_id, seconds)):
                raise ValueError
            return cls(txid, event_id, dt.datetime.fromtimestamp(seconds, dt.UTC))
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, OverflowError, OSError):
            raise ValidationError({"cursor": [CURSOR_REFUSED]}) from None


def feed_models() -> list:
    """The audited models whose records belong to an agency and which the permission check knows."""
    return [model for model in apps.get_models()
            if is_audited(model) and hasattr(model, "permission_action") and getattr(model, "agency_lookup", None)]


def visible_events(user):
    """The agency events whose record `user` may view: for each model, the agencies where the one
    permission check lets the user view its records (so viewers and up follow the feed; a model
    that maps viewing to another action, or a scoped token, narrows it). Models under the same rule
    share one condition."""
    content_types = ContentType.objects.get_for_models(*feed_models(), for_concrete_models=True)
    rules = defaultdict(list)
    subqueries = {}
    for model, content_type in content_types.items():
        agencies = agency_ids_where(user, Action.VIEW, model)
        sql, params = agencies.query.sql_with_params()
        key = (sql, tuple(map(str, params)))
        subqueries[key] = agencies
        rules[key].append(content_type.pk)
    condition = Q(pk__in=[])
    for key, content_type_ids in rules.items():
        condition |= Q(content_type_id__in=sorted(content_type_ids), agency_id__in=subqueries[key])
    return AuditEvent.objects.filter(condition, agency__isnull=False)


def types_condition(names: list[str]) -> Q:
    """Events whose type is one of `names` or starts with one and a dot: an app (`qgov`), a model
    (`qgov.membership`), a verb (`qgov.membership.updated`) or a lifecycle transition by its name."""
    condition = Q(pk__in=[])
    verbs = {verb: action for action, verb in VERB_OF_ACTION.items()}
    for name in names:
        app_label, model, verb = (name.split(".") + [None, None])[:3]
        found = ContentType.objects.filter(app_label=app_label, **({"model": model} if model else {}))
        one = Q(content_type__in=found)
        if verb:
            one &= (Q(action=verbs[verb]) if verb in verbs
                    else Q(action=AuditActionChoices.TRANSITION, detail__transition=verb))
        condition |= one
    return condition


def read_changes(user, *, request=None, cursor: Position | None, limit: int, agency_id: int | None = None,
                 types: list[str] | None = None) -> dict:
    """One page of the feed after `cursor` (from the start of the retention window without one)."""
    now = timezone.now()
    horizon = now - dt.timedelta(days=settings.QGOV_CHANGE_FEED_RETENTION_DAYS)
    if connection.vendor == "postgresql":
        with connection.cursor() as db:
            db.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            xmin = db.fetchone()[0]
        bound, caught_up = Q(txid__lt=xmin), Position(xmin - 1, MAX_INT64, now)
    else:
        newest = AuditEvent.objects.aggregate(newest=Max("id"))["newest"] or 0
        bound, caught_up = Q(id__lte=newest), Position(0, newest, now)
    events = visible_events(user).filter(bound)
    if agency_id is not None:
        events = events.filter(agency_id=agency_id)
    if types:
        events = events.filter(types_condition(types))
    if cursor is not None:
        # The redundant `txid >= …` bounds the index range ((agency, txid, id)) the OR alone would not.
        events = events.filter(Q(txid__gt=cursor.txid) | Q(txid=cursor.txid, id__gt=cursor.event_id),
                               txid__gte=cursor.txid)
    else:
        # From about the start of the retention window: the transaction of its first event bounds
        # the walk (found on the time index), so the events before it are not read one by one.
        first = AuditEvent.objects.filter(timestamp__gte=horizon).order_by("timestamp").values_list(
            "txid", flat=True).first()
        events = events.filter(timestamp__gte=horizon, txid__gte=first if first is not None else 0)
    rows = list(events.select_related("content_type").order_by("txid", "id")[:limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    if has_more:
        last = rows[-1]
        next_position = Position(last.txid, last.id, last.timestamp)
    else:
        # Everything within the bound has been seen; never move back behind the client's cursor.
        next_position = caught_up if cursor is None or caught_up.key() > cursor.key() else Position(
            cursor.txid, cursor.event_id, now)
    return {"results": entries(rows, request), "next_cursor": next_position.encode(), "has_more": has_more}


def entries(events, request=None) -> list[dict]:
    """The feed entries of `events`, each with its record as the API shows it now (read in bulk,
    one query per model and relation) or a tombstone."""
    wanted = defaultdict(set)
    for event in events:
        model = event.content_type.model_class()
        if event.action != AuditActionChoices.DELETE and model is not None:
            wanted[model].add(model._meta.pk.to_python(event.object_id))
    current, existing = {}, {}
    for model, pks in wanted.items():
        if serializer_class_for(model) is not None:
            current[model] = represent_many(model, sorted(pks), request)
            existing[model] = set(current[model])
        else:  # a record the API does not serve: no `record`, but whether it still exists
            existing[model] = set(model._base_manager.filter(pk__in=pks).values_list("pk", flat=True))
    result = []
    for event in events:
        model = event.content_type.model_class()
        record, deleted = None, True
        if event.action != AuditActionChoices.DELETE and model in existing:
            pk = model._meta.pk.to_python(event.object_id)
            record, deleted = current.get(model, {}).get(pk), pk not in existing[model]
        result.append({
            "sequence": event.id,
            "type": event_type_of(event),
            "object_type": f"{event.content_type.app_label}.{event.content_type.model}",
            "object_id": event.object_id,
            "action": event.action,
            "transition": event.detail.get("transition") if event.action == AuditActionChoices.TRANSITION else None,
            "time": event.timestamp,
            "actor": {"id": event.actor_id, "display": event.actor_repr},
            "agency": event.agency_id,
            "changed_fields": event.changed_fields,
            "record": record,
            "deleted": deleted,
        })
    return result


# --- the endpoint -----------------------------------------------------------------------------


class ActorSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="The user's id; null for the system or a "
                                                             "person without an account.")
    display = serializers.CharField()


class ChangeSerializer(serializers.Serializer):
    sequence = serializers.IntegerField(help_text="The audit event's id (GET /api/audit-events/{id}/ for auditors).")
    type = serializers.CharField(help_text="The event type: <app>.<model>.created|updated|deleted, or "
                                                     "<app>.<model>.<transition name> for a lifecycle transition.")
    object_type = serializers.CharField(help_text="<app label>.<model name>, e.g. qgov.membership.")
    object_id = serializers.CharField()
    action = serializers.ChoiceField(choices=AuditActionChoices.choices)
    transition = serializers.CharField(allow_null=True, help_text="The lifecycle transition's name, when "
                                                                  "action is transition.")
    time = serializers.DateTimeField()
    actor = ActorSerializer()
    agency = serializers.IntegerField()
    changed_fields = serializers.ListField(child=serializers.CharField())
    record = serializers.JSONField(allow_null=True, help_text="The record as its API resource shows it now "
                                                              "(not as it was at this event); null when deleted "
                                                              "(or when the API has no resource for it).")
    deleted = serializers.BooleanField(help_text="True when the record no longer exists (a tombstone).")


class ChangePageSerializer(serializers.Serializer):
    results = ChangeSerializer(many=True)
    next_cursor = serializers.CharField(help_text="Send it as `cursor` next time, even when results is empty.")
    has_more = serializers.BooleanField(help_text="True when more changes are ready now: ask again at once.")


class ChangeFeedView(APIView):
    """The agency's changes (create, update, delete, transition) after a cursor, oldest first."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", OpenApiTypes.STR, description="The `next_cursor` of your previous call; "
                             "leave it out to start from the oldest change kept (the retention window).",
                             pattern="^[A-Za-z0-9_-]*$"),
            OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                             description=f"Changes per page (at most {MAX_LIMIT}; default {DEFAULT_LIMIT})."),
            OpenApiParameter("agency", {"type": "integer", "minimum": 1, "maximum": MAX_INT64},
                             description="Only this agency's changes (one of yours)."),
            OpenApiParameter("types", {"type": "string", "pattern": TYPES_PATTERN},
                             description="Comma-separated event types or their prefixes, e.g. "
                             "`qgov.membership,qgov.agency.updated`."),
        ],
        responses={
            200: ChangePageSerializer,
            400: OpenApiResponse(ErrorSerializer, description="A cursor, limit, agency or types the feed "
                                                              "does not accept."),
            410: OpenApiResponse(ErrorSerializer, description="The cursor is older than the feed keeps changes "
                                                              "for: resync from the lists, then start again."),
        },
    )
    def get(self, request):
        params = request.query_params
        for name in ("cursor", "limit", "agency", "types"):
            if len(params.getlist(name)) > 1:
                raise ValidationError({name: [_("Send this parameter once.")]})
        cursor = Position.decode(params["cursor"]) if params.get("cursor") else None
        limit = whole_number(params.get("limit"), "limit", 1, MAX_LIMIT, DEFAULT_LIMIT)
        agency_id = whole_number(params.get("agency"), "agency", 1, MAX_INT64, None)
        if agency_id is not None and not user_can(request.user, agency_id, Action.VIEW):
            raise ValidationError({"agency": [_("Choose one of your agencies.")]})
        if not re.fullmatch(TYPES_PATTERN, params.get("types", "")):
            raise ValidationError({"types": [_("Send event types or their prefixes, comma-separated, e.g. "
                                               "qgov.membership,qgov.agency.updated.")]})
        types = [name for name in params.get("types", "").split(",") if name]
        retention = dt.timedelta(days=settings.QGOV_CHANGE_FEED_RETENTION_DAYS)
        if cursor is not None and cursor.time < timezone.now() - retention:
            return error_response(410, code="cursor_expired", detail=_(
                "This cursor is older than the %(days)s days the change feed keeps: read the lists again "
                "(updated_after helps), then follow the feed without a cursor.")
                % {"days": settings.QGOV_CHANGE_FEED_RETENTION_DAYS})
        page = read_changes(request.user, request=request, cursor=cursor, limit=limit, agency_id=agency_id, types=types)
        return Response(ChangePageSerializer(page).data)


def whole_number(value, name, minimum, maximum, default):
    if value is None:
        return default
    if value.isascii() and value.isdigit() and len(value) <= 19 and minimum <= int(value) <= maximum:
        return int(value)
    raise ValidationError({name: [_("Send one whole number from %(minimum)s to %(maximum)s.")
                                  % {"minimum": minimum, "maximum": maximum}]})
