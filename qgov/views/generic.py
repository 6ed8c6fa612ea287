"""Generic UI views: every model's list, detail, history, edit and delete page is a few
declarative lines on top of these."""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import ForeignKey
from django.forms import ModelChoiceField
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.generic import TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export import ExportMixin

from qgov import services
from qgov.audit import snapshot
from qgov.forms import TransitionForm, style_form
from qgov.lifecycle import TransitionRefused, lifecycle_of, owned_fields_of
from qgov.models import RECORD_FIELDS, AgencyScopedModel, AuditEvent
from qgov.permissions import user_can
from qgov.roles import Action
from qgov.services import VersionConflict


def url_name(model, view: str) -> str:
    return f"{model._meta.app_label}:{model._meta.model_name}_{view}"


def model_url(model, view: str, *args) -> str | None:
    """The URL of one of a model's standard views, or None where the model does not have it."""
    try:
        return reverse(url_name(model, view), args=args)
    except NoReverseMatch:
        return None


class ScopedViewMixin(LoginRequiredMixin):
    """The model, the action this view performs, and the queryset restricted to it."""

    queryset = None
    action = Action.VIEW

    @property
    def model(self):
        return self.queryset.model

    def restricted_queryset(self, action=None):
        return self.queryset.all().restrict(self.request.user, action or self.action)

    def can(self, action, agency_id=None) -> bool:
        """May the user do `action` on this model's records in `agency_id` (default: the active agency)?"""
        if agency_id is None and self.request.agency is not None:
            agency_id = self.request.agency.pk
        return user_can(self.request.user, agency_id, action, self.model)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        meta = self.model._meta
        context.update(
            model_meta=meta,
            list_url=model_url(self.model, "list"),
            add_url=model_url(self.model, "add") if self.can(Action.ADD) else None,
        )
        return context


class ObjectListView(ScopedViewMixin, ExportMixin, SingleTableMixin, FilterView):
    """Filters from the model's filterset, sortable paginated table, CSV export of the filtered list."""

    template_name = "qgov/object_list.html"
    paginate_by = None  # the table paginates
    table_pagination = {"per_page": 50}
    export_formats = ("csv", "xlsx")
    export_trigger_param = "export"
    # A sidebar select of records (devices, people, assets) lists at most this many, plus those chosen;
    # the search box finds the others.
    filter_choices_limit = 100

    def get(self, request, *args, **kwargs):
        # A member whose role lacks this model's view action (members list, audit trail) is told so.
        if not self.can(Action.VIEW):
            raise PermissionDenied(_("Your role does not include this list."))
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        queryset = self.restricted_queryset()
        agency = self.request.agency
        if agency is not None and self.model.agency_lookup not in (None, "pk"):
            queryset = queryset.in_agency(agency)
        return queryset

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        form = filterset.form
        form.fields.pop("id", None)  # an API convenience, noise in a sidebar
        if issubclass(self.model, AgencyScopedModel):
            form.fields.pop("agency", None)  # the list is already the active agency's
        if "q" in form.fields:  # search first
            form.fields = {"q": form.fields.pop("q"), **form.fields}
        for name, field in form.fields.items():
            if isinstance(field, ModelChoiceField):
                field.widget.choices = BoundedChoices(field, form.data.getlist(name) if hasattr(form.data, "getlist")
                                                      else [], self.filter_choices_limit)
        style_form(filterset.form)
        return filterset

    def get_export_filename(self, export_format):
        return f"{self.model._meta.verbose_name_plural}.{export_format}".replace(" ", "-")

    def create_export(self, export_format):
        if not self.can(Action.EXPORT):
            raise PermissionDenied(_("Your role does not allow exporting lists."))
        return super().create_export(export_format)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_export"] = self.can(Action.EXPORT)
        return context


class BoundedChoices(BaseChoiceIterator):
    """The choices of a record select in a filter sidebar: the first `limit` records and those
    already chosen, so a fleet of thousands does not become a select of thousands. Validation
    still takes any record of the field's queryset (links from other pages keep working)."""

    def __init__(self, field, chosen, limit):
        self.field, self.limit = field, limit
        self.chosen = [int(value) for value in chosen if str(value).isdigit() and int(value) < 2**63]

    def __iter__(self):
        field = self.field
        iterator = field.iterator(field)
        if field.empty_label is not None:
            yield ("", field.empty_label)
        records = list(field.queryset[:self.limit])
        shown = {record.pk for record in records}
        missing = [pk for pk in self.chosen if pk not in shown]
        if missing:
            records += list(field.queryset.filter(pk__in=missing))
        for record in records:
            yield iterator.choice(record)


def display_value(obj, field):
    if field.choices:
        return getattr(obj, f"get_{field.name}_display")()
    value = getattr(obj, field.name)
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value), "Y-m-d H:i T")
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        return ", ".join(str(item) for item in value)  # a JSON list of codes or labels, not its Python repr
    return value


