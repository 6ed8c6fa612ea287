"""The audit trail: every create, update and delete of an audited model becomes an append-only
AuditEvent whose keyed hash (HMAC-SHA256 with `QGOV_AUDIT_KEY`) covers its content and the
previous event's hash.

- One chain per agency ("agency:<id>") and one for platform records ("platform"), so writes of
  different agencies never wait on each other; events from before chains existed form the closed
  "legacy" chain (plain SHA-256).
- One event per logical change: the write services wrap their work in `one_change()`, which
  buffers what the model signals see and writes one merged event per record at the end (first
  `before`, last `after`, many-to-many ids included). Outside it (admin, raw saves in tasks) the
  signals write an event per save, as before.
- Who did it and why is read from a context that the request middleware, tasks and commands set.
"""

import contextlib
import contextvars
import datetime as dt
import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.utils import timezone

from qgov.choices import AuditActionChoices, AuditSourceChoices
from qgov.integrations.events import change_recorded

GENESIS_HASH = "0" * 64
PLATFORM_CHAIN = "platform"
LEGACY_CHAIN = "legacy"  # events written before per-agency chains: plain SHA-256, closed
LEGACY_KEY_ID = ""


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


@contextlib.contextmanager
def actor_without_account(*, label: str, request=None, source: str = AuditSourceChoices.PORTAL):
    """Changes made for someone who has no account (a supplier contact answering through a one-time
    link): the events name `label` as the actor, with no user. The request's signed-in user, if
    any (a reviewer opening the link in their own browser), is not taken for the actor: only the
    request id is kept, to tie the events to the request."""
    label = (label or "").strip()
    if not label:
        raise ValueError("Name the actor: an event without a user must say who acted.")
    with audit_context(source=source, label=label, request_id=getattr(request, "id", None)) as context:
        yield context


# --- lifecycle transitions -----------------------------------------------------------------

def mark_transition(instance, name: str, reason: str, *, explicit: bool = True) -> None:
    """The next event of `instance` names the transition and its reason; an explicit transition
    (not one an edit triggered) is recorded with the action "transition". Kept on the instance,
    because a buffered change writes its events when its block ends."""
    instance._audit_transition = {"transition": name, "reason": reason, "explicit": explicit}


def _transition_detail(instance, action):
    current = instance.__dict__.pop("_audit_transition", None)
    if current is None:
        return action, {}
    if current["explicit"] and action == AuditActionChoices.UPDATE:
        action = AuditActionChoices.TRANSITION
    return action, {"transition": current["transition"], "reason": current["reason"]}


# --- keys -----------------------------------------------------------------------------------

_KEY_ENTRY = re.compile(r"^(?P<id>[A-Za-z0-9_-]{1,16}):(?P<key>.+)$")


def key_id_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def current_key() -> tuple[str, bytes]:
    """(key id, key) that new events and checkpoints are signed with."""
    key = settings.QGOV_AUDIT_KEY
    if not key:
        raise ImproperlyConfigured("QGOV_AUDIT_KEY is not set.")
    return settings.QGOV_AUDIT_KEY_ID or key_id_of(key), key.encode()


def keyring() -> dict[str, bytes]:
    """Every key that may verify: the current one and the retired `QGOV_AUDIT_OLD_KEYS`
    (each "secret" or "keyid:secret")."""
    keys = {}
    for entry in settings.QGOV_AUDIT_OLD_KEYS:
        entry = entry.strip()
        if not entry:
            continue
        match = _KEY_ENTRY.match(entry)
        key_id, key = (match["id"], match["key"]) if match else (key_id_of(entry), entry)
        keys[key_id] = key.encode()
    key_id, key = current_key()
    keys[key_id] = key
    return keys


def sign(payload: dict, key: bytes) -> str:
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hmac.new(key, encoded.encode(), hashlib.sha256).hexdigest()


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


def audited_m2m(model) -> list:
    excluded = _excluded(model)
    return [f for f in model._meta.many_to_many if f.name not in excluded]


# --- snapshots ------------------------------------------------------------------------------


