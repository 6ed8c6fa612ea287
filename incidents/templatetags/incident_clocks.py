"""{% load incident_clocks %}: the incident page's panels of regulator deadlines
({% incident_deadlines object %}), timeline ({% incident_timeline object %}) and key actions
({% incident_key_actions object %}). Each costs a fixed number of queries, however many rows."""

from django import template
from django.urls import reverse
from django.utils import timezone

from incidents import deadlines
from incidents.api import notification_state
from incidents.choices import IncidentStatusChoices
from incidents.models import KeyAction, RegulatorNotification, TimelineEntry
from qgov.permissions import user_can
from qgov.roles import Action

register = template.Library()

STATE_BADGES = {"waiting": "secondary", "open": "primary", "overdue": "danger", "sent": "success",
                "sent_late": "warning"}


def _may(context, action, model, incident) -> bool:
    return user_can(context["request"].user, incident.agency_id, action, model)


@register.inclusion_tag("incidents/_deadlines.html", takes_context=True)
def incident_deadlines(context, incident):
    if not _may(context, Action.VIEW, RegulatorNotification, incident):
        return {"shown": False}
    now = timezone.now()
    tz = deadlines.zone(incident.agency.time_zone)
    can_mark = _may(context, Action.CHANGE, RegulatorNotification, incident)
    rows = []
    for row in (RegulatorNotification.objects.filter(incident=incident).select_related("regime", "clock")
                .order_by("due_at", "regime__code", "clock__position")):
        state = notification_state(row, now)
        rows.append({
            "row": row, "state": state, "badge": STATE_BADGES[state],
            "due_local": row.due_at.astimezone(tz) if row.due_at else None,
            "sent_local": row.sent_at.astimezone(tz) if row.sent_at else None,
            "remaining": deadlines.remaining(row.due_at, now) if row.due_at and not row.sent_at else "",
            "mark_url": reverse("incidents:regulatornotification_edit", args=[row.pk])
            if can_mark and row.sent_at is None else None,
        })
    rows.sort(key=lambda r: (r["row"].sent_at is not None, r["row"].due_at is None, r["row"].due_at or now))
    return {"shown": True, "rows": rows, "time_zone": str(tz), "incident": incident,
            "regimes": [regime.code for regime in incident.regimes.all()]}


@register.inclusion_tag("incidents/_timeline.html", takes_context=True)
def incident_timeline(context, incident):
    if not _may(context, Action.VIEW, TimelineEntry, incident):
        return {"shown": False}
    entries = list(TimelineEntry.objects.filter(incident=incident).select_related("author").order_by("at", "pk"))
    corrections = {}
    for entry in entries:
        if entry.corrects_id:
            corrections.setdefault(entry.corrects_id, []).append(entry)
    # A correction is shown with the entry it corrects (and in its own place, marked as one).
    items = [(entry, corrections.get(entry.pk, [])) for entry in entries]
    can_add = _may(context, Action.ADD, TimelineEntry, incident)
    return {"shown": True, "items": items, "incident": incident,
            "add_url": reverse("incidents:timelineentry_add") + f"?incident={incident.pk}" if can_add else None}


@register.inclusion_tag("incidents/_key_actions.html", takes_context=True)
def incident_key_actions(context, incident):
    if not _may(context, Action.VIEW, KeyAction, incident):
        return {"shown": False}
    actions = KeyAction.objects.filter(incident=incident).select_related("performed_by").order_by("performed_at", "pk")
    # A closed incident takes no more key actions (KeyAction.clean): reopen it first.
    can_add = incident.status != IncidentStatusChoices.CLOSED and _may(context, Action.ADD, KeyAction, incident)
    return {"shown": True, "actions": actions, "incident": incident,
            "add_url": reverse("incidents:keyaction_add") + f"?incident={incident.pk}" if can_add else None}
