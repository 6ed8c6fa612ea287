"""Pages of suppliers, their due-diligence reviews and answers."""

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from certification.tables import theme_colour
from procurement import filters, forms, tables
from procurement.choices import AnswerChoices, ReviewStatusChoices
from procurement.models import (
    Component,
    Contract,
    DueDiligenceAnswer,
    DueDiligenceReview,
    Supplier,
)
from procurement.services import (
    answers_frozen_message,
    answers_locked_message,
    review_answers_save,
    review_running_score,
    review_start,
)
from qgov.evidence.models import EvidenceFile
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


class SupplierListView(ObjectListView):
    queryset = Supplier.objects.select_related("owner")
    filterset_class = filters.SupplierFilterSet
    table_class = tables.SupplierTable


class SupplierDetailView(ObjectDetailView):
    queryset = Supplier.objects.select_related("owner")
    template_name = "procurement/supplier_detail.html"
    exclude_fields = ("status", "rating_score", "rating_outcome", "rated_on", "criticality")
    shown_rows = 10  # components and contracts listed on the page; the lists have the rest

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        supplier, user = self.object, self.request.user
        reviews = list(DueDiligenceReview.objects.restrict(user, Action.VIEW).filter(supplier=supplier)
                       .select_related("questionnaire", "reviewer").order_by("-created", "-pk"))
        components = Component.objects.restrict(user, Action.VIEW).filter(supplier=supplier)
        counts = components.aggregate(total=Count("pk"), vulnerable=Count("pk", filter=Q(quantum_vulnerable=True)))
        contracts = Contract.objects.restrict(user, Action.VIEW).filter(supplier=supplier)
        context.update(
            status_badge=tables.status_badge(tables.SUPPLIER_STATUS_COLOURS)(supplier, None),
            rating_badge=tables._rating(supplier, None),
            reviews=tables.SupplierReviewTable(reviews, orderable=False),
            review_count=len(reviews),
            components=list(components.select_related("device").order_by("-quantum_vulnerable", "name")
                            [:self.shown_rows]),
            component_count=counts["total"],
            vulnerable_count=counts["vulnerable"],
            contracts=list(contracts.order_by("-start", "-pk")[:self.shown_rows]),
            contract_count=contracts.count(),
            review_in_progress=next((r for r in reviews if r.status not in ("submitted", "superseded")), None),
            can_start_review=(user_can(user, supplier.agency_id, Action.ADD, DueDiligenceReview)
                              and supplier.status != "exited"),
            start_review_url=reverse("procurement:supplier_start_review", args=[supplier.pk]),
            component_list_url=f"{reverse('procurement:component_list')}?supplier={supplier.pk}",
            vulnerable_list_url=f"{reverse('procurement:component_list')}?supplier={supplier.pk}"
                                "&quantum_vulnerable=true",
            contract_list_url=f"{reverse('procurement:contract_list')}?supplier={supplier.pk}",
        )
        return context


