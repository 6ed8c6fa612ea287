"""The shared building blocks of the core, as the risk register uses them: the member field, the
overdue and expiring filters, related choices scoped to the user's agencies, the badge column,
the record fields named once, and filtersets that the OpenAPI schema generator cannot change."""

import csv
import datetime
import io
import zoneinfo

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from qgov import registry
from qgov.exports import bound_columns, csv_lines
from qgov.fields import MemberField
from qgov.filters import AnyYesNoWidget
from qgov.models import RECORD_FIELDS, QgovModel
from risks.filters import RiskAcceptanceFilterSet, RiskFilterSet
from risks.models import Asset, Control, Risk
from risks.services import risk_matrix_ensure
from risks.tables import AssetTable, RiskTable
from tests.factories import MembershipFactory
from tests.risks.factories import AssetFactory, ControlFactory, RiskAcceptanceFactory, RiskFactory

TODAY = timezone.localdate(timezone=zoneinfo.ZoneInfo("Europe/Brussels"))  # the factories' agency zone


def days(n):
    return TODAY + datetime.timedelta(days=n)


@pytest.fixture
def people(agency, other_agency, member_of):
    return {
        "ann": member_of(agency, "viewer", username="ann"),
        "bob": member_of(agency, "editor", username="bob"),
        "mia": member_of(other_agency, "admin", username="mia"),
    }


# --- filtersets and the OpenAPI schema -----------------------------------------------------------

def _status_widget(client):
    return type(client.get("/risks/register/").context["filter"].form.fields["status"].widget)


def test_generating_the_schema_does_not_change_the_register_filters(client, agency, people, superuser):
    risk_matrix_ensure(agency)
    client.force_login(people["ann"])
    # (a subclass: the sidebar writes the stock checkbox template in Python, qgov.views.generic)
    assert issubclass(_status_widget(client), forms.CheckboxSelectMultiple)
    client.force_login(superuser)
    assert client.get("/api/schema/").status_code == 200
    client.force_login(people["ann"])
    page = client.get("/risks/register/")
    fields = page.context["filter"].form.fields
    assert isinstance(fields["status"].widget, forms.CheckboxSelectMultiple)
    assert type(fields["overdue"].widget) is AnyYesNoWidget
    assert [u.username for u in fields["owner"].queryset] == ["ann", "bob"]
    # The class-level filters were never adapted for a request.
    assert "widget" not in RiskFilterSet.base_filters["status"].extra


# --- related choices are the user's agencies' ----------------------------------------------------

@pytest.mark.parametrize("path", ["/risks/assets/", "/risks/controls/", "/risks/register/"])
def test_owner_filter_offers_only_members_of_the_active_agency(path, client, agency, people):
    risk_matrix_ensure(agency)
    client.force_login(people["ann"])
    owners = client.get(path).context["filter"].form.fields["owner"].queryset
    assert [u.username for u in owners] == ["ann", "bob"]


def test_owner_filter_of_a_member_of_two_agencies_in_the_api(agency, other_agency, people, api_as):
    MembershipFactory(user=people["bob"], agency=other_agency, role="viewer")
    client = api_as(people["bob"])
    assert client.get("/api/assets/", {"owner": people["mia"].pk}).status_code == 200
    ann_only = api_as(people["ann"])
    # A user of another agency is not a record the caller can see: no results, and nothing learnt.
    unseen = ann_only.get("/api/assets/", {"owner": people["mia"].pk})
    assert unseen.status_code == 200 and unseen.json()["count"] == 0


@pytest.mark.parametrize("path", ["/api/assets/", "/api/controls/", "/api/risks/"])
def test_filtering_by_another_agencys_user_finds_nothing_not_a_leak(path, agency, people, api_as, superuser):
    AssetFactory(agency=agency, owner=people["bob"])
    ControlFactory(agency=agency, owner=people["bob"])
    RiskFactory(agency=agency, owner=people["bob"])
    client = api_as(people["ann"])
    unseen = client.get(path, {"owner": people["mia"].pk})
    assert unseen.status_code == 200 and unseen.json()["count"] == 0
    assert client.get(path, {"owner": people["bob"].pk}).json()["count"] == 1
    assert api_as(superuser).get(path, {"owner": people["mia"].pk}).json()["count"] == 0


