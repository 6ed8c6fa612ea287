"""Pages of imports: the upload page of an importable model (one declarative class per model),
the list of import runs and a run's page, which follows its progress without reloading."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import FormView

from qgov.choices import ImportRunStatusChoices
from qgov.imports.documents import document_importer_for, run_request_id
from qgov.imports.filters import ImportRunFilterSet
from qgov.imports.forms import ImportForm
from qgov.imports.services import import_run_create
from qgov.imports.spec import spec_for
from qgov.imports.tables import ImportRunTable
from qgov.models import AuditEvent, ImportRun
from qgov.roles import Action
from qgov.services import user_can
from qgov.views.generic import ObjectDetailView, ObjectListView, model_url

RUNS = ImportRun.objects.select_related("agency", "content_type", "requested_by")


class ImportView(LoginRequiredMixin, FormView):
    """Upload a file to import into `model` in the active agency; the run page follows it."""

    model = None
    template_name = "qgov/import_form.html"
    form_class = ImportForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and (
                request.agency is None or not user_can(request.user, request.agency.pk, Action.ADD, self.model)):
            raise PermissionDenied(_("Your role does not allow importing %(models)s.") % {
                "models": self.model._meta.verbose_name_plural})
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "document": document_importer_for(self.model)}

    def get_context_data(self, **kwargs):
        spec = spec_for(self.model)
        return {
            **super().get_context_data(**kwargs),
            "model_meta": self.model._meta,
            "document": document_importer_for(self.model),
            "columns": spec.importable_columns() if spec else [],
            "key_column": spec.key_column if spec else None,
            "list_url": model_url(self.model, "list"),
            "runs": RUNS.restrict(self.request.user, Action.VIEW).filter(
                agency=self.request.agency, content_type__app_label=self.model._meta.app_label,
                content_type__model=self.model._meta.model_name)[:5],
        }

    def form_valid(self, form):
        try:
            run = import_run_create(user=self.request.user, agency=self.request.agency, model=self.model,
                                    upload=form.cleaned_data["file"])
        except ValidationError as error:
            form.add_error("file", error.message_dict.get("file", error.messages))
            return self.form_invalid(form)
        return HttpResponseRedirect(run.get_absolute_url())


def run_changes(run, limit: int = 500):
    """The records a run updated, with the fields it changed: the audit events written under the
    run's request id (a run's writes are audited like any other)."""
    if run.status != ImportRunStatusChoices.SUCCEEDED or not run.updated_count:
        return []
    return list(AuditEvent.objects.filter(request_id=run_request_id(run.pk), action="update",
                                          content_type=run.content_type)
                .order_by("id").values("object_id", "object_repr", "changed_fields")[:limit])


class ImportRunListView(ObjectListView):
    queryset = RUNS
    filterset_class = ImportRunFilterSet
    table_class = ImportRunTable


class ImportRunDetailView(ObjectDetailView):
    queryset = RUNS
    template_name = "qgov/importrun_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        run = self.object
        context.update(
            changes=run_changes(run),
            target_meta=run.target_model._meta,
            target_list_url=model_url(run.target_model, "list"),
            status_url=reverse("api:importrun-detail", args=[run.pk]),
            run_text={  # for the script that follows the run
                "succeeded": _("Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged."),
                "failed": _("Nothing was imported: %(n)s problems found."),
                "statuses": dict(ImportRunStatusChoices.choices),
            },
        )
        return context
