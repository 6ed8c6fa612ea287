from django.utils.translation import gettext_lazy as _

from qgov.selectors import role_in, unread_notification_count

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
        "active_role": role_in(request.user, request.agency),
        "unread_notifications": unread_notification_count(request.user),
    }
