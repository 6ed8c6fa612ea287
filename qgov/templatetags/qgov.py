from django import template

register = template.Library()


@register.filter
def changes(event):
    """(field, before, after) for each field an audit event changed; versions left out."""
    before, after = event.before or {}, event.after or {}
    return [(name, before.get(name), after.get(name)) for name in event.changed_fields if name != "version"]
