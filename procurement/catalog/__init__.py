"""Procurement's shipped reference data: the supplier due-diligence questionnaire
(questionnaires.json, one entry per version) and the post-quantum migration policies whose
deadlines date quantum-vulnerable components (crypto_policies.json). Written from the project's
domain reference, with its citations.

`load()` is idempotent: entries are matched by code, created or updated, unchanged ones left alone.
A questionnaire version that reviews already use is never changed: publish a new version instead."""

import json
from pathlib import Path

from procurement.models import CryptoPolicy, DueDiligenceReview, Questionnaire

HERE = Path(__file__).parent
QUESTIONNAIRE_FIELDS = ("series", "edition", "title", "description", "questions", "escalation", "outcome_bands",
                        "citations", "unverified")
POLICY_FIELDS = ("name", "issuer", "description", "deadlines", "milestones", "citations", "unverified")


def _upsert(model, fields, entry, *, frozen=lambda record: False) -> str:
    values = {name: entry.get(name, model._meta.get_field(name).get_default()) for name in fields}
    record = model.objects.filter(code=entry["code"]).first()
    if record is None:
        record = model(code=entry["code"], **values)
        outcome = "created"
    elif any(getattr(record, name) != value for name, value in values.items()):
        if frozen(record):
            raise ValueError(f"{entry['code']} is used by reviews and cannot change: publish a new version.")
        for name, value in values.items():
            setattr(record, name, value)
        outcome = "updated"
    else:
        return "unchanged"
    record.full_clean()
    record.save()
    return outcome


def load(directory: Path = HERE) -> str:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for entry in json.loads((directory / "questionnaires.json").read_text(encoding="utf-8")):
        counts[_upsert(Questionnaire, QUESTIONNAIRE_FIELDS, entry,
                       frozen=lambda q: DueDiligenceReview.objects.filter(questionnaire=q).exists())] += 1
    for entry in json.loads((directory / "crypto_policies.json").read_text(encoding="utf-8")):
        counts[_upsert(CryptoPolicy, POLICY_FIELDS, entry)] += 1
    return (f"questionnaires and crypto policies: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged")
