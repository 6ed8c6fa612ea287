"""Where every sign-in completes, whatever proved the first factor (a password, an agency's identity
provider): the one place that decides whether the user is signed in now or has a further step to
take (a second factor the policy asks for, qgov.identity.mfa), and that records how they signed in.

A sign-in waiting for its second step keeps only the user's id, how they signed in and a deadline in
the (still anonymous) session; nothing is signed in until `finish_sign_in`."""

import time

from django.contrib.auth import get_user_model, login
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from qgov.identity.reauth import mark_authenticated

SIGN_IN_KEY = "qgov_sign_in"  # {"method": ..., "phishing_resistant": bool, "mfa": kind} of the session's sign-in
PENDING_KEY = "qgov_sign_in_pending"  # a first factor waiting for its second step
PENDING_SECONDS = 300
PENDING_FAILURES = 5  # wrong second factors before the sign-in starts over
# Wrong codes per user across sign-ins (a guesser who knows the password can start over at will):
# past USER_FAILURES within USER_FAILURE_SECONDS, codes are refused for that user; passkeys still work.
USER_FAILURES = 10
USER_FAILURE_SECONDS = 15 * 60


def complete_sign_in(request, user, *, method: str, phishing_resistant: bool = False,
                     auth_time: float | None = None, backend: str | None = None):
    """Signs `user` in after their first factor: None when they are signed in, or the response of the
    step they must take first. `method`: "password" or "provider"; `phishing_resistant`: whether the
    proof already was (a passkey, or a provider's amr/acr saying so); `auth_time`: when the user
    authenticated (a provider's auth_time claim), default now. `backend`: as for django.contrib.auth.login
    (the user's own, else the one configured)."""
    from qgov.identity.mfa.policy import second_step_for

    request.session.pop(PENDING_KEY, None)
    step = second_step_for(user, method=method, phishing_resistant=phishing_resistant)
    if step is None:
        finish_sign_in(request, user, method=method, phishing_resistant=phishing_resistant, auth_time=auth_time,
                       backend=backend)
        return None
    if step.refused:
        return render(request, "qgov/account/mfa_refused.html", {"reason": step.refused}, status=403)
    request.session[PENDING_KEY] = {
        "user": user.pk, "method": method, "phishing_resistant": phishing_resistant, "auth_time": auth_time,
        "backend": backend or getattr(user, "backend", None), "until": time.time() + PENDING_SECONDS,
        "kinds": list(step.kinds), "enrol": step.enrol, "failures": 0,
        "next": request.POST.get("next") or request.GET.get("next") or ""}
    return HttpResponseRedirect(reverse("mfa_enrol" if step.enrol else "mfa_step"))


def pending_sign_in(request):
    """(user, pending dict) of the sign-in waiting for a second step, or (None, None)."""
    pending = request.session.get(PENDING_KEY)
    if not pending or pending["until"] < time.time():
        request.session.pop(PENDING_KEY, None)
        return None, None
    user = get_user_model()._default_manager.filter(pk=pending["user"], is_active=True).first()
    return (user, pending) if user is not None else (None, None)


def _user_failures_key(user_id) -> str:
    return f"qgov:mfa-failures:{user_id}"


def codes_locked(user) -> bool:
    """Whether the user's one-time and recovery codes are refused for now (too many wrong ones)."""
    return (cache.get(_user_failures_key(user.pk)) or 0) >= USER_FAILURES


def count_user_failure(user_id) -> None:
    key = _user_failures_key(user_id)
    cache.add(key, 0, USER_FAILURE_SECONDS)  # the window starts at the first failure
    try:
        cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, USER_FAILURE_SECONDS)


def count_failure(request) -> bool:
    """One wrong second factor; False once the sign-in has had too many and must start over."""
    pending = request.session.get(PENDING_KEY)
    if not pending:
        return False
    count_user_failure(pending["user"])
    pending["failures"] += 1
    if pending["failures"] >= PENDING_FAILURES:
        request.session.pop(PENDING_KEY, None)
        return False
    request.session[PENDING_KEY] = pending
    return True


def finish_sign_in(request, user, *, method: str, phishing_resistant: bool, auth_time: float | None = None,
                   backend: str | None = None, second_factor: str = "") -> None:
    """Signs the user in (after any second step). Platform admins' sign-ins are audited: they are the
    break-glass accounts."""
    request.session.pop(PENDING_KEY, None)
    login(request, user, backend=backend)
    mark_authenticated(request, at=auth_time)
    request.session[SIGN_IN_KEY] = {"method": method, "phishing_resistant": phishing_resistant,
                                    "mfa": second_factor}
    if user.is_superuser or user.is_staff:
        from qgov.audit import mark_transition, record_event
        from qgov.choices import AuditActionChoices

        how = method + (f" + {second_factor}" if second_factor else "")
        mark_transition(user, "sign_in", reason=f"platform admin signed in with {how}")
        record_event(user, action=AuditActionChoices.UPDATE, before={"signed_in_with": None},
                     after={"signed_in_with": how})


class QgovLoginView(LoginView):
    """Django's sign-in form, completed through complete_sign_in."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = complete_sign_in(self.request, form.get_user(), method="password")
        return response or HttpResponseRedirect(self.get_success_url())
