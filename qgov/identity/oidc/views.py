"""Sign-in through an agency's identity provider: find the provider (the login page's box), start the
sign-in (the code flow here; SAML 2.0 in qgov.identity.saml), and the callback that signs in (through
complete_sign_in), steps up once, or refuses with a page. What follows a verified answer is the same for
both protocols: `sign_in_verified` and `reauthenticated`. Provider users re-authenticate at their
provider (OpenID Connect: max_age=0, prompt=login; SAML: ForceAuthn)."""

import logging
import re
from urllib.parse import urlencode

from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from qgov.identity.oidc import flow
from qgov.identity.oidc.client import ProviderError, discover, exchange_code, jwks
from qgov.identity.oidc.tokens import TokenRefused, is_phishing_resistant, verify_id_token
from qgov.identity.providers.choices import IdentityProviderProtocolChoices
from qgov.identity.providers.models import ExternalIdentity, IdentityProvider
from qgov.identity.provisioning import SignInRefused, sync_provider_memberships
from qgov.identity.reauth import ReauthMethod, mark_authenticated, register_reauth_method
from qgov.identity.signin import complete_sign_in

logger = logging.getLogger(__name__)

AGENCY_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
REFUSED_TEMPLATE = "qgov/identity/sign_in_refused.html"
TRY_AGAIN = "try_again"  # advice: start again from the sign-in page
ASK_ADMIN = "ask_admin"  # advice: the agency's qgov administrator can help


def active_providers():
    return IdentityProvider.objects.select_related("agency").filter(is_active=True).order_by("pk")


def provider_for_agency(code: str) -> IdentityProvider | None:
    if not AGENCY_CODE.fullmatch(code or ""):
        return None
    return active_providers().filter(agency__code__iexact=code).first()


def provider_for(query: str) -> IdentityProvider | None:
    """The active provider for what the person typed: an e-mail address or domain (the providers'
    e-mail domains), or an agency code."""
    query = query.strip().lower()
    domain = query.rsplit("@", 1)[1] if "@" in query else query if "." in query else ""
    if not domain:
        return provider_for_agency(query)
    # Few rows (one provider per agency or so), and JSON containment is not portable to SQLite.
    for pk, domains in active_providers().values_list("pk", "email_domains"):
        if domain in (domains or []):
            return active_providers().get(pk=pk)
    return None


def safe_next(request, wanted: str) -> str:
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return wanted
    return reverse("dashboard")


def refusal(request, message: str, *, reason: str, provider=None, advice: str = ASK_ADMIN, status: int = 403):
    """The page a refused sign-in ends on: what happened and what to do. Logged with the reason."""
    logger.warning("Provider sign-in refused (%s) for agency %s, provider %s", reason,
                   provider.agency.code if provider else "-", provider.pk if provider else "-")
    return render(request, REFUSED_TEMPLATE, {"message": message, "reason": reason, "advice": advice,
                                              "provider": provider}, status=status)


def _audit_identity(identity, transition: str, reason: str) -> None:
    """A sign-in (or a refusal of a known person) in the external identity's history. Refusals of
    people qgov does not know are logged only: nothing bounds how many a stranger can cause."""
    from qgov.audit import mark_transition, record_event
    from qgov.choices import AuditActionChoices

    mark_transition(identity, transition, reason=reason)
    record_event(identity, action=AuditActionChoices.UPDATE, before={transition: None},
                 after={transition: timezone.now().isoformat()})


class SsoLookupView(View):
    """The login page's "Sign in with your agency" box. An unknown domain or code and an agency without
    a provider get the same answer, which repeats only what the person typed."""

    def post(self, request):
        query = request.POST.get("sso", "")[:254]
        next_url = request.POST.get("next", "")
        provider = provider_for(query) if query.strip() else None
        if provider is not None:
            target = reverse("login_sso", args=[provider.agency.code])
            if next_url:
                target = f"{target}?{urlencode({'next': safe_next(request, next_url)})}"
            return HttpResponseRedirect(target)
        return render(request, "registration/login.html", {
            "form": AuthenticationForm(request), "next": next_url, "sso_query": query,
            "sso_error": _("There is no sign-in through an agency's identity provider for “%(query)s”. Check the "
                           "address, sign in with your qgov username and password, or ask your agency's qgov "
                           "administrator.") % {"query": query.strip()}})


class SsoStartView(View):
    """/login/sso/<agency code>/: off to the agency's provider."""

    def get(self, request, agency_code):
        provider = provider_for_agency(agency_code)
        if provider is None:
            return refusal(request, _("There is no sign-in through an agency's identity provider for “%(code)s”.")
                           % {"code": agency_code[:32]}, reason="no_provider", status=404)
        next_url = safe_next(request, request.GET.get("next", ""))
        if provider.protocol == IdentityProviderProtocolChoices.SAML:
            from qgov.identity.saml.views import start_saml_sign_in

            return start_saml_sign_in(request, provider, next_url=next_url)
        try:
            metadata = discover(provider.issuer)
        except ProviderError as error:
            logger.warning("Discovery of provider %s failed: %s", provider.pk, error)
            return refusal(request, _("%(provider)s, your agency's identity provider, cannot be reached just now.")
                           % {"provider": provider.name}, reason=error.reason, provider=provider, advice=TRY_AGAIN,
                           status=502)
        return HttpResponseRedirect(flow.authorization_url(request, provider, metadata, next_url=next_url))


