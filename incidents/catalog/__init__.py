"""The playbook templates shipped with qgov (playbooks.json): one per kind of quantum-network
incident, PB-01 to PB-08, each with its ordered steps by phase and its citations.

`load()` is idempotent: templates are matched by code (steps by position), new ones created,
changed ones updated, unchanged ones left alone, steps a template no longer lists removed. A
template whose content changed gets a new version, so that agency copies show it has moved on.
Agency copies are never touched."""

import json
from pathlib import Path

from django.db import transaction

from incidents.models import Playbook, PlaybookStep

HERE = Path(__file__).parent
PLAYBOOK_FIELDS = ("title", "incident_type", "description", "citations")
STEP_FIELDS = ("phase", "csf_category", "instruction", "mandatory", "role")


def _changed(record, values: dict) -> bool:
    return any(getattr(record, name) != value for name, value in values.items())


@transaction.atomic
def load(directory: Path = HERE) -> str:
    entries = json.loads((directory / "playbooks.json").read_text(encoding="utf-8"))
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    templates = {p.code: p for p in Playbook.objects.filter(agency__isnull=True)}
    for entry in entries:
        values = {name: entry.get(name) for name in PLAYBOOK_FIELDS}
        playbook = templates.get(entry["code"])
        created = playbook is None
        changed = created or _changed(playbook, values)
        if created:
            playbook = Playbook(agency=None, code=entry["code"])
        if changed:
            for name, value in values.items():
                setattr(playbook, name, value)
            playbook.full_clean()
            playbook.save()  # an update is a new version
        steps_changed = False
        existing = {s.position: s for s in playbook.steps.all()}
        for step in entry["steps"]:
            step_values = {name: step.get(name) for name in STEP_FIELDS}
            record = existing.pop(step["position"], None)
            if record is not None and not _changed(record, step_values):
                continue
            record = record or PlaybookStep(playbook=playbook, position=step["position"])
            for name, value in step_values.items():
                setattr(record, name, value)
            record.full_clean()
            record.save()
            steps_changed = True
        for stale in existing.values():
            stale.delete()
            steps_changed = True
        if steps_changed and not changed:
            playbook.save()  # the steps are part of the template: a new version
        counts["created" if created else "updated" if changed or steps_changed else "unchanged"] += 1
    return (f"playbook templates: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged")
