from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qgov.counting import RowCount
from qgov.imports.views import ImportView
from qgov.roles import Action
from qgov.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectHistoryView,
    ObjectListView,
)
from risks import filters, forms, tables
from risks.choices import RiskStatusChoices
from risks.heatmap import heatmap_svg
from risks.lifecycles import OPEN_ACCEPTANCE_STATES
from risks.models import Asset, Control, Risk, RiskAcceptance, RiskMatrix, ThreatVector
from risks.selectors import heatmap_groups, matrix_of


class MatrixContextMixin:
    """The active agency's risk matrix, for tables and pages that rate or band things."""

    @cached_property
    def matrix(self):
        return matrix_of(self.request.agency)

    def get_table_kwargs(self):
        return {**super().get_table_kwargs(), "matrix": self.matrix}


# --- threat-vector catalog ---------------------------------------------------------------------

class ThreatVectorListView(ObjectListView):
    queryset = ThreatVector.objects.all()
    filterset_class = filters.ThreatVectorFilterSet
    table_class = tables.ThreatVectorTable


class ThreatVectorDetailView(ObjectDetailView):
    queryset = ThreatVector.objects.all()
    template_name = "risks/threatvector_detail.html"


class ThreatVectorEditView(ObjectEditView):
    queryset = ThreatVector.objects.all()
    form_class = forms.ThreatVectorForm


class ThreatVectorDeleteView(ObjectDeleteView):
    queryset = ThreatVector.objects.all()


class ThreatVectorHistoryView(ObjectHistoryView):
    queryset = ThreatVector.objects.all()


# --- risk matrices -----------------------------------------------------------------------------

class RiskMatrixListView(ObjectListView):
    queryset = RiskMatrix.objects.select_related("agency")
    filterset_class = filters.RiskMatrixFilterSet
    table_class = tables.RiskMatrixTable


class RiskMatrixDetailView(ObjectDetailView):
    queryset = RiskMatrix.objects.select_related("agency")
    template_name = "risks/riskmatrix_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["grid"] = heatmap_svg(matrix=self.object, counts={}, title=_("Rating bands of the matrix"))
        return context


class RiskMatrixEditView(ObjectEditView):
    queryset = RiskMatrix.objects.select_related("agency")
    form_class = forms.RiskMatrixForm


class RiskMatrixDeleteView(ObjectDeleteView):
    queryset = RiskMatrix.objects.select_related("agency")


class RiskMatrixHistoryView(ObjectHistoryView):
    queryset = RiskMatrix.objects.select_related("agency")


# --- assets ------------------------------------------------------------------------------------

class AssetListView(MatrixContextMixin, ObjectListView):
    queryset = Asset.objects.select_related("owner")
    filterset_class = filters.AssetFilterSet
    table_class = tables.AssetTable


class AssetDetailView(ObjectDetailView):
    queryset = Asset.objects.select_related("agency", "owner")
    template_name = "risks/asset_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["matrix"] = matrix = matrix_of(self.object.agency)
        context["exposure"] = self.object.exposure(matrix) if matrix else None
        context["risks"] = self.object.risks.all()
        return context


class AssetEditView(ObjectEditView):
    queryset = Asset.objects.all()
    form_class = forms.AssetForm


class AssetDeleteView(ObjectDeleteView):
    queryset = Asset.objects.all()


class AssetHistoryView(ObjectHistoryView):
    queryset = Asset.objects.all()


# --- controls ----------------------------------------------------------------------------------

class ControlListView(ObjectListView):
    queryset = Control.objects.select_related("owner")
    filterset_class = filters.ControlFilterSet
    table_class = tables.ControlTable


class ControlDetailView(ObjectDetailView):
    queryset = Control.objects.select_related("agency", "owner")


class ControlEditView(ObjectEditView):
    queryset = Control.objects.all()
    form_class = forms.ControlForm


class ControlDeleteView(ObjectDeleteView):
    queryset = Control.objects.all()


class ControlHistoryView(ObjectHistoryView):
    queryset = Control.objects.all()


# --- the register ------------------------------------------------------------------------------

# "current" reads as the register's "Current rating" column (and Risk.rating) do.
HEATMAP_KINDS = (("inherent", gettext_lazy("Inherent risk")),
                 ("current", gettext_lazy("Current risk (inherent while no current rating is given)")),
                 ("residual", gettext_lazy("Residual risk")))


