"""SAML 2.0 sign-in, service-provider initiated only: /login/sso/<agency code>/ (qgov.identity.sso,
which dispatches on the protocol) sends an AuthnRequest (HTTP-Redirect) and the session keeps its ID; the
IdP posts its Response to the provider's assertion consumer service, which signs in through the same
steps as OpenID Connect (qgov.identity.sso.sign_in_verified: provisioning, step-up, second factor)
or refuses on the same page. The provider's metadata URL is qgov's entity ID, given to the IdP."""

import re
import secrets
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from qgov.identity import sso
from qgov.identity.providers.choices import IdentityProviderProtocolChoices
from qgov.identity.providers.models import IdentityProvider
from qgov.identity.saml.client import (
    CLOCK_SKEW_SECONDS,
    ResponseRefused,
    authn_request_url,
    sp_metadata_xml,
    verified_claims,
    xmlsec_available,
)
from qgov.identity.sso import REAUTH, SIGN_IN, TRY_AGAIN, UNVERIFIED, USED, reauthenticated, refusal, sign_in_verified

PENDING_KEY = "qgov_saml_pending"
POSTED_SECONDS = 120  # the posted response waits this long for the browser to come back for it
MAX_RESPONSE_CHARS = 500_000
POSTED_KEY = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


@dataclass
class SamlPending:
    """An AuthnRequest this session waits for an answer to, kept under its ID."""

    provider: int
    agency_code: str
    next_url: str
    purpose: str = SIGN_IN
    started: float = 0.0
    stepped_up: bool = False
    user: int | None = None  # reauth: the signed-in user it is for


def start_saml_sign_in(request, provider, *, next_url: str, purpose: str = SIGN_IN, stepped_up: bool = False,
                       force_authn: bool = False, authn_context: str = ""):
    """Off to the IdP with an AuthnRequest. A re-authentication forces a new one (ForceAuthn), and the
    agency's required authentication context is asked for (exact)."""
    if not xmlsec_available():
        return refusal(request, _("Sign-in through %(provider)s is not available just now.")
                       % {"provider": provider.name}, reason="saml:xmlsec1_missing", provider=provider,
                       advice=TRY_AGAIN, status=503)
    force_authn = force_authn or purpose == REAUTH
    request_id, url = authn_request_url(request, provider, force_authn=force_authn,
                                        authn_context=authn_context or provider.required_acr)
    sso.keep(request, request_id, SamlPending(
        provider=provider.pk, agency_code=provider.agency.code, next_url=next_url, purpose=purpose,
        started=time.time(), stepped_up=stepped_up, user=request.user.pk if purpose == REAUTH else None),
        session_key=PENDING_KEY)
    return HttpResponseRedirect(url)


def saml_provider(provider_id) -> IdentityProvider:
    return IdentityProvider.objects.select_related("agency").filter(
        pk=provider_id, protocol=IdentityProviderProtocolChoices.SAML).first()


@method_decorator(csrf_exempt, name="dispatch")  # the IdP's form posts here; the request ID is the binding
class SamlAssertionConsumerView(View):
    """/login/sso/saml/<provider>/acs/. The IdP's form posts from its own site, and the session cookie
    (SameSite=Lax) does not come with a cross-site POST: the response is put aside under a random key and
    the browser sent back here (a top-level GET, which does carry it) to have it checked."""

    def post(self, request, provider_id):
        saml_response = request.POST.get("SAMLResponse", "")
        if not saml_response or len(saml_response) > MAX_RESPONSE_CHARS:
            return refusal(request, UNVERIFIED, reason="saml:no_response", advice=TRY_AGAIN, status=400)
        key = secrets.token_urlsafe(32)
        cache.set(f"qgov:saml-posted:{key}", {"provider": provider_id, "response": saml_response}, POSTED_SECONDS)
        return HttpResponseRedirect(f"{reverse('login_saml_acs', args=[provider_id])}?posted={key}", status=303)

    def get(self, request, provider_id):
        posted_key = request.GET.get("posted", "")
        posted = cache.get(f"qgov:saml-posted:{posted_key}") if POSTED_KEY.fullmatch(posted_key) else None
        cache.delete(f"qgov:saml-posted:{posted_key}")
        if posted is None or posted["provider"] != provider_id:
            return refusal(request, USED, reason="state",
                           advice=TRY_AGAIN, status=400)
        provider = saml_provider(provider_id)
        if provider is None or not provider.is_active:
            return refusal(request, _("Sign-in through this identity provider is switched off."),
                           reason="provider_inactive", provider=provider)
        now = time.time()
        outstanding = {request_id: True for request_id, value in (request.session.get(PENDING_KEY) or {}).items()
                       if value.get("provider") == provider.pk and now - value.get("started", 0) < sso.PENDING_SECONDS}
        try:
            in_response_to, claims = verified_claims(request, provider, posted["response"], outstanding)
        except ResponseRefused as error:
            if error.reason == "unsolicited":  # answers no request this session waits for: as a used OIDC state
                return refusal(request, USED, reason="state", advice=TRY_AGAIN, status=400)
            return refusal(request, UNVERIFIED, reason=f"saml:{error.reason}", provider=provider)
        pending = sso.take(request, in_response_to, session_key=PENDING_KEY, kind=SamlPending)
        if pending is None:
            return refusal(request, USED, reason="state",
                           advice=TRY_AGAIN, status=400)
        # An assertion is used once, whichever session brings it (it is kept until it expires).
        expires = claims.pop("saml_not_on_or_after") or now + sso.PENDING_SECONDS
        if not cache.add(f"qgov:saml-assertion:{provider.pk}:{claims.pop('saml_assertion_id')}", True,
                         max(int(expires - now), 0) + 2 * CLOCK_SKEW_SECONDS):
            return refusal(request, USED, reason="saml:replay",
                           advice=TRY_AGAIN, status=400)
        if pending.purpose == REAUTH:
            return reauthenticated(request, provider, pending, claims)

        def send_back(step_up):
            return start_saml_sign_in(request, provider, next_url=pending.next_url, stepped_up=True,
                                      force_authn=step_up.max_age == 0, authn_context=step_up.acr_values)

        return sign_in_verified(request, provider, pending, claims, send_back=send_back)


class SamlMetadataView(View):
    """/login/sso/saml/<provider>/metadata/: qgov's service provider for this registration (its URL is the
    entity ID), for the agency admin to give their IdP."""

    def get(self, request, provider_id):
        provider = saml_provider(provider_id)
        if provider is None:
            raise Http404
        return HttpResponse(sp_metadata_xml(request, provider), content_type="application/samlmetadata+xml")
