"""The second step of a sign-in (and enrolment when the policy needs a factor the user lacks), and the
account security page. JSON endpoints serve the passkey ceremonies of static/qgov/passkeys.js."""

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.http import require_POST

from qgov.forms import style_form
from qgov.identity import signin
from qgov.identity.mfa import passkeys, policy, services
from qgov.identity.mfa.models import AuthenticatorKindChoices as Kind
from qgov.identity.reauth import fresh_authentication_required, is_fresh

TOTP_ENROL_KEY = "qgov_totp_enrol_secret"
NEW_CODES_KEY = "qgov_new_recovery_codes"


class StyledForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_form(self)


class CodeForm(StyledForm):
    code = forms.CharField(label=gettext_lazy("Code"), max_length=40,
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                                         "autofocus": True}))


class NameForm(StyledForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100, initial="",
                           help_text=gettext_lazy("To tell it apart, e.g. “Work laptop”."))


def _next_url(request, pending) -> str:
    wanted = (pending or {}).get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return wanted
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _finish(request, user, pending, second_factor: str, *, phishing_resistant: bool):
    next_url = _next_url(request, pending)
    signin.finish_sign_in(request, user, method=pending["method"], auth_time=pending["auth_time"],
                          backend=pending["backend"], second_factor=second_factor,
                          phishing_resistant=pending["phishing_resistant"] or phishing_resistant)
    return next_url


def _pending_or_login(request):
    user, pending = signin.pending_sign_in(request)
    if user is None:
        messages.info(request, _("Your sign-in took too long or was not started: sign in again."))
    return user, pending


def _json_refused(message: str, status: int = 400):
    return JsonResponse({"error": message}, status=status)


# --- the second step ---------------------------------------------------------------------------------


class SecondStepView(View):
    template_name = "qgov/account/mfa_step.html"

    def get(self, request, form=None):
        user, pending = _pending_or_login(request)
        if user is None or pending["enrol"]:
            return redirect("mfa_enrol" if user is not None else "login")
        return render(request, self.template_name, {
            "pending_user": user, "kinds": pending["kinds"], "form": form or CodeForm(),
            "recovery_form": CodeForm(prefix="recovery"), "has_recovery": services.has_recovery_codes(user)})

    def post(self, request):
        """A TOTP code or a recovery code."""
        user, pending = _pending_or_login(request)
        if user is None:
            return redirect("login")
        if signin.codes_locked(user):
            form = CodeForm(request.POST)
            form.add_error(None, _("Too many wrong codes for this account: use a passkey, or try again later."))
            return self.get(request, form=form)
        if "recovery-code" in request.POST:
            new_codes = services.recovery_code_use(user=user, code=request.POST["recovery-code"])
            if new_codes is not None:
                _finish(request, user, pending, "recovery code", phishing_resistant=False)
                request.session[NEW_CODES_KEY] = new_codes
                return redirect("qgov:account_recovery_codes")
        elif Kind.TOTP in pending["kinds"]:
            form = CodeForm(request.POST)
            totp = user.authenticators.filter(kind=Kind.TOTP)
            if form.is_valid() and any(services.totp_verify(authenticator=a, code=form.cleaned_data["code"])
                                       for a in totp):
                return HttpResponseRedirect(_finish(request, user, pending, Kind.TOTP, phishing_resistant=False))
        if not signin.count_failure(request):
            messages.error(request, _("Too many wrong codes: sign in again."))
            return redirect("login")
        form = CodeForm(request.POST)
        form.add_error(None, _("That code is not valid, or was used already."))
        return self.get(request, form=form)


@require_POST
def passkey_sign_in_options(request):
    """Options for the second step (the pending user's passkeys) or, with no sign-in pending, for a
    passkey alone (a discoverable credential: the login page's "Sign in with a passkey")."""
    user, _pending = signin.pending_sign_in(request)
    return HttpResponse(passkeys.authentication_options(request, user), content_type="application/json")


@require_POST
def passkey_sign_in_verify(request):
    user, pending = signin.pending_sign_in(request)
    try:
        passkey = passkeys.authentication_verify(request, passkeys.parse_credential(request.body), user=user)
    except passkeys.PasskeyRefused as refused:
        if user is not None and not signin.count_failure(request):
            return _json_refused(_("Too many failed attempts: sign in again."), 403)
        return _json_refused(_("The passkey was not accepted: %(why)s") % {"why": refused}, 403)
    if user is None:  # a passkey alone: possession and user verification in one, phishing-resistant
        pending = {"method": "passkey", "auth_time": None, "backend": settings.AUTHENTICATION_BACKENDS[0],
                   "phishing_resistant": True, "next": request.GET.get("next", "")}
        user = passkey.user
        if not user.is_active:
            return _json_refused(_("The passkey was not accepted."), 403)
    return JsonResponse({"redirect": _finish(request, user, pending, Kind.PASSKEY, phishing_resistant=True)})


