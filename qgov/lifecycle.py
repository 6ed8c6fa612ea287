"""Lifecycles, declared once per model.

A model with a lifecycle names its state field, its transitions and the fields the lifecycle
owns; the core does the rest:

- owned fields are read-only to the generic form, serializer, import and admin;
- frozen states refuse generic edits (and deletion, unless the state is deletable);
- an edit in a state listed in `on_edit` runs a system transition (an approved decision edited
  becomes "re-approval required");
- each transition is one service (`qgov.services.object_transition`): permission re-checked in
  the transaction, guards, one audit event naming the transition and its reason, effects and
  notifications;
- the API gets `POST /api/<resource>/{id}/<transition>/` and the detail page a button with a
  confirm form, both generated from the declaration.

    class RiskAcceptance(AgencyScopedModel):
        lifecycle = Lifecycle(
            field="status",
            owned_fields=("approved_by", "approved_at"),
            frozen_states=("rejected", "lapsed"),
            on_edit={"approved": "require_reapproval"},
            transitions=[
                Transition("approve", _("Approve"), source=("requested",), target="approved",
                           permission=Action.APPROVE, guards=(not_the_requester,), effect=record_approval),
                ...
            ],
        )
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from qgov.roles import Action


@dataclass(frozen=True)
class Transition:
    name: str  # the service's and the URL's name: "approve" → POST /api/<resource>/{id}/approve/
    label: str  # the button: "Approve"
    source: tuple[str, ...]  # the states it may leave
    target: str
    # The role-table action that permits it (models may map it through their action_map).
    permission: str = Action.TRANSITION
    reason_required: bool = False
    # guard(instance, user) -> messages saying what is missing (empty when the transition may go ahead)
    guards: tuple[Callable, ...] = ()
    # effect(instance, *, user, reason): sets the other owned fields before the save
    effect: Callable | None = None
    # after(instance, *, user, reason): related records and notifications, after the save
    after: Callable | None = None
    # Done only by the system (tasks, other transitions, edits): not offered in the API or the UI.
    system: bool = False
    style: str = "primary"  # Bootstrap colour of its button
    help_text: str = ""

    @property
    def url_segment(self) -> str:
        return self.name.replace("_", "-")


@dataclass(frozen=True)
class Lifecycle:
    field: str
    transitions: Iterable[Transition]
    owned_fields: Iterable[str] = ()
    frozen_states: Iterable[str] = ()
    # States in which deleting the record is allowed; None: any state that is not frozen.
    deletable_states: Iterable[str] | None = None
    # {state: transition} run when a generic edit changes a record in that state; the value is the
    # transition's name, or (name, fields) to run it only when one of those fields changed.
    on_edit: dict = field(default_factory=dict)
    # A text field the transition's reason is written to, e.g. "status_note".
    note_field: str | None = None
    # Run after every transition (after the transition's own `after`), in its transaction, as
    # after_each(record, transition, *, user, reason): what all of a record's status changes share,
    # e.g. an incident's timeline entry.
    after_each: Callable | None = None

    def __post_init__(self):
        transitions = tuple(self.transitions)
        object.__setattr__(self, "transitions", transitions)
        owned = {self.field, *self.owned_fields}
        if self.note_field:
            owned.add(self.note_field)
        object.__setattr__(self, "owned_fields", frozenset(owned))
        object.__setattr__(self, "frozen_states", frozenset(self.frozen_states))
        if self.deletable_states is not None:
            object.__setattr__(self, "deletable_states", frozenset(self.deletable_states))
        names = [t.name for t in transitions]
        if len(names) != len(set(names)):
            raise ImproperlyConfigured(f"Duplicate transition names in {names}")
        for state, trigger in self.on_edit.items():
            name = trigger if isinstance(trigger, str) else trigger[0]
            if name not in names:
                raise ImproperlyConfigured(f"on_edit[{state!r}] names no transition: {name!r}")

    def run_after(self, instance, transition: Transition, *, user, reason: str) -> None:
        """The follow-up work of a transition that has been saved: its own `after`, then `after_each`."""
        if transition.after is not None:
            transition.after(instance, user=user, reason=reason)
        if self.after_each is not None:
            self.after_each(instance, transition, user=user, reason=reason)

    def get(self, name: str) -> Transition:
        for transition in self.transitions:
            if transition.name == name:
                return transition
        raise LookupError(name)

    @property
    def public_transitions(self) -> tuple[Transition, ...]:
        return tuple(t for t in self.transitions if not t.system)

    def state_of(self, instance) -> str:
        return getattr(instance, self.field)

    def available(self, instance) -> list[Transition]:
        """The public transitions that may leave the record's current state."""
        state = self.state_of(instance)
        return [t for t in self.public_transitions if state in t.source]

    def is_frozen(self, instance) -> bool:
        return self.state_of(instance) in self.frozen_states

    def may_delete(self, instance) -> bool:
        state = self.state_of(instance)
        if self.deletable_states is not None:
            return state in self.deletable_states
        return state not in self.frozen_states

    def state_label(self, instance) -> str:
        return getattr(instance, f"get_{self.field}_display")()

    def frozen_message(self, instance) -> str:
        return _("This %(model)s is “%(state)s” and can no longer be edited.") % {
            "model": instance._meta.verbose_name, "state": self.state_label(instance).lower()}

    def edit_notice(self, instance) -> str | None:
        """What saving an edit will do to the record's state, said before the user saves."""
        trigger = self.on_edit.get(self.state_of(instance))
        if trigger is None:
            return None
        name, fields = (trigger, None) if isinstance(trigger, str) else trigger
        target = self.get(name).target
        labels = dict(instance._meta.get_field(self.field).flatchoices)
        if fields is None:
            return _("This %(model)s is “%(state)s”: saving a change makes it “%(target)s”.") % {
                "model": instance._meta.verbose_name, "state": self.state_label(instance).lower(),
                "target": str(labels.get(target, target)).lower()}
        names = ", ".join(str(instance._meta.get_field(f).verbose_name) for f in sorted(fields))
        return _("This %(model)s is “%(state)s”: changing %(fields)s makes it “%(target)s”.") % {
            "model": instance._meta.verbose_name, "state": self.state_label(instance).lower(), "fields": names,
            "target": str(labels.get(target, target)).lower()}


def lifecycle_of(model) -> Lifecycle | None:
    lifecycle = getattr(model, "lifecycle", None)
    return lifecycle if isinstance(lifecycle, Lifecycle) else None


def owned_fields_of(model) -> frozenset:
    lifecycle = lifecycle_of(model)
    return lifecycle.owned_fields if lifecycle else frozenset()


class TransitionRefused(Exception):
    """The record's state or a guard does not allow the transition now (HTTP 409); `errors` says
    what is missing, keyed like validation errors."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None):
        self.message = message
        self.errors = errors or {}
        super().__init__(message)
