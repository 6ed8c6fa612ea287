"""Pages of contracts and the contracts-due list."""

from django import forms as django_forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from procurement import filters, forms, services, tables
from procurement.models import (
    Contract,
)
from qgov.duedates.selectors import agency_today
from qgov.forms import style_form
from qgov.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectHistoryView,
    ObjectListView,
    ScopedViewMixin,
)


class ContractListView(ObjectListView):
    queryset = Contract.objects.select_related("supplier", "owner")
    filterset_class = filters.ContractFilterSet
    table_class = tables.ContractTable


class ContractDetailView(ObjectDetailView):
    # The due dates come with the record (open ones only), so the page asks nothing more for them.
    queryset = Contract.objects.select_related("supplier", "owner").annotate(
        **services.contract_due_annotations())
    template_name = "procurement/contract_detail.html"
    exclude_fields = ("devices", "assets", "open_interfaces", "multi_vendor_terms", "escrow_terms", "exit_plan")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contract = self.object
        today = agency_today(contract.agency)
        context.update(
            devices=list(contract.devices.order_by("name")),
            assets=list(contract.assets.order_by("name")),
            interfaces=contract.open_interface_labels(),
            dues=services.contract_dues(contract, today=today),
            terms=[(_("Multi-vendor terms"), contract.multi_vendor_terms), (_("Escrow terms"), contract.escrow_terms),
                   (_("Exit plan"), contract.exit_plan)],
        )
        return context


class ContractEditView(ObjectEditView):
    queryset = Contract.objects.all()
    form_class = forms.ContractForm


class ContractDeleteView(ObjectDeleteView):
    queryset = Contract.objects.all()


class ContractHistoryView(ObjectHistoryView):
    queryset = Contract.objects.all()


# --- contracts due ---------------------------------------------------------------------------------

CONTRACT_DUE_WINDOWS = (30, 60, 90, 180, 365, 730)


class ContractDueFilterForm(django_forms.Form):
    within = django_forms.TypedChoiceField(
        label=gettext_lazy("Within"), coerce=int, required=False, initial=services.CONTRACT_DUE_HORIZON_DAYS,
        choices=[(days, gettext_lazy("%(days)s days") % {"days": days}) for days in CONTRACT_DUE_WINDOWS])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)

    def within_days(self) -> int:
        return (self.cleaned_data.get("within") if self.is_valid() else None) or services.CONTRACT_DUE_HORIZON_DAYS


class ContractDueView(ScopedViewMixin, TemplateView):
    """Live contracts whose sunset, re-evaluation or end falls within the horizon (overdue ones
    included and flagged), soonest first: what procurement must decide on next."""

    queryset = Contract.objects.select_related("agency", "supplier", "owner")
    template_name = "procurement/contract_due.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = ContractDueFilterForm(self.request.GET or None)
        within = form.within_days()
        contracts = self.restricted_queryset()
        agency = self.request.agency
        if agency is not None:
            contracts = contracts.in_agency(agency)
        today = agency_today(agency) if agency is not None else timezone.localdate()
        rows = services.contracts_due(contracts, within_days=within, today=today)
        context.update(form=form, within_days=within, rows=rows, today=today,
                       overdue_count=sum(1 for _contract, dues in rows if dues[0].overdue))
        return context