# --- enrolment (during a sign-in the policy holds up, or from the account page) -----------------------


def _enrolling_user(request):
    """The user adding a factor: the signed-in user with a fresh sign-in, or the user of a pending
    sign-in that must enrol first. (user, pending or None)."""
    if request.user.is_authenticated:
        return (request.user, None) if is_fresh(request) else (None, None)
    user, pending = signin.pending_sign_in(request)
    return (user, pending) if user is not None and pending["enrol"] else (None, None)


def _after_enrolment(request, user, pending, kind: str) -> str:
    """Where the browser goes once a factor is added: recovery codes are made with the first one."""
    if pending is not None:
        _finish(request, user, pending, kind, phishing_resistant=kind == Kind.PASSKEY)
    if not services.has_recovery_codes(user):
        request.session[NEW_CODES_KEY] = services.recovery_codes_replace(user=user, reason="first authenticator")
        return reverse("qgov:account_recovery_codes")
    return _next_url(request, pending) if pending is not None else reverse("qgov:account_security")


class EnrolView(View):
    """The sign-in page of a user who must add a second factor before anything else."""

    def get(self, request):
        user, pending = _pending_or_login(request)
        if user is None or not pending["enrol"]:
            return redirect("mfa_step" if user is not None else "login")
        return render(request, "qgov/account/mfa_enrol.html", {
            "pending_user": user, "kinds": pending["kinds"], "name_form": NameForm(initial={"name": _("Passkey")})})


@require_POST
def passkey_register_options(request):
    user, _pending = _enrolling_user(request)
    if user is None:
        return _json_refused(_("Confirm it is you first."), 403)
    return HttpResponse(passkeys.registration_options(request, user), content_type="application/json")


@require_POST
def passkey_register_verify(request):
    user, pending = _enrolling_user(request)
    if user is None:
        return _json_refused(_("Confirm it is you first."), 403)
    if pending is not None and Kind.PASSKEY not in pending["kinds"]:
        raise Http404
    try:
        credential = passkeys.parse_credential(request.body)
        fields = passkeys.registration_verify(request, user, credential)
    except passkeys.PasskeyRefused as refused:
        return _json_refused(_("The passkey was not registered: %(why)s") % {"why": refused}, 400)
    name = str(credential.get("name") or _("Passkey")).strip()[:100] or _("Passkey")
    services.authenticator_add(user=user, kind=Kind.PASSKEY, name=name, **fields)
    return JsonResponse({"redirect": _after_enrolment(request, user, pending, Kind.PASSKEY)})


class TotpEnrolView(View):
    """The secret as a QR code and as text, confirmed by a first code."""

    def dispatch(self, request, *args, **kwargs):
        self.enrolling, self.pending = _enrolling_user(request)
        if self.enrolling is None:
            if request.user.is_authenticated:
                return fresh_authentication_required(lambda r: None)(request)
            return redirect("login")
        allowed = Kind.TOTP in self.pending["kinds"] if self.pending else policy.totp_allowed(self.enrolling)
        if not allowed:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def render_page(self, request, form):
        secret = request.session.get(TOTP_ENROL_KEY) or services.totp_new_secret()
        request.session[TOTP_ENROL_KEY] = secret
        uri = services.totp_uri(secret, user=self.enrolling)
        return render(request, "qgov/account/totp_enrol.html", {
            "form": form, "secret": secret, "qr_svg": segno.make(uri, error="m").svg_inline(scale=5),
            "pending_user": self.enrolling if self.pending else None})

    def get(self, request):
        return self.render_page(request, CodeForm())

    def post(self, request):
        form = CodeForm(request.POST)
        secret = request.session.get(TOTP_ENROL_KEY)
        step = services.totp_matching_step(secret, request.POST.get("code", "")) if secret else None
        if not form.is_valid() or step is None:
            form.add_error(None, _("That code does not match: check the time on your phone and try the next one."))
            return self.render_page(request, form)
        del request.session[TOTP_ENROL_KEY]
        services.authenticator_add(user=self.enrolling, kind=Kind.TOTP, name=_("Authenticator app"),
                                   totp_secret=secret, totp_last_step=step)
        return HttpResponseRedirect(_after_enrolment(request, self.enrolling, self.pending, Kind.TOTP))
