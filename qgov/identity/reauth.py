"""Fresh authentication ("sudo mode"): actions that hand out lasting power (issuing an API token,
changing an agency's session policy) need a sign-in or re-authentication within the last
QGOV_REAUTH_SECONDS, recorded in the session as AUTH_TIME_KEY.

How a user proves it again depends on how they sign in. Local users re-enter their password here.
Provider sign-in (not built yet) registers a ReauthMethod with `register_reauth_method`: its
`start()` sends the user to the identity provider with `max_age=0` (`prompt=login`), and its callback
checks that the ID token's `auth_time` is newer than the request, then calls
`mark_authenticated(request, at=auth_time)` and redirects to the `next` it was given.
"""

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView

from qgov.forms import style_form

AUTH_TIME_KEY = "qgov_auth_time"


def mark_authenticated(request, *, at: float | None = None) -> None:
    """The user proved who they are at `at` (epoch seconds; default now)."""
    request.session[AUTH_TIME_KEY] = int(time.time() if at is None else at)


def is_fresh(request) -> bool:
    auth_time = request.session.get(AUTH_TIME_KEY)
    return auth_time is not None and time.time() - auth_time < settings.QGOV_REAUTH_SECONDS


def reauth_url(next_url: str) -> str:
    return f"{reverse('qgov:reauth')}?{urlencode({'next': next_url})}"


class ReauthMethod:
    """How a user re-authenticates. The base is the password form of ReauthView; a provider's method
    answers `start()` with a redirect to its identity provider instead."""

    def start(self, request, next_url: str):
        return None


PASSWORD = ReauthMethod()
_choosers: list[Callable] = []


def register_reauth_method(chooser: Callable) -> None:
    """`chooser(user)` answers the ReauthMethod for users it knows (e.g. those who sign in through an
    agency's provider), else None; the first answer wins, and the password form is the fallback."""
    _choosers.append(chooser)


def reauth_method_for(user) -> ReauthMethod:
    for chooser in _choosers:
        method = chooser(user)
        if method is not None:
            return method
    return PASSWORD


class FreshAuthenticationRequiredMixin(LoginRequiredMixin):
    """A view that only a recently authenticated user may use; others re-authenticate first and come
    back to the view (by GET: a form posted without a fresh sign-in is shown again, not submitted)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_fresh(request):
            return HttpResponseRedirect(reauth_url(request.get_full_path()))
        return super().dispatch(request, *args, **kwargs)


class ReauthForm(forms.Form):
    password = forms.CharField(label=gettext_lazy("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password",
                                                                 "autofocus": True}))

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        style_form(self)

    def clean_password(self):
        password = self.cleaned_data["password"]
        user = self.request.user
        # Through the authentication backends, so failed attempts count towards the login lockout.
        if authenticate(self.request, username=user.get_username(), password=password) != user:
            raise forms.ValidationError(_("That is not your password."), code="wrong_password")
        return password


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

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "next": self.next_url()}

    def form_valid(self, form):
        mark_authenticated(self.request)
        return HttpResponseRedirect(self.next_url())
