"""Pages of reports: the runs (history with hashes), a run's page that follows it without reloading,
the request form, downloads, retry, verify an uploaded file, and the agency's schedules. Thin: the
workflows are qgov.reports.services."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from qgov.choices import ImportRunStatusChoices as RunStatusChoices
from qgov.reports import services
from qgov.reports.choices import ReportFormatChoices, ReportKindChoices
from qgov.reports.downloads import report_file_response
from qgov.reports.filters import ReportRunFilterSet, ReportScheduleFilterSet
from qgov.reports.forms import ReportRequestForm, ReportScheduleForm, ReportVerifyForm, query_from_filters
from qgov.reports.models import ReportRun
from qgov.reports.selectors import RUNS, SCHEDULES
from qgov.reports.tables import ReportRunTable, ReportScheduleTable
from qgov.roles import Action
from qgov.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectHistoryView,
    ObjectListView,
    ScopedViewMixin,
)


class ReportPagesMixin:
    """The links every reports page shows above its content (the reports have no section bar)."""

    reports_tab = "runs"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agency = self.request.agency
        context.update(
            reports_tab=self.reports_tab,
            can_request=agency is not None and self.request.user.is_authenticated and _may_request(self.request),
        )
        return context


def _may_request(request) -> bool:
    from qgov.permissions import user_can

    return user_can(request.user, request.agency.pk, Action.ADD, ReportRun)


class ReportRunListView(ReportPagesMixin, ObjectListView):
    queryset = RUNS
    filterset_class = ReportRunFilterSet
    table_class = ReportRunTable
    template_name = "reports/reportrun_list.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "add_url": None}  # "Request a report" instead


class ReportRunDetailView(ReportPagesMixin, ObjectDetailView):
    queryset = RUNS
    template_name = "reports/reportrun_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = self.object
        context.update(
            files=list(run.files.all()),
            status_url=reverse("api:reportrun-detail", args=[run.pk]),
            download_url_template=reverse("qgov:reportrun_download", args=[run.pk, "FORMAT"]),
            can_retry=self.can(Action.CHANGE, run.agency_id),
            horizon_months=run.parameters.get("horizon_months") if run.kind == ReportKindChoices.SUNSET_REVIEW
            else None,
            register_filters=query_from_filters(run.parameters.get("filters")),
            run_text={  # for the script that follows the run
                "statuses": dict(RunStatusChoices.choices),
                "formats": dict(ReportFormatChoices.choices),
                "waiting": _("Waiting for a worker…"),
                "succeeded": _("The report is ready."),
                "failed": _("The report could not be built."),
            },
        )
        return context


class ReportRequestView(ReportPagesMixin, ScopedViewMixin, TemplateView):
    """Request a report of the active agency; the run's page then follows it."""

    queryset = ReportRun.objects.all()
    action = Action.ADD  # the model maps it to REQUEST_REPORT: auditors and admins
    template_name = "reports/report_request.html"
    reports_tab = "request"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if request.agency is None or not self.can(Action.ADD):
            raise PermissionDenied(_("Your role does not allow requesting reports."))
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, data=None):
        initial = {key: self.request.GET[key] for key in ("kind", "register_filters") if key in self.request.GET}
        return ReportRequestForm(data=data, initial=initial, agency=self.request.agency)

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self.get_form()))

    def post(self, request, *args, **kwargs):
        form = self.get_form(data=request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                run = services.report_run_request(
                    user=request.user, agency=request.agency, kind=data["kind"],
                    parameters=form.report_parameters(data["kind"]), as_of=form.as_of_time(),
                    marking=data["marking"], page_size=data["page_size"])
            except ValidationError as error:
                form.add_service_errors(error)
            else:
                messages.success(request, _("%(report)s requested: it is being built.") % {
                    "report": run.get_kind_display()})
                return HttpResponseRedirect(run.get_absolute_url())
        return self.render_to_response(self.get_context_data(form=form))


class ReportRunRetryView(ScopedViewMixin, View):
    queryset = ReportRun.objects.all()
    action = Action.CHANGE
    http_method_names = ["post"]

    def post(self, request, pk):
        run = get_object_or_404(self.restricted_queryset(Action.VIEW), pk=pk)
        try:
            services.report_run_retry(run=run, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The report is queued again."))
        return HttpResponseRedirect(run.get_absolute_url())


class ReportRunDownloadView(ScopedViewMixin, View):
    queryset = RUNS

    def get(self, request, pk, report_format):
        return report_file_response(get_object_or_404(self.restricted_queryset(), pk=pk), report_format)


class ReportVerifyView(ReportPagesMixin, ScopedViewMixin, TemplateView):
    """Upload a file: is it a report this platform issued, unchanged, and which run?"""

    queryset = ReportRun.objects.all()
    template_name = "reports/report_verify.html"
    reports_tab = "verify"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=ReportVerifyForm()))

    def post(self, request, *args, **kwargs):
        form = ReportVerifyForm(data=request.POST, files=request.FILES)
        result = None
        if form.is_valid():
            result = services.report_verify(data=form.content, user=request.user)
        return self.render_to_response(self.get_context_data(form=form, result=result))


# --- schedules ----------------------------------------------------------------------------------


class ReportScheduleListView(ReportPagesMixin, ObjectListView):
    queryset = SCHEDULES
    filterset_class = ReportScheduleFilterSet
    table_class = ReportScheduleTable
    template_name = "reports/reportschedule_list.html"
    reports_tab = "schedules"


class ReportScheduleDetailView(ReportPagesMixin, ObjectDetailView):
    queryset = SCHEDULES
    template_name = "reports/reportschedule_detail.html"
    reports_tab = "schedules"
    exclude_fields = ("parameters",)  # shown by name, not as JSON

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        parameters = self.object.parameters or {}
        context.update(runs=RUNS.restrict(self.request.user, Action.VIEW).filter(schedule=self.object)[:10],
                       horizon_months=parameters.get("horizon_months"),
                       register_filters=query_from_filters(parameters.get("filters")))
        return context


class ReportScheduleEditView(ObjectEditView):
    queryset = SCHEDULES
    form_class = ReportScheduleForm


class ReportScheduleDeleteView(ObjectDeleteView):
    queryset = SCHEDULES


class ReportScheduleHistoryView(ObjectHistoryView):
    queryset = SCHEDULES
