"""The procurement pages: each model's list, detail, edit, delete and history, from the generic views."""

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views import View
from django.views.generic import TemplateView

from certification.tables import theme_colour
from procurement import filters, forms, services, tables
from procurement.choices import AnswerChoices, ReviewStatusChoices
from procurement.models import (
    Component,
    Contract,
    CryptoPolicy,
    CryptoPolicyAdoption,
    DueDiligenceAnswer,
    DueDiligenceReview,
    Questionnaire,
    Supplier,
)
from procurement.services import (
    answers_frozen_message,
    answers_locked_message,
    review_answers_save,
    review_running_score,
    review_start,
)
from qgov.duedates.selectors import agency_today
from qgov.evidence.models import EvidenceFile
from qgov.forms import style_form
from qgov.imports.views import ImportView
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


class QuestionnaireListView(ObjectListView):
    queryset = Questionnaire.objects.all()
    filterset_class = filters.QuestionnaireFilterSet
    table_class = tables.QuestionnaireTable


class QuestionnaireDetailView(ObjectDetailView):
    queryset = Questionnaire.objects.all()
    template_name = "procurement/questionnaire_detail.html"
    exclude_fields = ("questions", "escalation", "outcome_bands", "citations")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        questionnaire = self.object
        rule = questionnaire.escalation or {}
        texts = {q["code"]: q["text"] for q in questionnaire.questions or ()}
        bands = sorted(questionnaire.outcome_bands or (), key=lambda band: band["min_score"], reverse=True)
        labels = dict(forms.OUTCOME_LABELS)
        band_rows, upper = [], None
        for band in bands:
            band_rows.append({"min": band["min_score"], "below": upper, "outcome": labels.get(band["outcome"],
                                                                                             band["outcome"]),
                              "colour": theme_colour(tables.OUTCOME_COLOURS.get(band["outcome"]))})
            upper = band["min_score"]
        context.update(
            questions=questionnaire.questions or (),
            escalation_criticalities=[dict(forms.CRITICALITY_LABELS).get(c, c) for c in rule.get("criticality", ())],
            escalation_questions=[(code, texts.get(code, "")) for code in rule.get("questions", ())],
            bands=band_rows,
            total_weight=sum(q.get("weight", 0) for q in questionnaire.questions or ()),
        )
        return context


class QuestionnaireEditView(ObjectEditView):
    queryset = Questionnaire.objects.all()
    form_class = forms.QuestionnaireForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Said before any typing is lost; the model refuses the change itself (Questionnaire.clean).
        used = DueDiligenceReview.objects.filter(questionnaire=self.object).count() if self.object else 0
        if used:
            context["notice"] = ngettext(
                "%(count)s review uses this edition: its code, series, edition, questions, escalation rule and "
                "outcome bands can no longer change. Publish a new edition instead.",
                "%(count)s reviews use this edition: its code, series, edition, questions, escalation rule and "
                "outcome bands can no longer change. Publish a new edition instead.", used) % {"count": used}
        return context


class QuestionnaireDeleteView(ObjectDeleteView):
    queryset = Questionnaire.objects.all()


class QuestionnaireHistoryView(ObjectHistoryView):
    queryset = Questionnaire.objects.all()


class CryptoPolicyListView(ObjectListView):
    queryset = CryptoPolicy.objects.all()
    filterset_class = filters.CryptoPolicyFilterSet
    table_class = tables.CryptoPolicyTable


class CryptoPolicyDetailView(ObjectDetailView):
    queryset = CryptoPolicy.objects.all()


class CryptoPolicyEditView(ObjectEditView):
    queryset = CryptoPolicy.objects.all()
    form_class = forms.CryptoPolicyForm


class CryptoPolicyDeleteView(ObjectDeleteView):
    queryset = CryptoPolicy.objects.all()


class CryptoPolicyHistoryView(ObjectHistoryView):
    queryset = CryptoPolicy.objects.all()


class CryptoPolicyAdoptionListView(ObjectListView):
    queryset = CryptoPolicyAdoption.objects.select_related("policy")
    filterset_class = filters.CryptoPolicyAdoptionFilterSet
    table_class = tables.CryptoPolicyAdoptionTable


class CryptoPolicyAdoptionDetailView(ObjectDetailView):
    queryset = CryptoPolicyAdoption.objects.select_related("policy")


class CryptoPolicyAdoptionEditView(ObjectEditView):
    queryset = CryptoPolicyAdoption.objects.all()
    form_class = forms.CryptoPolicyAdoptionForm


class CryptoPolicyAdoptionDeleteView(ObjectDeleteView):
    queryset = CryptoPolicyAdoption.objects.all()


class CryptoPolicyAdoptionHistoryView(ObjectHistoryView):
    queryset = CryptoPolicyAdoption.objects.all()


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
