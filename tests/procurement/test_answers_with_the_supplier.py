"""While a review is with the supplier ("sent"), its answers are theirs: every write path of the
agency's side — the answers' own API endpoint (PATCH, PUT, DELETE), their edit and delete pages,
the core services — refuses to change them, with the message the reviewer's answers service gives.
The supplier's portal keeps saving them; in draft and once answered, the reviewer edits again."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from procurement import services
from procurement.models import DueDiligenceAnswer
from qgov.choices import RoleChoices
from qgov.models import AuditEvent
from qgov.services import object_delete, object_update

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

WITH_THE_SUPPLIER = "This review is with the supplier (“sent to supplier”): recall it before changing its answers."


@pytest.fixture
def admin(agency, member_of):
    return member_of(agency, RoleChoices.ADMIN, username="ada")


@pytest.fixture
def answer(review):
    return review.answers.get(question="Q1")


def untouched(answer):
    stored = DueDiligenceAnswer.objects.get(pk=answer.pk)
    assert (stored.answer, stored.comment, stored.version) == ("unknown", "", answer.version)
    assert not AuditEvent.objects.for_object(stored).filter(action__in=("update", "delete")).exists()


# --- the API -------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["reviewer", "admin"])
def test_api_patch_and_put_are_refused_while_with_the_supplier(api_as, request, sent, answer, role):
    client = api_as(request.getfixturevalue(role))
    url = f"/api/due-diligence-answers/{answer.pk}/"
    response = client.patch(url, {"answer": "evidenced", "comment": "Seen"}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["errors"] == {"non_field_errors": [WITH_THE_SUPPLIER]}
    response = client.put(url, {"agency": answer.agency_id, "review": answer.review_id, "question": "Q1",
                                "answer": "partial", "comment": ""}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["errors"] == {"non_field_errors": [WITH_THE_SUPPLIER]}
    untouched(answer)


def test_api_delete_is_refused_while_with_the_supplier(api_as, admin, sent, answer):
    response = api_as(admin).delete(f"/api/due-diligence-answers/{answer.pk}/")
    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": [WITH_THE_SUPPLIER]}
    untouched(answer)


def test_the_core_services_refuse_too(reviewer, admin, sent, answer):
    with pytest.raises(ValidationError, match="with the supplier"):
        object_update(instance=answer, user=reviewer, data={"answer": "evidenced"})
    with pytest.raises(ValidationError, match="with the supplier"):
        object_delete(instance=answer, user=admin)
    untouched(answer)


def test_api_patch_works_in_draft_and_once_answered(api_as, reviewer, review, answer):
    client = api_as(reviewer)
    url = f"/api/due-diligence-answers/{answer.pk}/"
    response = client.patch(url, {"answer": "partial"}, format="json")
    assert response.status_code == 200, response.json()
    link, _token = services.review_send(review=review, user=reviewer, contact_name="Dana Vogt",
                                        contact_email="dana@photonica.example")
    assert client.patch(url, {"answer": "evidenced"}, format="json").status_code == 400
    services.portal_submit(link=link)
    review.refresh_from_db()
    assert review.status == "answered"
    response = client.patch(url, {"answer": "evidenced", "comment": "Register extract"}, format="json")
    assert response.status_code == 200, response.json()
    stored = DueDiligenceAnswer.objects.get(pk=answer.pk)
    assert (stored.answer, stored.comment) == ("evidenced", "Register extract")


def test_recalled_the_reviewer_edits_again(api_as, reviewer, review, sent, answer):
    client = api_as(reviewer)
    response = client.post(f"/api/due-diligence-reviews/{review.pk}/recall/", {"reason": "Not yet"},
                           format="json")
    assert response.status_code == 200
    response = client.patch(f"/api/due-diligence-answers/{answer.pk}/", {"answer": "partial"}, format="json")
    assert response.status_code == 200, response.json()


# --- the pages -----------------------------------------------------------------------------------

def test_the_edit_page_says_so_and_refuses_while_with_the_supplier(client, reviewer, sent, answer):
    client.force_login(reviewer)
    url = reverse("procurement:duediligenceanswer_edit", args=[answer.pk])
    assert WITH_THE_SUPPLIER in client.get(url).content.decode()
    response = client.post(url, {"review": answer.review_id, "question": "Q1", "answer": "evidenced",
                                 "comment": "Seen", "version": answer.version})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [WITH_THE_SUPPLIER]
    untouched(answer)
    detail = client.get(answer.get_absolute_url())
    assert (detail.context["can_change"], detail.context["can_delete"]) == (False, False)


def test_the_delete_page_refuses_while_with_the_supplier(client, admin, sent, answer):
    client.force_login(admin)
    response = client.post(reverse("procurement:duediligenceanswer_delete", args=[answer.pk]),
                           {"version": answer.version}, follow=True)
    assert WITH_THE_SUPPLIER in response.content.decode()
    untouched(answer)


def test_the_edit_page_saves_in_draft(client, reviewer, answer):
    client.force_login(reviewer)
    url = reverse("procurement:duediligenceanswer_edit", args=[answer.pk])
    response = client.post(url, {"review": answer.review_id, "question": "Q1", "answer": "evidenced",
                                 "comment": "Seen", "version": answer.version})
    assert response.status_code == 302
    assert DueDiligenceAnswer.objects.get(pk=answer.pk).answer == "evidenced"


# --- the supplier's side -------------------------------------------------------------------------

def test_the_portal_still_saves_while_sent(review, sent, answer):
    link, token = sent
    assert services.portal_answers_save(link=link, answers={"Q1": {"answer": "evidenced", "comment": "Filed"}}) == 1
    stored = DueDiligenceAnswer.objects.get(pk=answer.pk)
    assert (stored.answer, stored.comment) == ("evidenced", "Filed")
    data = {f"answer_{code}": "unknown" for code in review.questionnaire.question_codes()}
    data.update({"answer_Q1": "partial", "comment_Q1": "Only the group chart", "action": "save"})
    response = Client().post(f"/portal/{token}/", data)
    assert response.status_code == 302
    stored = DueDiligenceAnswer.objects.get(pk=answer.pk)
    assert (stored.answer, stored.comment) == ("partial", "Only the group chart")
    review.refresh_from_db()
    assert review.status == "sent"
