from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from qgov import services
from qgov.identity.lockout import login_attempts_unlock
from qgov.lifecycle import owned_fields_of
from qgov.models import (
    RECORD_FIELDS,
    Agency,
    ApiToken,
    AuditEvent,
    CustodyEvent,
    EvidenceFile,
    LoginAttempt,
    Membership,
    Notification,
    QgovModel,
)

# The product's name on every admin page, not Django's.
admin.site.site_header = _("qgov administration")
admin.site.site_title = _("qgov administration")
admin.site.index_title = _("Platform administration")


class AdminWriteRefused(Exception):
    """A write service refused an admin save or delete; the view rolls back and says why."""

    def __init__(self, error):
        self.messages = error.messages if isinstance(error, ValidationError) else [str(error)]
        super().__init__(" ".join(self.messages))


def _model_data(model, form, names=None) -> dict:
    """The form's cleaned values of model fields (many-to-many included), for the write services."""
    opts = model._meta
    fields = {f.name for f in opts.concrete_fields} | {f.name for f in opts.many_to_many}
    names = form.cleaned_data if names is None else names
    return {name: form.cleaned_data[name] for name in names if name in fields and name in form.cleaned_data}


def _copy_saved(target, saved) -> None:
    """The admin keeps working on its own instance (inlines hang on it): give it what was saved."""
    for field in saved._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding, target._state.db = False, saved._state.db


