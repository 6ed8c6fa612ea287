"""The account security page: the user's authenticators, adding and removing them, recovery codes, and
the identity provider accounts linked to theirs.
Changes need a fresh sign-in (qgov.identity.reauth)."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views import View

from qgov.identity.mfa import policy, services
from qgov.identity.mfa.models import RecoveryCode
from qgov.identity.mfa.views import NEW_CODES_KEY, NameForm
from qgov.identity.reauth import FreshAuthenticationRequiredMixin, is_fresh, reauth_url


class FreshChangeMixin(LoginRequiredMixin):
    """A POST that changes authenticators: without a fresh sign-in, the user confirms it is them and comes
    back to the security page (to press the button again), nothing changed."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_fresh(request):
            return HttpResponseRedirect(reauth_url(reverse("qgov:account_security")))
        return super().dispatch(request, *args, **kwargs)


class SecurityView(LoginRequiredMixin, View):
    def get(self, request):
        user = request.user
        user_policy = policy.policy_of(user)
        return render(request, "qgov/account/security.html", {
            "authenticators": user.authenticators.all(),
            "recovery_codes_left": RecoveryCode.objects.filter(user=user, used_at__isnull=True).count(),
            "totp_allowed": user_policy.totp_allowed, "mfa_required": user_policy.mfa_required,
            "phishing_resistant_required": user_policy.phishing_resistant_required,
            # Read-only: the links are made by sign-ins and SCIM, and ended by the agency's admins.
            "external_identities": user.external_identities.select_related("provider__agency", "scim").order_by(
                "provider__agency__code", "provider__name", "subject")})


class PasskeyAddView(FreshAuthenticationRequiredMixin, View):
    def get(self, request):
        return render(request, "qgov/account/passkey_add.html", {"name_form": NameForm(initial={"name": _("Passkey")})})


class AuthenticatorRemoveView(FreshChangeMixin, View):
    def post(self, request, pk):
        authenticator = get_object_or_404(request.user.authenticators, pk=pk)
        try:
            services.authenticator_remove(authenticator=authenticator)
        except services.CannotRemove as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, _("“%(name)s” was removed.") % {"name": authenticator.name})
        return redirect("qgov:account_security")


class RecoveryCodesRegenerateView(FreshChangeMixin, View):
    def post(self, request):
        request.session[NEW_CODES_KEY] = services.recovery_codes_replace(user=request.user, reason="regenerated")
        return redirect("qgov:account_recovery_codes")


class RecoveryCodesView(LoginRequiredMixin, View):
    """Shows a new set of codes once: they are taken from the session as the page is rendered."""

    def get(self, request):
        codes = request.session.pop(NEW_CODES_KEY, None)
        if not codes:
            return redirect("qgov:account_security")
        return render(request, "qgov/account/recovery_codes.html", {"codes": codes})