def _normalise(data):
    """JSON round trip so that what we hash is exactly what the database gives back."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True))


def m2m_ids(instance, names=None) -> dict[str, list]:
    """The related ids of the instance's audited many-to-many fields, in one query (a UNION over
    the through tables), or from a prefetch cache when the caller already holds one."""
    fields = [f for f in audited_m2m(type(instance)) if names is None or f.name in names]
    result, queries = {}, []
    cache = getattr(instance, "_prefetched_objects_cache", {})
    for m2m in fields:
        if m2m.name in cache:
            result[m2m.name] = sorted(obj.pk for obj in cache[m2m.name])
            continue
        result[m2m.name] = []
        through = m2m.remote_field.through
        target = through._meta.get_field(m2m.m2m_reverse_field_name()).attname
        queries.append(
            through._base_manager.filter(**{m2m.m2m_field_name(): instance.pk})
            .annotate(audit_field=models.Value(m2m.name, output_field=models.CharField()))
            .values_list("audit_field", target)
        )
    if queries:
        union = queries[0].union(*queries[1:], all=True) if len(queries) > 1 else queries[0]
        for name, pk in union:
            result[name].append(pk)
    return {name: sorted(ids) for name, ids in result.items()}


def snapshot(instance, *, include_m2m: bool = True, m2m: dict | None = None) -> dict:
    """The audited state of `instance`: its concrete fields and, when `include_m2m`, the sorted
    ids of its many-to-many relations (from `m2m` when the caller knows them, else read)."""
    model = type(instance)
    excluded = _excluded(model)
    data = {}
    for concrete in model._meta.concrete_fields:
        if concrete.name in excluded:
            continue
        value = concrete.value_from_object(instance)
        # A stored file is recorded by its name in storage (its content has its own hash field).
        data[concrete.attname] = value.name if isinstance(concrete, models.FileField) else value
    if include_m2m and instance.pk is not None:
        known = dict(m2m or {})
        missing = [f.name for f in audited_m2m(model) if f.name not in known]
        if missing:
            known.update(m2m_ids(instance, missing))
        for m2m_field in audited_m2m(model):
            data[m2m_field.name] = sorted(known[m2m_field.name])
    return _normalise(data)


def _diff(before: dict | None, after: dict | None) -> list[str]:
    before, after = before or {}, after or {}
    return sorted(key for key in before.keys() | after.keys() if before.get(key) != after.get(key))


# --- hashing and appending ------------------------------------------------------------------


def _payload(event) -> dict:
    return {
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
        # Added with lifecycles; absent from older events, so their hashes still hold.
        **({"detail": event.detail} if getattr(event, "detail", None) else {}),
    }


def compute_hash(event, key: bytes | None = None) -> str:
    """HMAC-SHA256 of the event's content, chain position and key id, with the key named by
    `event.key_id` (or `key`). Legacy-chain events keep their plain SHA-256."""
    if event.chain == LEGACY_CHAIN and event.key_id == LEGACY_KEY_ID:
        encoded = json.dumps(_payload(event), sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder)
        return hashlib.sha256(encoded.encode()).hexdigest()
    if key is None:
        key = keyring().get(event.key_id)
        if key is None:
            raise KeyError(event.key_id)
    return sign({**_payload(event), "chain": event.chain, "key_id": event.key_id}, key)


def chain_of(agency_id) -> str:
    return f"agency:{agency_id}" if agency_id is not None else PLATFORM_CHAIN


def agency_of_chain(chain: str):
    return int(chain.split(":", 1)[1]) if chain.startswith("agency:") else None


def _owning_agency_id(instance):
    return getattr(instance, "owning_agency_id", None)


def record_event(instance, *, action: str, before: dict | None, after: dict | None, object_id=None):
    """Append one event to the chain of the instance's agency (written now, not buffered)."""
    from qgov.models import AuditChainHead, AuditEvent

    changed = _diff(before, after)
    if action == AuditActionChoices.UPDATE and not changed:
        return None
    action, detail = _transition_detail(instance, action)
    context = current_context()
    actor = context.resolve_actor()
    actor_repr = actor.get_username() if actor is not None else (context.label or context.source)
    agency_id = _owning_agency_id(instance)
    chain = chain_of(agency_id)
    key_id, key = current_key()
    content_type = ContentType.objects.get_for_model(instance, for_concrete_model=True)
    held = _held_heads.get()
    # Without a savepoint: inside the caller's transaction a failure here fails the whole write.
    with transaction.atomic(savepoint=False):
        if held is not None and chain in held:
            head = held[chain]  # locked by this transaction already; written once when the block ends
        else:
            # The chain's head row lock serialises appends to this chain only: two writers can
            # never fork it, and writers of other agencies do not wait.
            head, _ = AuditChainHead.objects.select_for_update().get_or_create(chain=chain)
        event = AuditEvent(
            chain=chain,
            seq=head.seq + 1,
            timestamp=timezone.now(),
            actor=actor,
            actor_repr=actor_repr[:200],
            agency_id=agency_id,
            content_type=content_type,
            object_id=str(instance.pk if object_id is None else object_id),
            object_repr=str(instance)[:300],
            action=action,
            before=before,
            after=after,
            changed_fields=changed,
            detail=detail,
            request_id=context.request_id,
            source=context.source,
            prev_hash=head.hash,
            key_id=key_id,
        )
        event.hash = compute_hash(event, key)
        event.save(force_insert=True)
        if held is not None:
            head.seq, head.hash = event.seq, event.hash
            held[chain] = head
        else:
            AuditChainHead.objects.filter(pk=head.pk).update(seq=event.seq, hash=event.hash)
        # Webhook outbox rows are written here, in the change's transaction (qgov.integrations).
        change_recorded.send(sender=type(instance), event=event, instance=instance)
    return event


