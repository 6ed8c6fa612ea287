"""Where every sign-in completes, whatever proved the first factor (a password, an agency's identity
provider): the one place that decides whether the user is signed in now or has a further step to
take (a second factor the policy asks for), and that records how they signed in."""

from django.contrib.auth import login
from django.contrib.auth.views import LoginView
from django.http import HttpResponseRedirect

from qgov.identity.reauth import mark_authenticated

SIGN_IN_KEY = "qgov_sign_in"  # {"method": ..., "phishing_resistant": bool} of the session's sign-in


def complete_sign_in(request, user, *, method: str, phishing_resistant: bool = False,
                     auth_time: float | None = None, backend: str | None = None):
    """Signs `user` in after their first factor: None when they are signed in, or the response of the
    step they must take first. `method`: "password" or "provider"; `phishing_resistant`: whether the
    proof already was (a passkey, or a provider's amr/acr saying so); `auth_time`: when the user
    authenticated (a provider's auth_time claim), default now. `backend`: as for django.contrib.auth.login
    (the user's own, else the one configured)."""
    login(request, user, backend=backend)
    mark_authenticated(request, at=auth_time)
    request.session[SIGN_IN_KEY] = {"method": method, "phishing_resistant": phishing_resistant}
    return None


class QgovLoginView(LoginView):
    """Django's sign-in form, completed through complete_sign_in."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = complete_sign_in(self.request, form.get_user(), method="password")
        return response or HttpResponseRedirect(self.get_success_url())
