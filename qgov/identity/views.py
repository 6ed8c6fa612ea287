"""The account pages of identity: "Your sessions" and re-authentication (qgov.identity.reauth)."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView

from qgov.identity import sessions
from qgov.identity.choices import UserSessionEndReasonChoices


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
