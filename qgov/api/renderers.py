"""The API's JSON renderer: what DRF's JSONRenderer writes, written by orjson."""

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

# DRF's encoder for what orjson leaves to `default`: lazy translations, Decimals, and datetimes
# (passed through so that they keep DRF's form: milliseconds, and Z for UTC).
_drf_default = JSONEncoder().default
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class QgovJSONRenderer(JSONRenderer):
    """What rest_framework.renderers.JSONRenderer writes with the project's settings (compact,
    UTF-8, U+2028 and U+2029 escaped), from orjson, several times faster. The same bytes, but for
    floats with a small exponent (1.5e-7, not 1.5e-07: the same number) and a float that is not a
    number (null, where DRF's strict JSON fails); the API's decimals are strings. A request for
    indented output, or data orjson refuses (an integer beyond 64 bits, keys that are not strings),
    is left to DRF's renderer."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        if self.get_indent(accepted_media_type, renderer_context or {}) is not None:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            content = orjson.dumps(data, default=_drf_default, option=_OPTIONS)
        except (orjson.JSONEncodeError, TypeError):
            return super().render(data, accepted_media_type, renderer_context)
        # As DRF does: the two line separators are valid JSON but not valid JavaScript.
        if b"\xe2\x80\xa8" in content or b"\xe2\x80\xa9" in content:
            content = content.replace(b"\xe2\x80\xa8", b"\\u2028").replace(b"\xe2\x80\xa9", b"\\u2029")
        return content
