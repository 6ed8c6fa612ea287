"""Mosca's inequality: data is exposed when x + y > z, where x is how long it must stay
confidential (shelf-life), y the time needed to migrate it to quantum-safe protection, and z the
years until a cryptographically relevant quantum computer (Mosca, IEEE S&P 2018).

Urgency bands of the gap x + y − z (qgov judgement, see the domain reference §3):
gap ≤ −5 low · −5 < gap ≤ 0 moderate · 0 < gap ≤ 5 high · gap > 5 critical; one band higher
when harvest-now-decrypt-later applies — the asset's data is confidential and can be recorded
today — and x exceeds the optimistic z. Signature-only assets are not raised: a signature cannot
be harvested now and forged retroactively to any gain.

The policy z is not stored: it is the time from today to the end of the policy deadline year.
"""

import datetime
from decimal import Decimal

from risks.choices import MoscaBandChoices

BANDS = [MoscaBandChoices.LOW, MoscaBandChoices.MODERATE, MoscaBandChoices.HIGH, MoscaBandChoices.CRITICAL]


def gap(x, y, z) -> Decimal:
    return Decimal(x) + Decimal(y) - Decimal(z)


def years_until_end_of(year: int, today: datetime.date) -> Decimal:
    """Years (one decimal) from today to the end of `year` (midnight after 31 December); 0 once past."""
    days = (datetime.date(year + 1, 1, 1) - today).days
    return max(Decimal(days) / Decimal("365.25"), Decimal(0)).quantize(Decimal("0.1"))


def band(x, y, z_central, *, z_optimistic, harvestable: bool, confidential: bool = True) -> str:
    g = gap(x, y, z_central)
    if g <= -5:
        index = 0
    elif g <= 0:
        index = 1
    elif g <= 5:
        index = 2
    else:
        index = 3
    if harvestable and confidential and Decimal(x) > Decimal(z_optimistic):
        index = min(index + 1, 3)
    return BANDS[index]


def is_exposed(x, y, z) -> bool:
    return gap(x, y, z) > 0
