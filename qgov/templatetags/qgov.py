from django import template

from qgov.audit_display import attach_changes
from qgov.tables import badge_html

register = template.Library()


@register.filter
def changes(event):
    """The FieldChanges of an audit event (label, before, after; related records named). Views
    showing many events attach them for all at once (qgov.audit_display.attach_changes)."""
    if not hasattr(event, "display_changes"):
        attach_changes([event])
    return event.display_changes


@register.simple_tag
def badge(text, colour=None, detail=None):
    """{% badge band.name band.colour score %}: the tables' BadgeColumn badge, "name (detail)"."""
    if text and detail not in (None, ""):
        text = f"{text} ({detail})"
    return badge_html(text, colour)