class SupplierStartReviewView(ScopedViewMixin, View):
    """POST: a new draft review of the supplier on the latest edition of the questionnaire."""

    queryset = Supplier.objects.all()
    action = Action.VIEW

    def post(self, request, pk):
        supplier = get_object_or_404(self.restricted_queryset(), pk=pk)
        if not user_can(request.user, supplier.agency_id, Action.ADD, DueDiligenceReview):
            raise PermissionDenied(_("Your role does not allow starting a review."))
        try:
            review = review_start(supplier=supplier, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return HttpResponseRedirect(supplier.get_absolute_url())
        messages.success(request, _("Started a due-diligence review of “%(supplier)s” on %(questionnaire)s.") % {
            "supplier": supplier, "questionnaire": review.questionnaire})
        return HttpResponseRedirect(review.get_absolute_url())


class SupplierEditView(ObjectEditView):
    queryset = Supplier.objects.all()
    form_class = forms.SupplierForm


class SupplierDeleteView(ObjectDeleteView):
    queryset = Supplier.objects.all()


class SupplierHistoryView(ObjectHistoryView):
    queryset = Supplier.objects.all()


class DueDiligenceReviewListView(ObjectListView):
    queryset = DueDiligenceReview.objects.select_related("supplier", "questionnaire", "reviewer")
    filterset_class = filters.DueDiligenceReviewFilterSet
    table_class = tables.DueDiligenceReviewTable


class DueDiligenceReviewDetailView(ObjectDetailView):
    """The review with its questionnaire as one form: every answer, saved in one transaction through
    the same service as the API (procurement.services.review_answers_save)."""

    queryset = DueDiligenceReview.objects.select_related("supplier", "questionnaire", "reviewer", "submitted_by",
                                                         "supersedes").prefetch_related("answers")
    template_name = "procurement/duediligencereview_detail.html"
    exclude_fields = ("escalation_reasons", "score", "outcome")

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        form = forms.ReviewAnswersForm(self.object, data=request.POST)
        if not self.may_answer(self.object):
            raise PermissionDenied(_("Your role does not allow changing these answers."))
        if form.is_valid():
            try:
                review_answers_save(review=self.object, user=request.user, items=form.items())
            except ValidationError as error:
                form.add_error(None, error)  # the form puts "<index>.<field>" messages at their question
            else:
                messages.success(request, _("Saved the answers."))
                return HttpResponseRedirect(self.object.get_absolute_url())
        return self.render_to_response(self.get_context_data(form=form))

    def may_answer(self, review):
        return (user_can(self.request.user, review.agency_id, Action.CHANGE, DueDiligenceAnswer)
                and review.status in forms.REVIEWER_ANSWER_STATES)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        review = self.object
        form = kwargs.get("form") or forms.ReviewAnswersForm(review)
        answers = {answer.question: answer for answer in review.answers.all()}
        files = {}
        answer_type = ContentType.objects.get_for_model(DueDiligenceAnswer)
        for evidence in (EvidenceFile.objects.restrict(self.request.user, Action.VIEW)
                         .filter(content_type=answer_type, object_id__in=[a.pk for a in answers.values()],
                                 withdrawn_at__isnull=True).order_by("uploaded_at", "pk")):
            files.setdefault(evidence.object_id, []).append(evidence)
        may_answer = self.may_answer(review)
        for field in form.fields.values() if not may_answer else ():
            field.disabled = True  # shown as answered, not offered as a form the user cannot send
        may_attach = (user_can(self.request.user, review.agency_id, Action.CHANGE, DueDiligenceAnswer)
                      and not answers_frozen_message(review))
        rows = []
        for question in review.questionnaire.questions or ():
            answer = answers.get(question["code"])
            rows.append({
                "question": question, "answer": answer,
                "answer_field": form[form.answer_name(question["code"])],
                "comment_field": form[form.comment_name(question["code"])],
                "files": files.get(answer.pk, []) if answer else [],
                "upload_url": reverse("qgov:evidencefile_add", args=[answer_type.pk, answer.pk])
                if answer and may_attach else None,
            })
        frozen = answers_frozen_message(review)
        context["may_send"] = (review.status in (ReviewStatusChoices.DRAFT, ReviewStatusChoices.SENT) and user_can(
            self.request.user, review.agency_id, Action.TRANSITION, DueDiligenceReview))
        running = None if frozen else review_running_score(review)
        shown = running or review
        context.update(
            form=form, rows=rows, may_answer=may_answer, frozen_message=frozen, running=running,
            answered=running.answered if running else sum(1 for a in answers.values()
                                                           if a.answer != AnswerChoices.UNKNOWN),
            total=len(review.questionnaire.questions or ()),
            score=shown.score, outcome=shown.outcome,
            outcome_label=dict(forms.OUTCOME_LABELS).get(shown.outcome, ""),
            outcome_colour=theme_colour(tables.OUTCOME_COLOURS.get(shown.outcome)),
            escalation_reasons=shown.escalation_reasons,
            status_badge=tables.status_badge(tables.REVIEW_STATUS_COLOURS)(review, None),
        )
        return context


class DueDiligenceReviewEditView(ObjectEditView):
    queryset = DueDiligenceReview.objects.all()
    form_class = forms.DueDiligenceReviewForm


class DueDiligenceReviewDeleteView(ObjectDeleteView):
    queryset = DueDiligenceReview.objects.all()


class DueDiligenceReviewHistoryView(ObjectHistoryView):
    queryset = DueDiligenceReview.objects.all()


class DueDiligenceAnswerListView(ObjectListView):
    queryset = DueDiligenceAnswer.objects.select_related("review__supplier", "review__questionnaire")
    filterset_class = filters.DueDiligenceAnswerFilterSet
    table_class = tables.DueDiligenceAnswerTable


class DueDiligenceAnswerDetailView(ObjectDetailView):
    queryset = DueDiligenceAnswer.objects.select_related("review__supplier", "review__questionnaire")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The answer has no lifecycle of its own: it is frozen with its review, and the supplier's
        # while the review is with them.
        if answers_locked_message(self.object.review):
            context.update(can_change=False, can_delete=False)
        return context


class DueDiligenceAnswerEditView(ObjectEditView):
    queryset = DueDiligenceAnswer.objects.select_related("review")
    form_class = forms.DueDiligenceAnswerForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Said before any typing is lost; the model refuses the change itself (DueDiligenceAnswer.clean).
        locked = answers_locked_message(self.object.review) if self.object else None
        if locked:
            context["notice"] = locked
        return context


class DueDiligenceAnswerDeleteView(ObjectDeleteView):
    queryset = DueDiligenceAnswer.objects.all()


class DueDiligenceAnswerHistoryView(ObjectHistoryView):
    queryset = DueDiligenceAnswer.objects.all()
