"""Constants and helpers the procurement models share."""

import calendar
import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
CURRENCY_CODE = re.compile(r"^[A-Z]{3}$")
FIRMWARE_HASH = re.compile(r"^(?:[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$")

# Only agency admins choose the migration policy that dates every component.
MANAGE_CRYPTO_POLICY = "manage_crypto_policy"


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, or the last day of that month (31 January + 1 → 28 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return datetime.date(year, month, min(day.day, last))


def clean_country(value: str) -> str:
    value = (value or "").strip().upper()
    if value and not COUNTRY_CODE.match(value):
        raise ValidationError(_("Give the ISO 3166-1 alpha-2 code, e.g. DE or JP."), code="invalid")
    return value