UNVERIFIED = gettext_lazy("The answer from your agency's identity provider could not be verified, so you are not "
                          "signed in.")


class SsoCallbackView(View):
    """/login/sso/<agency code>/callback/: the provider sends the browser back here with a code."""

    def get(self, request, agency_code):
        pending = flow.take(request, request.GET.get("state", ""))
        if pending is None or pending.agency_code != agency_code:
            return refusal(request, _("This sign-in has expired or was already used."), reason="state",
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
        if pending.purpose == flow.REAUTH:
            return reauthenticated(request, provider, pending, claims)

        def send_back(step_up):
            return HttpResponseRedirect(flow.authorization_url(
                request, provider, metadata, next_url=pending.next_url, max_age=step_up.max_age,
                acr_values=step_up.acr_values, prompt="login" if step_up.max_age == 0 else "", stepped_up=True))

        return sign_in_verified(request, provider, pending, claims, send_back=send_back)


def sign_in_verified(request, provider, pending, claims, *, send_back):
    """A verified answer (`claims` with the person's `sub`, groups, acr, auth_time) for the sign-in `pending`
    (with `next_url` and `stepped_up`): sign in, refuse, or `send_back(step_up)` once to the provider."""
    subject = claims["sub"]
    identity = ExternalIdentity.objects.select_related("user").filter(provider=provider, subject=subject).first()
    try:
        result = sync_provider_memberships(provider, identity.user if identity else None, subject, claims)
    except SignInRefused as refused:
        if identity is not None:
            _audit_identity(identity, "sign_in_refused", refused.reason)
        return refusal(request, refused.message, reason=refused.reason, provider=provider)
    step_up = result.step_up
    if step_up is not None:
        if pending.stepped_up:  # sent back once already, and the provider still falls short
            if identity is not None:
                _audit_identity(identity, "sign_in_refused", step_up.reason)
            return refusal(request, _("%(message)s Your provider's sign-in did not meet your agency's "
                                      "requirement.") % {"message": step_up.message},
                           reason=f"step_up:{step_up.reason}", provider=provider)
        logger.info("Provider sign-in through %s sent back for a step-up (%s)", provider.pk, step_up.reason)
        return send_back(step_up)
    phishing_resistant = is_phishing_resistant(claims, provider.required_acr)
    response = complete_sign_in(request, result.user, method="provider", phishing_resistant=phishing_resistant,
                                auth_time=claims.get("auth_time"))
    # A further step (a second factor the policy asks for) means the sign-in is not complete yet.
    transition = "sign_in" if response is None else "sign_in_first_factor"
    _audit_identity(result.identity, transition, "phishing-resistant" if phishing_resistant else "provider")
    logger.info("%s: user %s through provider %s (agency %s)%s", transition, result.user.pk, provider.pk,
                provider.agency.code, ", phishing-resistant" if phishing_resistant else "")
    return response or HttpResponseRedirect(pending.next_url)


def reauthenticated(request, provider, pending, claims):
    """A verified answer to a re-authentication `pending` (for `user`, started at `started`): the same person,
    authenticated after the request was made."""
    user = request.user
    linked = user.is_authenticated and user.pk == pending.user and ExternalIdentity.objects.filter(
        provider=provider, subject=claims["sub"], user=user).exists()
    if not linked:
        return refusal(request, _("You re-authenticated as someone else at %(provider)s.")
                       % {"provider": provider.name}, reason="reauth_other_user", provider=provider,
                       advice=TRY_AGAIN)
    auth_time = claims.get("auth_time")
    if auth_time is None or auth_time < int(pending.started):
        return refusal(request, _("%(provider)s did not ask you to sign in again, so qgov cannot tell that it "
                                  "is still you.") % {"provider": provider.name}, reason="reauth_not_fresh",
                       provider=provider, advice=TRY_AGAIN)
    mark_authenticated(request, at=auth_time)
    logger.info("User %s re-authenticated through provider %s", user.pk, provider.pk)
    return HttpResponseRedirect(pending.next_url)


class ProviderReauth(ReauthMethod):
    """Fresh authentication at the user's provider: max_age=0 and prompt=login (SAML: ForceAuthn), so it asks
    again."""

    def __init__(self, provider_id: int):
        self.provider_id = provider_id

    def start(self, request, next_url: str):
        provider = active_providers().filter(pk=self.provider_id).first()
        if provider is None:  # switched off a moment ago: the password form (if any) is what is left
            return None
        if provider.protocol == IdentityProviderProtocolChoices.SAML:
            from qgov.identity.saml.views import start_saml_sign_in

            return start_saml_sign_in(request, provider, next_url=next_url, purpose=flow.REAUTH)
        try:
            metadata = discover(provider.issuer)
        except ProviderError as error:
            return refusal(request, _("%(provider)s, your agency's identity provider, cannot be reached just now.")
                           % {"provider": provider.name}, reason=error.reason, provider=provider, advice=TRY_AGAIN,
                           status=502)
        return HttpResponseRedirect(flow.authorization_url(request, provider, metadata, next_url=next_url,
                                                           purpose=flow.REAUTH, max_age=0, prompt="login"))


def provider_reauth_for(user):
    """Users who sign in through a provider only (no password of their own) re-authenticate there."""
    if user.has_usable_password():
        return None
    identity = (ExternalIdentity.objects.filter(user=user, provider__in=active_providers())
                .order_by("-last_sign_in", "-pk").first())
    return ProviderReauth(identity.provider_id) if identity else None


register_reauth_method(provider_reauth_for)
