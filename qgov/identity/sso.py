"""Sign-in through an agency's identity provider, whatever its protocol: finding the provider (the login
page's box), starting the sign-in at /login/sso/<agency code>/ (OpenID Connect in qgov.identity.oidc,
SAML 2.0 in qgov.identity.saml), the requests a session waits for an answer to, and what follows a
verified answer — sign in (through complete_sign_in), step up once, or refuse with a page. Provider users
re-authenticate at their provider (OpenID Connect: max_age=0, prompt=login; SAML: ForceAuthn)."""

import logging
import re
import time
from dataclasses import asdict
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

from qgov.identity.oidc.tokens import is_phishing_resistant
from qgov.identity.providers.choices import IdentityProviderProtocolChoices
from qgov.identity.providers.models import ExternalIdentity, IdentityProvider
from qgov.identity.provisioning import SignInRefused, sync_provider_memberships
from qgov.identity.reauth import ReauthMethod, mark_authenticated, register_reauth_method
from qgov.identity.signin import complete_sign_in

logger = logging.getLogger(__name__)

SIGN_IN = "sign_in"
REAUTH = "reauth"
MAX_PENDING = 5  # sign-ins started in other tabs that the session still waits for
PENDING_SECONDS = 15 * 60
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


def audit_identity(identity, transition: str, reason: str) -> None:
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


UNVERIFIED = gettext_lazy("The answer from your agency's identity provider could not be verified, so you are not "
                          "signed in.")
USED = gettext_lazy("This sign-in has expired or was already used.")


def start_sign_in(request, provider, *, next_url: str, purpose: str = SIGN_IN):
    """Off to the provider, by its protocol; a re-authentication makes it ask again (OpenID Connect:
    max_age=0 and prompt=login; SAML: ForceAuthn)."""
    if provider.protocol == IdentityProviderProtocolChoices.SAML:
        from qgov.identity.saml.views import start_saml_sign_in

        return start_saml_sign_in(request, provider, next_url=next_url, purpose=purpose)
    from qgov.identity.oidc.views import start_oidc_sign_in

    return start_oidc_sign_in(request, provider, next_url=next_url, purpose=purpose)


class SsoStartView(View):
    """/login/sso/<agency code>/: off to the agency's provider."""

    def get(self, request, agency_code):
        provider = provider_for_agency(agency_code)
        if provider is None:
            return refusal(request, _("There is no sign-in through an agency's identity provider for “%(code)s”.")
                           % {"code": agency_code[:32]}, reason="no_provider", status=404)
        return start_sign_in(request, provider, next_url=safe_next(request, request.GET.get("next", "")))


def sign_in_verified(request, provider, pending, claims, *, send_back):
    """A verified answer (`claims` with the person's `sub`, groups, acr, auth_time) for the sign-in `pending`
    (with `next_url` and `stepped_up`): sign in, refuse, or `send_back(step_up)` once to the provider."""
    subject = claims["sub"]
    identity = ExternalIdentity.objects.select_related("user").filter(provider=provider, subject=subject).first()
    try:
        result = sync_provider_memberships(provider, identity.user if identity else None, subject, claims)
    except SignInRefused as refused:
        if identity is not None:
            audit_identity(identity, "sign_in_refused", refused.reason)
        return refusal(request, refused.message, reason=refused.reason, provider=provider)
    step_up = result.step_up
    if step_up is not None:
        if pending.stepped_up:  # sent back once already, and the provider still falls short
            if identity is not None:
                audit_identity(identity, "sign_in_refused", step_up.reason)
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
    audit_identity(result.identity, transition, "phishing-resistant" if phishing_resistant else "provider")
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
        return start_sign_in(request, provider, next_url=next_url, purpose=REAUTH)


def provider_reauth_for(user):
    """Users who sign in through a provider only (no password of their own) re-authenticate there."""
    if user.has_usable_password():
        return None
    identity = (ExternalIdentity.objects.filter(user=user, provider__in=active_providers())
                .order_by("-last_sign_in", "-pk").first())
    return ProviderReauth(identity.provider_id) if identity else None


register_reauth_method(provider_reauth_for)


# --- the requests a session waits for an answer to -----------------------------------------------


def keep(request, state: str, pending, *, session_key: str) -> None:
    """Keep `pending` (a dataclass with `started`) under `state`; also for SAML's requests (qgov.identity.saml),
    under their own session key and their request ID."""
    now = time.time()
    kept = {key: value for key, value in (request.session.get(session_key) or {}).items()
            if now - value.get("started", 0) < PENDING_SECONDS}
    kept[state] = asdict(pending)
    # Oldest first out: a session never holds more than MAX_PENDING open requests.
    request.session[session_key] = dict(sorted(kept.items(), key=lambda item: item[1]["started"])[-MAX_PENDING:])


def take(request, state: str, *, session_key: str, kind):
    """The request this state was issued for, removed from the session (a second use finds nothing)."""
    kept = dict(request.session.get(session_key) or {})
    value = kept.pop(state, None) if isinstance(state, str) and state else None
    if value is None:
        return None
    request.session[session_key] = kept
    if time.time() - value.get("started", 0) >= PENDING_SECONDS:
        return None
    return kind(**value)
