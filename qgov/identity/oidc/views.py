"""Sign-in through an agency's OpenID Connect provider: the start of the code flow and the callback,
which checks the answer and hands the verified claims to qgov.identity.sso (sign in, step up once, or refuse)."""

import logging
import re

from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _
from django.views import View

from qgov.identity.oidc import flow
from qgov.identity.oidc.client import ProviderError, discover, exchange_code, jwks
from qgov.identity.oidc.tokens import TokenRefused, verify_id_token
from qgov.identity.providers.choices import IdentityProviderProtocolChoices
from qgov.identity.providers.models import IdentityProvider
from qgov.identity.sso import REAUTH, SIGN_IN, TRY_AGAIN, UNVERIFIED, USED, reauthenticated, refusal, sign_in_verified

logger = logging.getLogger(__name__)


def start_oidc_sign_in(request, provider, *, next_url: str, purpose: str = SIGN_IN):
    try:
        metadata = discover(provider.issuer)
    except ProviderError as error:
        logger.warning("Discovery of provider %s failed: %s", provider.pk, error)
        return refusal(request, _("%(provider)s, your agency's identity provider, cannot be reached just now.")
                       % {"provider": provider.name}, reason=error.reason, provider=provider, advice=TRY_AGAIN,
                       status=502)
    if purpose == REAUTH:
        return HttpResponseRedirect(flow.authorization_url(request, provider, metadata, next_url=next_url,
                                                           purpose=REAUTH, max_age=0, prompt="login"))
    return HttpResponseRedirect(flow.authorization_url(request, provider, metadata, next_url=next_url))


class SsoCallbackView(View):
    """/login/sso/<agency code>/callback/: the provider sends the browser back here with a code."""

    def get(self, request, agency_code):
        pending = flow.take(request, request.GET.get("state", ""))
        if pending is None or pending.agency_code != agency_code:
            return refusal(request, USED, reason="state",
                           advice=TRY_AGAIN, status=400)
        provider = IdentityProvider.objects.select_related("agency").filter(pk=pending.provider).first()
        if provider is None or not provider.is_active or provider.protocol != IdentityProviderProtocolChoices.OIDC:
            return refusal(request, _("Sign-in through this identity provider is switched off."),
                           reason="provider_inactive", provider=provider)
        if "iss" in request.GET and request.GET["iss"] != provider.issuer:
            # RFC 9207: the answer names another issuer (a mix-up between providers).
            return refusal(request, UNVERIFIED, reason="response_issuer", provider=provider)
        if request.GET.get("error") or not request.GET.get("code"):
            error = re.sub(r"[^\w.-]", "", request.GET.get("error", "no_code"))[:60]
            return refusal(request, _("%(provider)s did not sign you in (%(error)s).")
                           % {"provider": provider.name, "error": error}, reason=f"provider:{error}",
                           provider=provider, advice=TRY_AGAIN)
        try:
            metadata = discover(provider.issuer)
            answer = exchange_code(metadata, client_id=provider.client_id, client_secret=provider.client_secret,
                                   code=request.GET["code"], redirect_uri=pending.redirect_uri,
                                   code_verifier=pending.code_verifier)
            claims = verify_id_token(answer["id_token"], issuer=provider.issuer, client_id=provider.client_id,
                                     nonce=pending.nonce, max_age=pending.max_age,
                                     keys=lambda refresh: jwks(metadata, refresh=refresh))
        except ProviderError as error:
            logger.warning("Provider %s: %s", provider.pk, error)
            return refusal(request, UNVERIFIED, reason=error.reason, provider=provider, advice=TRY_AGAIN, status=502)
        except TokenRefused as error:
            return refusal(request, UNVERIFIED, reason=f"id_token:{error.reason}", provider=provider)
        if pending.purpose == REAUTH:
            return reauthenticated(request, provider, pending, claims)

        def send_back(step_up):
            return HttpResponseRedirect(flow.authorization_url(
                request, provider, metadata, next_url=pending.next_url, max_age=step_up.max_age,
                acr_values=step_up.acr_values, prompt="login" if step_up.max_age == 0 else "", stepped_up=True))

        return sign_in_verified(request, provider, pending, claims, send_back=send_back)