_held_heads: contextvars.ContextVar[dict | None] = contextvars.ContextVar("qgov_audit_held_heads", default=None)


@contextlib.contextmanager
def held_chain_heads():
    """For a bulk write in one transaction (an import): each chain's head row is locked once and
    written once, when the block ends, instead of once per event. PostgreSQL keeps every version
    of a row updated inside one transaction, so thousands of head updates make each next lock
    slower. Use it inside the transaction, and only where any failure rolls the whole
    transaction back (an event of a rolled-back savepoint would leave the held head ahead)."""
    from qgov.models import AuditChainHead

    if _held_heads.get() is not None:  # nested: the outer block holds the heads
        yield
        return
    held: dict = {}
    token = _held_heads.set(held)
    try:
        yield
    finally:
        _held_heads.reset(token)
    # Reached only when the block did not raise: the transaction goes on to commit these.
    for head in held.values():
        AuditChainHead.objects.filter(pk=head.pk).update(seq=head.seq, hash=head.hash)


# --- one event per logical change ------------------------------------------------------------


@dataclass
class _Pending:
    instance: models.Model
    before: dict | None
    created: bool = False
    deleted: bool = False
    m2m: dict = field(default_factory=dict)  # the m2m ids as they stand now, when known
    m2m_stale: bool = False  # changed through the related managers: read again at the end
    pk: object = None  # kept: a deleted instance loses its pk


