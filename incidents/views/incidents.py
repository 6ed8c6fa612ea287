"""The incidents UI: the playbook library (templates, agency copies and their step editor), the
incident board and list, the incident page (checklist by phase, linked records, review, evidence)
and its actions (complete a step, save the review, raise a follow-up risk)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from incidents import filters, forms, services, tables
from incidents.choices import MANAGE_PLAYBOOKS, MARKING_COLOURS, SEVERITY_COLOURS, IncidentStatusChoices, PhaseChoices
from incidents.lifecycles import PHASES_TO_LEAVE, review_missing
from incidents.models import Incident, IncidentStep, Playbook, PlaybookStep
from qgov.api.schema import MAX_INT64
from qgov.permissions import user_can
from qgov.roles import Action
from qgov.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectHistoryView,
    ObjectListView,
    ScopedViewMixin,
)
from risks.forms import RiskForm
from risks.models import Risk


def steps_by_phase(steps):
    """[(phase label, [steps])] in the playbook's phase order, leaving out phases without steps."""
    grouped = {phase: [] for phase in PhaseChoices.values}
    for step in steps:
        grouped[step.phase].append(step)
    labels = dict(PhaseChoices.choices)
    return [(phase, labels[phase], rows) for phase, rows in grouped.items() if rows]


# --- playbooks -----------------------------------------------------------------------------------

class PlaybookListView(ObjectListView):
    queryset = Playbook.objects.select_related("agency")
    filterset_class = filters.PlaybookFilterSet
    table_class = tables.PlaybookTable


