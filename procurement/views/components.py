"""Pages of components, and raising or linking the register risks of one."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from procurement import filters, forms, services, tables
from procurement.models import (
    Component,
)
from qgov.imports.views import ImportView
from qgov.permissions import user_can
from qgov.roles import Action
from qgov.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectHistoryView,
    ObjectListView,
)
from risks.forms import RiskForm
from risks.models import Risk

HNDL_VECTOR = "CRY-01"  # harvest now, decrypt later (risks/catalog/threat_vectors.json)


class ComponentListView(ObjectListView):
    queryset = Component.objects.select_related("supplier", "device", "asset")
    filterset_class = filters.ComponentFilterSet
    table_class = tables.ComponentTable
    template_name = "procurement/component_list.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "can_import": self.can(Action.ADD)}


class ComponentDetailView(ObjectDetailView):
    queryset = Component.objects.select_related("supplier", "device", "asset")
    template_name = "procurement/component_detail.html"
    exclude_fields = ("depends_on", "risks")  # in their own cards

    def get_context_data(self, **kwargs):
        from procurement.services import policy_rule_for

        context = super().get_context_data(**kwargs)
        component = self.object
        policy, rule = policy_rule_for(component)
        user = self.request.user
        may_change = context["can_change"]
        may_add_risk = user_can(user, component.agency_id, Action.ADD, Risk)
        context.update(
            policy=policy, policy_rule=rule,
            # Raising creates the risk and links it here: it needs both rights.
            risk_raise_url=reverse("procurement:component_risk_raise", args=[component.pk]),
            can_raise_risk=may_add_risk and may_change,
            risk_link_url=reverse("procurement:component_risk_link", args=[component.pk]),
            can_link_risk=may_change,
            linked_risks=[(risk, rating_colour(risk)) for risk in
                          component.risks.restrict(user, Action.VIEW).select_related("matrix")
                          .only("pk", "reference", "title", "rating", "rating_score", "status", "matrix__bands")
                          .order_by("reference")],
            depends_on=list(component.depends_on.all()[:50]),
        )
        return context


def rating_colour(risk) -> str | None:
    """The colour of the risk's current rating band on its agency's matrix."""
    band = risk.matrix.band_for(risk.rating_score)
    return band["colour"] if band else None


def component_risk_initial(component) -> dict:
    """The register's "new risk" form, filled in for the component: its asset, and for
    quantum-vulnerable cryptography the title, a description with the deadline and the
    harvest-now-decrypt-later threat vector."""
    from risks.models import ThreatVector

    if not component.quantum_vulnerable:
        return {"title": _("Component %(component)s") % {"component": component},
                "assets": [component.asset_id] if component.asset_id else []}
    return {
        "title": _("Quantum-vulnerable cryptography: %(component)s") % {"component": component},
        "description": _("%(component)s uses %(algorithm)s, which a quantum computer will break; the agency's "
                         "policy requires it replaced by %(deadline)s.") % {
            "component": component, "algorithm": component.algorithm or component.name,
            "deadline": component.policy_deadline or "—"},
        "assets": [component.asset_id] if component.asset_id else [],
        "threat_vectors": list(ThreatVector.objects.filter(code=HNDL_VECTOR).values_list("pk", flat=True)),
    }


class ComponentRiskMixin:
    """The component a risk page acts for: one the user may view, and change (linking a risk
    changes the component)."""

    def load_component(self):
        self.component = get_object_or_404(Component.objects.restrict(self.request.user, Action.VIEW),
                                           pk=self.kwargs["component"])
        if not user_can(self.request.user, self.component.agency_id, Action.CHANGE, Component):
            raise PermissionDenied(_("Your role does not allow linking risks to components."))


class ComponentRiskRaiseView(ComponentRiskMixin, ObjectEditView):
    """The register's new-risk form, filled in for the component; the risk is created and linked
    to the component in one transaction (procurement.services.component_risk_raise). The page is
    procurement's, so the register needs to know nothing of components."""

    queryset = Risk.objects.all()
    form_class = RiskForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.load_component()
        return super().dispatch(request, *args, **kwargs)

    def check_permission(self, obj):
        # The risk is the component's agency's, whichever agency is active in the browser.
        if not self.can(Action.ADD, self.component.agency_id):
            raise PermissionDenied(_("Your role does not allow this change."))

    def get_form(self, obj, data=None):
        return self.form_class(data=data, instance=obj, user=self.request.user, agency=self.component.agency)

    def initial_from_query(self, form) -> dict:
        return component_risk_initial(self.component)

    def initial_data(self, form) -> dict:
        return {"agency": self.component.agency}

    def save(self, form):
        data = {**self.initial_data(form), **form.service_data()}
        return services.component_risk_raise(component=self.component, user=self.request.user, data=data)

    def success_url(self, saved) -> str:
        messages.info(self.request, _("Linked to %(component)s.") % {"component": self.component})
        return self.component.get_absolute_url()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["cancel_url"] = self.component.get_absolute_url()
        context["notice"] = _("The new risk will be linked to the component %(component)s.") % {
            "component": self.component}
        return context


class ComponentRiskLinkView(LoginRequiredMixin, ComponentRiskMixin, TemplateView):
    """Links an existing register risk to the component (procurement.services.component_risks_link)."""

    template_name = "procurement/component_risk_link.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.load_component()
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, data=None):
        return forms.ComponentRiskLinkForm(data=data, user=self.request.user, agency=self.component.agency)

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self.get_form()))

    def post(self, request, *args, **kwargs):
        form = self.get_form(data=request.POST)
        if form.is_valid():
            risk = form.cleaned_data["risk"]
            try:
                services.component_risks_link(component=self.component, risks=[risk], user=request.user)
            except ValidationError as error:
                form.add_error("risk", error.message_dict.get("risks", error.messages)
                               if hasattr(error, "error_dict") else error.messages)
            else:
                messages.success(request, _("Linked %(risk)s.") % {"risk": risk})
                return HttpResponseRedirect(self.component.get_absolute_url())
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "component": self.component,
                "linked": list(self.component.risks.order_by("reference").only("pk", "reference", "title"))}


class ComponentImportView(ImportView):
    model = Component


class ComponentEditView(ObjectEditView):
    queryset = Component.objects.all()
    form_class = forms.ComponentForm


class ComponentDeleteView(ObjectDeleteView):
    queryset = Component.objects.all()


class ComponentHistoryView(ObjectHistoryView):
    queryset = Component.objects.all()