def test_asset_filter_choices_are_the_active_agencys(client, agency, other_agency, people):
    ours = AssetFactory(agency=agency, name="Ours")
    AssetFactory(agency=other_agency, name="Theirs")
    risk_matrix_ensure(agency)
    client.force_login(people["ann"])
    assets = client.get("/risks/register/").context["filter"].form.fields["asset"].queryset
    assert list(assets) == [ours]


def test_form_owner_choices_are_the_agencys_members(client, agency, people):
    client.force_login(people["bob"])
    owners = client.get("/risks/assets/add/").context["form"].fields["owner"].queryset
    assert [u.username for u in owners] == ["ann", "bob"]


# --- the member field ------------------------------------------------------------------------------

@pytest.mark.parametrize("model", [Asset, Control, Risk])
def test_owner_is_a_member_field(model):
    assert isinstance(model._meta.get_field("owner"), MemberField)


def test_member_field_refuses_a_non_member_and_accepts_members_and_platform_admins(
        agency, people, superuser):
    asset = AssetFactory.build(agency=agency, name="Link", owner=people["mia"])
    with pytest.raises(ValidationError) as refused:
        asset.full_clean()
    assert refused.value.message_dict == {"owner": ["Choose a member of the agency."]}
    for owner in (people["ann"], superuser, None):
        asset.owner = owner
        asset.full_clean()


def test_a_non_member_owner_is_refused_through_the_api(agency, people, api_as):
    response = api_as(people["bob"]).post("/api/controls/", {
        "agency": agency.pk, "title": "Isolators", "control_type": "preventive", "owner": people["mia"].pk})
    assert response.status_code == 400
    assert response.json()["errors"] == {"owner": ["Choose a member of the agency."]}
    assert Control.objects.count() == 0


# --- overdue and expiring-within -----------------------------------------------------------------

def test_overdue_controls(agency, people, api_as):
    ControlFactory(agency=agency, title="Late", due_date=days(-1), status="planned")
    ControlFactory(agency=agency, title="Late but done", due_date=days(-1), status="implemented")
    ControlFactory(agency=agency, title="Due today", due_date=TODAY, status="in_progress")
    ControlFactory(agency=agency, title="No date")
    client = api_as(people["ann"])

    def titles(**params):
        return sorted(row["title"] for row in client.get("/api/controls/", params).json()["results"])

    assert titles(overdue="true") == ["Late"]
    assert titles(overdue="false") == ["Due today", "Late but done", "No date"]


def test_overdue_risks_leave_closed_ones_out(agency):
    RiskFactory(agency=agency, title="Late", review_date=days(-3))
    RiskFactory(agency=agency, title="Closed", review_date=days(-3), status="closed")
    RiskFactory(agency=agency, title="Later", review_date=days(3))
    risks = Risk.objects.all()
    assert [r.title for r in RiskFilterSet({"overdue": "true"}, queryset=risks).qs] == ["Late"]
    assert sorted(r.title for r in RiskFilterSet({"overdue": "false"}, queryset=risks).qs) == ["Closed", "Later"]


def test_expiring_within_through_a_relation_needs_one_row_meeting_all_of_it(agency):
    soon = RiskFactory(agency=agency, title="Soon")
    RiskAcceptanceFactory(agency=agency, risk=soon, status="approved", valid_until=days(10))
    mixed = RiskFactory(agency=agency, title="Requested soon, approved later")
    RiskAcceptanceFactory(agency=agency, risk=mixed, status="requested", valid_until=days(10))
    RiskAcceptanceFactory(agency=agency, risk=mixed, status="approved", valid_until=days(90))
    RiskFactory(agency=agency, title="None")
    risks = Risk.objects.all()
    assert [r.title for r in RiskFilterSet({"acceptance_expiring": "true"}, queryset=risks).qs] == ["Soon"]
    assert sorted(r.title for r in RiskFilterSet({"acceptance_expiring": "false"}, queryset=risks).qs) == [
        "None", "Requested soon, approved later"]


