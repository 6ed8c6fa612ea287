"""The supplier portal: the page a supplier contact opens from the one-time link to answer a
due-diligence questionnaire without an account, and the reviewer's side of it (send the
questionnaire, show the link once, revoke it).

The portal pages show the questionnaire, the agency's and the supplier's names and nothing else of
the agency: their own plain layout (templates/procurement/portal/base.html), no navigation, no
link into the app. Every request is rate-limited per link and per client address before the link
is looked up; every change is audited with the contact as the actor
(qgov.audit.actor_without_account).
"""

import zoneinfo

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from procurement import services
from procurement.choices import AnswerChoices
from procurement.models import DueDiligenceAnswer, DueDiligenceReview, PortalLink
from qgov import ratelimit
from qgov.audit import actor_without_account
from qgov.evidence.models import EvidenceFile
from qgov.forms import style_form
from qgov.lifecycle import TransitionRefused
from qgov.permissions import user_can
from qgov.roles import Action

COMMENT_MAX = 4000


def portal_limits() -> dict[str, ratelimit.Limit]:
    window = settings.QGOV_LINK_RATE_WINDOW_SECONDS
    return {"token": ratelimit.Limit(settings.QGOV_LINK_REQUESTS_PER_TOKEN, window),
            "ip": ratelimit.Limit(settings.QGOV_LINK_REQUESTS_PER_IP, window)}


# --- the contact's questionnaire -------------------------------------------------------------------

