from django import template

from qgov.tables import badge_html

register = template.Library()


@register.filter
def changes(event):
    """(field, before, after) for each field an audit event changed; versions left out."""
    before, after = event.before or {}, event.after or {}
    return [(name, before.get(name), after.get(name)) for name in event.changed_fields if name != "version"]


@register.simple_tag
def badge(text, colour=None, detail=None):
    """{% badge band.name band.colour score %}: the tables' BadgeColumn badge, "name (detail)"."""
    if text and detail not in (None, ""):
        text = f"{text} ({detail})"
    return badge_html(text, colour)