class PlaybookDetailView(ObjectDetailView):
    queryset = Playbook.objects.select_related("agency", "source")
    template_name = "incidents/playbook_detail.html"
    exclude_fields = ("citations",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        playbook = self.object
        agency = self.request.agency
        copy = None
        if playbook.is_template and agency is not None:
            copy = Playbook.objects.filter(agency=agency, source=playbook).only("pk", "code", "title").first()
        context.update(
            phases=steps_by_phase(playbook.steps.all()),
            can_copy=(playbook.is_template and agency is not None and copy is None
                      and user_can(self.request.user, agency.pk, MANAGE_PLAYBOOKS, Playbook)),
            agency_copy=copy,
            can_edit_steps=context["can_change"],
        )
        return context


class PlaybookEditView(ObjectEditView):
    queryset = Playbook.objects.all()
    form_class = forms.PlaybookForm

    def initial_data(self, form) -> dict:
        # A platform admin writes templates; an agency's admin writes the agency's own playbooks.
        if self.object is None and not self.request.user.is_superuser:
            if self.request.agency is None:
                raise PermissionDenied(_("You are not a member of any agency."))
            return {"agency": self.request.agency}
        return {}


class PlaybookDeleteView(ObjectDeleteView):
    queryset = Playbook.objects.all()


class PlaybookHistoryView(ObjectHistoryView):
    queryset = Playbook.objects.all()


class PlaybookCopyView(LoginRequiredMixin, View):
    """POST: the active agency's copy of a template (incidents.services.playbook_copy)."""

    def post(self, request, pk):
        template = get_object_or_404(Playbook.objects.restrict(request.user, Action.VIEW), pk=pk)
        if request.agency is None:
            raise PermissionDenied(_("You are not a member of any agency."))
        try:
            copy = services.playbook_copy(template=template, agency=request.agency, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return HttpResponseRedirect(template.get_absolute_url())
        messages.success(request, _("Copied %(code)s into %(agency)s: adapt its steps below.") % {
            "code": copy.code, "agency": request.agency.name})
        return HttpResponseRedirect(copy.get_absolute_url())


class PlaybookStepListView(ObjectListView):
    queryset = PlaybookStep.objects.select_related("playbook")
    filterset_class = filters.PlaybookStepFilterSet
    table_class = tables.PlaybookStepTable


class PlaybookStepDetailView(ObjectDetailView):
    queryset = PlaybookStep.objects.select_related("playbook")


class PlaybookStepEditView(ObjectEditView):
    """Add (`?playbook=<id>`) or edit one step of a playbook the user may change; back to the playbook."""

    queryset = PlaybookStep.objects.select_related("playbook")
    form_class = forms.PlaybookStepForm

    def check_permission(self, obj):
        if obj is not None:
            return super().check_permission(obj)
        # Adding a step changes its playbook: who may change it is decided by the playbook's agency.
        playbook_id = self.request.GET.get("playbook") or self.request.POST.get("playbook")
        playbook = Playbook.objects.restrict(self.request.user, Action.VIEW).filter(pk=playbook_id).first() if (
            str(playbook_id or "").isdigit()) else None
        agency_id = playbook.agency_id if playbook else (self.request.agency.pk if self.request.agency else None)
        if not self.can(Action.ADD, agency_id):
            raise PermissionDenied(_("Your role does not allow this change."))

    def initial_from_query(self, form) -> dict:
        initial = super().initial_from_query(form)
        playbook_id = initial.get("playbook")
        if playbook_id and str(playbook_id).isdigit():
            last = PlaybookStep.objects.filter(playbook_id=playbook_id).order_by("-position").first()
            initial.setdefault("position", (last.position + 1) if last else 1)
        return initial

    def success_url(self, saved) -> str:
        return saved.playbook.get_absolute_url()


class PlaybookStepDeleteView(ObjectDeleteView):
    queryset = PlaybookStep.objects.select_related("playbook")

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        if not PlaybookStep.objects.filter(pk=self.object.pk).exists():
            return HttpResponseRedirect(self.object.playbook.get_absolute_url())
        return response


class PlaybookStepHistoryView(ObjectHistoryView):
    queryset = PlaybookStep.objects.all()


# --- incidents -----------------------------------------------------------------------------------

class IncidentListView(ObjectListView):
    queryset = Incident.objects.all()
    filterset_class = filters.IncidentFilterSet
    table_class = tables.IncidentTable


BOARD_CLOSED_SHOWN = 20  # the board shows the latest closed incidents; the list has them all


class IncidentBoardView(ScopedViewMixin, TemplateView):
    """The active agency's incidents in one column per status; a card per incident."""

    queryset = Incident.objects.all()
    template_name = "incidents/board.html"

    def get(self, request, *args, **kwargs):
        if not self.can(Action.VIEW):
            raise PermissionDenied(_("Your role does not include this list."))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        incidents = self.restricted_queryset()
        if self.request.agency is not None:
            incidents = incidents.in_agency(self.request.agency)
        fields = ("pk", "reference", "title", "severity", "marking", "classification", "status", "detected_at")
        open_ones = list(incidents.exclude(status=IncidentStatusChoices.CLOSED).only(*fields)
                         .order_by("severity", "detected_at", "pk"))
        closed = list(incidents.filter(status=IncidentStatusChoices.CLOSED).only(*fields)
                      .order_by("-closed_at", "-pk")[:BOARD_CLOSED_SHOWN])
        now = timezone.now()
        columns = {state: [] for state in IncidentStatusChoices.values}
        for incident in [*open_ones, *closed]:
            incident.age_days = (now - incident.detected_at).days
            incident.severity_colour = SEVERITY_COLOURS.get(incident.severity, "secondary")
            incident.marking_colour = MARKING_COLOURS.get(incident.marking, "secondary")
            columns[incident.status].append(incident)
        context.update(columns=[(state, label, columns[state]) for state, label in IncidentStatusChoices.choices],
                       closed_shown=BOARD_CLOSED_SHOWN,
                       list_url=reverse("incidents:incident_list"))
        return context


class IncidentDetailView(ObjectDetailView):
    queryset = Incident.objects.select_related("agency", "reported_by", "playbook").prefetch_related(
        "devices", "assets", "risks", "suppliers", "follow_up_risks", "regimes")
    template_name = "incidents/incident_detail.html"
    exclude_fields = ("devices", "assets", "risks", "suppliers", "follow_up_risks", "review_summary", "root_cause",
                      "lessons", "marking", "classification")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        incident = self.object
        steps = list(incident.steps.select_related("completed_by").order_by("position"))
        open_state = not incident.lifecycle.is_frozen(incident)
        may_change = self.can(Action.CHANGE, incident.agency_id)
        gating = set(PHASES_TO_LEAVE.get(incident.status, ()))
        context.update(
            phases=[(phase, label, rows, phase in gating) for phase, label, rows in steps_by_phase(steps)],
            steps_done=sum(1 for s in steps if s.completed_at), steps_total=len(steps),
            can_complete=may_change and open_state,
            review_form=forms.IncidentReviewForm(instance=incident, user=self.request.user, agency=incident.agency)
            if may_change and open_state else None,
            review_missing=review_missing(incident),
            can_raise_risk=may_change and open_state and user_can(self.request.user, incident.agency_id, Action.ADD,
                                                                  Risk),
            linked=[(_("Devices"), incident.devices.all()), (_("Assets"), incident.assets.all()),
                    (_("Risks"), incident.risks.all()), (_("Suppliers"), incident.suppliers.all())],
        )
        return context


class IncidentEditView(ObjectEditView):
    queryset = Incident.objects.all()
    form_class = forms.IncidentForm


class IncidentDeleteView(ObjectDeleteView):
    queryset = Incident.objects.all()


class IncidentHistoryView(ObjectHistoryView):
    queryset = Incident.objects.all()


class IncidentActionMixin(LoginRequiredMixin):
    """An action on one incident the user may view; it answers on the incident's page."""

    def load_incident(self):
        self.incident = get_object_or_404(Incident.objects.restrict(self.request.user, Action.VIEW),
                                          pk=self.kwargs["pk"])
        if not user_can(self.request.user, self.incident.agency_id, Action.CHANGE, Incident):
            raise PermissionDenied(_("Your role does not allow changing this incident."))


class IncidentStepCompleteView(IncidentActionMixin, View):
    def post(self, request, pk, step_id):
        self.load_incident()
        if step_id > MAX_INT64 or not IncidentStep.objects.filter(incident=self.incident, pk=step_id).exists():
            raise Http404
        form = forms.StepCompleteForm(data=request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        try:
            step = services.incident_step_complete(incident=self.incident, step_id=step_id, user=request.user,
                                                   note=note)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Step %(position)s done.") % {"position": step.position})
        return HttpResponseRedirect(f"{self.incident.get_absolute_url()}#step-{step_id}")


class IncidentReviewView(IncidentActionMixin, View):
    """Saves the post-incident review from the incident's page (the core update service)."""

    def post(self, request, pk):
        self.load_incident()
        form = forms.IncidentReviewForm(data=request.POST, instance=self.incident, user=request.user,
                                        agency=self.incident.agency)
        from qgov.services import VersionConflict, object_update

        if form.is_valid():
            try:
                object_update(instance=self.incident, user=request.user, data=form.service_data(),
                              expected_version=form.cleaned_data["version"])
            except (ValidationError, VersionConflict) as error:
                text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
                messages.error(request, text)
            else:
                messages.success(request, _("Review saved."))
        else:
            messages.error(request, " ".join(f"{form.fields[name].label if name in form.fields else ''}: "
                                             f"{' '.join(errors)}".strip(": ") for name, errors in form.errors.items()))
        return HttpResponseRedirect(f"{self.incident.get_absolute_url()}#review")


class FollowUpRiskRaiseView(ObjectEditView):
    """The register's new-risk form, filled in from the incident; the risk is created and linked as a
    follow-up in one transaction (incidents.services.follow_up_risk_raise)."""

    queryset = Risk.objects.all()
    form_class = RiskForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.incident = get_object_or_404(Incident.objects.restrict(request.user, Action.VIEW),
                                              pk=kwargs["incident"])
            if not user_can(request.user, self.incident.agency_id, Action.CHANGE, Incident):
                raise PermissionDenied(_("Your role does not allow changing this incident."))
        return super().dispatch(request, *args, **kwargs)

    def check_permission(self, obj):
        if not self.can(Action.ADD, self.incident.agency_id):
            raise PermissionDenied(_("Your role does not allow this change."))

    def get_form(self, obj, data=None):
        return self.form_class(data=data, instance=obj, user=self.request.user, agency=self.incident.agency)

    def initial_from_query(self, form) -> dict:
        return services.follow_up_risk_initial(self.incident)

    def initial_data(self, form) -> dict:
        return {"agency": self.incident.agency}

    def save(self, form):
        data = {**self.initial_data(form), **form.service_data()}
        return services.follow_up_risk_raise(incident=self.incident, user=self.request.user, data=data)

    def success_url(self, saved) -> str:
        messages.info(self.request, _("Linked to %(incident)s as a follow-up risk.") % {"incident": self.incident})
        return f"{self.incident.get_absolute_url()}#review"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["cancel_url"] = self.incident.get_absolute_url()
        context["notice"] = _("The new risk will be linked to incident %(ref)s as a follow-up.") % {
            "ref": self.incident.reference}
        return context


class IncidentStepListView(ObjectListView):
    queryset = IncidentStep.objects.select_related("incident", "completed_by")
    filterset_class = filters.IncidentStepFilterSet
    table_class = tables.IncidentStepTable


class IncidentStepDetailView(ObjectDetailView):
    queryset = IncidentStep.objects.select_related("incident", "completed_by")


class IncidentStepEditView(ObjectEditView):
    queryset = IncidentStep.objects.select_related("incident")
    form_class = forms.IncidentStepForm

    def success_url(self, saved) -> str:
        return saved.incident.get_absolute_url()


class IncidentStepDeleteView(ObjectDeleteView):
    queryset = IncidentStep.objects.select_related("incident")


class IncidentStepHistoryView(ObjectHistoryView):
    queryset = IncidentStep.objects.all()
