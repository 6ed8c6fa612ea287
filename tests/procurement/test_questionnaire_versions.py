"""A questionnaire version that reviews use keeps what they were answered and scored against — its
questions, weights, escalation rule and outcome bands, and the code, series and edition that name
it — whichever path writes: the API, the edit page, the core service and the catalog loader. Its
title, description and citations stay correctable; a version no review uses stays editable."""

import copy
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from procurement import catalog
from procurement.models import Questionnaire
from procurement.services import review_start
from qgov.choices import RoleChoices
from qgov.models import AuditEvent
from qgov.services import object_update
from tests.procurement.factories import SupplierFactory

pytestmark = pytest.mark.django_db

IN_USE = "Edition 1 of QKD-SCRM-1 is used by 2 reviews; publish a new edition instead."


@pytest.fixture
def questionnaire():
    catalog.load()
    return Questionnaire.objects.get(code="QKD-SCRM-1")


@pytest.fixture
def in_use(questionnaire, agency, member_of):
    """The shipped edition, used by a draft review and by a submitted one."""
    from qgov.services import object_transition

    editor = member_of(agency, RoleChoices.EDITOR)
    review_start(supplier=SupplierFactory(agency=agency, name="Photonica AG"), user=editor)
    submitted = review_start(supplier=SupplierFactory(agency=agency, name="Cryptovault Ltd"), user=editor)
    object_transition(instance=object_transition(instance=submitted, name="complete", user=editor),
                      name="submit", user=editor)
    return questionnaire


def moved_weight(questionnaire):
    """Q1 one point lighter, Q2 one heavier: still totalling 100, so only the in-use rule refuses."""
    questions = copy.deepcopy(questionnaire.questions)
    questions[0]["weight"] -= 1
    questions[1]["weight"] += 1
    return questions


def reworded(questionnaire):
    questions = copy.deepcopy(questionnaire.questions)
    questions[0]["text"] = "Who owns you?"
    return questions


CHANGES = [
    ("questions", moved_weight),
    ("questions", reworded),
    ("escalation", lambda q: {"criticality": ["critical", "high"], "questions": ["Q1", "Q6", "Q8"]}),
    ("outcome_bands", lambda q: [{"min_score": 80, "outcome": "approve"}, {"min_score": 50, "outcome": "conditional"},
                                 {"min_score": 0, "outcome": "reject"}]),
    ("edition", lambda q: 3),
    ("series", lambda q: "qkd-scrm-renamed"),
    ("code", lambda q: "QKD-SCRM-X"),
]


def unchanged(questionnaire):
    stored = Questionnaire.objects.get(pk=questionnaire.pk)
    assert stored.version == questionnaire.version
    assert [getattr(stored, name) for name in Questionnaire.SCORED_FIELDS] == [
        getattr(questionnaire, name) for name in Questionnaire.SCORED_FIELDS]
    assert not AuditEvent.objects.for_object(stored).filter(action="update").exists()


@pytest.mark.parametrize(("field", "change"), CHANGES, ids=[
    "weights", "question-text", "escalation", "bands", "edition", "series", "code"])
