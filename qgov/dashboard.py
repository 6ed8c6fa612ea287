"""Dashboard panels. The core shows the agency at a glance; each domain app declares its own
panels (exposed assets, expiring certificates, open cases…) in its QgovApp (qgov.registry)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Panel:
    title: str
    template: str
    context: Callable  # (request, agency) -> dict
    order: int = 100


_panels: list[Panel] = []


def register(panel: Panel) -> Panel:
    _panels.append(panel)
    return panel


def unregister(panel: Panel) -> None:
    _panels.remove(panel)


def panels_for(request, agency):
    """(panel, its context) of each panel for this user and agency; a panel whose context is None
    has nothing for this user (e.g. approvals for someone who does not approve) and is left out."""
    shown = []
    for panel in sorted(_panels, key=lambda p: p.order):
        context = panel.context(request, agency)
        if context is not None:
            shown.append((panel, context))
    return shown


def _agency_overview(request, agency):
    from qgov.models import AuditEvent, Membership
    from qgov.permissions import user_can
    from qgov.roles import Action

    can_audit = user_can(request.user, agency.pk, Action.VIEW_AUDIT)
    week_ago = timezone.now() - timedelta(days=7)
    return {
        "agency": agency,
        "member_count": Membership.objects.filter(agency=agency).count(),
        "changes_this_week": AuditEvent.objects.filter(agency=agency, timestamp__gte=week_ago).count()
        if can_audit
        else None,
    }


# How many upcoming due dates the panel names; the due-soon page lists them all.
DUE_SOON_PANEL_ITEMS = 5


def _due_soon(request, agency):
    from qgov.duedates.selectors import due_items

    items = due_items(user=request.user, agency=agency, within_days=agency.warning_window_days)
    upcoming = [item for item in items if not item.overdue]
    return {"overdue_count": len(items) - len(upcoming), "upcoming_count": len(upcoming),
            "next": upcoming[:DUE_SOON_PANEL_ITEMS], "window": agency.warning_window_days}


register(Panel(title=_("Agency"), template="qgov/panels/agency_overview.html", context=_agency_overview, order=0))
register(Panel(title=_("Due soon"), template="qgov/panels/due_soon.html", context=_due_soon, order=1))
