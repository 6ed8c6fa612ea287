"""Pages of the global catalogs (questionnaires, migration policies) and of the policy an agency adopted."""

from django.utils.translation import ngettext

from certification.tables import theme_colour
from procurement import filters, forms, tables
from procurement.models import (
    CryptoPolicy,
    CryptoPolicyAdoption,
    DueDiligenceReview,
    Questionnaire,
)
from qgov.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectHistoryView,
    ObjectListView,
)


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
