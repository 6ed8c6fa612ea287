"""The agency-scoped model base every qgov model builds on, and its restricted queryset."""


from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qgov.permissions import PLATFORM_ONLY, restrict_queryset
from qgov.roles import Action


class RestrictedQuerySet(models.QuerySet):
    """Scopes records to what a user may see or do: the queryset form of the one permission
    check in qgov.permissions."""

    def restrict(self, user, action: str = Action.VIEW):
        return restrict_queryset(self, user, action)

    def update(self, **kwargs):
        """A service's direct write (a run's status, a delivery's outcome) stamps `last_updated`
        as save() does: the lists' ETags read it (qgov.api.pagination), and a write that left it
        alone kept answering 304 for a page that had changed. `version` counts saves only: an
        in-memory copy saved after this write must not reuse a number. The base manager writes
        without the stamp."""
        if "last_updated" not in kwargs and stamps_updates(self.model):
            kwargs["last_updated"] = timezone.now()
        return super().update(**kwargs)

    def in_agency(self, agency):
        lookup = self.model.agency_lookup
        if getattr(self.model, "shared_without_agency", False):  # the agency's rows and the shared ones
            return self.filter(models.Q(**{lookup: agency}) | models.Q(**{f"{lookup}__isnull": True}))
        return self.filter(**{lookup: agency})


def stamps_updates(model) -> bool:
    """Whether the model's rows carry an auto-now `last_updated` (every QgovModel's do)."""
    field = next((field for field in model._meta.concrete_fields if field.name == "last_updated"), None)
    return getattr(field, "auto_now", False)


# The record-keeping fields of every QgovModel: read-only, and listed last, in every face
# (serializer, admin, detail page).
RECORD_FIELDS = ("version", "created", "last_updated")


class QgovModel(models.Model):
    """Versioned, timestamped, audited, and scoped through `restrict()`."""

    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    last_updated = models.DateTimeField(auto_now=True, verbose_name=_("last updated"))

    objects = RestrictedQuerySet.as_manager()

    # How a record reaches its agency, for restrict().
    agency_lookup = "agency"
    # Generic action -> the action a role must grant for this model (PLATFORM_ONLY for superusers only).
    action_map: dict = {}
    # Fields left out of audit snapshots.
    audit_exclude: tuple = ("created", "last_updated")
    # A user field that the create service fills with the acting user (e.g. "requested_by").
    creator_field: str | None = None
    # Fields set when the record is created and never changed afterwards (form, API, services).
    create_only_fields: tuple[str, ...] = ("agency",)
    # Expiries and deadlines the core reminds about and lists as due (qgov.duedates.DueDate).
    due_dates: tuple = ()
    # Whether evidence files may be attached to its records (docs/evidence.md).
    accepts_evidence: bool = False
    # Rows whose agency is empty are shared reference data beside the agencies' own rows (playbook
    # templates beside agency copies): every signed-in user reads them, only platform admins change them.
    shared_without_agency: bool = False
    # The area of API token scopes (`<area>:read`, `<area>:write`) its records fall in; None: the app label.
    scope_area: str | None = None

    class Meta:
        abstract = True

    @classmethod
    def permission_action(cls, action: str):
        return cls.action_map.get(action, action)

    @property
    def owning_agency_id(self):
        return self.agency_id

    def save(self, *args, **kwargs):
        if not self._state.adding:
            self.version += 1
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "version", "last_updated"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse(f"{self._meta.app_label}:{self._meta.model_name}_detail", args=[self.pk])


class CatalogModel(QgovModel):
    """A shared reference record (threat vectors, schemes, playbook templates): every signed-in
    user reads it, only platform admins change it."""

    agency_lookup = None
    action_map = {Action.ADD: PLATFORM_ONLY, Action.CHANGE: PLATFORM_ONLY, Action.DELETE: PLATFORM_ONLY}
    # The field that identifies an entry across catalog reloads.
    natural_key_field = "code"

    class Meta:
        abstract = True

    @property
    def owning_agency_id(self):
        return None


class AgencyScopedModel(QgovModel):
    """A record that belongs to one agency."""

    agency = models.ForeignKey(
        "qgov.Agency",
        on_delete=models.PROTECT,
        related_name="%(app_label)s_%(class)s_set",
        verbose_name=_("agency"),
    )

    class Meta:
        abstract = True
