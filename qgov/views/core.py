"""Pages of the core: dashboard, agency switcher, agency admin (agency, members, system
tokens), the audit trail, notifications, and the error pages."""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect, HttpResponseServerError
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, ListView, TemplateView

from qgov import dashboard, services
from qgov.audit_display import model_label
from qgov.filters import AgencyFilterSet, AuditEventFilterSet, MembershipFilterSet
from qgov.forms import AgencyForm, InviteMemberForm, MembershipForm, SystemTokenForm
from qgov.identity.panels import POLICY_FIELDS
from qgov.identity.reauth import FreshAuthenticationRequiredMixin
from qgov.middleware import ACTIVE_AGENCY_SESSION_KEY
from qgov.models import Agency, ApiToken, AuditCheckpoint, AuditEvent, Membership, Notification
from qgov.permissions import user_can
from qgov.roles import Action
from qgov.tables import AgencyTable, AuditEventTable, MembershipTable
from qgov.views.generic import (
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectHistoryView,
    ObjectListView,
    model_url,
)


class DashboardView(LoginRequiredMixin, TemplateView):
    template_name = "qgov/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agency = self.request.agency
        context["panels"] = dashboard.panels_for(self.request, agency) if agency else []
        return context


class SwitchAgencyView(LoginRequiredMixin, View):
    def post(self, request):
        wanted = request.POST.get("agency")
        agency = next((a for a in request.agencies if str(a.pk) == wanted), None)
        if agency is None:
            messages.error(request, _("You are not a member of that agency."))
        else:
            request.session[ACTIVE_AGENCY_SESSION_KEY] = agency.pk
            messages.info(request, _("Now working in %(agency)s.") % {"agency": agency.name})
        next_url = request.POST.get("next") or reverse("dashboard")
        return HttpResponseRedirect(next_url if next_url.startswith("/") and not next_url.startswith("//") else "/")


# --- agencies -------------------------------------------------------------------------------


class AgencyListView(ObjectListView):
    queryset = Agency.objects.select_related("parent")
    filterset_class = AgencyFilterSet
    table_class = AgencyTable


class AgencyDetailView(ObjectDetailView):
    queryset = Agency.objects.all()
    template_name = "qgov/agency_detail.html"
    exclude_fields = POLICY_FIELDS  # in the sign-in policy panel (qgov.identity.panels)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        can_manage = self.can(Action.MANAGE_MEMBERS, self.object.pk)
        context["can_manage"] = can_manage
        if can_manage:
            context["members"] = Membership.objects.filter(agency=self.object).select_related("user")
            context["tokens"] = (ApiToken.objects.filter(agencies=self.object).select_related("user")
                                 .prefetch_related("agencies"))
        return context


class AgencyEditView(FreshAuthenticationRequiredMixin, ObjectEditView):  # it holds the session policy
    queryset = Agency.objects.all()
    form_class = AgencyForm


class AgencyHistoryView(ObjectHistoryView):
    queryset = Agency.objects.all()


class AgencyAdminView(LoginRequiredMixin, View):
    """'Agency admin' in the navigation: the active agency's page with members and tokens."""

    @classmethod
    def page_permission(cls):
        # Every member may read the agency's page (the dashboard links it); the entry is for those who manage it.
        return Action.MANAGE_MEMBERS, Membership

    def get(self, request):
        if request.agency is None:
            raise PermissionDenied(_("You are not a member of any agency."))
        return redirect("qgov:agency_detail", pk=request.agency.pk)


# --- memberships ----------------------------------------------------------------------------


class MembershipListView(ObjectListView):
    queryset = Membership.objects.select_related("agency", "user")
    filterset_class = MembershipFilterSet
    table_class = MembershipTable


class MembershipDetailView(ObjectDetailView):
    queryset = Membership.objects.select_related("agency", "user")


class MembershipEditView(FreshAuthenticationRequiredMixin, ObjectEditView):  # it grants roles
    queryset = Membership.objects.select_related("agency", "user")
    form_class = MembershipForm

    def check_permission(self, obj):
        if obj is None:  # new members come through the invitation form
            raise PermissionDenied(_("Invite members from the agency page."))
        super().check_permission(obj)


class MembershipDeleteView(ObjectDeleteView):
    queryset = Membership.objects.select_related("agency", "user")


class MembershipHistoryView(ObjectHistoryView):
    queryset = Membership.objects.select_related("agency", "user")


class ManageMembersMixin(LoginRequiredMixin):
    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if request.agency is None or not user_can(
            request.user, request.agency.pk, Action.MANAGE_MEMBERS, Membership
        ):
            raise PermissionDenied(_("Only agency admins manage members and tokens."))
        return super().dispatch(request, *args, **kwargs)


