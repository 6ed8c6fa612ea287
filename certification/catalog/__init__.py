"""The scheme catalog shipped with qgov: certification and vetting schemes (schemes.json) and the
arrangements by which jurisdictions recognise each other's certificates, with what each recognises
(recognition_arrangements.json). Written from the project's domain reference, with its citations;
facts the reference could not confirm are said so in each entry's `unverified`.

`load()` is idempotent: entries are matched by code (recognitions by arrangement and scheme), new
ones created, changed ones updated, unchanged ones left alone; recognitions an arrangement no longer
lists are removed. Agency data is never touched."""

import json
from pathlib import Path

from certification.models import Recognition, RecognitionArrangement, Scheme

HERE = Path(__file__).parent
SCHEME_FIELDS = ("name", "kind", "family", "issuing_body", "jurisdictions", "levels", "validity_rule", "validity_years",
                 "interim_validity_years", "description", "citations", "unverified")
ARRANGEMENT_FIELDS = ("name", "member_jurisdictions", "description", "citations", "unverified")
RECOGNITION_FIELDS = ("max_level", "conditions")


def _upsert(model, existing, lookup: dict, values: dict) -> str:
    """Create or update one entry; returns "created", "updated" or "unchanged"."""
    record = existing.get(tuple(lookup.values()))
    if record is None:
        record = model(**lookup, **values)
        outcome = "created"
    elif any(getattr(record, name) != value for name, value in values.items()):
        for name, value in values.items():
            setattr(record, name, value)
        outcome = "updated"
    else:
        return "unchanged"
    record.full_clean()
    record.save()
    existing[tuple(lookup.values())] = record
    return outcome


def load(directory: Path = HERE) -> str:
    schemes = json.loads((directory / "schemes.json").read_text(encoding="utf-8"))
    arrangements = json.loads((directory / "recognition_arrangements.json").read_text(encoding="utf-8"))
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    known_schemes = {(s.code,): s for s in Scheme.objects.all()}
    for entry in schemes:
        counts[_upsert(Scheme, known_schemes, {"code": entry["code"]},
                       {name: entry.get(name) for name in SCHEME_FIELDS})] += 1
    known_arrangements = {(a.code,): a for a in RecognitionArrangement.objects.all()}
    known_recognitions = {(r.arrangement_id, r.scheme_id): r for r in Recognition.objects.all()}
    removed = 0
    for entry in arrangements:
        counts[_upsert(RecognitionArrangement, known_arrangements, {"code": entry["code"]},
                       {name: entry.get(name) for name in ARRANGEMENT_FIELDS})] += 1
        arrangement = known_arrangements[(entry["code"],)]
        listed = set()
        for recognition in entry.get("recognitions", []):
            scheme = known_schemes[(recognition["scheme"],)]
            listed.add(scheme.pk)
            key = {"arrangement_id": arrangement.pk, "scheme_id": scheme.pk}
            counts[_upsert(Recognition, known_recognitions, key,
                           {name: recognition.get(name, "") for name in RECOGNITION_FIELDS})] += 1
        for stale in Recognition.objects.filter(arrangement=arrangement).exclude(scheme_id__in=listed):
            stale.delete()
            removed += 1
    return (f"schemes and recognition arrangements: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {removed} recognitions removed")