def test_the_api_refuses_a_change_to_a_version_in_use(api_as, superuser, in_use, field, change):
    response = api_as(superuser).patch(f"/api/questionnaires/{in_use.pk}/", {field: change(in_use)}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["errors"] == {field: [IN_USE]}
    unchanged(in_use)


def test_the_api_names_every_refused_field(api_as, superuser, in_use):
    response = api_as(superuser).patch(f"/api/questionnaires/{in_use.pk}/", {
        "questions": moved_weight(in_use), "escalation": {}, "title": "Typo fixed"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"questions": [IN_USE], "escalation": [IN_USE]}
    unchanged(in_use)
    assert Questionnaire.objects.get(pk=in_use.pk).title == in_use.title  # nothing of it was written


def test_the_description_of_a_version_in_use_stays_correctable(api_as, superuser, in_use):
    response = api_as(superuser).patch(f"/api/questionnaires/{in_use.pk}/", {
        "title": "Quantum supplier due diligence (QKD and PQC)", "description": "Corrected.",
        "citations": ["NIST SP 800-161 Rev. 1"], "questions": in_use.questions}, format="json")
    assert response.status_code == 200, response.json()
    stored = Questionnaire.objects.get(pk=in_use.pk)
    assert (stored.title, stored.description, stored.questions) == (
        "Quantum supplier due diligence (QKD and PQC)", "Corrected.", in_use.questions)


def test_a_version_no_review_uses_can_still_change(api_as, superuser, questionnaire, in_use):
    draft = Questionnaire.objects.create(
        code="QKD-SCRM-2", series=questionnaire.series, edition=2, title=questionnaire.title,
        questions=questionnaire.questions, escalation=questionnaire.escalation,
        outcome_bands=questionnaire.outcome_bands)
    response = api_as(superuser).patch(f"/api/questionnaires/{draft.pk}/", {"questions": moved_weight(draft)},
                                       format="json")
    assert response.status_code == 200, response.json()
    assert Questionnaire.objects.get(pk=draft.pk).questions[0]["weight"] == questionnaire.questions[0]["weight"] - 1


def test_the_core_service_refuses_too(superuser, in_use):
    with pytest.raises(ValidationError) as refused:
        object_update(instance=in_use, user=superuser, data={"outcome_bands": [{"min_score": 0, "outcome": "approve"}]})
    assert refused.value.message_dict == {"outcome_bands": [IN_USE]}
    unchanged(in_use)


def form_data(questionnaire, **changes):
    data = {"code": questionnaire.code, "series": questionnaire.series, "edition": str(questionnaire.edition),
            "title": questionnaire.title, "description": questionnaire.description,
            "questions": json.dumps(questionnaire.questions), "escalation": json.dumps(questionnaire.escalation),
            "outcome_bands": json.dumps(questionnaire.outcome_bands),
            "citations": json.dumps(questionnaire.citations), "unverified": questionnaire.unverified,
            "version": questionnaire.version}
    data.update(changes)
    return data


def test_the_edit_page_warns_and_shows_the_form_again_with_the_message(client, superuser, in_use):
    client.force_login(superuser)
    url = reverse("procurement:questionnaire_edit", args=[in_use.pk])
    page = client.get(url).content.decode()
    assert "2 reviews use this edition" in page
    response = client.post(url, form_data(in_use, questions=json.dumps(moved_weight(in_use))))
    assert response.status_code == 200
    assert response.context["form"].errors == {"questions": [IN_USE]}
    assert IN_USE in response.content.decode()
    unchanged(in_use)
    # A title fix goes through.
    response = client.post(url, form_data(in_use, title="Quantum supplier due diligence (rev.)"))
    assert response.status_code == 302
    assert Questionnaire.objects.get(pk=in_use.pk).title == "Quantum supplier due diligence (rev.)"


def shipped_catalog_with(tmp_path, change):
    """A copy of the shipped catalog files, QKD-SCRM-1 changed by `change(entry)`."""
    entries = json.loads((catalog.HERE / "questionnaires.json").read_text(encoding="utf-8"))
    change(next(entry for entry in entries if entry["code"] == "QKD-SCRM-1"))
    (tmp_path / "questionnaires.json").write_text(json.dumps(entries), encoding="utf-8")
    (tmp_path / "crypto_policies.json").write_text(
        (catalog.HERE / "crypto_policies.json").read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def test_the_loader_refuses_to_change_a_version_in_use(tmp_path, in_use):
    def move_weight(entry):
        entry["questions"][0]["weight"] -= 1
        entry["questions"][1]["weight"] += 1

    with pytest.raises(ValueError, match=f"QKD-SCRM-1 cannot be loaded: questions: {IN_USE}"):
        catalog.load(shipped_catalog_with(tmp_path, move_weight))
    unchanged(in_use)
    # The shipped files themselves load again without a change.
    assert catalog.load() == "questionnaires and crypto policies: 0 created, 0 updated, 5 unchanged"


def test_the_loader_corrects_the_title_of_a_version_in_use(tmp_path, in_use):
    def retitle(entry):
        entry["title"] = "Quantum supplier due diligence (rev.)"

    summary = catalog.load(shipped_catalog_with(tmp_path, retitle))
    assert summary.startswith("questionnaires and crypto policies: 0 created, 1 updated")
    assert Questionnaire.objects.get(pk=in_use.pk).title == "Quantum supplier due diligence (rev.)"


def test_the_loader_updates_a_version_no_review_uses(tmp_path, questionnaire):
    def move_weight(entry):
        entry["questions"][0]["weight"] -= 1
        entry["questions"][1]["weight"] += 1

    catalog.load(shipped_catalog_with(tmp_path, move_weight))
    assert Questionnaire.objects.get(pk=questionnaire.pk).questions[0]["weight"] == (
        questionnaire.questions[0]["weight"] - 1)
