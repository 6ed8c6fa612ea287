"""Due-diligence reviews as the agency's reviewer uses them: start, answer (one transaction, through
the service, the API and the page), complete, submit (scored, frozen, superseding), and the supplier's
approval that the review's outcome allows — with the audit trail, and the pages' query counts."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from procurement import catalog
from procurement.models import DueDiligenceAnswer, DueDiligenceReview, Questionnaire, Supplier, add_months
from procurement.services import review_answers_save, review_start
from qgov.choices import RoleChoices
from qgov.lifecycle import TransitionRefused
from qgov.models import AuditEvent
from qgov.services import object_transition, object_update
from tests.procurement.factories import ComponentFactory, ContractFactory, CryptoComponentFactory, SupplierFactory

pytestmark = pytest.mark.django_db

CODES = [f"Q{n}" for n in range(1, 19)]


@pytest.fixture
def questionnaire():
    catalog.load()
    return Questionnaire.objects.get(code="QKD-SCRM-1")


@pytest.fixture
def editor(agency, member_of):
    return member_of(agency, RoleChoices.EDITOR)


@pytest.fixture
def admin(agency, member_of):
    return member_of(agency, RoleChoices.ADMIN)


@pytest.fixture
def supplier(agency):
    return SupplierFactory(agency=agency, name="Photonica AG", criticality="critical")


def items(default="evidenced", **overrides):
    return [{"question": code, "answer": overrides.get(code, default), "comment": f"{code} seen"} for code in CODES]


def answered_review(supplier, user, default="evidenced", **overrides):
    review = review_start(supplier=supplier, user=user)
    review_answers_save(review=review, user=user, items=items(default, **overrides))
    return object_transition(instance=review, name="complete", user=user)


def events(record, action=None):
    found = AuditEvent.objects.for_object(record).order_by("id")
    return list(found.filter(action=action) if action else found)


# --- start and answer ------------------------------------------------------------------------------

def test_start_creates_one_unknown_answer_per_question_on_the_latest_edition(supplier, editor, questionnaire):
    newer = Questionnaire.objects.create(
        code="QKD-SCRM-2", series=questionnaire.series, edition=2, title=questionnaire.title,
        questions=questionnaire.questions, escalation=questionnaire.escalation,
        outcome_bands=questionnaire.outcome_bands)
    review = review_start(supplier=supplier, user=editor)
    assert review.questionnaire == newer
    assert (review.status, review.reviewer) == ("draft", editor)
    answers = list(review.answers.order_by("pk"))
    assert [a.question for a in answers] == CODES
    assert {a.answer for a in answers} == {"unknown"}
    assert len(events(review, "create")) == 1
    assert all(len(events(answer, "create")) == 1 for answer in answers)


def test_one_review_in_progress_at_a_time(supplier, editor, questionnaire, client):
    review = review_start(supplier=supplier, user=editor)
    with pytest.raises(ValidationError, match="already has a review in progress"):
        review_start(supplier=supplier, user=editor)
    client.force_login(editor)
    body = client.get(supplier.get_absolute_url()).content.decode()
    assert "Start due-diligence review" not in body and review.get_absolute_url() in body
    response = client.post(reverse("procurement:supplier_start_review", args=[supplier.pk]))
    assert response.status_code == 302 and response["Location"] == supplier.get_absolute_url()
    assert DueDiligenceReview.objects.count() == 1
    review_answers_save(review=review, user=editor, items=items())
    object_transition(instance=object_transition(instance=review, name="complete", user=editor), name="submit",
                      user=editor)
    assert review_start(supplier=supplier, user=editor).status == "draft"


def test_a_viewer_cannot_start_or_answer(supplier, member_of, agency, editor, questionnaire):
    viewer = member_of(agency, RoleChoices.VIEWER)
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        review_start(supplier=supplier, user=viewer)
    review = review_start(supplier=supplier, user=editor)
    with pytest.raises(PermissionDenied):
        review_answers_save(review=review, user=viewer, items=items())
    assert set(review.answers.values_list("answer", flat=True)) == {"unknown"}


def test_answers_are_saved_together_and_each_change_is_audited(supplier, editor, questionnaire):
    review = review_start(supplier=supplier, user=editor)
    review_answers_save(review=review, user=editor, items=[
        {"question": "Q1", "answer": "evidenced", "comment": "Register extract"},
        {"question": "Q4", "answer": "partial"}])
    q1, q4 = review.answers.get(question="Q1"), review.answers.get(question="Q4")
    assert (q1.answer, q1.comment, q4.answer, q4.comment) == ("evidenced", "Register extract", "partial", "")
    assert [e.changed_fields for e in events(q1, "update")] == [["answer", "comment", "version"]]
    # Unchanged answers are not written again.
    review_answers_save(review=review, user=editor, items=[{"question": "Q1", "answer": "evidenced"}])
    assert len(events(q1, "update")) == 1


@pytest.mark.parametrize(("bad_items", "key"), [
    ([{"question": "Q1", "answer": "evidenced"}, {"question": "Q99", "answer": "partial"}], "1.question"),
    ([{"question": "Q1", "answer": "evidenced"}, {"question": "Q1", "answer": "partial"}], "1.question"),
    ([{"question": "Q1", "answer": "evidenced"}, {"question": "Q2", "answer": "maybe"}], "1.answer"),
    ([{"question": "Q1", "answer": "evidenced", "score": 3}], "0.non_field_errors"),
    ([{"question": "Q1", "answer": "evidenced"}, {"question": "Q2", "answer": "partial", "comment": "x" * 10_001}],
     "1.comment"),
    ([{"question": "Q1", "answer": "evidenced"}, "Q2"], "1"),
    ([], "non_field_errors"),
    ({"question": "Q1", "answer": "evidenced"}, "non_field_errors"),
])
def test_bad_items_write_nothing(supplier, editor, questionnaire, bad_items, key):
    review = review_start(supplier=supplier, user=editor)
    with pytest.raises(ValidationError) as raised:
        review_answers_save(review=review, user=editor, items=bad_items)
    assert key in raised.value.message_dict
    assert set(review.answers.values_list("answer", flat=True)) == {"unknown"}


def test_answers_are_editable_while_answered_but_not_while_with_the_supplier(supplier, editor, questionnaire):
    from procurement.services import review_send

    review = answered_review(supplier, editor)
    review_answers_save(review=review, user=editor, items=[{"question": "Q2", "answer": "partial"}])
    assert review.answers.get(question="Q2").answer == "partial"
    object_transition(instance=review, name="return_to_draft", user=editor, reason="Recheck Q2")
    review_send(review=review, user=editor, contact_name="Dana Vogt", contact_email="dana@photonica.example")
    with pytest.raises(ValidationError, match="with the supplier"):
        review_answers_save(review=review, user=editor, items=[{"question": "Q2", "answer": "evidenced"}])


# --- submit --------------------------------------------------------------------------------------

def test_submit_scores_freezes_rates_the_supplier_and_supersedes(supplier, editor, questionnaire):
    first = answered_review(supplier, editor, "partial")
    first = object_transition(instance=first, name="submit", user=editor)
    assert (first.status, first.score, first.outcome, first.escalation_reasons) == (
        "submitted", Decimal("50.0"), "conditional", [])
    assert first.next_review_due == add_months(timezone.localdate(), 12)  # critical: every 12 months
    assert (first.submitted_by, first.supersedes) == (editor, None)
    supplier.refresh_from_db()
    assert (supplier.rating_score, supplier.rating_outcome, supplier.rated_on) == (
        Decimal("50.0"), "conditional", timezone.localdate())
    assert [e.detail.get("transition") for e in events(first, "transition")] == ["complete", "submit"]
    assert events(supplier, "update")[-1].changed_fields == ["rated_on", "rating_outcome", "rating_score",
                                                             "version"]

    second = object_transition(instance=answered_review(supplier, editor), name="submit", user=editor)
    first.refresh_from_db()
    assert first.status == "superseded"
    assert second.supersedes == first
    assert DueDiligenceReview.objects.get(pk=second.pk).supersedes_id == first.pk
    assert events(first, "transition")[-1].detail.get("transition") == "supersede"
    supplier.refresh_from_db()
    assert (supplier.rating_score, supplier.rating_outcome) == (Decimal("100.0"), "approve")


def test_submitted_and_superseded_answers_are_frozen(supplier, editor, admin, questionnaire):
    first = object_transition(instance=answered_review(supplier, editor), name="submit", user=editor)
    answer = first.answers.get(question="Q1")
    for user in (editor, admin):
        with pytest.raises(ValidationError, match="can no longer change"):
            review_answers_save(review=first, user=user, items=[{"question": "Q1", "answer": "unknown"}])
        with pytest.raises(ValidationError, match="can no longer change"):  # the generic service too
            object_update(instance=answer, user=user, data={"comment": "changed later"})
    from qgov.services import object_delete

    with pytest.raises(ValidationError, match="can no longer change"):
        object_delete(instance=answer, user=admin)
    object_transition(instance=answered_review(supplier, editor), name="submit", user=editor)
    first.refresh_from_db()
    assert first.status == "superseded"
    with pytest.raises(ValidationError, match="superseded"):
        object_update(instance=answer, user=admin, data={"answer": "partial"})
    answer.refresh_from_db()
    assert (answer.answer, answer.comment, answer.version) == ("evidenced", "Q1 seen", 2)


# --- approving the supplier ----------------------------------------------------------------------

def test_approval_needs_a_submitted_review(supplier, admin, questionnaire):
    answered_review(supplier, admin)  # answered, not submitted
    with pytest.raises(TransitionRefused) as refused:
        object_transition(instance=supplier, name="approve", user=admin)
    assert "Submit a due-diligence review" in str(refused.value.errors)


def test_the_outcome_decides_which_approval(supplier, editor, questionnaire):
    object_transition(instance=answered_review(supplier, editor, "partial"), name="submit", user=editor)
    with pytest.raises(TransitionRefused, match="not possible"):
        object_transition(instance=supplier, name="approve", user=editor)
    supplier = object_transition(instance=supplier, name="approve_with_conditions", user=editor,
                                 reason="Evidence Q1–Q9 within 90 days.")
    assert supplier.status == "conditional"
    assert events(supplier, "transition")[-1].detail["transition"] == "approve_with_conditions"
    # A full review then allows approval, by an editor: the score decides.
    object_transition(instance=answered_review(supplier, editor), name="submit", user=editor)
    assert object_transition(instance=supplier, name="approve", user=editor).status == "approved"


def test_a_rejecting_review_allows_no_approval(supplier, admin, questionnaire):
    # 49.5: all partial (50.0), Q4 unknown (−3.5), Q5 evidenced (+3.0).
    object_transition(instance=answered_review(supplier, admin, "partial", Q4="unknown", Q5="evidenced"),
                      name="submit", user=admin)
    assert Supplier.objects.get(pk=supplier.pk).rating_outcome == "reject"
    for name in ("approve", "approve_with_conditions"):
        with pytest.raises(TransitionRefused) as refused:
            object_transition(instance=supplier, name=name, user=admin, reason="x")
        assert "recommends “reject”" in str(refused.value.errors)


def test_an_escalated_review_only_an_approver_may_overrule(supplier, editor, admin, questionnaire):
    review = object_transition(instance=answered_review(supplier, editor, Q6="unknown"), name="submit", user=editor)
    assert (review.score, review.outcome) == (Decimal("93.0"), "escalate")
    assert review.escalation_reasons[0].startswith("Q6 unknown for a critical supplier")
    with pytest.raises(TransitionRefused) as refused:
        object_transition(instance=supplier, name="approve", user=editor)
    assert "only an approver" in str(refused.value.errors)
    supplier = object_transition(instance=supplier, name="approve", user=admin)
    assert supplier.status == "approved"


def test_a_suspended_supplier_only_an_approver_reinstates(supplier, editor, admin, questionnaire):
    object_transition(instance=answered_review(supplier, editor), name="submit", user=editor)
    object_transition(instance=supplier, name="approve", user=editor)
    object_transition(instance=supplier, name="suspend", user=admin, reason="Ownership change")
    with pytest.raises(TransitionRefused):
        object_transition(instance=supplier, name="approve", user=editor)
    assert object_transition(instance=supplier, name="approve", user=admin).status == "approved"


# --- API -----------------------------------------------------------------------------------------

def test_api_review_shows_answers_nested_and_a_running_score(supplier, editor, api_as, questionnaire):
    review = review_start(supplier=supplier, user=editor)
    review_answers_save(review=review, user=editor, items=[{"question": "Q4", "answer": "partial"}])
    data = api_as(editor).get(f"/api/due-diligence-reviews/{review.pk}/").json()
    assert [a["question"] for a in data["answers"]] == CODES
    q4 = data["answers"][3]
    assert (q4["answer"], q4["weight"], q4["text"]) == ("partial", 7, questionnaire.questions[3]["text"])
    assert data["running_score"]["score"] == "3.5"
    assert data["running_score"]["outcome"] == "escalate"  # Q1, Q6, Q8 unknown for a critical supplier
    assert len(data["running_score"]["escalation_reasons"]) == 3
    assert (data["running_score"]["answered"], data["running_score"]["total"]) == (1, 18)


def test_api_answers_action_writes_all_or_nothing(supplier, editor, api_as, questionnaire):
    review = review_start(supplier=supplier, user=editor)
    client = api_as(editor)
    url = f"/api/due-diligence-reviews/{review.pk}/answers/"
    response = client.post(url, [{"question": "Q1", "answer": "evidenced", "comment": "Register"},
                                 {"question": "Q42", "answer": "partial"},
                                 {"question": "Q1", "answer": "partial"},
                                 {"question": "Q3", "answer": "sort of"}], format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"1.question", "2.question", "3.answer"}
    assert "Q42 is not a question of QKD-SCRM-1" in errors["1.question"][0]
    assert "Q1 is answered twice" in errors["2.question"][0]
    assert set(review.answers.values_list("answer", flat=True)) == {"unknown"}

    response = client.post(url, items(Q8="partial"), format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["running_score"]["score"] == "96.0"
    assert data["running_score"]["outcome"] == "approve"
    assert data["answers"][7]["answer"] == "partial"

    client.post(f"/api/due-diligence-reviews/{review.pk}/complete/", {}, format="json")
    response = client.post(f"/api/due-diligence-reviews/{review.pk}/submit/", {}, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["status"], data["score"], data["outcome"], data["running_score"]) == (
        "submitted", "96.0", "approve", None)
    response = client.post(url, [{"question": "Q8", "answer": "evidenced"}], format="json")
    assert response.status_code == 400
    assert "can no longer change" in response.json()["errors"]["non_field_errors"][0]
    # Nor through the answers' own endpoint.
    answer = review.answers.get(question="Q8")
    response = client.patch(f"/api/due-diligence-answers/{answer.pk}/", {"answer": "evidenced"}, format="json")
    assert response.status_code == 400
    assert DueDiligenceAnswer.objects.get(pk=answer.pk).answer == "partial"


def test_api_answers_action_of_another_agency_is_404(supplier, editor, other_agency, member_of, api_as,
                                                     questionnaire):
    review = review_start(supplier=supplier, user=editor)
    stranger = member_of(other_agency, RoleChoices.ADMIN)
    response = api_as(stranger).post(f"/api/due-diligence-reviews/{review.pk}/answers/", items(), format="json")
    assert response.status_code == 404


def test_api_answers_action_is_in_the_schema(api_as, editor):
    schema = api_as(editor).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/due-diligence-reviews/{id}/answers/"]["post"]
    request = operation["requestBody"]["content"]["application/json"]["schema"]
    assert request["type"] == "array"
    assert {"200", "400"} <= set(operation["responses"])


def test_api_questionnaires_are_read_only_to_agency_admins(admin, api_as, questionnaire):
    client = api_as(admin)
    assert client.get("/api/questionnaires/").status_code == 200
    response = client.patch(f"/api/questionnaires/{questionnaire.pk}/", {"title": "Mine"}, format="json")
    assert response.status_code == 403


# --- pages ---------------------------------------------------------------------------------------

def test_review_page_saves_the_form_through_the_service(client, supplier, editor, questionnaire):
    review = review_start(supplier=supplier, user=editor)
    client.force_login(editor)
    data = {f"{code}-answer": "evidenced" for code in CODES} | {f"{code}-comment": "" for code in CODES}
    data |= {"Q8-answer": "partial", "Q8-comment": "Lab report pending"}
    response = client.post(review.get_absolute_url(), data)
    assert response.status_code == 302
    q8 = review.answers.get(question="Q8")
    assert (q8.answer, q8.comment) == ("partial", "Lab report pending")
    page = client.get(review.get_absolute_url())
    assert page.context["running"].score == Decimal("96.0")
    assert "18 of 18 answered" in page.content.decode()


def test_review_page_refuses_a_bad_value_and_writes_nothing(client, supplier, editor, questionnaire):
    review = review_start(supplier=supplier, user=editor)
    client.force_login(editor)
    data = {f"{code}-answer": "evidenced" for code in CODES} | {"Q3-answer": "maybe"}
    response = client.post(review.get_absolute_url(), data)
    assert response.status_code == 200
    assert response.context["form"].errors["Q3-answer"]
    assert set(review.answers.values_list("answer", flat=True)) == {"unknown"}


def test_review_page_of_a_submitted_review_is_read_only(client, supplier, editor, questionnaire):
    review = object_transition(instance=answered_review(supplier, editor, Q1="unknown"), name="submit", user=editor)
    client.force_login(editor)
    page = client.get(review.get_absolute_url())
    body = page.content.decode()
    assert "Save answers" not in body
    assert "can no longer change" in body
    assert "Q1 unknown for a critical supplier" in body
    assert page.context["form"].fields["Q1-answer"].disabled
    data = {f"{code}-answer": "evidenced" for code in CODES}
    response = client.post(review.get_absolute_url(), data)
    assert response.status_code == 403
    assert review.answers.get(question="Q1").answer == "unknown"
    # The answer's own edit form is refused too (the model refuses it).
    answer = review.answers.get(question="Q1")
    response = client.post(reverse("procurement:duediligenceanswer_edit", args=[answer.pk]),
                           {"review": review.pk, "question": "Q1", "answer": "evidenced", "comment": "",
                            "version": answer.version})
    assert response.status_code == 200
    assert "can no longer change" in response.content.decode()
    assert DueDiligenceAnswer.objects.get(pk=answer.pk).answer == "unknown"


def test_a_viewer_sees_the_answers_but_no_form_to_send(client, supplier, editor, agency, member_of, questionnaire):
    review = review_start(supplier=supplier, user=editor)
    client.force_login(member_of(agency, RoleChoices.VIEWER))
    page = client.get(review.get_absolute_url())
    assert page.status_code == 200
    assert "Save answers" not in page.content.decode()
    assert all(field.disabled for field in page.context["form"].fields.values())
    assert client.post(review.get_absolute_url(), {"Q1-answer": "evidenced"}).status_code == 403
    assert review.answers.get(question="Q1").answer == "unknown"


def test_supplier_page_starts_a_review(client, supplier, editor, questionnaire):
    client.force_login(editor)
    page = client.get(supplier.get_absolute_url())
    assert "Start due-diligence review" in page.content.decode()
    response = client.post(reverse("procurement:supplier_start_review", args=[supplier.pk]))
    review = DueDiligenceReview.objects.get(supplier=supplier)
    assert response.status_code == 302 and response["Location"] == review.get_absolute_url()
    assert review.answers.count() == 18


def test_a_viewer_sees_no_start_button_and_cannot_post(client, supplier, agency, member_of, questionnaire):
    viewer = member_of(agency, RoleChoices.VIEWER)
    client.force_login(viewer)
    assert "Start due-diligence review" not in client.get(supplier.get_absolute_url()).content.decode()
    assert client.post(reverse("procurement:supplier_start_review", args=[supplier.pk])).status_code == 403
    assert not DueDiligenceReview.objects.exists()


def test_questionnaire_page_lists_questions_rule_and_bands(client, editor, questionnaire):
    client.force_login(editor)
    body = client.get(questionnaire.get_absolute_url()).content.decode()
    for question in questionnaire.questions:
        assert question["text"].replace("'", "&#x27;") in body
    assert "from 75" in body and "from 50 to below 75" in body and "from 0 to below 50" in body
    assert "from a supplier of critical criticality escalates" in body


# --- query counts ----------------------------------------------------------------------------------

# Session, user, agency and navigation come first; then the page's own reads: the supplier page reads
# the supplier, its reviews, component counts, components, contracts and their count, in one query
# each; the review page the review, its answers (one prefetch) and their evidence files (one query).
SUPPLIER_PAGE_QUERIES = 16  # with the incidents panel: one query
REVIEW_PAGE_QUERIES = 10

def _supplier_page_queries(client, supplier):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(supplier.get_absolute_url())
    assert response.status_code == 200
    return len(queries)


def test_supplier_page_query_count_does_not_grow_with_reviews_components_contracts(client, supplier, editor,
                                                                                    questionnaire):
    client.force_login(editor)
    object_transition(instance=answered_review(supplier, editor), name="submit", user=editor)
    ComponentFactory(agency=supplier.agency, supplier=supplier)
    CryptoComponentFactory(agency=supplier.agency, supplier=supplier, quantum_vulnerable=True)
    ContractFactory(agency=supplier.agency, supplier=supplier)
    client.get(supplier.get_absolute_url())  # warms the per-process content-type cache
    few = _supplier_page_queries(client, supplier)
    for _ in range(3):
        object_transition(instance=answered_review(supplier, editor), name="submit", user=editor)
        ComponentFactory(agency=supplier.agency, supplier=supplier)
        CryptoComponentFactory(agency=supplier.agency, supplier=supplier, quantum_vulnerable=True)
        ContractFactory(agency=supplier.agency, supplier=supplier)
    many = _supplier_page_queries(client, supplier)
    assert many == few == SUPPLIER_PAGE_QUERIES
    page = client.get(supplier.get_absolute_url())
    assert page.context["vulnerable_count"] == 4 and page.context["component_count"] == 8
    assert page.context["review_count"] == 4 and page.context["contract_count"] == 4


def test_review_page_query_count_does_not_grow_with_answers_or_files(client, supplier, editor, questionnaire,
                                                                     settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from qgov.evidence.services import evidence_attach

    settings.MEDIA_ROOT = tmp_path
    client.force_login(editor)
    review = review_start(supplier=supplier, user=editor)
    client.get(review.get_absolute_url())  # warms the per-process content-type cache, not the page's cost
    with CaptureQueriesContext(connection) as queries:
        assert client.get(review.get_absolute_url()).status_code == 200
    before = len(queries)
    review_answers_save(review=review, user=editor, items=items("partial"))
    for code in ("Q1", "Q2", "Q3"):
        evidence_attach(record=review.answers.get(question=code), user=editor,
                        upload=SimpleUploadedFile(f"{code}.txt", b"evidence\n"))
    with CaptureQueriesContext(connection) as queries:
        page = client.get(review.get_absolute_url())
    assert len(queries) == before == REVIEW_PAGE_QUERIES
    assert "Q2.txt" in page.content.decode()


def test_the_services_comment_cap_is_the_models():
    from procurement.services import COMMENT_MAX_LENGTH

    assert DueDiligenceAnswer._meta.get_field("comment").max_length == COMMENT_MAX_LENGTH
