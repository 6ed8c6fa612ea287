"""Generic UI views: every model's list, detail, history, edit and delete page is a few
declarative lines on top of these."""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import ForeignKey, QuerySet
from django.forms import ModelChoiceField
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.generic import TemplateView
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin

from qgov import detail_panels, exports, services
from qgov.audit import snapshot
from qgov.audit_display import attach_changes, describe
from qgov.autocomplete import CHOICES_LIMIT, pick_widget
from qgov.counting import RowCount, count_rows
from qgov.fields import LongTextField
from qgov.forms import TransitionForm, style_form
from qgov.lifecycle import TransitionRefused, lifecycle_of, owned_fields_of
from qgov.models import RECORD_FIELDS, AgencyScopedModel, AuditEvent
from qgov.permissions import user_can
from qgov.prepared import read_rows
from qgov.roles import Action
from qgov.services import VersionConflict
from qgov.widgets import write_in_python


def url_name(model, view: str) -> str:
    return f"{model._meta.app_label}:{model._meta.model_name}_{view}"


def model_url(model, view: str, *args) -> str | None:
    """The URL of one of a model's standard views, or None where the model does not have it."""
    try:
        return reverse(url_name(model, view), args=args)
    except NoReverseMatch:
        return None


# `can()` without an agency: the one the user is working in.
ACTIVE_AGENCY = object()


class ScopedViewMixin(LoginRequiredMixin):
    """The model, the action this view performs, and the queryset restricted to it."""

    queryset = None
    action = Action.VIEW

    @property
    def model(self):
        return self.queryset.model

    @classmethod
    def page_permission(cls):
        """(action, model) a user needs to open this page; the navigation offers it only to them."""
        model = getattr(cls.queryset, "model", None)
        return (cls.action, model) if model is not None else None

    def restricted_queryset(self, action=None):
        return self.queryset.all().restrict(self.request.user, action or self.action)

    def can(self, action, agency_id=ACTIVE_AGENCY) -> bool:
        """May the user do `action` on this model's records in `agency_id` (default: the active agency)?
        An explicit None is a record of no agency (a catalog entry, a shared template): only what
        the permission rule grants there, never the active agency's rights."""
        if agency_id is ACTIVE_AGENCY:
            agency_id = self.request.agency.pk if self.request.agency is not None else None
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


