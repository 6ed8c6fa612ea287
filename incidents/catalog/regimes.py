"""The regulator regime catalog shipped with qgov (incidents/catalog/regimes.json): each regime's
reporting clocks, written in our own words from the project's domain reference, with its sources.

`load()` is idempotent: regimes and clocks are matched by code, new ones created, changed ones
updated, unchanged ones left alone. Agency data (the regimes agencies chose, incidents'
notification rows) is never touched; a clock a regime no longer lists is kept, since rows refer to it."""

import datetime as dt
import json
from pathlib import Path

from django.db import transaction

from incidents.models import RegulatorClock, RegulatorRegime

CATALOG = Path(__file__).parent / "regimes.json"
REGIME_FIELDS = ("name", "citation", "description", "applies_from", "sources")
CLOCK_FIELDS = ("label", "position", "start", "hours", "months", "awareness_hours", "after")


def _upsert(record, values: dict, counts: dict):
    changed = [name for name, value in values.items() if getattr(record, name) != value]
    if record.pk is not None and not changed:
        counts["unchanged"] += 1
        return record
    counts["created" if record.pk is None else "updated"] += 1
    for name, value in values.items():
        setattr(record, name, value)
    record.full_clean()
    record.save()
    return record


@transaction.atomic
def load(path: Path = CATALOG) -> str:
    entries = json.loads(path.read_text(encoding="utf-8"))
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    regimes = {regime.code: regime for regime in RegulatorRegime.objects.all()}
    clocks = {(clock.regime_id, clock.code): clock for clock in RegulatorClock.objects.all()}
    for entry in entries:
        applies_from = dt.date.fromisoformat(entry["applies_from"]) if entry.get("applies_from") else None
        regime = _upsert(regimes.get(entry["code"]) or RegulatorRegime(code=entry["code"]),
                         {**{name: entry.get(name, "") for name in REGIME_FIELDS[:3]},
                          "applies_from": applies_from, "sources": entry.get("sources", [])}, counts)
        for position, spec in enumerate(entry["clocks"], start=1):
            after = clocks[(regime.pk, spec["after"])] if spec.get("after") else None
            clock = clocks.get((regime.pk, spec["code"])) or RegulatorClock(regime=regime, code=spec["code"])
            values = {"label": spec["label"], "position": position, "start": spec["start"],
                      "hours": spec.get("hours"), "months": spec.get("months"),
                      "awareness_hours": spec.get("awareness_hours"), "after": after}
            clocks[(regime.pk, spec["code"])] = _upsert(clock, values, counts)
    return (f"regulator regimes and clocks: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged")