class InviteMemberView(FreshAuthenticationRequiredMixin, ManageMembersMixin, FormView):  # it grants roles
    template_name = "qgov/invite_member.html"
    form_class = InviteMemberForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "agency": self.request.agency}

    def form_valid(self, form):
        try:
            membership, created = services.member_invite(
                agency=self.request.agency,
                invited_by=self.request.user,
                site_url=self.request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        messages.success(self.request, _("%(user)s is now %(role)s of %(agency)s.") % {
            "user": membership.user, "role": membership.get_role_display(), "agency": membership.agency.name})
        return redirect("qgov:agency_detail", pk=self.request.agency.pk)


class SystemTokenCreateView(FreshAuthenticationRequiredMixin, ManageMembersMixin, FormView):
    template_name = "qgov/token_create.html"
    form_class = SystemTokenForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        return {"agencies": [self.request.agency.pk], "scopes": ["read"]}

    def form_valid(self, form):
        try:
            token, key = services.system_token_create(
                agencies=form.cleaned_data["agencies"],
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                allowed_ips=form.cleaned_data["allowed_ips"],
                created_by=self.request.user,
                ttl=form.ttl,
            )
        except ValidationError as error:
            form.add_error(None, error)
            return self.form_invalid(form)
        # The key is rendered once, in this response, and never stored.
        return self.render_to_response(self.get_context_data(form=form, token=token, key=key))


class TokenRevokeView(LoginRequiredMixin, View):
    def post(self, request, pk):
        token = get_object_or_404(ApiToken, pk=pk)
        services.token_revoke(token=token, user=request.user)
        messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
        return HttpResponseRedirect(request.POST.get("next") or reverse("qgov:agency_admin"))


# --- audit ----------------------------------------------------------------------------------


class AuditEventListView(ObjectListView):
    queryset = AuditEvent.objects.select_related("content_type")
    filterset_class = AuditEventFilterSet
    table_class = AuditEventTable
    template_name = "qgov/auditevent_list.html"


class AuditCheckpointListView(LoginRequiredMixin, ListView):
    """Signed chain heads of the agencies whose audit trail the user may see, to download."""

    template_name = "qgov/auditcheckpoint_list.html"
    paginate_by = 50

    def get_queryset(self):
        return AuditCheckpoint.objects.restrict(self.request.user, Action.VIEW).select_related("agency")


class AuditCheckpointDownloadView(LoginRequiredMixin, View):
    def get(self, request, pk):
        checkpoint = get_object_or_404(AuditCheckpoint.objects.restrict(request.user, Action.VIEW), pk=pk)
        return checkpoint_file_response(checkpoint)


def checkpoint_file_response(checkpoint) -> HttpResponse:
    response = HttpResponse(json.dumps(checkpoint.document(), indent=2) + "\n", content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{checkpoint.filename()}"'
    return response


class AuditEventDetailView(ObjectDetailView):
    queryset = AuditEvent.objects.select_related("content_type")
    template_name = "qgov/auditevent_detail.html"

    def can_view_history(self, obj):
        return False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        event = self.object
        model = event.content_type.model_class()
        context.update(
            object_label=model_label(event.content_type),
            # The record's page; a deleted record's answers the 404 page, which says so.
            object_url=model_url(model, "detail", event.object_id) if model is not None and event.action != "delete"
            else None,
        )
        return context


# --- notifications --------------------------------------------------------------------------


class NotificationListView(LoginRequiredMixin, ListView):
    template_name = "qgov/notifications.html"
    paginate_by = 50

    def get_queryset(self):
        return Notification.objects.filter(user=self.request.user).select_related("agency")

    def post(self, request):
        services.notifications_mark_read(user=request.user)
        messages.success(request, _("All notifications marked as read."))
        return redirect("qgov:notifications")


def favicon(request):
    """/favicon.ico, which browsers and tools ask for whatever the page links: the static file, by
    its current (hashed) name, so not a permanent redirect."""
    return HttpResponseRedirect(static("qgov/favicon.ico"))


def integration_guide(request):
    """/api/guide/: docs/integrating.md, the guide for agency systems, as the text it is written in
    (Markdown reads as plain text). Public, like the API reference at /api/docs/ that links it."""
    guide = settings.BASE_DIR / "docs" / "integrating.md"
    return HttpResponse(guide.read_text(encoding="utf-8"), content_type="text/plain; charset=utf-8")


# --- error pages (qgov.urls names them as the handlers) --------------------------------------


def permission_denied(request, exception):
    """403 inside the layout: the reason the refusing code gave, and the way back."""
    reason = str(exception) or _("Your role does not allow this.")
    return render(request, "403.html", {"reason": reason, "back_url": _back_url(request)}, status=403)


def page_not_found(request, exception):
    # Django's message ("No Risk matches the given query.") is for developers; the page says it plainly.
    return render(request, "404.html", {"back_url": _back_url(request)}, status=404)


def server_error(request):
    """500: rendered with no request context, so nothing that broke the request (the database, a
    context processor, the session) can break this page too."""
    return HttpResponseServerError(loader.get_template("500.html").render())


def _back_url(request) -> str | None:
    """Where the user came from, if that was a page of this site (never an outside address)."""
    referer = request.headers.get("referer", "")
    if not referer or not url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()},
                                                          require_https=request.is_secure()):
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(referer)
    back = parts.path + (f"?{parts.query}" if parts.query else "")
    return back if back != request.get_full_path() else None
