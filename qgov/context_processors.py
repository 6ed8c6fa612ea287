from django.utils.translation import gettext_lazy as _

from qgov.middleware import active_role
from qgov.selectors import unread_notification_count

# The main navigation. Modules without an installed app are shown, disabled, so users see what
# the product covers and what has not arrived yet.
# (label, URL name, app that provides it or None for the core, path prefixes that highlight it)
NAVIGATION = [
    (_("Dashboard"), "dashboard", None, ()),
    (_("Risks"), "risks:risk_list", "risks", ("/risks/",)),
    (_("Certification"), "certification:device_list", "certification", ("/certification/",)),
    (_("Procurement"), "procurement:supplier_list", "procurement", ("/procurement/",)),
    (_("Incidents"), "incidents:incident_list", "incidents", ("/incidents/",)),
    (_("Reports"), "reports:reportrun_list", "reports", ("/reports/",)),
    (_("Audit"), "qgov:auditevent_list", None, ("/audit/",)),
    (_("Agency admin"), "qgov:agency_admin", None, ("/agency/", "/agencies/", "/members/")),
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
    for label, url_name, app, prefixes in NAVIGATION:
        url = None
        if app is None or apps.is_installed(app):
            try:
                url = reverse(url_name)
            except NoReverseMatch:
                url = None
        active = request.path == "/" if url == "/" else request.path.startswith(prefixes)
        items.append({"label": label, "url": url, "active": bool(url) and active, "app": app})
    section = next((item for item in items if item["active"] and item["app"]), None)
    return {
        "navigation": items,
        "section_navigation": _section_navigation(section["app"], request.path) if section else [],
        "active_agency": request.agency,
        "user_agencies": request.agencies,
        "active_role": active_role(request),
        "unread_notifications": unread_notification_count(request.user),
    }


def _section_navigation(app, path):
    from importlib import import_module

    from django.urls import reverse

    entries = getattr(import_module(f"{app}.urls"), "SECTION_NAV", [])
    links = [(label, reverse(name)) for label, name in entries]
    # The longest matching link is the current one.
    current = max((url for _label, url in links if path.startswith(url)), key=len, default=None)
    return [{"label": label, "url": url, "active": url == current} for label, url in links]
