"""The API's JSON parser: a hostile body is a 400, never a server error."""

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Far beyond any request body the API defines (its deepest, a JSON field's list of lists, is 3).
MAX_DEPTH = 32


def _depth_exceeds(data, limit: int) -> bool:
    # Iterative, so a deep body cannot exhaust the stack here either.
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            pending.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return False


class JSONParser(parsers.JSONParser):
    """Refuses bodies nested deeper than MAX_DEPTH: the standard library's decoder recurses and
    raises RecursionError (a 500) at about a thousand levels, and anything deeper than the API's
    own shapes only costs the serializers, the audit trail and the renderers."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            too_deep = _depth_exceeds(data, MAX_DEPTH)
        except RecursionError:
            too_deep = True
        if too_deep:
            raise ParseError(_("JSON parse error - nested deeper than %(limit)s levels.") % {"limit": MAX_DEPTH})
        return data