class PortalAnswersForm(forms.Form):
    """One answer (unknown / partial / evidenced), comment and evidence files per question. Fields
    for questions the questionnaire does not have are refused, not ignored."""

    confirm = forms.BooleanField(
        required=False, label=gettext_lazy("I confirm these answers are complete and may be submitted. "
                                           "They cannot be changed afterwards."))

    def __init__(self, *args, questions, answers, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for question in questions:
            code = question["code"]
            current = answers.get(code)
            self.fields[f"answer_{code}"] = forms.ChoiceField(
                label=gettext_lazy("Your answer"), choices=AnswerChoices.choices, widget=forms.RadioSelect,
                initial=current.answer if current else AnswerChoices.UNKNOWN)
            self.fields[f"comment_{code}"] = forms.CharField(
                label=gettext_lazy("Comment"), required=False, max_length=COMMENT_MAX,
                widget=forms.Textarea(attrs={"rows": 3}), initial=current.comment if current else "",
                help_text=gettext_lazy("What you have, and where the evidence shows it."))
            self.fields[f"file_{code}"] = forms.FileField(
                label=gettext_lazy("Add evidence files"), required=False,
                help_text=gettext_lazy("Uploaded when you save."))
        style_form(self)

    def clean(self):
        cleaned = super().clean()
        known = {question["code"] for question in self.questions}
        unknown = sorted({name.split("_", 1)[1] for name in [*self.data, *self.files]
                          if name.startswith(("answer_", "comment_", "file_"))} - known)
        if unknown:
            raise ValidationError(_("Not questions of this questionnaire: %(codes)s.") % {
                "codes": ", ".join(unknown)})
        return cleaned

    def answers(self) -> dict[str, dict]:
        return {q["code"]: {"answer": self.cleaned_data[f"answer_{q['code']}"],
                            "comment": self.cleaned_data[f"comment_{q['code']}"]} for q in self.questions}

    def uploads(self) -> dict[str, list]:
        return {q["code"]: self.files.getlist(f"file_{q['code']}") for q in self.questions
                if self.files.getlist(f"file_{q['code']}")}

    def rows(self):
        """(question, answer field, comment field, file field) per question, for the template."""
        for question in self.questions:
            code = question["code"]
            yield question, self[f"answer_{code}"], self[f"comment_{code}"], self[f"file_{code}"]


def portal_refused(request, refusal: services.PortalRefused):
    return render(request, "procurement/portal/refused.html",
                  {"title": refusal.title, "message": refusal.message}, status=refusal.status)


@method_decorator([never_cache, csrf_protect], name="dispatch")
class PortalQuestionnaireView(View):
    """GET: the questionnaire with the answers saved so far. POST `action=save`: save answers and
    upload files (the form again with messages on bad input, nothing written); `action=submit`
    (with the confirmation box): save and submit once."""

    template_name = "procurement/portal/questionnaire.html"

    def dispatch(self, request, token):
        try:
            ratelimit.hit("portal", {"token": token, "ip": ratelimit.client_ip(request)}, portal_limits())
        except ratelimit.RateLimited as limited:
            response = render(request, "procurement/portal/rate_limited.html", status=429)
            response["Retry-After"] = str(limited.retry_after)
            return response
        try:
            self.link = services.portal_link_find(token)
        except services.PortalRefused as refusal:
            return portal_refused(request, refusal)
        self.token = token
        try:
            with actor_without_account(label=services.portal_actor_label(self.link), request=request):
                return super().dispatch(request, token)
        except services.PortalRefused as refusal:  # used or withdrawn while the page was open
            return portal_refused(request, refusal)

    def answers(self):
        return {a.question: a for a in DueDiligenceAnswer.objects.filter(review_id=self.link.review_id)}

    def form(self, answers, data=None, files=None):
        return PortalAnswersForm(data, files, questions=self.link.review.questionnaire.questions, answers=answers,
                                 prefix=None)

    def get(self, request, token):
        services.portal_open(self.link)
        answers = self.answers()
        return self.render(self.form(answers), answers)

    def post(self, request, token):
        answers = self.answers()
        form = self.form(answers, request.POST, request.FILES)
        submit = request.POST.get("action") == "submit"
        if form.is_valid() and submit and not form.cleaned_data["confirm"]:
            form.add_error("confirm", _("Tick the box to confirm before submitting."))
        if not form.is_valid():
            return self.render(form, answers, status=400)
        try:
            if submit:
                services.portal_submit(link=self.link, answers=form.answers(), uploads=form.uploads())
            else:
                services.portal_answers_save(link=self.link, answers=form.answers(), uploads=form.uploads())
        except ValidationError as error:
            for field, messages_ in error.message_dict.items():
                form.add_error(None if field not in form.fields else field, messages_)
            return self.render(form, answers, status=400)
        if submit:
            return render(request, "procurement/portal/submitted.html", self.page_context())
        messages.success(request, _("Your answers are saved. You can come back to this page until %(date)s.") % {
            "date": self.expires_on()})
        return HttpResponseRedirect(request.path)

    def expires_on(self) -> str:
        tz = zoneinfo.ZoneInfo(self.link.review.agency.time_zone)
        return timezone.localtime(self.link.expires_at, tz).strftime("%Y-%m-%d %H:%M %Z")

    def page_context(self):
        review = self.link.review
        return {"agency_name": review.agency.name, "supplier_name": review.supplier.name,
                "contact_name": self.link.contact_name, "questionnaire_title": review.questionnaire.title,
                "expires_on": self.expires_on()}

    def render(self, form, answers, status=200):
        files = {}
        answer_ids = {a.pk: a.question for a in answers.values()}
        if answer_ids:
            answer_type = ContentType.objects.get_for_model(DueDiligenceAnswer)
            for evidence in (EvidenceFile.objects.filter(content_type=answer_type, object_id__in=answer_ids,
                                                         withdrawn_at__isnull=True)
                             .only("file_name", "size", "object_id", "uploaded_at").order_by("uploaded_at", "pk")):
                files.setdefault(answer_ids[evidence.object_id], []).append(evidence)
        answered = sum(1 for a in answers.values() if a.answer != AnswerChoices.UNKNOWN)
        total = len(form.questions)
        rows = [{"question": q, "answer": a, "comment": c, "file": f, "files": files.get(q["code"], [])}
                for q, a, c, f in form.rows()]
        context = {**self.page_context(), "form": form, "rows": rows, "answered": answered, "total": total,
                   "percent": round(100 * answered / total) if total else 0}
        return render(self.request, self.template_name, context, status=status)


# --- the reviewer's side ----------------------------------------------------------------------------

class ReviewSendForm(forms.Form):
    contact_name = forms.CharField(label=gettext_lazy("Contact name"), max_length=200)
    contact_email = forms.EmailField(label=gettext_lazy("Contact e-mail"), max_length=254)
    days = forms.IntegerField(label=gettext_lazy("Link works for (days)"), min_value=1,
                              max_value=services.PORTAL_MAX_DAYS, initial=services.PORTAL_LINK_DAYS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)


def review_send_initial(review) -> dict:
    return {"contact_name": review.supplier.contact_name, "contact_email": review.supplier.contact_email,
            "days": services.PORTAL_LINK_DAYS}


def site_url(request) -> str:
    """Where the e-mailed link points: QGOV_SITE_URL when set (behind a proxy), else this request's host."""
    return settings.QGOV_SITE_URL or request.build_absolute_uri("/")


class ReviewSendView(LoginRequiredMixin, View):
    """Send a draft review to the supplier's contact (GET: the form; POST: the link, shown once),
    and the review's links with a revoke button. The form is templates/procurement/_review_send.html,
    which the review's page can include as it is."""

    template_name = "procurement/review_send.html"

    @classmethod
    def page_permission(cls):
        return Action.TRANSITION, DueDiligenceReview

    def get_review(self, pk):
        queryset = DueDiligenceReview.objects.restrict(self.request.user, Action.VIEW).select_related(
            "agency", "supplier", "questionnaire")
        return get_object_or_404(queryset, pk=pk)

    def context(self, review, form, **extra):
        links = list(review.portal_links.select_related("created_by").order_by("-created"))
        return {"object": review, "review": review, "send_form": form, "links": links,
                "may_send": user_can(self.request.user, review.agency_id, Action.TRANSITION, DueDiligenceReview),
                **extra}

    def get(self, request, pk):
        review = self.get_review(pk)
        return render(request, self.template_name, self.context(review, ReviewSendForm(
            initial=review_send_initial(review))))

    def post(self, request, pk):
        review = self.get_review(pk)
        form = ReviewSendForm(request.POST)
        if form.is_valid():
            try:
                link, token, url = services.review_send_invite(review=review, user=request.user,
                                                               base_url=site_url(request), **form.cleaned_data)
            except ValidationError as error:
                for field, messages_ in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, messages_)
            except TransitionRefused as refused:  # no longer a draft (sent from another tab)
                form.add_error(None, refused.message)
                return render(request, self.template_name, self.context(review, form), status=409)
            else:
                review.refresh_from_db()
                # The link is rendered once, in this response, and never stored.
                return render(request, self.template_name, self.context(review, None, sent_link=link, portal_url=url))
        return render(request, self.template_name, self.context(review, form), status=400)


class PortalLinkRevokeView(LoginRequiredMixin, View):
    """POST: stop a link working (and recall the review to draft if it was with the supplier)."""

    def post(self, request, pk):
        link = PortalLink.objects.filter(
            review__in=DueDiligenceReview.objects.restrict(request.user, Action.VIEW), pk=pk).select_related(
            "review").first()
        if link is None:
            raise Http404
        try:
            services.portal_link_revoke(link=link, user=request.user, reason=request.POST.get("reason", ""))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The link to %(email)s no longer works.") % {"email": link.contact_email})
        return HttpResponseRedirect(request.POST.get("next") if _local(request.POST.get("next"))
                                    else reverse("procurement:review_send", args=[link.review_id]))


def _local(url) -> bool:
    return bool(url) and url.startswith("/") and not url.startswith("//")

