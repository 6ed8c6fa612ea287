"""Pages of the regulator clocks, timeline and key actions. The incident page shows them as panels
({% load incident_clocks %}); these are their lists, record pages and forms."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from incidents import clocks, filters, forms, tables
from incidents.models import (
    AgencyRegime,
    Incident,
    KeyAction,
    RegulatorClock,
    RegulatorNotification,
    RegulatorRegime,
    TimelineEntry,
)
from incidents.models.timeline import APPEND_ONLY
from qgov.roles import Action
from qgov.views.generic import ObjectDeleteView, ObjectDetailView, ObjectEditView, ObjectHistoryView, ObjectListView

# --- catalog: regimes and their clocks ---------------------------------------------------------------


class RegulatorRegimeListView(ObjectListView):
    queryset = RegulatorRegime.objects.all()
    filterset_class = filters.RegulatorRegimeFilterSet
    table_class = tables.RegulatorRegimeTable


class RegulatorRegimeDetailView(ObjectDetailView):
    queryset = RegulatorRegime.objects.prefetch_related("clocks")
    template_name = "incidents/regulatorregime_detail.html"
    exclude_fields = ("sources",)


class RegulatorRegimeEditView(ObjectEditView):
    queryset = RegulatorRegime.objects.all()
    form_class = forms.RegulatorRegimeForm


class RegulatorRegimeDeleteView(ObjectDeleteView):
    queryset = RegulatorRegime.objects.all()


class RegulatorRegimeHistoryView(ObjectHistoryView):
    queryset = RegulatorRegime.objects.all()


class RegulatorClockListView(ObjectListView):
    queryset = RegulatorClock.objects.select_related("regime", "after")
    filterset_class = filters.RegulatorClockFilterSet
    table_class = tables.RegulatorClockTable


class RegulatorClockDetailView(ObjectDetailView):
    queryset = RegulatorClock.objects.select_related("regime", "after")


class RegulatorClockEditView(ObjectEditView):
    queryset = RegulatorClock.objects.all()
    form_class = forms.RegulatorClockForm


class RegulatorClockDeleteView(ObjectDeleteView):
    queryset = RegulatorClock.objects.all()


class RegulatorClockHistoryView(ObjectHistoryView):
    queryset = RegulatorClock.objects.all()


# --- the regimes an agency reports under (its admins choose) -----------------------------------------


class AgencyRegimeListView(ObjectListView):
    queryset = AgencyRegime.objects.select_related("regime")
    filterset_class = filters.AgencyRegimeFilterSet
    table_class = tables.AgencyRegimeTable


class AgencyRegimeDetailView(ObjectDetailView):
    queryset = AgencyRegime.objects.select_related("agency", "regime")


class AgencyRegimeEditView(ObjectEditView):
    queryset = AgencyRegime.objects.all()
    form_class = forms.AgencyRegimeForm


class AgencyRegimeDeleteView(ObjectDeleteView):
    queryset = AgencyRegime.objects.all()


class AgencyRegimeHistoryView(ObjectHistoryView):
    queryset = AgencyRegime.objects.all()


# --- regulator notifications -----------------------------------------------------------------------


class RegulatorNotificationListView(ObjectListView):
    queryset = RegulatorNotification.objects.select_related("incident", "regime", "clock")
    filterset_class = filters.RegulatorNotificationFilterSet
    table_class = tables.RegulatorNotificationTable


class RegulatorNotificationDetailView(ObjectDetailView):
    queryset = RegulatorNotification.objects.select_related("agency", "incident", "regime", "clock", "sent_by")


class RegulatorNotificationEditView(ObjectEditView):
    """“Mark sent”: the one change people make to a notification (its deadline is computed)."""

    queryset = RegulatorNotification.objects.select_related("incident", "regime", "clock")
    form_class = forms.RegulatorNotificationForm

    def check_permission(self, obj):
        if obj is None:
            raise Http404  # rows come from the incident's regimes, not from a form
        super().check_permission(obj)
        if obj.sent_at is not None:
            raise PermissionDenied(_("It was already recorded as sent."))

    def save(self, form):
        return clocks.notification_mark_sent(notification=self.object, user=self.request.user,
                                             sent_at=form.cleaned_data["sent_at"],
                                             reference=form.cleaned_data.get("reference", ""),
                                             expected_version=form.cleaned_data["version"])


class RegulatorNotificationDeleteView(ObjectDeleteView):
    queryset = RegulatorNotification.objects.all()


class RegulatorNotificationHistoryView(ObjectHistoryView):
    queryset = RegulatorNotification.objects.all()


# --- timeline ------------------------------------------------------------------------------------------


class IncidentRecordEditMixin:
    """Adding a timeline entry or key action from the incident's page: the incident comes from
    `?incident=`, the agency from the incident; saving leads back to the incident."""

    def incident(self, form):
        return form.cleaned_data["incident"]

    def success_url(self, saved) -> str:
        return saved.get_absolute_url()

    def get_form(self, obj, data=None):
        form = super().get_form(obj, data)
        if self.request.agency is not None and "incident" in form.fields:
            field = form.fields["incident"]
            field.queryset = Incident.objects.restrict(self.request.user, Action.VIEW).filter(
                agency=self.request.agency)
        return form


class TimelineEntryListView(ObjectListView):
    queryset = TimelineEntry.objects.select_related("incident", "corrects")
    filterset_class = filters.TimelineEntryFilterSet
    table_class = tables.TimelineEntryTable


class TimelineEntryDetailView(ObjectDetailView):
    queryset = TimelineEntry.objects.select_related("agency", "incident", "author", "corrects")


class TimelineEntryEditView(IncidentRecordEditMixin, ObjectEditView):
    queryset = TimelineEntry.objects.all()
    form_class = forms.TimelineEntryForm

    def check_permission(self, obj):
        if obj is not None:
            raise PermissionDenied(APPEND_ONLY)
        super().check_permission(obj)

    def save(self, form):
        data = form.cleaned_data
        return clocks.timeline_add(incident=data["incident"], user=self.request.user, text=data["text"],
                                   at=data.get("at"), corrects=data.get("corrects"))


class TimelineEntryDeleteView(ObjectDeleteView):
    queryset = TimelineEntry.objects.all()

    def check_permission(self, obj):
        raise PermissionDenied(APPEND_ONLY)


class TimelineEntryHistoryView(ObjectHistoryView):
    queryset = TimelineEntry.objects.all()


# --- key actions -----------------------------------------------------------------------------------------


class KeyActionListView(ObjectListView):
    queryset = KeyAction.objects.select_related("incident", "performed_by")
    filterset_class = filters.KeyActionFilterSet
    table_class = tables.KeyActionTable


class KeyActionDetailView(ObjectDetailView):
    queryset = KeyAction.objects.select_related("agency", "incident", "performed_by")


class KeyActionEditView(IncidentRecordEditMixin, ObjectEditView):
    queryset = KeyAction.objects.all()
    form_class = forms.KeyActionForm

    def save(self, form):
        if self.object is not None:
            return super().save(form)
        data = form.service_data()
        incident = data.pop("incident")
        return clocks.key_action_record(incident=incident, user=self.request.user, data=data)


class KeyActionDeleteView(ObjectDeleteView):
    queryset = KeyAction.objects.all()


class KeyActionHistoryView(ObjectHistoryView):
    queryset = KeyAction.objects.all()
