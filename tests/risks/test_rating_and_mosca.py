"""Scoring on the agency matrix, matrix rules, and Mosca margins at their boundaries."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from qgov.choices import RoleChoices
from risks import mosca
from risks.models import RiskMatrix
from risks.services import risk_matrix_ensure
from tests.risks.factories import AssetFactory, RiskFactory


@pytest.mark.parametrize(
    ("likelihood", "impact", "score", "band"),
    [(1, 1, 1, "Low"), (2, 2, 4, "Low"), (1, 5, 5, "Medium"), (3, 3, 9, "Medium"), (2, 5, 10, "High"),
     (4, 4, 16, "High"), (4, 5, 20, "Critical"), (5, 5, 25, "Critical")],
)
def test_default_five_by_five_bands(likelihood, impact, score, band, agency):
    risk = RiskFactory(agency=agency, inherent_likelihood=likelihood, inherent_impact=impact)
    assert (risk.inherent_score, risk.rating_score, risk.rating) == (score, score, band)


@pytest.mark.parametrize(("size", "score", "band"), [(3, 2, "Low"), (3, 3, "Medium"), (3, 6, "High"),
                                                     (4, 3, "Low"), (4, 4, "Medium"), (4, 9, "High"),
                                                     (4, 12, "Critical")])
def test_default_bands_of_smaller_matrices(size, score, band):
    assert RiskMatrix(**RiskMatrix.defaults(size)).band_for(score)["name"] == band


def test_current_rating_wins_over_inherent_and_residual_is_kept(agency):
    risk = RiskFactory(agency=agency, inherent_likelihood=5, inherent_impact=5, current_likelihood=2,
                       current_impact=3, residual_likelihood=1, residual_impact=2)
    assert (risk.inherent_score, risk.rating_score, risk.rating, risk.residual_score) == (25, 6, "Medium", 2)


def test_references_are_numbered_per_agency(agency, other_agency):
    first, second = RiskFactory(agency=agency), RiskFactory(agency=agency)
    theirs = RiskFactory(agency=other_agency)
    assert (first.reference, second.reference, theirs.reference) == ("R-0001", "R-0002", "R-0001")


def test_ratings_outside_the_agency_matrix_are_400(agency, member_of, api_as):
    matrix = risk_matrix_ensure(agency)
    matrix.delete()
    RiskMatrix.objects.create(agency=agency, **RiskMatrix.defaults(3))
    editor = member_of(agency, RoleChoices.EDITOR)
    response = api_as(editor).post("/api/risks/", {"agency": agency.pk, "title": "Too likely",
                                                   "inherent_likelihood": 4, "inherent_impact": 2}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"inherent_likelihood": ["Must be between 1 and 3 on this agency's matrix."]}
    assert not agency.risks_risk_set.exists()


def test_likelihood_without_impact_is_refused(agency, member_of, api_as):
    risk_matrix_ensure(agency)
    response = api_as(member_of(agency, RoleChoices.EDITOR)).post("/api/risks/", {
        "agency": agency.pk, "title": "Half rated", "inherent_likelihood": 2, "inherent_impact": 2,
        "residual_likelihood": 1}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"residual_impact": ["Give likelihood and impact together."]}


def test_duplicate_reference_is_400(agency, member_of, api_as):
    RiskFactory(agency=agency, reference="R-0042")
    response = api_as(member_of(agency, RoleChoices.EDITOR)).post("/api/risks/", {
        "agency": agency.pk, "reference": "R-0042", "title": "Copy", "inherent_likelihood": 2,
        "inherent_impact": 2}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"reference": ["This reference is already used in the agency."]}


def test_an_asset_of_another_agency_is_refused(agency, other_agency, member_of, api_as):
    user = member_of(agency, RoleChoices.EDITOR)
    from tests.factories import MembershipFactory

    MembershipFactory(user=user, agency=other_agency, role=RoleChoices.EDITOR)  # the user can see both
    risk_matrix_ensure(agency)
    foreign = AssetFactory(agency=other_agency)
    response = api_as(user).post("/api/risks/", {"agency": agency.pk, "title": "Cross-agency",
                                                 "inherent_likelihood": 2, "inherent_impact": 2,
                                                 "assets": [foreign.pk]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"assets": ["Choose a record of the same agency."]}
    assert not agency.risks_risk_set.exists()


def test_an_owner_must_be_a_member(agency, other_agency, member_of, api_as):
    risk_matrix_ensure(agency)
    outsider = member_of(other_agency)
    response = api_as(member_of(agency, RoleChoices.EDITOR)).post("/api/risks/", {
        "agency": agency.pk, "title": "Owned by a stranger", "inherent_likelihood": 2, "inherent_impact": 2,
        "owner": outsider.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"owner": ["Choose a member of the agency."]}


def test_a_matrix_in_use_cannot_be_resized_or_rebanded(agency, member_of, api_as):
    matrix = risk_matrix_ensure(agency)
    RiskFactory(agency=agency)
    client = api_as(member_of(agency, RoleChoices.ADMIN))
    resize = client.patch(f"/api/risk-matrices/{matrix.pk}/", {**RiskMatrix.defaults(4)}, format="json")
    assert resize.status_code == 400
    assert "silently re-rate" in resize.json()["errors"]["size"][0]
    rebanded = [{**band, "min_score": band["min_score"] + (1 if i else 0)} for i, band in enumerate(matrix.bands)]
    assert client.patch(f"/api/risk-matrices/{matrix.pk}/", {"bands": rebanded}, format="json").status_code == 400
    renamed = client.patch(f"/api/risk-matrices/{matrix.pk}/", {
        "likelihood_labels": ["Very rare", "Rare", "Possible", "Likely", "Near certain"]}, format="json")
    assert renamed.status_code == 200
    matrix.refresh_from_db()
    assert (matrix.size, matrix.version) == (5, 2)


@pytest.mark.parametrize(
    ("bands", "message"),
    [([], "This field cannot be blank."),
     ({"name": "Low"}, "Give a list of bands."),
     ([{"name": "Low", "min_score": 2, "colour": "#00ff00"}], "The first band must start at score 1."),
     ([{"name": "Low", "min_score": 1, "colour": "green"}], "Colours are written #rrggbb."),
     ([{"name": "Low", "min_score": 1, "colour": "#00ff00"}, {"name": "High", "min_score": 1, "colour": "#ff0000"}],
      "Lowest scores must be whole numbers rising band by band."),
     ([{"name": "Low", "min_score": 1, "colour": "#00ff00"}, {"name": "Off", "min_score": 26, "colour": "#ff0000"}],
      "A band starts above the highest possible score.")],
)
def test_band_rules(bands, message, agency):
    matrix = RiskMatrix(agency=agency, **{**RiskMatrix.defaults(5), "bands": bands})
    with pytest.raises(ValidationError) as error:
        matrix.full_clean()
    assert error.value.message_dict == {"bands": [message]}


def test_labels_must_match_the_size(agency):
    matrix = RiskMatrix(agency=agency, **{**RiskMatrix.defaults(5), "impact_labels": ["a", "b"]})
    with pytest.raises(ValidationError) as error:
        matrix.full_clean()
    assert error.value.message_dict == {"impact_labels": ["Give exactly 5 non-empty names, lowest first."]}


@pytest.mark.parametrize(
    ("x", "y", "z", "expected_gap", "band"),
    [("5", "5", "15", "-5", "low"), ("5.1", "5", "15", "-4.9", "moderate"), ("10", "5", "15", "0", "moderate"),
     ("10.1", "5", "15", "0.1", "high"), ("15", "5", "15", "5", "high"), ("15.1", "5", "15", "5.1", "critical"),
     ("0", "0", "15", "-15", "low")],
)
def test_mosca_bands_at_the_boundaries(x, y, z, expected_gap, band):
    assert mosca.gap(x, y, z) == Decimal(expected_gap)
    assert mosca.band(x, y, z, z_optimistic="100", harvestable=True) == band
    assert mosca.is_exposed(x, y, z) is (Decimal(expected_gap) > 0)


@pytest.mark.parametrize(
    ("x", "harvestable", "band"),
    [("10", True, "moderate"),  # x equals z_optimistic: no raise
     ("10.5", True, "high"),  # x above z_optimistic and harvestable: one band up from moderate
     ("10.5", False, "moderate")],
)
def test_harvest_now_decrypt_later_raises_one_band(x, harvestable, band):
    assert mosca.band(x, "2", "15", z_optimistic="10", harvestable=harvestable) == band


def test_critical_stays_critical_when_raised():
    assert mosca.band("30", "5", "15", z_optimistic="10", harvestable=True) == "critical"


def test_asset_exposure_in_the_api_uses_the_agency_z(agency, member_of, api_as):
    matrix = risk_matrix_ensure(agency)
    matrix.z_optimistic, matrix.z_central, matrix.policy_deadline_year = Decimal("10"), Decimal("15"), 2035
    matrix.save()
    margin_policy = f"{Decimal(16) - matrix.policy_years():.1f}"  # the policy z is read against today
    asset = AssetFactory(agency=agency, shelf_life_years=Decimal("12"), migration_years=Decimal("4"),
                         harvestable=True)
    body = api_as(member_of(agency)).get(f"/api/assets/{asset.pk}/").json()
    assert body["exposure"] == {"margin_optimistic": "6.0", "margin_central": "1.0", "margin_policy": margin_policy,
                                "exposed": True, "band": "critical"}
