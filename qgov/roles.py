"""The role x action table: the one place that says who may do what in an agency.

Platform admins (Django superusers) may do everything everywhere; everyone else
acts through a Membership whose role grants the actions below. Domain apps add their
own actions to the same table when they register (qgov.registry, `QgovApp.actions`).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from qgov.choices import RoleChoices


class Action(models.TextChoices):
    VIEW = "view", _("View records")
    ADD = "add", _("Create records")
    CHANGE = "change", _("Change records")
    DELETE = "delete", _("Delete records")
    EXPORT = "export", _("Export lists")
    REQUEST_REPORT = "request_report", _("Request reports")
    VIEW_AUDIT = "view_audit", _("View the audit trail")
    MANAGE_MEMBERS = "manage_members", _("Manage members and API tokens")
    MANAGE_WEBHOOKS = "manage_webhooks", _("Manage webhooks")
    # Identity providers decide who signs in and with which role: agency admins only.
    MANAGE_IDENTITY = "manage_identity", _("Manage identity providers")
    # Workflow actions: lifecycle transitions name the one that permits them.
    TRANSITION = "transition", _("Move records through their lifecycle")
    APPROVE = "approve", _("Approve or reject decisions")


ROLE_ACTIONS: dict[str, frozenset[str]] = {
    RoleChoices.VIEWER: frozenset({Action.VIEW}),
    RoleChoices.EDITOR: frozenset({Action.VIEW, Action.ADD, Action.CHANGE, Action.EXPORT, Action.TRANSITION}),
    RoleChoices.AUDITOR: frozenset({Action.VIEW, Action.EXPORT, Action.REQUEST_REPORT, Action.VIEW_AUDIT}),
    RoleChoices.ADMIN: frozenset(
        {
            Action.VIEW,
            Action.ADD,
            Action.CHANGE,
            Action.DELETE,
            Action.EXPORT,
            Action.REQUEST_REPORT,
            Action.VIEW_AUDIT,
            Action.MANAGE_MEMBERS,
            Action.MANAGE_WEBHOOKS,
            Action.MANAGE_IDENTITY,
            Action.TRANSITION,
            Action.APPROVE,
        }
    ),
}


# Actions added by domain apps: name -> label. Their grants live in ROLE_ACTIONS like the core's.
APP_ACTIONS: dict[str, str] = {}


def register_action(name: str, label: str, roles) -> None:
    """Add an app's action to the table, granted to `roles`."""
    roles = frozenset(roles)
    if name in Action.values or name in APP_ACTIONS:
        raise ValueError(f"The action {name!r} is already in the role table.")
    unknown = roles - set(ROLE_ACTIONS)
    if unknown:
        raise ValueError(f"Unknown roles for {name!r}: {', '.join(sorted(unknown))}")
    APP_ACTIONS[name] = label
    for role in roles:
        ROLE_ACTIONS[role] = ROLE_ACTIONS[role] | {name}


def unregister_action(name: str) -> None:
    del APP_ACTIONS[name]
    for role, actions in ROLE_ACTIONS.items():
        ROLE_ACTIONS[role] = actions - {name}


def all_actions() -> list[str]:
    """The core's actions and every registered app's."""
    return [*Action.values, *APP_ACTIONS]


def roles_for(action: str) -> list[str]:
    """The roles that grant `action`."""
    if action not in Action.values and action not in APP_ACTIONS:
        raise ValueError(f"Unknown action {action!r}")
    return [role for role, actions in ROLE_ACTIONS.items() if action in actions]


def role_allows(role: str | None, action: str) -> bool:
    return role is not None and action in ROLE_ACTIONS.get(role, frozenset())
