"""The audit chain: every create, update and delete of an audited model becomes an
append-only AuditEvent whose hash covers its content and the previous event's hash.

Events are written by model signals, so a change is recorded whichever door it came
through (UI, API, admin, management command, Celery task). Who did it and why is
read from a context that the request middleware, tasks and commands set.
"""

import contextlib
import contextvars
import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.utils import timezone

from qgov.choices import AuditActionChoices, AuditSourceChoices

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class AuditContext:
    source: str
    request_id: str
    request: object | None = None  # the HttpRequest; DRF sets the token user on it after authentication
    actor: object | None = None
    label: str = ""

    def resolve_actor(self):
        if self.actor is not None:
            return self.actor
        user = getattr(self.request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


_context: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar("qgov_audit_context", default=None)


def current_context() -> AuditContext:
    return _context.get() or AuditContext(source=AuditSourceChoices.SYSTEM, request_id="")


@contextlib.contextmanager
def audit_context(*, source: str, request=None, actor=None, label: str = "", request_id: str | None = None):
    token = _context.set(
        AuditContext(
            source=source, request=request, actor=actor, label=label, request_id=request_id or uuid.uuid4().hex
        )
    )
    try:
        yield _context.get()
    finally:
        _context.reset(token)


# --- lifecycle transitions -----------------------------------------------------------------

_transition: contextvars.ContextVar[dict | None] = contextvars.ContextVar("qgov_audit_transition", default=None)


@contextlib.contextmanager
def audit_transition(instance, name: str, reason: str, *, explicit: bool = True):
    """The events of `instance` written inside name the transition and its reason; an explicit
    transition (not one an edit triggered) is recorded with the action "transition"."""
    token = _transition.set({"key": (type(instance)._meta.label, instance.pk), "transition": name,
                             "reason": reason, "explicit": explicit})
    try:
        yield
    finally:
        _transition.reset(token)


def _transition_detail(instance, action):
    current = _transition.get()
    if current is None or current["key"] != (type(instance)._meta.label, instance.pk):
        return action, {}
    if current["explicit"] and action == AuditActionChoices.UPDATE:
        action = AuditActionChoices.TRANSITION
    return action, {"transition": current["transition"], "reason": current["reason"]}


# --- which models are audited ---------------------------------------------------------------

_extra_audited: dict[type[models.Model], tuple[str, ...]] = {}


def register(model, *, exclude: tuple[str, ...] = ()):
    """Audit a model that does not inherit QgovModel (the user model, API tokens)."""
    _extra_audited[model] = exclude
    return model


def is_audited(model) -> bool:
    from qgov.models import QgovModel

    model = model._meta.concrete_model
    return issubclass(model, QgovModel) or model in _extra_audited


def _excluded(model) -> set[str]:
    return set(getattr(model, "audit_exclude", ())) | set(_extra_audited.get(model._meta.concrete_model, ()))


# --- snapshots ------------------------------------------------------------------------------


def _normalise(data):
    """JSON round trip so that what we hash is exactly what the database gives back."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True))


def snapshot(instance, *, include_m2m: bool = True) -> dict:
    model = type(instance)
    excluded = _excluded(model)
    data = {}
    for field in model._meta.concrete_fields:
        if field.name in excluded:
            continue
        data[field.attname] = field.value_from_object(instance)
    if include_m2m and instance.pk is not None:
        for field in model._meta.many_to_many:
            if field.name not in excluded:
                data[field.name] = sorted(getattr(instance, field.name).values_list("pk", flat=True))
    return _normalise(data)


def _diff(before: dict | None, after: dict | None) -> list[str]:
    before, after = before or {}, after or {}
    return sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))


# --- hashing and appending ------------------------------------------------------------------


def compute_hash(event) -> str:
    payload = {
        "seq": event.seq,
        "timestamp": event.timestamp.astimezone(dt.UTC).isoformat(),
        "actor_id": event.actor_id,
        "actor_repr": event.actor_repr,
        "agency_id": event.agency_id,
        "content_type": f"{event.content_type.app_label}.{event.content_type.model}",
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "action": event.action,
        "before": event.before,
        "after": event.after,
        "changed_fields": event.changed_fields,
        "request_id": event.request_id,
        "source": event.source,
        "prev_hash": event.prev_hash,
    }
    if event.detail:  # added with lifecycles; absent from older events, so their hashes still hold
        payload["detail"] = event.detail
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _owning_agency_id(instance):
    return getattr(instance, "owning_agency_id", None)


def record_event(instance, *, action: str, before: dict | None, after: dict | None):
    from qgov.models import AuditChainHead, AuditEvent

    changed = _diff(before, after)
    if action == AuditActionChoices.UPDATE and not changed:
        return None
    action, detail = _transition_detail(instance, action)
    context = current_context()
    actor = context.resolve_actor()
    actor_repr = actor.get_username() if actor is not None else (context.label or context.source)
    with transaction.atomic():
        # The head row lock serialises appends, so two writers can never fork the chain.
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            seq=head.seq + 1,
            timestamp=timezone.now(),
            actor=actor,
            actor_repr=actor_repr[:200],
            agency_id=_owning_agency_id(instance),
            content_type=ContentType.objects.get_for_model(instance, for_concrete_model=True),
            object_id=str(instance.pk),
            object_repr=str(instance)[:300],
            action=action,
            before=before,
            after=after,
            changed_fields=changed,
            detail=detail,
            request_id=context.request_id,
            source=context.source,
            prev_hash=head.hash,
        )
        event.hash = compute_hash(event)
        event.save(force_insert=True)
        head.seq, head.hash = event.seq, event.hash
        head.save(update_fields=["seq", "hash"])
    return event


@dataclass
class ChainProblem:
    seq: int | None
    event_id: int | None
    reason: str

    def __str__(self):
        where = f"event #{self.seq} (id {self.event_id})" if self.seq is not None else "chain head"
        return f"{where}: {self.reason}"


def verify_chain(*, batch_size: int = 2000) -> ChainProblem | None:
    """Walk the chain from the start; return the first problem, or None when it is intact."""
    from qgov.models import AuditChainHead, AuditEvent

    expected_prev = GENESIS_HASH
    expected_seq = 1
    last_seq = 0
    events = AuditEvent.objects.select_related("content_type").order_by("seq")
    for event in events.iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return ChainProblem(event.seq, event.pk, f"expected sequence {expected_seq}: an event was removed")
        if event.prev_hash != expected_prev:
            return ChainProblem(event.seq, event.pk, "previous-hash link is broken: an earlier event was removed")
        if compute_hash(event) != event.hash:
            return ChainProblem(event.seq, event.pk, "content does not match its hash: the event was altered")
        expected_prev = event.hash
        expected_seq += 1
        last_seq = event.seq
    head = AuditChainHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    if head_seq != last_seq or head_hash != expected_prev:
        return ChainProblem(None, None, f"head records event #{head_seq} but the chain ends at #{last_seq}")
    return None


# --- signal receivers -----------------------------------------------------------------------


def _on_pre_save(sender, instance, raw=False, **kwargs):
    if raw or not is_audited(sender):
        return
    if instance.pk is None or instance._state.adding:
        instance._audit_before = None
        return
    previous = sender._base_manager.filter(pk=instance.pk).first()
    instance._audit_before = snapshot(previous) if previous is not None else None


def _on_post_save(sender, instance, created, raw=False, **kwargs):
    if raw or not is_audited(sender):
        return
    before = None if created else getattr(instance, "_audit_before", None)
    action = AuditActionChoices.CREATE if created or before is None else AuditActionChoices.UPDATE
    record_event(instance, action=action, before=before, after=snapshot(instance))


def _on_pre_delete(sender, instance, **kwargs):
    if is_audited(sender):
        instance._audit_before = snapshot(instance)


def _on_post_delete(sender, instance, **kwargs):
    if is_audited(sender):
        record_event(instance, action=AuditActionChoices.DELETE, before=instance._audit_before, after=None)


def _on_m2m_changed(sender, instance, action, reverse, **kwargs):
    if reverse or not is_audited(type(instance)):
        return
    if action in ("pre_add", "pre_remove", "pre_clear"):
        instance._audit_m2m_before = snapshot(instance)
    elif action in ("post_add", "post_remove", "post_clear"):
        before = getattr(instance, "_audit_m2m_before", None)
        record_event(instance, action=AuditActionChoices.UPDATE, before=before, after=snapshot(instance))


def connect_signals():
    pre_save.connect(_on_pre_save, dispatch_uid="qgov_audit_pre_save")
    post_save.connect(_on_post_save, dispatch_uid="qgov_audit_post_save")
    pre_delete.connect(_on_pre_delete, dispatch_uid="qgov_audit_pre_delete")
    post_delete.connect(_on_post_delete, dispatch_uid="qgov_audit_post_delete")
    m2m_changed.connect(_on_m2m_changed, dispatch_uid="qgov_audit_m2m_changed")


def register_platform_models():
    from qgov.models import ApiToken

    # Password hashes and login stamps are not audit material.
    register(get_user_model(), exclude=("password", "last_login"))
    register(ApiToken)
