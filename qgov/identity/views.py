"""The account pages of identity: "Your sessions" and re-authentication (qgov.identity.reauth)."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, ListView

from qgov.identity import sessions
from qgov.identity.choices import UserSessionEndReasonChoices
from qgov.identity.forms import ReauthForm
from qgov.identity.reauth import mark_authenticated, reauth_method_for


class UserSessionListView(LoginRequiredMixin, ListView):
    """Where and when the user is signed in, the current session marked."""

    template_name = "qgov/account/sessions.html"
    context_object_name = "user_sessions"

    def get_queryset(self):
        return sessions.user_sessions_of(self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for user_session in context["user_sessions"]:
            user_session.is_current = user_session.key_hash == self.request.session.key_hash
        idle, absolute = self.request.session.get(sessions.LIMITS_KEY) or (0, 0)
        return {**context, "idle": sessions.duration_text(idle), "absolute": sessions.duration_text(absolute)}


class UserSessionEndView(LoginRequiredMixin, View):
    """Ends one of the user's own sessions (another user's answers 404); ending the current one signs out."""

    def post(self, request, pk):
        record = get_object_or_404(sessions.user_sessions_of(request.user), pk=pk)
        sessions.user_session_end(record=record, reason=UserSessionEndReasonChoices.ENDED_BY_USER)
        if record.key_hash == request.session.key_hash:
            logout(request)
            return redirect("login")
        messages.success(request, _("That session has ended: the browser it was in is signed out."))
        return redirect("qgov:account_sessions")


class ReauthView(LoginRequiredMixin, FormView):
    template_name = "qgov/account/reauth.html"
    form_class = ReauthForm

    def next_url(self) -> str:
        wanted = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if url_has_allowed_host_and_scheme(wanted, allowed_hosts={self.request.get_host()},
                                           require_https=self.request.is_secure()):
            return wanted
        return reverse("dashboard")

    def get(self, request, *args, **kwargs):
        redirect = reauth_method_for(request.user).start(request, self.next_url())
        return redirect or super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        # A user whose method is not the password (a second factor, a provider) cannot post one instead.
        redirect = reauth_method_for(request.user).start(request, self.next_url())
        return redirect or super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "next": self.next_url()}

    def form_valid(self, form):
        mark_authenticated(self.request)
        return HttpResponseRedirect(self.next_url())
