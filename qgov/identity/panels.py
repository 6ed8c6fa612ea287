"""What identity shows on the agency's page (qgov.detail_panels): the agency's sign-in policy — its
MFA requirements and session limits, as they apply to its members — in one panel, rather than four
bare rows of the field table."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from qgov.detail_panels import DetailPanel
from qgov.identity.sessions import duration_text, platform_limits
from qgov.permissions import user_can
from qgov.roles import Action

POLICY_FIELDS = ("phishing_resistant_required", "totp_allowed", "session_idle_minutes", "session_absolute_minutes")


def agency_sign_in_policy(request, agency) -> dict:
    """The policy as members meet it: an empty limit is the platform's. No query beyond the role check."""
    from qgov.models import Agency

    platform = platform_limits()
    limits = []
    for label, minutes, platform_seconds in (
            (_("Signed out after inactivity"), agency.session_idle_minutes, platform.idle),
            (_("Signed out after signing in, however active"), agency.session_absolute_minutes, platform.absolute)):
        own = minutes is not None and minutes * 60 < platform_seconds
        limits.append({"label": label, "duration": duration_text(minutes * 60 if own else platform_seconds),
                       "source": _("this agency's") if own else _("the platform's")})
    return {
        "phishing_resistant_required": agency.phishing_resistant_required,
        # Where phishing resistance is required an app's codes do not count, whatever totp_allowed says.
        "totp_allowed": agency.totp_allowed and not agency.phishing_resistant_required,
        "limits": limits,
        "edit_url": reverse("qgov:agency_edit", args=[agency.pk])
        if user_can(request.user, agency.pk, Action.CHANGE, Agency) else None,
    }


AGENCY_SIGN_IN_POLICY = DetailPanel(model="qgov.Agency", title=_("Sign-in policy"),
                                    template="qgov/identity/panels/agency_sign_in_policy.html",
                                    context=agency_sign_in_policy, order=10)
