"""Regulator notification clocks (helper "clocks" replaces this module at merge).

STUB: `notifications_sync` does nothing yet. The incident services call it after an incident is
created or its detected_at / classified_at / regimes change, so the clocks can be (re)computed."""


def notifications_sync(incident) -> None:
    """STUB until merge: no clocks yet."""
    return None