class CountingPaginator(Paginator):
    """The list's paginator, counting as the API does (qgov.counting): exact up to
    QGOV_EXACT_COUNT_LIMIT records, past it the database's estimate, which the page shows as
    “about …”. django-tables2 hands it the table's rows; the count is of their queryset, unless the
    view already has it (`row_count`: from an aggregate of the same rows it computes anyway)."""

    def __init__(self, *args, row_count: RowCount | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if row_count is not None:
            self.__dict__["row_count"] = row_count  # the cached_property's value
            table_data = getattr(self.object_list, "data", None)
            if table_data is not None:
                table_data._length = row_count.value  # django-tables2 would otherwise count the rows

    @cached_property
    def row_count(self) -> RowCount:
        table_data = getattr(self.object_list, "data", None)
        queryset = getattr(table_data, "data", self.object_list)
        if not isinstance(queryset, QuerySet):
            return RowCount(len(self.object_list), True)
        counted = count_rows(queryset)
        if table_data is not None:
            table_data._length = counted.value  # django-tables2 would otherwise count the rows again
        return counted

    @cached_property
    def count(self):
        return self.row_count.value

    def page(self, number):
        page = super().page(number)
        # The page's records, read with the SQL of the list's shape compiled once per worker
        # (qgov.prepared): Django compiling the same SELECT on each request cost more than SQLite
        # answering it. django-tables2 then iterates the list as it would the queryset.
        rows = page.object_list
        if isinstance(getattr(rows, "data", None), QuerySet):
            rows.data = read_rows(rows.data)
        return page

    @property
    def count_exact(self) -> bool:
        return self.row_count.exact


class ObjectListView(ScopedViewMixin, SingleTableMixin, FilterView):
    """Filters from the model's filterset, sortable paginated table, CSV and XLSX files of the
    filtered, sorted list (the columns the table declares in `export_columns`)."""

    template_name = "qgov/object_list.html"
    paginate_by = None  # the table paginates
    table_pagination = {"per_page": 50, "paginator_class": CountingPaginator}
    export_trigger_param = "export"
    # A sidebar filter on records (devices, people, assets) of more than this many is an autocomplete
    # picker (qgov/autocomplete.py) rather than a select of them all.
    filter_choices_limit = CHOICES_LIMIT

    def get(self, request, *args, **kwargs):
        # A member whose role lacks this model's view action (members list, audit trail) is told so.
        if not self.can(Action.VIEW):
            raise PermissionDenied(_("Your role does not include this list."))
        export_format = request.GET.get(self.export_trigger_param)
        if export_format in exports.FORMATS:
            return self.export(export_format)
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        agency = self.request.agency
        if not agency or self.model.agency_lookup in (None, "pk"):  # (a lazy None is not "None")
            return self.restricted_queryset()
        if not getattr(self.model, "shared_without_agency", False) and self.can(self.action):
            # The list is of the active agency, where the user may do this: the scope is that agency.
            # restrict()'s subquery of the user's memberships would only repeat it, and beside it
            # SQLite's planner leaves the (agency, …) indexes for a scan and a sort of every row.
            return self.queryset.all().in_agency(agency)
        return self.restricted_queryset().in_agency(agency)

    def known_row_count(self) -> RowCount | None:
        """The number of records the list shows, when the view has it without counting them (an
        aggregate of the same rows it computes anyway); None: the paginator counts."""
        return None

    def get_table_pagination(self, table):
        paginate = super().get_table_pagination(table)
        if paginate and not getattr(self, "exporting", False):
            row_count = self.known_row_count()
            if row_count is not None:
                paginate = {**paginate, "row_count": row_count}
        return paginate

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        form = filterset.form
        form.fields.pop("id", None)  # an API convenience, noise in a sidebar
        if issubclass(self.model, AgencyScopedModel):
            form.fields.pop("agency", None)  # the list is already the active agency's
        if "q" in form.fields:  # search first
            form.fields = {"q": form.fields.pop("q"), **form.fields}
        declared = getattr(filterset, "autocomplete_filters", ())
        for name, field in form.fields.items():
            # A relation of many records (assets, people) is picked by typing; a short one stays a select.
            if isinstance(field, ModelChoiceField):
                # A file renders no form: the picker's parser (ids as "12, 40" or repeated) without
                # reading any choice.
                pick_widget(field, self.filter_choices_limit,
                            force_autocomplete=name in declared or getattr(self, "exporting", False))
            write_in_python(field)
        style_form(filterset.form)
        return filterset

    def filters_applied(self) -> bool:
        """Does the query string set any of the sidebar's filters (not just the page or the sort)?"""
        data, form = self.filterset.data, self.filterset.form
        return any(str(value).strip() for name in form.fields
                   for value in (data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]) if value)

    def filter_errors(self) -> list[tuple[str, list[str]]]:
        """(field label, messages) for each refused filter value; the list shows nothing meanwhile."""
        form = self.filterset.form
        if not form.is_bound or form.is_valid():
            return []
        return [(form.fields[name].label if name in form.fields else _("Filters"), list(errors))
                for name, errors in form.errors.items()]

    def get_table(self, **kwargs):
        table = super().get_table(**kwargs)
        # "Nothing here yet" would be untrue when filters hid the records, or were refused.
        if self.filter_errors():
            reason = _("Correct the filters marked above to see records.")
        elif self.filters_applied():
            reason = _("No %(records)s match these filters.") % {"records": self.model._meta.verbose_name_plural}
        else:
            return table
        table.empty_text = format_html('{} <a href="{}">{}</a>', reason, self.request.path, _("Clear filters"))
        return table

    def get_table_data(self):
        data = super().get_table_data()
        if getattr(self, "exporting", False) or not hasattr(data, "defer"):
            return data
        # Long texts (descriptions, notes) the page's table does not show are not read for it;
        # the files keep them (export_columns).
        shown = set(self.get_table_class().base_columns)
        unshown = [field.name for field in self.model._meta.concrete_fields
                   if isinstance(field, LongTextField) and field.name not in shown]
        return data.defer(*unshown) if unshown else data

    def export(self, export_format):
        """The file of the list as filtered and sorted on the page, every row (no pagination)."""
        if not self.can(Action.EXPORT):
            raise PermissionDenied(_("Your role does not allow exporting lists."))
        self.exporting = True
        self.filterset = filterset = self.get_filterset(self.get_filterset_class())
        valid = not filterset.is_bound or filterset.is_valid() or not self.get_strict()
        self.object_list = filterset.qs if valid else filterset.queryset.none()
        table = self.get_table_class()(self.get_table_data(), **self.get_table_kwargs())
        RequestConfig(self.request, paginate=False).configure(table)  # the sort chosen on the page
        return exports.export_response(queryset=table.data.data, table=table, export_format=export_format,
                                       agency=self.request.agency)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_export"] = self.can(Action.EXPORT)
        context["filter_errors"] = self.filter_errors()
        context["filters_applied"] = self.filters_applied()
        return context


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
    # So are fields a model shows read-only (`shown_read_only_fields`, e.g. a membership's source).
    shown = {*owned_fields_of(type(obj)), getattr(type(obj), "creator_field", None),
             *getattr(type(obj), "shown_read_only_fields", ())}
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

    def detail_exclude_fields(self, obj) -> tuple[str, ...]:
        """The fields left out of this record's table: `exclude_fields`, and whatever does not apply to it."""
        return self.exclude_fields

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obj = self.object
        agency_id = obj.owning_agency_id
        lifecycle = lifecycle_of(self.model)
        context.update(
            object=obj,
            tab=self.tab,
            fields=display_fields(obj, exclude=("id", *self.detail_exclude_fields(obj))),
            lifecycle_state=lifecycle.state_label(obj) if lifecycle else None,
            transitions=self.transitions(obj, lifecycle),
            can_change=self.can(Action.CHANGE, agency_id) and not (lifecycle and lifecycle.is_frozen(obj)),
            can_delete=self.can(Action.DELETE, agency_id) and not (lifecycle and not lifecycle.may_delete(obj)),
            can_view_history=self.can_view_history(obj),
            edit_url=model_url(self.model, "edit", obj.pk),
            delete_url=model_url(self.model, "delete", obj.pk),
            history_url=model_url(self.model, "history", obj.pk),
            # What other apps show of this record (qgov.detail_panels), in the side column.
            detail_panels=detail_panels.panels_for(self.request, obj) if self.tab == "details" else [],
        )
        return context

    def can_view_history(self, obj):
        """A record's history is read by those who read the agency's audit trail, and by those who
        may change records of its kind (editors see what happened to what they edit)."""
        agency_id = obj.owning_agency_id
        return self.can_view_audit(agency_id) or self.can(Action.CHANGE, agency_id)

    def can_view_audit(self, agency_id):
        return user_can(self.request.user, agency_id, Action.VIEW_AUDIT)

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
            raise PermissionDenied(_("Your role does not include the history of this record."))
        context["events"] = attach_changes(AuditEvent.objects.for_object(self.object).order_by("-id")[:200])
        # Each event's own page is part of the audit trail: linked for those who may read it.
        context["can_view_audit"] = self.can_view_audit(self.object.owning_agency_id)
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

    def success_url(self, saved) -> str:
        """Where a successful save leads: the record's page, unless a view built on this one says."""
        return saved.get_absolute_url()

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
                return self.saved_response(saved)
        return self.render_to_response(self.get_context_data(form=form, changes=changes), status=200)

    def saved_response(self, saved):
        """The answer to a successful save: a message and the way on (`success_url`). A view whose save
        yields something to show once (a new secret) answers with a page instead."""
        verb = _("Created") if self.object is None else _("Saved")
        messages.success(self.request, f"{verb} {saved._meta.verbose_name} “{saved}”.")
        return HttpResponseRedirect(self.success_url(saved))

    @staticmethod
    def changes_since(current, version):
        """A FieldChange (label, their value, current value) for each field changed after `version`."""
        events = AuditEvent.objects.for_object(current).order_by("id")
        changed = {}
        for event in events:
            if (event.after or {}).get("version", 0) > version:
                for name in event.changed_fields:
                    if name != "version":
                        changed.setdefault(name, (event.before or {}).get(name))
        now = snapshot(current)
        return describe(type(current), [(name, old, now.get(name)) for name, old in changed.items()])

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
