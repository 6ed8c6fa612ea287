"""Domain apps register themselves here; the core names none of them.

Each domain app declares everything the core needs of it in one `QgovApp` in its own package
(`<app>/app.py`), and its AppConfig.ready() hands it to `register()`. The core then reads the
registry for the main and section navigation, the UI and API routes, the dashboard panels, the
panels it adds to other apps' detail pages, the Celery beat schedule, the role table, the catalog and
demo loaders and the agency-setup hooks.
docs/apps.md shows a declaration.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from django.urls import include, path


@dataclass(frozen=True)
class AppAction:
    """An action an app adds to the role table, with the roles that grant it."""

    name: str
    label: str
    roles: frozenset[str]


@dataclass(frozen=True)
class QgovApp:
    label: str  # the Django app label; its UI lives under /<label>/
    nav_label: str  # the section's name in the main navigation
    nav: Sequence[tuple[str, str]]  # (label, URL name) of the section's pages; the first is the main entry
    nav_order: int = 100  # position in the main navigation, between the dashboard and the audit trail
    urls: str | None = None  # the module of its UI routes, included under /<label>/
    api_routes: Sequence[tuple] = ()  # (prefix, viewset) or (prefix, viewset, basename) under /api/
    beat_schedule: Mapping[str, dict] = field(default_factory=dict)  # Celery beat entries
    panels: Sequence = ()  # qgov.dashboard.Panel instances
    # qgov.detail_panels.DetailPanel instances: what the app shows on other apps' detail pages
    # (e.g. the components it links to a device, on the device's page).
    detail_panels: Sequence = ()
    actions: Sequence[AppAction] = ()  # actions added to the role table
    agency_setup: Sequence[Callable] = ()  # called with each new agency; each must be idempotent
    catalog_loader: Callable[[], str] | None = None  # loads the app's shared reference data; returns a summary
    # load(agency=..., users={role: user}) adds demo records; it may return lines for load_demo to
    # print after the logins (a link to try, say).
    demo_loader: Callable | None = None
    # OpenAPI enum names for the app's choice sets ({"DeviceStatusEnum": "app.choices.DeviceStatusChoices"}),
    # added to drf-spectacular's ENUM_NAME_OVERRIDES so that fields of one name ("status", "kind") in
    # several models get stable, distinct enum names in /api/schema/.
    api_enum_names: Mapping[str, str] = field(default_factory=dict)
    # Pages outside the app's /<label>/ section, for visitors without an account (a one-time link):
    # (path prefix, URL module), e.g. ("portal/", "app.portal_urls"), included at the site's root.
    # The views themselves must not require sign-in, must check their own link and should be
    # rate-limited (qgov.ratelimit).
    public_urls: Sequence[tuple[str, str]] = ()
    # qgov.reports.sections.ReportSection instances: what the app contributes to each kind of report.
    report_sections: Sequence = ()

    @property
    def url_prefix(self) -> str:
        return f"/{self.label}/"


_apps: dict[str, QgovApp] = {}


def register(app: QgovApp) -> QgovApp:
    """Called from the app's AppConfig.ready()."""
    from qgov import dashboard, detail_panels, roles
    from qgov.celery import add_beat_entries
    from qgov.reports import sections

    if app.label in _apps:
        raise ValueError(f"The app {app.label!r} is already registered.")
    for action in app.actions:
        roles.register_action(action.name, action.label, action.roles)
    for panel in app.panels:
        dashboard.register(panel)
    for panel in app.detail_panels:
        detail_panels.register(panel)
    for section in app.report_sections:
        sections.register(section)
    add_beat_entries(app.beat_schedule)
    _add_enum_names(app.api_enum_names)
    _apps[app.label] = app
    return app


def _add_enum_names(names: Mapping[str, str]) -> None:
    from django.conf import settings

    overrides = settings.SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})
    clashes = sorted(name for name, path in names.items() if overrides.get(name, path) != path)
    if clashes:
        raise ValueError(f"OpenAPI enum names already taken: {', '.join(clashes)}")
    overrides.update(names)  # in place: drf-spectacular holds this very dict


def unregister(label: str) -> None:
    """Undo `register` (tests that register a throwaway app)."""
    from qgov import dashboard, detail_panels, roles
    from qgov.celery import remove_beat_entries
    from qgov.reports import sections

    app = _apps.pop(label)
    for action in app.actions:
        roles.unregister_action(action.name)
    for panel in app.panels:
        dashboard.unregister(panel)
    for panel in app.detail_panels:
        detail_panels.unregister(panel)
    for section in app.report_sections:
        sections.unregister(section.key)
    remove_beat_entries(app.beat_schedule)


def apps() -> list[QgovApp]:
    """The registered apps in navigation order (then registration order)."""
    return sorted(_apps.values(), key=lambda app: app.nav_order)


def get(label: str) -> QgovApp | None:
    return _apps.get(label)


def url_patterns() -> list:
    return [path(app.url_prefix.lstrip("/"), include(app.urls)) for app in apps() if app.urls]


def public_url_patterns() -> list:
    """Each app's public pages (`public_urls`), at the root of the site."""
    return [path(prefix, include(module)) for app in apps() for prefix, module in app.public_urls]


def api_routes() -> list[tuple]:
    return [route for app in apps() for route in app.api_routes]


def beat_schedule() -> dict:
    return {name: entry for app in apps() for name, entry in app.beat_schedule.items()}


def agency_setup(agency) -> None:
    """Run every app's setup for a new agency (from the create service and the demo loader)."""
    for app in apps():
        for hook in app.agency_setup:
            hook(agency)
