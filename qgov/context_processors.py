import functools

from django.conf import settings
from django.urls import get_urlconf, resolve
from django.utils.translation import gettext_lazy as _

from qgov import registry
from qgov.middleware import active_role
from qgov.permissions import user_can
from qgov.selectors import unread_notification_count

# The core's entries of the main navigation: (label, URL name, path prefixes that highlight it).
# Each registered domain app's section comes between the dashboard and the audit trail.
CORE_START = [(_("Dashboard"), "dashboard", ()), (_("Due soon"), "qgov:due_soon", ("/due/",))]
CORE_END = [
    (_("Reports"), "qgov:reportrun_list", ("/reports/",)),
    (_("Audit"), "qgov:auditevent_list", ("/audit/",)),
    (_("Agency admin"), "qgov:agency_admin", ("/agency/", "/agencies/", "/members/")),
]


def qgov(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    # Sub-templates rendered with the request (tables, panels) run context processors again.
    if not hasattr(request, "_qgov_context"):
        request._qgov_context = _navigation_context(request)
    return request._qgov_context


def navigation_entries():
    """(label, URL name, path prefixes, app label or None for the core), in display order."""
    apps = [(app.nav_label, app.nav[0][1], (app.url_prefix,), app.label) for app in registry.apps() if app.nav]
    return [*((label, name, prefixes, None) for label, name, prefixes in CORE_START), *apps,
            *((label, name, prefixes, None) for label, name, prefixes in CORE_END)]


def _navigation_context(request):
    from django.urls import reverse

    items = []
    for label, url_name, prefixes, app in navigation_entries():
        url = reverse(url_name)
        if not may_open(request, url):
            continue
        active = request.path == "/" if url == "/" else request.path.startswith(prefixes)
        items.append({"label": label, "url": url, "active": active, "app": app})
    section = next((item for item in items if item["active"] and item["app"]), None)
    return {
        "navigation": items,
        "section_navigation": _section_navigation(request, registry.get(section["app"]), request.path)
        if section else [],
        "active_agency": request.agency,
        "user_agencies": request.agencies,
        "active_role": active_role(request),
        "unread_notifications": unread_notification_count(request.user),
    }


@functools.lru_cache(maxsize=1024)
def _page_permission(url, urlconf):
    view_class = getattr(resolve(url, urlconf).func, "view_class", None)
    return view_class.page_permission() if hasattr(view_class, "page_permission") else None


def may_open(request, url) -> bool:
    """Whether the user may open the page at `url` in the active agency: the permission its view
    declares (`page_permission()`: action and model), asked of user_can. A role is offered no
    link it would be refused. The permission of a URL is looked up once per URLconf: resolving the
    navigation's fifteen links was a tenth of a page's URL work."""
    permission = _page_permission(url, get_urlconf() or settings.ROOT_URLCONF)
    if permission is None:
        return True
    action, model = permission
    return user_can(request.user, getattr(request.agency, "pk", None), action, model)  # a lazy object, maybe None


def _section_navigation(request, app, path):
    from django.urls import reverse

    links = [(label, reverse(name)) for label, name in app.nav]
    links = [(label, url) for label, url in links if may_open(request, url)]
    # The longest matching link is the current one.
    current = max((url for _label, url in links if path.startswith(url)), key=len, default=None)
    return [{"label": label, "url": url, "active": url == current} for label, url in links]
