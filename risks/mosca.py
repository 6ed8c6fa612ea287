"""Mosca's inequality: data is exposed when x + y > z, where x is how long it must stay
confidential (shelf-life), y the time needed to migrate it to quantum-safe protection, and z the
years until a cryptographically relevant quantum computer (Mosca, IEEE S&P 2018).

Urgency bands of the gap x + y − z (qgov judgement, see the domain reference §3):
gap ≤ −5 low · −5 < gap ≤ 0 moderate · 0 < gap ≤ 5 high · gap > 5 critical; one band higher
when harvest-now-decrypt-later applies and x exceeds the optimistic z.
"""

from decimal import Decimal

from risks.choices import MoscaBandChoices

BANDS = [MoscaBandChoices.LOW, MoscaBandChoices.MODERATE, MoscaBandChoices.HIGH, MoscaBandChoices.CRITICAL]


def gap(x, y, z) -> Decimal:
    return Decimal(x) + Decimal(y) - Decimal(z)


def band(x, y, z_central, *, z_optimistic, harvestable: bool) -> str:
    g = gap(x, y, z_central)
    if g <= -5:
        index = 0
    elif g <= 0:
        index = 1
    elif g <= 5:
        index = 2
    else:
        index = 3
    if harvestable and Decimal(x) > Decimal(z_optimistic):
        index = min(index + 1, 3)
    return BANDS[index]


def is_exposed(x, y, z) -> bool:
    return gap(x, y, z) > 0
