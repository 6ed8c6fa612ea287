"""Fresh authentication ("sudo mode"): actions that hand out lasting power (issuing an API token,
changing an agency's session policy, granting a role) need a sign-in or re-authentication within the last
QGOV_REAUTH_SECONDS, recorded in the session as AUTH_TIME_KEY.

How a user proves it again depends on how they sign in. Local users re-enter their password on the
reauthentication page (qgov.identity.views.ReauthView).
Provider sign-in (qgov.identity.sso) registers a ReauthMethod with `register_reauth_method`: its
`start()` sends the user to the identity provider with `max_age=0` (`prompt=login`), and its callback
checks that the ID token's `auth_time` is newer than the request, then calls
`mark_authenticated(request, at=auth_time)` and redirects to the `next` it was given.
"""

import functools
import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.urls import reverse

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


def fresh_authentication_required(view):
    """The function-view form of FreshAuthenticationRequiredMixin."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_fresh(request):
            return HttpResponseRedirect(reauth_url(request.get_full_path()))
        return view(request, *args, **kwargs)

    return wrapped


class FreshAuthenticationRequiredMixin(LoginRequiredMixin):
    """A view that only a recently authenticated user may use; others re-authenticate first and come
    back to the view (by GET: a form posted without a fresh sign-in is shown again, not submitted)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_fresh(request):
            return HttpResponseRedirect(reauth_url(request.get_full_path()))
        return super().dispatch(request, *args, **kwargs)


def refuse_stale_browser_session(request, message: str) -> None:
    """For API writes that hand out lasting power: a 403 with `message` when the request comes from a
    browser session whose sign-in is not recent. A token needs no check here: issuing it did."""
    from rest_framework.authentication import SessionAuthentication
    from rest_framework.exceptions import PermissionDenied

    if (request is not None and isinstance(request.successful_authenticator, SessionAuthentication)
            and not is_fresh(request)):
        raise PermissionDenied(message)
