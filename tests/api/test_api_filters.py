"""The API's filters and pagination accept what the published schema allows and refuse what it
refuses (the schema fuzzing in test_schema_fuzz.py found each of these)."""

import pytest

from qgov.choices import RoleChoices
from qgov.models import Membership
from tests.factories import MembershipFactory


@pytest.fixture
def setup(agency, other_agency, member_of, api_as):
    admin = member_of(agency, RoleChoices.ADMIN)
    MembershipFactory(agency=other_agency)
    return {"client": api_as(admin), "agency": agency, "other_agency": other_agency,
            "mine": list(Membership.objects.filter(agency=agency).order_by("pk").values_list("pk", flat=True))}


def ids(response):
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize("unknown", ["999999", str(2**63 - 1)], ids=["no-such-agency", "largest-id"])
def test_a_related_id_of_no_visible_record_matches_nothing(setup, unknown):
    # It was a 400 ("Select a valid choice"), though the schema allows any id.
    assert ids(setup["client"].get("/api/memberships/", {"agency": unknown})) == []
    assert ids(setup["client"].get("/api/memberships/", {"agency": setup["other_agency"].pk})) == []
    assert ids(setup["client"].get("/api/memberships/", {"agency": setup["agency"].pk})) == setup["mine"]


def test_a_multiple_related_filter_keeps_the_known_ids(setup, agency):
    from risks.services import risk_matrix_ensure
    from tests.risks.factories import RiskFactory, ThreatVectorFactory

    risk_matrix_ensure(agency)
    vector = ThreatVectorFactory(code="QIM-01")
    risk = RiskFactory(agency=agency)
    risk.threat_vectors.set([vector])
    RiskFactory(agency=agency)
    response = setup["client"].get("/api/risks/", {"threat_vector": [vector.pk, 999999]})
    assert ids(response) == [risk.pk]
    assert ids(setup["client"].get("/api/risks/", {"threat_vector": [999999]})) == []


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"agency": "0"}, {"agency": ["Select a valid choice. That choice is not one of the available choices."]}),
        ({"agency": "x"}, {"agency": ["Select a valid choice. That choice is not one of the available choices."]}),
        ({"offset": "null"}, {"offset": ["Send one whole number from 0 to 9223372036854775807."]}),
        ({"offset": "-1"}, {"offset": ["Send one whole number from 0 to 9223372036854775807."]}),
        ({"offset": ["1", "2"]}, {"offset": ["Send one whole number from 0 to 9223372036854775807."]}),
        ({"limit": "0"}, {"limit": ["Send one whole number from 1 to 9223372036854775807."]}),
        ({"limit": ""}, {"limit": ["Send one whole number from 1 to 9223372036854775807."]}),
        ({"limit": "9" * 5000}, {"limit": ["Send one whole number from 1 to 9223372036854775807."]}),
    ],
    ids=["id-zero", "not-a-number", "offset-null", "offset-negative", "offset-twice", "limit-zero", "limit-empty",
         "limit-5000-digits"],
)
def test_what_the_schema_refuses_is_400(setup, params, errors):
    response = setup["client"].get("/api/memberships/", params)

    assert response.status_code == 400
    assert response.json() == {"status": 400, "code": "invalid", "detail": "Invalid input.", "errors": errors}


def test_limit_and_offset_page_through(setup):
    assert ids(setup["client"].get("/api/memberships/", {"limit": "1", "offset": "1"})) == setup["mine"][1:2]
    assert ids(setup["client"].get("/api/memberships/", {"limit": "5000"})) == setup["mine"]


def test_the_ui_still_says_an_unknown_choice_is_invalid(setup, agency):
    from qgov.filters import MembershipFilterSet

    filterset = MembershipFilterSet({"agency": "999999"}, Membership.objects.all())
    assert filterset.is_valid() is False
    assert list(filterset.errors) == ["agency"]


def test_format_is_the_import_runs_filter_not_a_renderer_choice(setup):
    # DRF read ?format= as a renderer name: the import runs' own filter answered 404.
    response = setup["client"].get("/api/import-runs/", {"format": "xlsx"})

    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"role": ""}, {"role": ["Send a value, or leave the parameter out."]}),
        ({"agency": ["1", "2"]}, {"agency": ["Send this parameter once."]}),
        ({"user": "0.5"}, {"user": ["Enter a whole number."]}),
    ],
    ids=["empty-choice", "single-value-twice", "fraction-for-an-id"],
)
def test_parameters_the_schema_refuses_are_400_not_ignored(setup, params, errors):
    response = setup["client"].get("/api/memberships/", params)

    assert response.status_code == 400
    assert response.json()["errors"] == errors


def test_yes_no_parameters_take_true_or_false(setup, agency):
    from risks.services import risk_matrix_ensure

    risk_matrix_ensure(agency)
    assert setup["client"].get("/api/risks/", {"overdue": "false"}).status_code == 200
    response = setup["client"].get("/api/risks/", {"overdue": "null"})  # was ignored: every risk
    assert response.status_code == 400
    assert response.json()["errors"] == {"overdue": ["Send true or false."]}


def test_an_empty_id_list_filters_nothing(setup):
    assert ids(setup["client"].get("/api/memberships/", {"id": ""})) == setup["mine"]
