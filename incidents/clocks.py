"""Regulator notification clocks of incidents, the timeline and key actions: the services.

`notifications_sync(incident)` is called by the incident services after an incident is created or
its detected_at / classified_at / regimes change (and by `notification_mark_sent`); it is
idempotent and never touches a row already sent. The arithmetic is incidents.deadlines."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents import deadlines
from incidents.choices import RegulatorClockStartChoices, TimelineEntryKindChoices
from incidents.models import (
    AgencyRegime,
    Incident,
    KeyAction,
    RegulatorClock,
    RegulatorNotification,
    TimelineEntry,
)
from qgov.services import object_create, object_update


def regime_applies(regime, incident) -> bool:
    """A regime with a start date covers incidents the agency became aware of from that day
    (the agency's date)."""
    if regime.applies_from is None:
        return True
    local_day = incident.detected_at.astimezone(deadlines.zone(incident.agency.time_zone)).date()
    return local_day >= regime.applies_from


def _clocks_in_order(regime_ids):
    """The clocks of the regimes, those following another clock after the one they follow."""
    clocks = list(RegulatorClock.objects.filter(regime_id__in=regime_ids).select_related("regime"))
    return sorted(clocks, key=lambda c: (c.start == RegulatorClockStartChoices.AFTER_CLOCK, c.regime.code,
                                         c.position))


@transaction.atomic
def notifications_sync(incident, *, created: bool | None = None) -> dict:
    """Bring the incident's notification rows in line with its regimes and clock starts.

    - a clock of a chosen (and applicable) regime gets a row; its clock_start and due_at are
      (re)computed from detected_at / classified_at / the notification it follows, in the
      agency's time zone; a start not known yet leaves both empty;
    - rows of regimes no longer chosen are removed unless sent;
    - a sent row is never changed: it is what was reported.
    `created` (None: an incident of version 1 without rows) gives an incident without regimes the
    agency's. Returns the counts {"created", "updated", "removed", "unchanged"}."""
    locked = Incident._base_manager.select_for_update().select_related("agency").get(pk=incident.pk)
    rows = {row.clock_id: row for row in RegulatorNotification.objects.filter(incident=locked)}
    if created is None:
        created = locked.version == 1 and not rows
    regimes = list(locked.regimes.all())
    if created and not regimes:
        regimes = [link.regime for link in AgencyRegime.objects.filter(agency_id=locked.agency_id)
                   .select_related("regime")]
        if regimes:
            locked.regimes.set(regimes)  # audited by the core's many-to-many signal
    chosen = {regime.pk for regime in regimes if regime_applies(regime, locked)}
    tz = deadlines.zone(locked.agency.time_zone)
    counts = dict.fromkeys(("created", "updated", "removed", "unchanged"), 0)
    for stale in [row for row in rows.values() if row.regime_id not in chosen and row.sent_at is None]:
        stale.delete()
        del rows[stale.clock_id]
        counts["removed"] += 1
    for clock in _clocks_in_order(chosen):
        row = rows.get(clock.pk)
        if row is not None and row.sent_at is not None:
            counts["unchanged"] += 1
            continue
        previous = rows.get(clock.after_id) if clock.after_id else None
        computed = deadlines.deadline(
            clock.rule, awareness=locked.detected_at, classification=locked.classified_at,
            previous_sent=previous.sent_at if previous else None, previous_due=previous.due_at if previous else None,
            tz=tz)
        if row is None:
            row = RegulatorNotification(agency_id=locked.agency_id, incident=locked, regime=clock.regime, clock=clock,
                                        clock_start=computed.start, due_at=computed.due)
            row.full_clean()
            row.save()
            rows[clock.pk] = row
            counts["created"] += 1
        elif (row.clock_start, row.due_at) != (computed.start, computed.due):
            row.clock_start, row.due_at = computed.start, computed.due
            row.save(update_fields=["clock_start", "due_at"])
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    return counts


@transaction.atomic
def notification_mark_sent(*, notification, user, sent_at, reference: str = "",
                           expected_version: int | None = None):
    """Record that a notification went to the regulator: when, under which reference, by whom. Its
    deadline is then fixed; clocks that count from it are recomputed from `sent_at`."""
    current = RegulatorNotification._base_manager.select_for_update().get(pk=notification.pk)
    if current.sent_at is not None:
        raise ValidationError({"sent_at": _("It was already recorded as sent on %(at)s.") % {
            "at": timezone.localtime(current.sent_at).strftime("%Y-%m-%d %H:%M %Z")}})
    saved = object_update(instance=notification, user=user, expected_version=expected_version,
                          data={"sent_at": sent_at, "reference": reference.strip(), "sent_by": user})
    notifications_sync(saved.incident, created=False)
    timeline_record(incident=saved.incident, kind=TimelineEntryKindChoices.NOTIFICATION, user=user, at=sent_at,
                    text=_("%(regime)s %(clock)s sent to the regulator%(ref)s.") % {
                        "regime": saved.regime.code, "clock": saved.clock.label,
                        "ref": _(" (reference %(ref)s)") % {"ref": saved.reference} if saved.reference else ""})
    return saved


def timeline_add(*, incident, user, text: str, at=None, corrects=None):
    """A person's entry on the incident's timeline (a correction when `corrects` is given)."""
    data = {"agency": incident.agency, "incident": incident, "text": text, "corrects": corrects}
    if at is not None:
        data["at"] = at
    return object_create(model=TimelineEntry, user=user, data=data)


def timeline_record(*, incident, kind: str, text: str, user=None, at=None):
    """An automatic entry (a status change, a step done, a key action, a notification sent): written
    by the service that did it, in its transaction, without a permission check of its own."""
    entry = TimelineEntry(agency_id=incident.agency_id, incident=incident, kind=kind, text=text[:4000],
                          at=at or timezone.now(), author=user if user is not None and user.is_authenticated else None)
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def key_action_record(*, incident, user, data: dict):
    """A key action on the incident, with its timeline entry."""
    action = object_create(model=KeyAction, user=user, data={**data, "agency": incident.agency, "incident": incident})
    timeline_record(incident=incident, kind=TimelineEntryKindChoices.KEY_ACTION, user=user, at=action.performed_at,
                    text=_("Key action: %(action)s.") % {"action": action.get_action_display()})
    return action


def transition_timeline(incident, *, label: str, user=None, reason: str = ""):
    """The timeline entry of a lifecycle transition (the incident lifecycle's `after`)."""
    text = _("%(label)s: now %(state)s.") % {"label": label, "state": incident.get_status_display().lower()}
    if reason:
        text += " " + _("Reason: %(reason)s") % {"reason": reason}
    return timeline_record(incident=incident, kind=TimelineEntryKindChoices.LIFECYCLE, text=text, user=user)
