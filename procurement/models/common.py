"""Constants and helpers the procurement models share."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from qgov.dates import add_months  # noqa: F401 - procurement.models re-exports it

COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
FIRMWARE_HASH = re.compile(r"^(?:[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$")

# Only agency admins choose the migration policy that dates every component.
MANAGE_CRYPTO_POLICY = "manage_crypto_policy"


def clean_country(value: str) -> str:
    value = (value or "").strip().upper()
    if value and not COUNTRY_CODE.match(value):
        raise ValidationError(_("Give the ISO 3166-1 alpha-2 code, e.g. DE or JP."), code="invalid")
    return value
