"""Fresh authentication (qgov.identity.reauth) for users with a second factor: they confirm with it —
a passkey, or a TOTP code where allowed — not with the password alone, which is all a thief of the
password would have."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from qgov.identity import signin
from qgov.identity.mfa import passkeys, policy, services
from qgov.identity.mfa.models import AuthenticatorKindChoices as Kind
from qgov.identity.reauth import ReauthMethod, mark_authenticated


def usable_kinds(user) -> list[str]:
    enrolled = set(user.authenticators.values_list("kind", flat=True))
    usable = [Kind.PASSKEY]
    if policy.totp_allowed(user):
        usable.append(Kind.TOTP)
    return [kind for kind in usable if kind in enrolled]


class SecondFactorReauth(ReauthMethod):
    def start(self, request, next_url: str):
        return HttpResponseRedirect(f"{reverse('qgov:account_confirm')}?{urlencode({'next': next_url})}")


SECOND_FACTOR = SecondFactorReauth()


def choose(user):
    """The reauth chooser (qgov.identity.reauth.register_reauth_method): users with a usable factor."""
    return SECOND_FACTOR if usable_kinds(user) else None


def _next_url(request) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return wanted
    return resolve_url(settings.LOGIN_REDIRECT_URL)


class ConfirmView(LoginRequiredMixin, View):
    def get(self, request, form=None):
        from qgov.identity.mfa.views import CodeForm

        return render(request, "qgov/account/confirm.html", {
            "kinds": usable_kinds(request.user), "form": form or CodeForm(), "next": _next_url(request),
            "verify_query": urlencode({"next": _next_url(request)})})

    def post(self, request):
        from qgov.identity.mfa.views import CodeForm

        form = CodeForm(request.POST)
        user = request.user
        if Kind.TOTP in usable_kinds(user) and not signin.codes_locked(user) and form.is_valid() and any(
                services.totp_verify(authenticator=a, code=form.cleaned_data["code"])
                for a in user.authenticators.filter(kind=Kind.TOTP)):
            mark_authenticated(request)
            return HttpResponseRedirect(_next_url(request))
        signin.count_user_failure(user.pk)
        form = CodeForm(request.POST)
        form.add_error(None, _("That code is not valid, or was used already."))
        return self.get(request, form=form)


class PasskeyOptionsView(LoginRequiredMixin, View):
    def post(self, request):
        return HttpResponse(passkeys.authentication_options(request, request.user), content_type="application/json")


class PasskeyVerifyView(LoginRequiredMixin, View):
    def post(self, request):
        try:
            passkeys.authentication_verify(request, passkeys.parse_credential(request.body), user=request.user)
        except passkeys.PasskeyRefused as refused:
            return JsonResponse({"error": _("The passkey was not accepted: %(why)s") % {"why": refused}}, status=403)
        mark_authenticated(request)
        return JsonResponse({"redirect": _next_url(request)})
