"""Mosca's z values: the policy deadline is a year (its z is read against today, the deadline
falling at the end of that year), the optimistic z may not exceed the central one, and
harvest-now-decrypt-later concerns confidentiality only."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from qgov.choices import RoleChoices
from risks import mosca
from risks.models import Asset, RiskMatrix
from risks.services import risk_matrix_ensure
from tests.risks.factories import AssetFactory


@pytest.mark.parametrize(
    ("today", "z"),
    [(datetime.date(2025, 12, 31), Decimal("10.0")),  # the deadline is the end of 2035: ten years on
     (datetime.date(2027, 12, 31), Decimal("8.0")),  # two years later, two years less: not frozen at 10
     (datetime.date(2027, 7, 2), Decimal("8.5")),
     (datetime.date(2035, 12, 31), Decimal("0.0")),  # the deadline's last day
     (datetime.date(2036, 6, 1), Decimal("0.0"))],  # past the deadline: nothing left, never negative
)
def test_the_policy_z_is_read_against_today(today, z, agency):
    matrix = risk_matrix_ensure(agency)
    assert matrix.policy_deadline_year == 2035
    assert matrix.policy_years(today=today) == z


def test_the_policy_margin_follows_the_date(agency):
    matrix = risk_matrix_ensure(agency)
    asset = AssetFactory(agency=agency, shelf_life_years=Decimal("6"), migration_years=Decimal("3"))
    assert asset.exposure(matrix, today=datetime.date(2025, 12, 31))["margin_policy"] == Decimal("-1.0")
    assert asset.exposure(matrix, today=datetime.date(2027, 12, 31))["margin_policy"] == Decimal("1.0")


def test_the_api_writes_the_year_and_reads_the_derived_z(agency, member_of, api_as):
    matrix = risk_matrix_ensure(agency)
    client = api_as(member_of(agency, RoleChoices.ADMIN))
    body = client.patch(f"/api/risk-matrices/{matrix.pk}/", {"policy_deadline_year": 2030}, format="json").json()
    assert body["policy_deadline_year"] == 2030
    matrix.refresh_from_db()
    assert body["z_policy"] == str(matrix.policy_years())  # read against today
    refused = client.patch(f"/api/risk-matrices/{matrix.pk}/", {"z_policy": "3"}, format="json")
    assert refused.status_code == 400  # derived, not written


def test_the_form_says_the_deadline_falls_at_the_end_of_the_year(client, agency, member_of):
    matrix = risk_matrix_ensure(agency)
    client.force_login(member_of(agency, RoleChoices.ADMIN))
    html = client.get(f"/risks/matrices/{matrix.pk}/edit/").content.decode()
    assert "The deadline falls at the end of that year (31 December)" in html


@pytest.mark.parametrize(("optimistic", "central", "ok"), [("15", "15", True), ("14.9", "15", True),
                                                           ("15.1", "15", False)])
def test_the_optimistic_z_may_not_exceed_the_central_one(optimistic, central, ok, agency):
    matrix = RiskMatrix(agency=agency, **RiskMatrix.defaults(5), z_optimistic=Decimal(optimistic),
                        z_central=Decimal(central))
    if ok:
        matrix.full_clean()
        return
    with pytest.raises(ValidationError) as error:
        matrix.full_clean()
    assert error.value.message_dict == {
        "z_optimistic": ["The optimistic estimate cannot be later than the central one (at most 15.0 years)."]}


def test_the_optimistic_z_check_in_the_api_and_the_form(agency, member_of, api_as, client):
    matrix = risk_matrix_ensure(agency)
    admin = member_of(agency, RoleChoices.ADMIN)
    response = api_as(admin).patch(f"/api/risk-matrices/{matrix.pk}/", {"z_optimistic": "20"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "z_optimistic": ["The optimistic estimate cannot be later than the central one (at most 15.0 years)."]}
    matrix.refresh_from_db()
    assert matrix.z_optimistic == Decimal("10.0")
    client.force_login(admin)
    form = client.get(f"/risks/matrices/{matrix.pk}/edit/").context["form"]
    data = {**{name: form[name].value() for name in form.fields}, "z_optimistic": "20"}
    data = {k: v for k, v in data.items() if v is not None}
    answer = client.post(f"/risks/matrices/{matrix.pk}/edit/", data)
    assert answer.status_code == 200
    assert answer.context["form"].errors["z_optimistic"] == [
        "The optimistic estimate cannot be later than the central one (at most 15.0 years)."]


# --- harvest-now-decrypt-later: confidentiality only -------------------------------------------

@pytest.mark.parametrize(
    ("x", "harvestable", "confidential", "band"),
    [("10", True, True, "moderate"),  # x equals z optimistic: no raise
     ("10.1", True, True, "high"),  # just above, harvestable, confidential: one band up
     ("10.1", False, True, "moderate"),
     ("10.1", True, False, "moderate"),  # signatures: nothing to harvest, no raise
     ("10.1", False, False, "moderate")],
)
def test_the_harvest_raise_applies_to_confidentiality_only(x, harvestable, confidential, band):
    assert mosca.band(x, "2", "15", z_optimistic="10", harvestable=harvestable, confidential=confidential) == band


def test_signature_only_assets_default_to_not_harvestable_and_are_not_raised(agency, member_of, api_as):
    matrix = risk_matrix_ensure(agency)
    client = api_as(member_of(agency, RoleChoices.EDITOR))
    common = {"agency": agency.pk, "asset_type": "system", "shelf_life_years": "12", "migration_years": "2"}
    signing = client.post("/api/assets/", {**common, "name": "Code signing", "protects": "integrity"},
                          format="json").json()
    secret = client.post("/api/assets/", {**common, "name": "Case files"}, format="json").json()
    assert (signing["protects"], signing["harvestable"]) == ("integrity", False)
    assert (secret["protects"], secret["harvestable"]) == ("confidentiality", True)
    assert signing["exposure"]["band"] == "moderate"  # gap −1: moderate, not raised
    assert secret["exposure"]["band"] == "high"  # x 12 > z optimistic 10: raised one band
    assert Asset.objects.get(name="Code signing").exposure(matrix)["band"] == "moderate"


def test_a_signature_only_asset_cannot_be_marked_harvestable(agency, member_of, api_as):
    client = api_as(member_of(agency, RoleChoices.EDITOR))
    response = client.post("/api/assets/", {
        "agency": agency.pk, "name": "Code signing", "asset_type": "system", "shelf_life_years": "12",
        "migration_years": "2", "protects": "integrity", "harvestable": True}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"harvestable": [
        "Harvest-now-decrypt-later needs something confidential to record; an integrity-only (signature) asset "
        "has none."]}
    assert not Asset.objects.exists()


@pytest.mark.parametrize(("protects", "harvestable_sent", "stored"), [
    ("integrity", None, False),  # the ticked default, untouched, follows "integrity only"
    ("confidentiality", None, True),
    ("confidentiality", False, False),
])
def test_the_asset_form_lets_the_untouched_harvest_box_follow_what_the_asset_protects(
        protects, harvestable_sent, stored, client, agency, member_of):
    client.force_login(member_of(agency, RoleChoices.EDITOR))
    form = client.get("/risks/assets/add/").context["form"]
    assert form["harvestable"].value() is True
    data = {"name": "Code signing", "asset_type": "system", "criticality": "high", "shelf_life_years": "12",
            "migration_years": "2", "protects": protects}
    if harvestable_sent is None:
        data["harvestable"] = "on"  # what the browser sends for the box as the page offered it
    response = client.post("/risks/assets/add/", data)
    assert response.status_code == 302, response.context["form"].errors
    assert Asset.objects.get(agency=agency).harvestable is stored


def test_the_asset_form_refuses_a_harvest_box_ticked_on_an_integrity_only_asset(client, agency, member_of):
    asset = AssetFactory(agency=agency, protects="integrity", harvestable=False)
    client.force_login(member_of(agency, RoleChoices.EDITOR))
    form = client.get(f"/risks/assets/{asset.pk}/edit/").context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() not in (None, False)}
    data["harvestable"] = "on"
    response = client.post(f"/risks/assets/{asset.pk}/edit/", data)
    assert response.status_code == 200
    assert response.context["form"].errors["harvestable"] == [
        "Harvest-now-decrypt-later needs something confidential to record; an integrity-only (signature) asset "
        "has none."]
    asset.refresh_from_db()
    assert asset.harvestable is False


# --- the upgrade -------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_the_frozen_z_into_a_deadline_year():
    from tests.factories import AgencyFactory

    executor = MigrationExecutor(connection)
    executor.migrate([("risks", "0003_lifecycles")])
    try:
        old = executor.loader.project_state([("risks", "0003_lifecycles")]).apps
        agencies = [AgencyFactory(code="OLD1"), AgencyFactory(code="OLD2")]
        OldMatrix = old.get_model("risks", "RiskMatrix")  # noqa: N806
        labels = RiskMatrix.defaults(5)
        made = {}
        for agency, (year, z) in zip(agencies, [(2025, "10"), (2026, "4.6")], strict=True):
            matrix = OldMatrix.objects.create(agency_id=agency.pk, z_policy=Decimal(z), **labels)
            OldMatrix.objects.filter(pk=matrix.pk).update(created=datetime.datetime(year, 5, 1, tzinfo=datetime.UTC))
            made[agency.pk] = matrix.pk
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    years = dict(RiskMatrix.objects.filter(pk__in=made.values()).values_list("agency__code", "policy_deadline_year"))
    assert years == {"OLD1": 2035, "OLD2": 2031}  # created year + z, rounded to the nearest year


def test_the_matrix_page_gives_the_policy_z_as_of_today(client, agency, member_of):
    matrix = risk_matrix_ensure(agency)
    client.force_login(member_of(agency))
    html = client.get(matrix.get_absolute_url()).content.decode()
    assert f"Policy deadline: the end of 2035 (31 December), {matrix.policy_years()} years from today." in html