class QgovModelAdmin(admin.ModelAdmin):
    """The admin writes through the core services, like the UI and the API: permission re-checked,
    version bumped, same-agency and model rules (the last admin of an agency…), hooks, audit.
    A refusal is shown as an error message and nothing is written. Record fields and the fields a
    lifecycle owns are read-only. Models outside QgovModel are shown read-only."""

    def _writable(self) -> bool:
        return issubclass(self.model, QgovModel)

    def get_readonly_fields(self, request, obj=None):
        names = list(super().get_readonly_fields(request, obj))
        if self._writable():
            names += RECORD_FIELDS
        names += sorted(owned_fields_of(self.model))
        return list(dict.fromkeys(names))

    def has_add_permission(self, request, *args):
        return self._writable() and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._writable() and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._writable() and super().has_delete_permission(request, obj)

    # --- writes ------------------------------------------------------------------------------

    @staticmethod
    def _call(service, **kwargs):
        try:
            return service(**kwargs)
        except (ValidationError, PermissionDenied) as error:
            raise AdminWriteRefused(error) from error

    def save_model(self, request, obj, form, change):
        data = _model_data(self.model, form)
        if change:
            saved = self._call(services.object_update, instance=obj, user=request.user, data=data)
        else:
            saved = self._call(services.object_create, model=self.model, user=request.user, data=data)
        _copy_saved(obj, saved)

    def save_related(self, request, form, formsets, change):
        # Many-to-many values were written with the record by save_model.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change):
        model, user = formset.model, request.user
        deleted = set(formset.deleted_forms)
        # What the admin's change message reads, as formset.save() would have set it.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline in formset.initial_forms:
            if inline in deleted:
                if inline.instance.pk is not None:
                    self._call(services.object_delete, instance=inline.instance, user=user)
                    formset.deleted_objects.append(inline.instance)
            elif inline.has_changed():
                saved = self._call(services.object_update, instance=inline.instance, user=user,
                                   data=_model_data(model, inline, inline.changed_data))
                formset.changed_objects.append((saved, inline.changed_data))
        for inline in formset.extra_forms:
            if inline.has_changed() and inline not in deleted:
                data = {**_model_data(model, inline), formset.fk.name: formset.instance}
                formset.new_objects.append(self._call(services.object_create, model=model, user=user, data=data))

    def delete_model(self, request, obj):
        self._call(services.object_delete, instance=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                self._call(services.object_delete, instance=obj, user=request.user)

    # --- refusals: roll back, say why, show the page again -------------------------------------

    def _refusable(self, view, request, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        try:
            with transaction.atomic():
                return view(request, *args, **kwargs)
        except AdminWriteRefused as refused:
            for message in refused.messages:
                messages.error(request, message)
            return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, *args, **kwargs):
        return self._refusable(super().changeform_view, request, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        return self._refusable(super().delete_view, request, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):  # bulk actions such as "delete selected"
        return self._refusable(super().changelist_view, request, *args, **kwargs)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Agency)
class AgencyAdmin(QgovModelAdmin):
    list_display = ("name", "code", "sector", "parent", "time_zone")
    search_fields = ("name", "code")
    list_filter = ("sector",)
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(QgovModelAdmin):
    list_display = ("user", "agency", "role")
    list_filter = ("role", "agency")
    search_fields = ("user__username", "agency__code")
    autocomplete_fields = ["user", "agency"]


@admin.register(ApiToken)
class ApiTokenAdmin(QgovModelAdmin):
    list_display = ("name", "user", "prefix", "expires", "revoked_at", "last_used")
    list_filter = ("agencies",)
    readonly_fields = (
        "user", "agencies", "name", "prefix", "scopes", "allowed_ips", "created", "created_by", "expires",
        "revoked_at", "last_used",
    )
    exclude = ("key_hash",)
    actions = ["revoke"]  # tokens are issued from the UI or API, where the key is shown once

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        for token in queryset:
            services.token_revoke(token=token, user=request.user)
        messages.success(request, f"Revoked {queryset.count()} tokens.")


@admin.register(AuditEvent)
class AuditEventAdmin(QgovModelAdmin):
    list_display = ("seq", "timestamp", "actor_repr", "action", "content_type", "object_repr", "source")
    list_filter = ("action", "source", "content_type")
    search_fields = ("object_repr", "actor_repr", "request_id")


@admin.register(Notification)
class NotificationAdmin(QgovModelAdmin):
    list_display = ("title", "user", "agency", "created", "read_at", "emailed_at")
    readonly_fields = ("user", "agency", "title", "body", "url", "created", "read_at", "emailed_at")


class ReadOnlyAdminMixin:
    """Rows written by their services alone: the admin shows them and adds, changes or deletes none."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CustodyEventInline(admin.TabularInline):
    model = CustodyEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ("sequence", "at", "action", "actor_name", "from_user", "to_user", "location", "reason",
                                "collected_at", "collected_by_name", "note", "observed_sha256", "chain_intact",
                                "previous_hash", "entry_hash")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(EvidenceFile)
class EvidenceFileAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: evidence is added, handed over and withdrawn through its workflows, never edited."""

    list_display = ("file_name", "agency", "content_type", "object_id", "size", "uploader_name", "uploaded_at",
                    "custodian", "withdrawn_at")
    list_filter = ("agency", "content_type")
    search_fields = ("file_name", "sha256", "description")
    inlines = [CustodyEventInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


@admin.register(LoginAttempt)
class LoginAttemptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: rows are written by sign-ins alone (qgov.identity.lockout). "Unlock" clears a row's
    failures for a person locked out by mistake, in the account's history like the lock."""

    list_display = ("username", "address", "failures", "window_ends", "last_success")
    search_fields = ("username",)
    fields = readonly_fields = ("username", "address", "failures", "window_ends", "last_success")
    ordering = ("username", "address")
    actions = ["unlock"]

    def has_unlock_permission(self, request):
        # Unlocking changes the rows (through the service): Django's change permission of the model.
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    @admin.action(description=_("Unlock: clear the failed sign-ins of the selected rows"), permissions=["unlock"])
    def unlock(self, request, queryset):
        unlocked = login_attempts_unlock(attempts=list(queryset), by=request.user.get_username())
        messages.success(request, _("Cleared the failed sign-ins of %(count)d rows.") % {"count": unlocked})
