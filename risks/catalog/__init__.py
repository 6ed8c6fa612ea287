"""The threat-vector catalog shipped with qgov (risks/catalog/threat_vectors.json, written from the
project's domain reference with its citations). Loading is idempotent: new entries are created,
changed ones updated (and audited), unchanged ones left alone; agency data is never touched."""

import json
from pathlib import Path

from risks.models import ThreatVector

CATALOG_FILE = Path(__file__).with_name("threat_vectors.json")
FIELDS = ("title", "category", "description", "default_likelihood", "default_impact", "rationale", "citations")


def load(path: Path = CATALOG_FILE) -> str:
    entries = json.loads(path.read_text(encoding="utf-8"))
    existing = {tv.code: tv for tv in ThreatVector.objects.all()}
    created = updated = 0
    for entry in entries:
        vector = existing.get(entry["code"])
        if vector is None:
            vector = ThreatVector(code=entry["code"], **{f: entry[f] for f in FIELDS})
            vector.full_clean()
            vector.save()
            created += 1
        elif any(getattr(vector, f) != entry[f] for f in FIELDS):
            for field in FIELDS:
                setattr(vector, field, entry[field])
            vector.full_clean()
            vector.save()
            updated += 1
    return f"threat vectors: {created} created, {updated} updated, {len(entries) - created - updated} unchanged"