class RiskListView(MatrixContextMixin, ObjectListView):
    # The "Threats" column reads each vector's code and title as values (RiskTable.related_values).
    queryset = Risk.objects.select_related("owner")
    filterset_class = filters.RiskFilterSet
    table_class = tables.RiskTable
    template_name = "risks/risk_list.html"

    @cached_property
    def heatmap_groups(self):
        """The three maps of the risks the list shows, from one grouped query over the (agency,
        ratings) index, or None without a matrix. The same query gives the number of risks, so the
        list does not count them again (known_row_count).

        Computed on each request rather than kept as per-agency counts maintained on write: at
        100,000 risks the grouped walk of the index is ~20 ms on SQLite, it serves every filtered
        view alike (a maintained summary serves only the unfiltered one), and a summary updated in
        each risk's transaction would be one more thing every writer (imports, bulk edits, raw
        loaders, cascades) must keep right, and a row concurrent writers of an agency queue on."""
        if self.matrix is None:
            return None
        return heatmap_groups(self.object_list)

    def get_filterset_kwargs(self, filterset_class):
        return {**super().get_filterset_kwargs(filterset_class), "matrix": self.matrix}  # read once

    def known_row_count(self):
        groups = self.heatmap_groups
        return RowCount(groups.total, True) if groups is not None and groups.total is not None else None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        matrix = self.matrix
        if matrix is not None:
            base = reverse("risks:risk_list")

            def cell_link(kind):
                return lambda likelihood, impact: f"{base}?" + urlencode(
                    {f"{kind}_likelihood": likelihood, f"{kind}_impact": impact})

            counts = self.heatmap_groups.counts
            # (kind, picture) for the selector between the three maps.
            context["heatmaps"] = [
                (kind, heatmap_svg(matrix=matrix, counts=counts[kind], title=title,
                                   link=cell_link(kind)))
                for kind, title in HEATMAP_KINDS
            ]
            # The map whose cell led here stays selected; the current one otherwise.
            context["heatmap_shown"] = next((kind for kind, _title in HEATMAP_KINDS
                                             if f"{kind}_likelihood" in self.request.GET), "current")
        context["can_import"] = self.can(Action.ADD)
        # "Report of this list": the register report with the filters now applied.
        if self.can(Action.REQUEST_REPORT):
            context["report_filters"] = urlencode([(key, value) for key, values in self.request.GET.lists()
                                                   if key not in ("page", "per_page", "sort", "export")
                                                   for value in values if value])
        return context



class RiskDetailView(ObjectDetailView):
    queryset = Risk.objects.select_related("agency", "owner", "matrix")
    template_name = "risks/risk_detail.html"
    exclude_fields = (*forms.RATING_FIELDS, "threat_vectors", "assets", "controls")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        risk = self.object
        acceptances = list(risk.acceptances.select_related("requested_by", "approved_by"))
        context.update(
            ratings=[self.rating_row(label, likelihood, impact, risk.matrix) for label, (likelihood, impact)
                     in zip((_("Inherent"), _("Current"), _("Residual")), risk.pairs().values(), strict=True)],
            threat_vectors=risk.threat_vectors.all(),
            assets=risk.assets.all(),
            controls=risk.controls.all(),
            acceptances=acceptances,
            # One acceptance at a time, and none for a closed risk (the model refuses both too).
            can_request_acceptance=self.can(Action.ADD, risk.agency_id) and risk.status != RiskStatusChoices.CLOSED
            and not any(a.status in OPEN_ACCEPTANCE_STATES for a in acceptances),
        )
        return context


    @staticmethod
    def rating_row(label, likelihood, impact, matrix):
        score = likelihood * impact if likelihood and impact else None
        return label, likelihood, impact, score, matrix.band_for(score)


class RiskEditView(ObjectEditView):
    queryset = Risk.objects.all()
    form_class = forms.RiskForm


class RiskDeleteView(ObjectDeleteView):
    queryset = Risk.objects.all()


class RiskHistoryView(ObjectHistoryView):
    queryset = Risk.objects.all()


class RiskImportView(ImportView):
    model = Risk


# --- acceptances -------------------------------------------------------------------------------

class RiskAcceptanceListView(ObjectListView):
    queryset = RiskAcceptance.objects.select_related("risk", "requested_by", "approved_by")
    filterset_class = filters.RiskAcceptanceFilterSet
    table_class = tables.RiskAcceptanceTable


class RiskAcceptanceDetailView(ObjectDetailView):
    queryset = RiskAcceptance.objects.select_related("agency", "risk", "requested_by", "approved_by")


class RiskAcceptanceEditView(ObjectEditView):
    queryset = RiskAcceptance.objects.all()
    form_class = forms.RiskAcceptanceForm

    def get_form(self, obj, data=None):
        form = super().get_form(obj, data)
        if obj is None and "risk" in self.request.GET:
            form.initial["risk"] = self.request.GET["risk"]
        return form


class RiskAcceptanceDeleteView(ObjectDeleteView):
    queryset = RiskAcceptance.objects.all()


class RiskAcceptanceHistoryView(ObjectHistoryView):
    queryset = RiskAcceptance.objects.all()