def display_fields(obj, exclude=("id",)):
    """(label, value, url) rows for the detail page, straight from the model's fields; the
    record-keeping fields (version, timestamps) come last."""
    rows = []
    # What the lifecycle set, and who created the record, are part of the record too.
    shown = {*owned_fields_of(type(obj)), getattr(type(obj), "creator_field", None)}
    fields = [f for f in obj._meta.concrete_fields if f.name not in exclude and (f.editable or f.name in shown)]
    fields += [f for f in obj._meta.concrete_fields if f.name in RECORD_FIELDS]
    for field in fields:
        value = display_value(obj, field)
        url = value.get_absolute_url() if isinstance(field, ForeignKey) and value is not None and hasattr(
            value, "get_absolute_url") else None
        rows.append((field.verbose_name, value, url))
    for field in obj._meta.many_to_many:
        if field.name in exclude:
            continue
        rows.append((field.verbose_name, ", ".join(str(v) for v in getattr(obj, field.name).all()), None))
    return rows


class ObjectDetailView(ScopedViewMixin, TemplateView):
    template_name = "qgov/object_detail.html"
    tab = "details"
    # Fields the page's own template shows elsewhere (ratings card, related lists…).
    exclude_fields: tuple[str, ...] = ()

    def get_object(self):
        return get_object_or_404(self.restricted_queryset(Action.VIEW), pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obj = self.object
        agency_id = obj.owning_agency_id
        lifecycle = lifecycle_of(self.model)
        context.update(
            object=obj,
            tab=self.tab,
            fields=display_fields(obj, exclude=("id", *self.exclude_fields)),
            lifecycle_state=lifecycle.state_label(obj) if lifecycle else None,
            transitions=self.transitions(obj, lifecycle),
            can_change=self.can(Action.CHANGE, agency_id) and not (lifecycle and lifecycle.is_frozen(obj)),
            can_delete=self.can(Action.DELETE, agency_id) and not (lifecycle and not lifecycle.may_delete(obj)),
            can_view_history=self.can_view_history(obj),
            edit_url=model_url(self.model, "edit", obj.pk),
            delete_url=model_url(self.model, "delete", obj.pk),
            history_url=model_url(self.model, "history", obj.pk),
        )
        return context

    def can_view_history(self, obj):
        return user_can(self.request.user, obj.owning_agency_id, Action.VIEW_AUDIT)

    def transitions(self, obj, lifecycle):
        """(transition, confirm URL, what is missing) of each lifecycle action the user's role allows
        from the record's state; one with something missing is shown disabled, saying what."""
        if lifecycle is None:
            return []
        user = self.request.user
        return [(t, model_url(self.model, "transition", obj.pk, t.url_segment),
                 [m for guard in t.guards for m in (guard(obj, user) or [])])
                for t in lifecycle.available(obj) if self.can(t.permission, obj.owning_agency_id)]


class ObjectHistoryView(ObjectDetailView):
    """The object's audit events, newest first; kept after the object is deleted."""

    template_name = "qgov/object_history.html"
    tab = "history"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not context["can_view_history"]:
            raise PermissionDenied(_("Your role does not include the audit trail."))
        context["events"] = AuditEvent.objects.for_object(self.object).order_by("-id")[:200]
        return context


class ObjectEditView(ScopedViewMixin, TemplateView):
    """Create (no pk) or update (pk) through the core services; a stale version re-shows the form
    with what changed in the meantime."""

    template_name = "qgov/object_edit.html"
    form_class = None

    def get_object(self):
        if "pk" not in self.kwargs:
            return None
        return get_object_or_404(self.restricted_queryset(Action.VIEW), pk=self.kwargs["pk"])

    def check_permission(self, obj):
        allowed = self.can(Action.ADD) if obj is None else self.can(Action.CHANGE, obj.owning_agency_id)
        if not allowed:
            raise PermissionDenied(_("Your role does not allow this change."))

    def get_form(self, obj, data=None):
        return self.form_class(data=data, instance=obj, user=self.request.user, agency=self.request.agency)

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.object = self.get_object()
        self.check_permission(self.object)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        form = self.get_form(self.object)
        if self.object is None:
            form.initial.update(self.initial_from_query(form))
        return self.render_to_response(self.get_context_data(form=form))

    def initial_from_query(self, form) -> dict:
        """A new record's form may be pre-filled from the query string (`?title=…&assets=3&assets=7`),
        e.g. by a link that opens a risk for a revoked certificate. Only the model's own fields that
        the form shows are taken, and only as initial values: the user sees them and the form checks
        them like any other input when it is sent (choices stay those the user may see)."""
        model_fields = {field.name for field in self.model._meta.get_fields()}
        initial = {}
        for name, field in form.fields.items():
            if name not in self.request.GET or name not in model_fields or name in ("agency", *RECORD_FIELDS):
                continue
            values = self.request.GET.getlist(name)
            many = isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField)
            initial[name] = values if many else values[-1]
        return initial

    def initial_data(self, form) -> dict:
        """Values the form does not ask for; the agency of a new scoped record is the active one."""
        if self.object is None and issubclass(self.model, AgencyScopedModel):
            if self.request.agency is None:
                raise PermissionDenied(_("You are not a member of any agency."))
            return {"agency": self.request.agency}
        return {}

    def save(self, form):
        data = {**self.initial_data(form), **form.service_data()}
        if self.object is None:
            return services.object_create(model=self.model, user=self.request.user, data=data)
        return services.object_update(
            instance=self.object, user=self.request.user, data=data, expected_version=form.cleaned_data["version"]
        )

    def post(self, request, *args, **kwargs):
        form = self.get_form(self.object, data=request.POST)
        changes = None
        if form.is_valid():
            try:
                saved = self.save(form)
            except VersionConflict as conflict:
                changes = self.changes_since(conflict.current, conflict.expected_version)
                form.add_error(None, str(conflict))
            except ValidationError as error:
                _add_errors(form, error)
            else:
                verb = _("Created") if self.object is None else _("Saved")
                messages.success(request, f"{verb} {saved._meta.verbose_name} “{saved}”.")
                return HttpResponseRedirect(saved.get_absolute_url())
        return self.render_to_response(self.get_context_data(form=form, changes=changes), status=200)

    @staticmethod
    def changes_since(current, version):
        """(field, their value, current value) for each field changed after `version`."""
        events = AuditEvent.objects.for_object(current).order_by("id")
        changed = {}
        for event in events:
            if (event.after or {}).get("version", 0) > version:
                for name in event.changed_fields:
                    if name != "version":
                        changed.setdefault(name, (event.before or {}).get(name))
        now = snapshot(current)
        return [(name, old, now.get(name)) for name, old in changed.items()]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["object"] = self.object
        context["cancel_url"] = self.object.get_absolute_url() if self.object else context["list_url"]
        lifecycle = lifecycle_of(self.model)
        if self.object is not None and lifecycle is not None:
            # Said before any typing is lost: the record cannot change, or a change costs its state.
            frozen = lifecycle.is_frozen(self.object)
            context["frozen"] = frozen
            context["notice"] = lifecycle.frozen_message(self.object) if frozen else lifecycle.edit_notice(self.object)
            form = context.get("form")
            for field in form.fields.values() if frozen and form is not None else ():
                field.disabled = True
        return context


