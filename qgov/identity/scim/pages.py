"""The SCIM token of an identity provider, on its own page under the provider's: issued (or rotated)
and revoked by those who manage the agency's identity, after a fresh authentication; the secret is
shown once, in the response that issues it."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from qgov.identity.providers.models import IdentityProvider
from qgov.identity.reauth import FreshAuthenticationRequiredMixin
from qgov.identity.scim.services import scim_token_issue, scim_token_revoke
from qgov.roles import Action


class IdentityProviderScimTokenView(FreshAuthenticationRequiredMixin, TemplateView):
    template_name = "qgov/identity/identityprovider_scim_token.html"

    def get_provider(self) -> IdentityProvider:
        providers = IdentityProvider.objects.select_related("agency").restrict(self.request.user, Action.CHANGE)
        return get_object_or_404(providers, pk=self.kwargs["pk"])

    def get_context_data(self, **kwargs):
        provider = self.get_provider()
        scim_base = self.request.build_absolute_uri(f"/scim/v2/{provider.pk}/")
        return super().get_context_data(object=provider, scim_base=scim_base, **kwargs)

    def post(self, request, pk):
        provider = self.get_provider()
        if request.POST.get("action") == "revoke":
            scim_token_revoke(provider=provider)
            messages.success(request, _("The SCIM token of %(name)s is revoked.") % {"name": provider.name})
            return redirect(self.request.path)
        key = scim_token_issue(provider=provider)
        response = self.render_to_response(self.get_context_data(key=key))
        response["Cache-Control"] = "no-store"  # the secret is shown once
        return response
