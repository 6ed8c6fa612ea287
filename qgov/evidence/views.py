"""Pages of evidence files: upload to a record, a file's page with its custody log, download,
verify, hand over and withdraw. Thin: the workflows are qgov.evidence.services."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View
from django.views.generic import TemplateView

from qgov.evidence import services
from qgov.evidence.choices import CustodyEventActionChoices as Custody
from qgov.evidence.custody import custody_chain_verify
from qgov.evidence.forms import EvidenceHandoverForm, EvidenceUploadForm, EvidenceWithdrawForm
from qgov.evidence.models import EvidenceFile
from qgov.evidence.services import MAY_READ, MAY_WRITE, can_on_record
from qgov.permissions import user_can
from qgov.views.generic import _add_errors

EVIDENCE = EvidenceFile.objects.select_related("agency", "content_type", "uploaded_by", "custodian", "withdrawn_by")


def download_response(*, evidence, user) -> FileResponse:
    """The stored file as an attachment under its original name, streamed; the download is
    logged by the service. Shared by the page and the API."""
    response = FileResponse(services.evidence_open(evidence=evidence, user=user), as_attachment=True,
                            filename=evidence.file_name,
                            content_type=evidence.media_type or "application/octet-stream")
    # Never rendered by the browser as a page of this site, never cached on the way.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


class EvidenceMixin(LoginRequiredMixin):
    """The evidence file of the URL, if the user may view its record (another agency's: 404), and
    the permission this page needs on the record (403 when the role lacks it)."""

    needs = MAY_READ

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.evidence = get_object_or_404(EVIDENCE.restrict(request.user, MAY_READ), pk=kwargs["pk"])
        if not can_on_record(request.user, self.evidence, self.needs):
            raise PermissionDenied(_("Your role does not allow this on the record's evidence."))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "evidence": self.evidence, "record": self.evidence.record,
                "handling_record": self.evidence}


class EvidenceFileDetailView(EvidenceMixin, TemplateView):
    template_name = "qgov/evidence/evidencefile_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        events = list(self.evidence.custody_events.select_related("from_user", "to_user").order_by("sequence", "pk"))
        verifications = [e for e in events if e.action in (Custody.VERIFIED_MATCH, Custody.VERIFIED_MISMATCH)]
        context.update(
            custody_events=events,
            # Checked on every view from the rows the log shows anyway: no query of its own.
            chain=custody_chain_verify(self.evidence, events=events),
            last_verification=verifications[-1] if verifications else None,
            can_change=can_on_record(self.request.user, self.evidence, MAY_WRITE),
        )
        return context


class EvidenceFileDownloadView(EvidenceMixin, View):
    def get(self, request, *args, **kwargs):
        return download_response(evidence=self.evidence, user=request.user)


class EvidenceFileVerifyView(EvidenceMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        result = services.evidence_verification(evidence=self.evidence, user=request.user)
        hashes = {"expected": result.expected, "actual": result.actual or _("(file missing)")}
        if result.match:
            messages.success(request, _("Match: the stored file has the SHA-256 recorded at upload. "
                                        "Expected %(expected)s, actual %(actual)s.") % hashes)
        else:
            messages.error(request, _("Mismatch: the stored file is not the file that was uploaded. "
                                      "Expected %(expected)s, actual %(actual)s.") % hashes)
        if result.chain.ok:
            messages.success(request, ngettext("Custody chain intact: %(count)s entry checked.",
                                               "Custody chain intact: %(count)s entries checked.",
                                               result.chain.entries) % {"count": result.chain.entries})
        else:
            messages.error(request, _("Custody chain broken at entry #%(sequence)s: %(reason)s.") % {
                "sequence": result.chain.broken_sequence, "reason": result.chain.reason})
        return HttpResponseRedirect(self.evidence.get_absolute_url())


def custody_export_response(export) -> HttpResponse:
    """A custody-log export as an attachment (shared by the page and the API)."""
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = content_disposition_header(True, export.file_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


class EvidenceFileCustodyExportView(EvidenceMixin, View):
    """/evidence/<id>/custody.csv and .json: the custody log with its hashes (logged)."""

    def get(self, request, *args, **kwargs):
        return custody_export_response(services.evidence_custody_export(
            evidence=self.evidence, user=request.user, export_format=kwargs["export_format"]))


class EvidenceFormView(EvidenceMixin, TemplateView):
    """A form about one evidence file whose valid input goes to one service; refusals re-show it."""

    needs = MAY_WRITE
    form_class = None
    heading = ""

    def get_form(self, data=None):
        return self.form_class(data=data)

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self.get_form()))

    def post(self, request, *args, **kwargs):
        form = self.get_form(data=request.POST)
        if form.is_valid():
            try:
                message = self.save(form)
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, message)
                return HttpResponseRedirect(self.evidence.get_absolute_url())
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "heading": self.heading}


class EvidenceFileHandoverView(EvidenceFormView):
    template_name = "qgov/evidence/evidencefile_form.html"
    heading = _("Hand over")

    def get_form(self, data=None):
        return EvidenceHandoverForm(data=data, candidates=services.handover_candidates(self.evidence))

    def save(self, form):
        event = services.evidence_handover(evidence=self.evidence, user=self.request.user,
                                           to_user=form.cleaned_data["to_user"], reason=form.cleaned_data["reason"],
                                           location=form.cleaned_data["location"], note=form.cleaned_data["note"])
        return _("Handed over to %(user)s.") % {"user": event.to_user.get_username()}


class EvidenceFileWithdrawView(EvidenceFormView):
    template_name = "qgov/evidence/evidencefile_form.html"
    form_class = EvidenceWithdrawForm
    heading = _("Withdraw")

    def save(self, form):
        services.evidence_withdraw(evidence=self.evidence, user=self.request.user,
                                   reason=form.cleaned_data["reason"])
        return _("Withdrawn; the file and its custody log are kept.")


class EvidenceFileAddView(LoginRequiredMixin, TemplateView):
    """Upload a file as evidence for one record (of a model that accepts evidence)."""

    template_name = "qgov/evidence/evidencefile_add.html"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        content_type = get_object_or_404(ContentType, pk=kwargs["content_type_id"])
        model = content_type.model_class()
        if model is None or not services.accepts_evidence(model):
            raise Http404
        self.record = get_object_or_404(model.objects.restrict(request.user, MAY_READ), pk=kwargs["object_id"])
        if not user_can(request.user, self.record.owning_agency_id, MAY_WRITE, model):
            raise PermissionDenied(_("Your role does not allow adding evidence to this record."))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=EvidenceUploadForm()))

    def post(self, request, *args, **kwargs):
        form = EvidenceUploadForm(data=request.POST, files=request.FILES)
        if form.is_valid():
            try:
                evidence = services.evidence_attach(
                    record=self.record, upload=form.cleaned_data["file"], user=request.user,
                    description=form.cleaned_data["description"], collected_at=form.cleaned_data["collected_at"],
                    collected_by_name=form.cleaned_data["collected_by_name"], location=form.cleaned_data["location"])
            except ValidationError as error:
                _add_errors(form, error)
            else:
                messages.success(request, _("Added “%(name)s” (SHA-256 %(sha256)s).") % {
                    "name": evidence.file_name, "sha256": evidence.sha256})
                return HttpResponseRedirect(f"{self.record.get_absolute_url()}#evidence")
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "record": self.record}