def test_expiring_acceptances(agency):
    risk = RiskFactory(agency=agency)
    today = RiskAcceptanceFactory(agency=agency, risk=risk, status="approved", valid_until=TODAY)
    edge = RiskAcceptanceFactory(agency=agency, risk=risk, status="approved", valid_until=days(30))
    RiskAcceptanceFactory(agency=agency, risk=risk, status="approved", valid_until=days(31))
    RiskAcceptanceFactory(agency=agency, risk=risk, status="approved", valid_until=days(-1))
    RiskAcceptanceFactory(agency=agency, risk=risk, status="requested", valid_until=days(5))
    expiring = RiskAcceptanceFilterSet({"expiring": "true"}, queryset=risk.acceptances.all()).qs
    assert sorted(a.pk for a in expiring) == sorted([today.pk, edge.pk])


# --- the badge column ------------------------------------------------------------------------------

def exported(table_class, queryset, matrix):
    """The rows of the list's CSV file, by header."""
    lines = csv_lines(bound_columns(table_class), queryset, table_class(queryset, matrix=matrix), None)
    header, *rows = csv.reader(io.StringIO("".join(lines)))
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_badge_column_renders_the_band_colour_and_exports_the_text(agency):
    matrix = risk_matrix_ensure(agency)
    RiskFactory(agency=agency, inherent_likelihood=4, inherent_impact=5)
    table = RiskTable(Risk.objects.all(), matrix=matrix)
    row = table.rows[0]
    colour = matrix.band_for(20)["colour"]
    assert row.get_cell("rating") == f'<span class="badge" style="background:{colour}">Critical (20)</span>'
    assert exported(RiskTable, Risk.objects.all(), matrix)[0]["Current rating"] == "Critical"
    asset = AssetFactory(agency=agency, shelf_life_years=25, migration_years=4)
    exposure = asset.exposure(matrix)
    asset_row = AssetTable(Asset.objects.all(), matrix=matrix).rows[0]
    assert asset_row.get_cell("exposure") == (
        f'<span class="badge" style="background:{exposure["colour"]}">{exposure["band_label"]}</span>')
    assert exported(AssetTable, Asset.objects.all(), matrix)[0]["Quantum exposure"] == exposure["band_label"]


def test_badge_tag_on_the_risk_page(client, agency, people):
    matrix = risk_matrix_ensure(agency)
    risk = RiskFactory(agency=agency, inherent_likelihood=4, inherent_impact=5)
    client.force_login(people["ann"])
    html = client.get(f"/risks/register/{risk.pk}/").content.decode()
    assert f'<span class="badge" style="background:{matrix.band_for(20)["colour"]}">Critical (20)</span>' in html
    assert '<td><span class="text-muted">—</span></td>' in html  # no current rating


# --- record fields named once ----------------------------------------------------------------------

def test_every_serializer_ends_with_the_record_fields():
    from qgov.api.urls import router

    checked = 0
    for _prefix, viewset, _basename in router.registry:
        serializer = getattr(viewset, "serializer_class", None)
        model = getattr(getattr(serializer, "Meta", None), "model", None)
        if model is not None and issubclass(model, QgovModel):
            assert tuple(serializer.Meta.fields[-3:]) == RECORD_FIELDS, serializer
            checked += 1
    # agencies, memberships, import runs, evidence files, report runs and schedules, webhook endpoints,
    # identity providers, and every app route over a model (not e.g. /api/compliance/)
    assert checked == 8 + sum(1 for app in registry.apps() for _prefix, viewset, *_basename in app.api_routes
                              if getattr(getattr(viewset.serializer_class, "Meta", None), "model", None))


def test_risks_defines_none_of_the_core_building_blocks():
    from pathlib import Path

    from django.conf import settings

    source = "\n".join(p.read_text() for p in (Path(settings.BASE_DIR) / "risks").rglob("*.py")
                       if "migrations" not in p.parts)
    for own_copy in ("RECORD_FIELDS =", "def _check_member", "def filter_overdue", "def band_badge"):
        assert own_copy not in source
