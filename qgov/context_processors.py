from django.utils.translation import gettext_lazy as _

from qgov.middleware import active_role
from qgov.selectors import unread_notification_count

# The main navigation. Modules without an installed app are shown, disabled, so users see what
# the product covers and what has not arrived yet.
NAVIGATION = [
    ("dashboard", _("Dashboard"), "dashboard", None),
    ("risks", _("Risks"), "risks:risk_list", "risks"),
    ("certification", _("Certification"), "certification:device_list", "certification"),
    ("procurement", _("Procurement"), "procurement:supplier_list", "procurement"),
    ("incidents", _("Incidents"), "incidents:incident_list", "incidents"),
    ("reports", _("Reports"), "reports:reportrun_list", "reports"),
    ("audit", _("Audit"), "qgov:auditevent_list", None),
    ("agency", _("Agency admin"), "qgov:agency_admin", None),
]


def qgov(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    # Sub-templates rendered with the request (tables, panels) run context processors again.
    if not hasattr(request, "_qgov_context"):
        request._qgov_context = _navigation_context(request)
    return request._qgov_context


def _navigation_context(request):
    from django.apps import apps
    from django.urls import NoReverseMatch, reverse

    items = []
    for key, label, url_name, app in NAVIGATION:
        url = None
        if app is None or apps.is_installed(app):
            try:
                url = reverse(url_name)
            except NoReverseMatch:
                url = None
        items.append({"key": key, "label": label, "url": url})
    return {
        "navigation": items,
        "active_agency": request.agency,
        "user_agencies": request.agencies,
        "active_role": active_role(request),
        "unread_notifications": unread_notification_count(request.user),
    }
