"""Procurement's shipped reference data: the supplier due-diligence questionnaire
(questionnaires.json, one entry per version) and the post-quantum migration policies whose
deadlines date quantum-vulnerable components (crypto_policies.json). Written from the project's
domain reference, with its citations.

`load()` is idempotent: entries are matched by code, created or updated, unchanged ones left alone.
A questionnaire version that reviews already use keeps its questions, weights, escalation rule and
bands (`Questionnaire.SCORED_FIELDS`, the model's own rule): publish a new edition instead."""

import json
from pathlib import Path

from django.core.exceptions import ValidationError

from procurement.models import CryptoPolicy, Questionnaire

HERE = Path(__file__).parent
QUESTIONNAIRE_FIELDS = ("series", "edition", "title", "description", "questions", "escalation", "outcome_bands",
                        "citations", "unverified")
POLICY_FIELDS = ("name", "issuer", "description", "deadlines", "milestones", "citations", "unverified")


def _upsert(model, fields, entry) -> str:
    values = {name: entry.get(name, model._meta.get_field(name).get_default()) for name in fields}
    record = model.objects.filter(code=entry["code"]).first()
    if record is None:
        record = model(code=entry["code"], **values)
        outcome = "created"
    elif any(getattr(record, name) != value for name, value in values.items()):
        for name, value in values.items():
            setattr(record, name, value)
        outcome = "updated"
    else:
        return "unchanged"
    try:  # the model refuses, among the rest, a change to a questionnaire version that reviews use
        record.full_clean()
    except ValidationError as error:
        problems = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items())
        raise ValueError(f"{entry['code']} cannot be loaded: {problems}") from error
    record.save()
    return outcome


def load(directory: Path = HERE) -> str:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for entry in json.loads((directory / "questionnaires.json").read_text(encoding="utf-8")):
        counts[_upsert(Questionnaire, QUESTIONNAIRE_FIELDS, entry)] += 1
    for entry in json.loads((directory / "crypto_policies.json").read_text(encoding="utf-8")):
        counts[_upsert(CryptoPolicy, POLICY_FIELDS, entry)] += 1
    return (f"questionnaires and crypto policies: {counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged")