class Change:
    """What one logical change did to each audited record, written as one event per record."""

    def __init__(self):
        self.pending: dict[tuple, _Pending] = {}

    @staticmethod
    def key(instance):
        return (type(instance)._meta.concrete_model, instance.pk)

    def get(self, instance) -> _Pending | None:
        return self.pending.get(self.key(instance))

    def remember(self, instance, *, before: dict) -> dict:
        """The service read the record under lock: its snapshot is the event's `before`."""
        entry = self.get(instance)
        if entry is None:
            m2m = {f.name: before[f.name] for f in audited_m2m(type(instance)) if f.name in before}
            self.pending[self.key(instance)] = _Pending(instance, before, m2m=m2m, pk=instance.pk)
            return before
        return entry.before

    def m2m_set(self, instance, name: str, ids: list | None):
        entry = self.get(instance)
        if entry is not None:
            if ids is None:
                entry.m2m_stale = True
            else:
                entry.m2m[name] = sorted(ids)

    def merge(self, other: "Change"):
        for key, entry in other.pending.items():
            mine = self.pending.get(key)
            if mine is None:
                self.pending[key] = entry
            else:
                mine.instance, mine.deleted = entry.instance, entry.deleted
                mine.m2m.update(entry.m2m)
                mine.m2m_stale = mine.m2m_stale or entry.m2m_stale

    def after(self, entry: _Pending) -> dict:
        return snapshot(entry.instance, m2m=None if entry.m2m_stale else entry.m2m)

    def flush(self):
        # Chains in one fixed order, so two changes touching the same chains lock their heads in
        # the same order and cannot deadlock; within a chain the order of the change is kept.
        entries = sorted(self.pending.values(), key=lambda e: chain_of(_owning_agency_id(e.instance)))
        for entry in entries:
            if entry.deleted:
                if not entry.created:
                    record_event(entry.instance, action=AuditActionChoices.DELETE, before=entry.before, after=None,
                                 object_id=entry.pk)
                continue
            action = AuditActionChoices.CREATE if entry.created else AuditActionChoices.UPDATE
            record_event(entry.instance, action=action, before=entry.before, after=self.after(entry))


_change: contextvars.ContextVar[Change | None] = contextvars.ContextVar("qgov_audit_change", default=None)


def current_change() -> Change | None:
    return _change.get()


@contextlib.contextmanager
def one_change():
    """Record everything inside the block as one event per record, written when the block ends
    (so inside the caller's transaction). Nested blocks join the outer one; a block that raises
    leaves nothing behind."""
    parent = _change.get()
    change = Change()
    token = _change.set(change)
    try:
        yield change
    finally:
        _change.reset(token)
    # Reached only when the block did not raise.
    if parent is not None:
        parent.merge(change)
    else:
        change.flush()


# --- signal receivers -----------------------------------------------------------------------


def _on_pre_save(sender, instance, raw=False, **kwargs):
    if raw or not is_audited(sender):
        return
    if instance.pk is None or instance._state.adding:
        instance._audit_before = None
        return
    change = _change.get()
    if change is not None and change.get(instance) is not None:
        return  # this change already holds the record's `before`
    previous = sender._base_manager.filter(pk=instance.pk).first()
    before = snapshot(previous) if previous is not None else None
    if change is not None and before is not None:
        change.remember(instance, before=before)
    instance._audit_before = before


def _on_post_save(sender, instance, created, raw=False, **kwargs):
    if raw or not is_audited(sender):
        return
    change = _change.get()
    if change is not None:
        entry = change.get(instance)
        if entry is None:
            # New in this change: no many-to-many rows yet, nothing to read.
            change.pending[change.key(instance)] = _Pending(
                instance, None, created=True, m2m={f.name: [] for f in audited_m2m(sender)}, pk=instance.pk)
        else:
            entry.instance = instance
        return
    before = None if created else getattr(instance, "_audit_before", None)
    action = AuditActionChoices.CREATE if created or before is None else AuditActionChoices.UPDATE
    record_event(instance, action=action, before=before, after=snapshot(instance))


def _on_pre_delete(sender, instance, **kwargs):
    if is_audited(sender):
        change = _change.get()
        if change is None:
            instance._audit_before = snapshot(instance)
        elif change.get(instance) is None:
            change.remember(instance, before=snapshot(instance))


def _on_post_delete(sender, instance, **kwargs):
    if not is_audited(sender):
        return
    change = _change.get()
    if change is not None:
        change.get(instance).deleted = True
        return
    record_event(instance, action=AuditActionChoices.DELETE, before=instance._audit_before, after=None)


def _on_m2m_changed(sender, instance, action, reverse, **kwargs):
    if reverse or not is_audited(type(instance)):
        return
    change = _change.get()
    if action in ("pre_add", "pre_remove", "pre_clear"):
        if change is None:
            instance._audit_m2m_before = snapshot(instance)
        elif change.get(instance) is None:
            change.remember(instance, before=snapshot(instance))
    elif action in ("post_add", "post_remove", "post_clear"):
        if change is not None:
            entry = change.get(instance)
            entry.instance, entry.m2m_stale = instance, True
            return
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
