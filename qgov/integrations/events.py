"""The one stream of events: audited changes, and the few events that change no record.

`change_recorded` is sent by `qgov.audit.record_event` for every audit event it writes, inside the
writer's transaction (so whatever a receiver writes commits or rolls back with the change).
Receivers must be quick and must not call out of the process: they write outbox rows.
"""

from django.dispatch import Signal

from qgov.choices import AuditActionChoices

# Sent with `event` (the AuditEvent just written) and `instance` (the record, or what was deleted).
change_recorded = Signal()

# Event type names: "<app label>.<model name>.<verb>", e.g. "qgov.membership.created",
# "qgov.membership.updated", "qgov.membership.deleted", and a lifecycle transition by its name:
# "<app label>.<model name>.<transition>". The few events that change no record have fixed names below.
VERB_OF_ACTION = {
    AuditActionChoices.CREATE: "created",
    AuditActionChoices.UPDATE: "updated",
    AuditActionChoices.DELETE: "deleted",
}
DUE_DATE_REMINDER = "duedate.reminder"
REPORT_READY = "report.ready"
WEBHOOK_TEST = "webhook.test"


def model_event_prefix(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def event_type_of(event) -> str:
    """The event type name of an audit event."""
    model = event.content_type.model_class()
    content_type = event.content_type
    prefix = model_event_prefix(model) if model is not None else f"{content_type.app_label}.{content_type.model}"
    if event.action == AuditActionChoices.TRANSITION:
        return f"{prefix}.{event.detail.get('transition', 'transition')}"
    return f"{prefix}.{VERB_OF_ACTION[event.action]}"


# Sent by `emit()` for an event that changes no record, with agency_id, event_type and data.
event_emitted = Signal()
FIXED_EVENT_TYPES = (DUE_DATE_REMINDER, REPORT_READY, WEBHOOK_TEST)


def emit(*, agency_id: int, event_type: str, data) -> None:
    """An event that changes no record (a due-date reminder, a report ready). Call it inside the
    transaction that decided it, like an audited change: its outbox rows commit with it. `data` is
    a dict, or a function that returns it, called only when some endpoint subscribes."""
    event_emitted.send(sender=None, agency_id=agency_id, event_type=event_type, data=data)


def known_event_types() -> list[str]:
    """Every event type an endpoint may subscribe to: created / updated / deleted of each audited
    agency record (but of models that say `emits_webhooks = False`), each lifecycle transition, and
    the fixed names above."""
    from django.apps import apps

    from qgov.lifecycle import lifecycle_of
    from qgov.models import AgencyScopedModel

    names = list(FIXED_EVENT_TYPES)
    for model in apps.get_models():
        if not issubclass(model, AgencyScopedModel) or not getattr(model, "emits_webhooks", True):
            continue
        prefix = model_event_prefix(model)
        names += [f"{prefix}.{verb}" for verb in VERB_OF_ACTION.values()]
        lifecycle = lifecycle_of(model)
        if lifecycle is not None:
            names += [f"{prefix}.{transition.name}" for transition in lifecycle.transitions]
    return sorted(set(names))


def record_data(instance, **extra) -> dict:
    """The `data` of an emitted event about a record: what it is and the record as the API
    serialises it (as a change's webhook carries it), with `extra` beside."""
    from qgov.integrations.representation import represent

    return {"object_type": model_event_prefix(type(instance)), "object_id": str(instance.pk),
            "record": represent(instance), **extra}
