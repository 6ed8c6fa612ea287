from django.db import models
from django.utils.translation import gettext_lazy as _


class RoleChoices(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    EDITOR = "editor", _("Editor")
    AUDITOR = "auditor", _("Auditor")
    ADMIN = "admin", _("Admin")


class MembershipSourceChoices(models.TextChoices):
    """Where a membership comes from: a sign-in recomputes only its provider's own (qgov.identity)."""

    MANUAL = "manual", _("Manual")
    PROVIDER = "provider", _("Identity provider")
    SCIM = "scim", _("SCIM")


class AgencySectorChoices(models.TextChoices):
    DEFENCE = "defence", _("Defence")
    FOREIGN_AFFAIRS = "foreign_affairs", _("Foreign affairs")
    HOME_AFFAIRS = "home_affairs", _("Home affairs and justice")
    FINANCE = "finance", _("Finance and treasury")
    HEALTH = "health", _("Health")
    ENERGY = "energy", _("Energy")
    TELECOMMUNICATIONS = "telecommunications", _("Telecommunications")
    TRANSPORT = "transport", _("Transport")
    DIGITAL = "digital", _("Digital government")
    OTHER = "other", _("Other")


class AuditActionChoices(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    TRANSITION = "transition", _("Transition")


class AuditSourceChoices(models.TextChoices):
    UI = "ui", _("Web UI")
    API = "api", _("REST API")
    ADMIN = "admin", _("Admin site")
    COMMAND = "command", _("Management command")
    TASK = "task", _("Background task")
    SYSTEM = "system", _("System")
    # Someone without an account, through a one-time link (e.g. a supplier answering a questionnaire).
    PORTAL = "portal", _("One-time link")


class ImportRunStatusChoices(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
