"""What a new user typed that the register took without a word: review dates in the past on a new
risk, and a description of a million characters."""

import datetime

import pytest
from django.utils import timezone

from qgov.choices import RoleChoices
from risks.models import Risk
from risks.services import risk_matrix_ensure
from tests.risks.factories import RiskFactory

PAST_REVIEW = "A new risk's next review cannot be in the past; choose today or a later date."


@pytest.fixture
def editor(agency, member_of):
    risk_matrix_ensure(agency)
    return member_of(agency, RoleChoices.EDITOR)


def new_risk(agency, **fields):
    return {"agency": agency.pk, "title": "Detector blinding", "inherent_likelihood": 3, "inherent_impact": 4,
            **fields}


@pytest.mark.parametrize(("days", "status"), [(-1, 400), (0, 201), (1, 201)])
def test_a_new_risk_is_not_reviewed_in_the_past_api(days, status, agency, editor, api_as):
    review = timezone.localdate() + datetime.timedelta(days=days)
    response = api_as(editor).post("/api/risks/", new_risk(agency, review_date=str(review)), format="json")
    assert response.status_code == status
    if status == 400:
        assert response.json()["errors"] == {"review_date": [PAST_REVIEW]}
        assert not Risk.objects.exists()


def test_a_new_risk_is_not_reviewed_in_the_past_form(agency, editor, client):
    client.force_login(editor)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = client.post("/risks/register/add/", {"title": "Detector blinding", "inherent_likelihood": 3,
                                                    "inherent_impact": 4, "treatment": "mitigate",
                                                    "review_date": yesterday.isoformat()})
    assert response.status_code == 200
    assert response.context["form"].errors == {"review_date": [PAST_REVIEW]}
    assert not Risk.objects.exists()


def test_an_overdue_risk_can_still_be_edited(agency, editor, api_as):
    risk = RiskFactory(agency=agency, review_date=timezone.localdate() - datetime.timedelta(days=3))
    response = api_as(editor).patch(f"/api/risks/{risk.pk}/", {"title": "Renamed"}, format="json")
    assert response.status_code == 200  # overdue is a state to list, not an error on every later edit
    assert response.json()["is_overdue"] is True


def test_the_api_says_which_risks_are_overdue_in_the_list_and_on_each(agency, editor, api_as):
    today = timezone.localdate()
    expected = {
        RiskFactory(agency=agency, review_date=today - datetime.timedelta(days=1)).pk: True,
        RiskFactory(agency=agency, review_date=today).pk: False,  # due today is not late
        RiskFactory(agency=agency, review_date=today - datetime.timedelta(days=9), status="closed").pk: False,
        RiskFactory(agency=agency, review_date=None).pk: False,
    }
    client = api_as(editor)
    assert {row["id"]: row["is_overdue"] for row in client.get("/api/risks/").json()["results"]} == expected
    assert {pk: client.get(f"/api/risks/{pk}/").json()["is_overdue"] for pk in expected} == expected


@pytest.mark.parametrize(("length", "status"), [(10_000, 201), (10_001, 400), (1_000_000, 400)])
def test_descriptions_are_capped_api(length, status, agency, editor, api_as):
    response = api_as(editor).post("/api/risks/", new_risk(agency, description="a" * length), format="json")
    assert response.status_code == status
    if status == 400:
        assert response.json()["errors"] == {
            "description": ["Ensure this field has no more than 10000 characters."]}


def test_descriptions_are_capped_form(agency, editor, client):
    client.force_login(editor)
    page = client.get("/risks/register/add/").content.decode()
    assert 'maxlength="10000"' in page  # the browser stops the typing too
    response = client.post("/risks/register/add/", {"title": "Long", "inherent_likelihood": 3, "inherent_impact": 4,
                                                    "treatment": "mitigate", "description": "a" * 10_001})
    assert response.context["form"].errors == {
        "description": ["Ensure this value has at most 10000 characters (it has 10001)."]}
    assert not Risk.objects.exists()