class ObjectTransitionView(ScopedViewMixin, TemplateView):
    """The confirm page of one lifecycle transition: what will happen, a reason field, and what is
    missing when a guard would refuse it. Generated for every model with a lifecycle."""

    template_name = "qgov/object_transition.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.object = get_object_or_404(self.restricted_queryset(Action.VIEW), pk=kwargs["pk"])
        lifecycle = lifecycle_of(self.model)
        self.transition = next((t for t in lifecycle.public_transitions if t.url_segment == kwargs["transition"]),
                               None)
        if self.transition is None:
            raise Http404
        if not self.can(self.transition.permission, self.object.owning_agency_id):
            raise PermissionDenied(_("Your role does not allow “%(label)s”.") % {"label": self.transition.label})
        self.lifecycle = lifecycle
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, data=None):
        return TransitionForm(data=data, transition=self.transition, initial={"version": self.object.version})

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self.get_form()))

    def post(self, request, *args, **kwargs):
        form = self.get_form(data=request.POST)
        if form.is_valid():
            try:
                services.object_transition(instance=self.object, name=self.transition.name, user=request.user,
                                           reason=form.cleaned_data["reason"],
                                           expected_version=form.cleaned_data["version"])
            except TransitionRefused as refused:
                form.add_error(None, [refused.message, *[m for ms in refused.errors.values() for m in ms]])
            except VersionConflict as conflict:
                form.add_error(None, str(conflict))
            except ValidationError as error:
                _add_errors(form, error)
            else:
                self.object.refresh_from_db()
                messages.success(request, _("“%(object)s” is now %(state)s.") % {
                    "object": self.object, "state": self.lifecycle.state_label(self.object).lower()})
                return HttpResponseRedirect(self.object.get_absolute_url())
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obj, transition = self.object, self.transition
        possible = self.lifecycle.state_of(obj) in transition.source
        missing = [m for guard in transition.guards for m in (guard(obj, self.request.user) or [])] if possible \
            else []
        context.update(object=obj, transition=transition, possible=possible, missing=missing,
                       state=self.lifecycle.state_label(obj), cancel_url=obj.get_absolute_url(),
                       # What is being decided on, beside the decision.
                       fields=display_fields(obj, exclude=("id", *RECORD_FIELDS)))
        return context


def _add_errors(form, error):
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, field_errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, field_errors)


class ObjectDeleteView(ObjectEditView):
    template_name = "qgov/object_delete.html"

    def check_permission(self, obj):
        if obj is None:
            raise Http404
        if not self.can(Action.DELETE, obj.owning_agency_id):
            raise PermissionDenied(_("Your role does not allow deleting this record."))

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data())

    def post(self, request, *args, **kwargs):
        try:
            services.object_delete(
                instance=self.object, user=request.user, expected_version=_int_or_none(request.POST.get("version"))
            )
        except (VersionConflict, ValidationError) as error:
            text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            messages.error(request, text)
            return HttpResponseRedirect(self.object.get_absolute_url())
        messages.success(request, _("Deleted “%(object)s”. Its history is kept in the audit trail.") % {
            "object": self.object})
        return HttpResponseRedirect(model_url(self.model, "list"))


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
