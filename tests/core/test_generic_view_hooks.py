"""Hooks of the generic views: add forms filled in from the query string, record selects in filter
sidebars kept short, form media on edit pages."""

import re

from qgov.choices import RoleChoices
from qgov.views.generic import ObjectListView
from tests.risks.factories import AssetFactory, ThreatVectorFactory


def test_add_form_is_filled_in_from_the_query_string(client, agency, other_agency, member_of):
    first, second = AssetFactory(agency=agency, name="Link A"), AssetFactory(agency=agency, name="Link B")
    theirs = AssetFactory(agency=other_agency, name="Their link")
    vector = ThreatVectorFactory(code="SUP-01")
    client.force_login(member_of(agency, RoleChoices.EDITOR))
    page = client.get("/risks/register/add/", {"title": "Device lost its certificate", "assets": [first.pk, second.pk,
                                                                                                 theirs.pk],
                                               "threat_vectors": vector.pk, "version": 7})
    form = page.context["form"]
    assert form.initial["title"] == "Device lost its certificate"
    assert form.initial["assets"] == [str(first.pk), str(second.pk), str(theirs.pk)]
    assert form.initial["threat_vectors"] == [str(vector.pk)]
    assert "version" not in form.initial  # hidden fields are the page's own
    html = page.content.decode()
    assert 'value="Device lost its certificate"' in html
    selected = re.findall(r'<option value="(\d+)" selected>', html)
    assert sorted(selected) == sorted([str(first.pk), str(second.pk), str(vector.pk)])  # never another agency's


def test_edit_forms_ignore_the_query_string(client, agency, member_of):
    asset = AssetFactory(agency=agency, name="Link A")
    client.force_login(member_of(agency, RoleChoices.EDITOR))
    form = client.get(f"/risks/assets/{asset.pk}/edit/", {"name": "Other"}).context["form"]
    assert form.initial["name"] == "Link A"


def test_sidebar_record_filters_of_many_records_become_pickers(client, agency, member_of, monkeypatch):
    """Up to the limit, a select of the records; past it, an autocomplete picker that renders only the
    chosen record (qgov/autocomplete.py), and any record of the agency still filters."""
    monkeypatch.setattr(ObjectListView, "filter_choices_limit", 4)
    assets = [AssetFactory(agency=agency, name=f"Asset {n}") for n in range(4)]
    client.force_login(member_of(agency))
    html = client.get("/risks/register/").content.decode()
    asset_select = re.search(r'<select name="asset"[^>]*>(.*?)</select>', html, re.S).group(1)
    assert re.findall(r'<option value="(\d*)"', asset_select) == ["", *(str(asset.pk) for asset in assets)]
    assets.append(AssetFactory(agency=agency, name="Asset 4"))
    chosen = client.get("/risks/register/", {"asset": assets[3].pk})
    html = chosen.content.decode()
    assert '<select name="asset"' not in html and "Asset 0" not in html
    picker = re.search(r'<input[^>]*name="asset"[^>]*>', html).group(0)
    assert f'value="{assets[3].pk}"' in picker and "Asset 3" in picker
    assert chosen.context["filter"].is_valid()


def test_detail_pages_show_json_lists_as_text(client, agency, member_of):
    from risks.services import risk_matrix_ensure

    matrix = risk_matrix_ensure(agency)
    client.force_login(member_of(agency))
    rows = {str(label): value for label, value, _url in client.get(matrix.get_absolute_url()).context["fields"]}
    assert rows["likelihood levels"] == ", ".join(matrix.likelihood_labels)


def test_detail_pages_say_yes_or_no(client, agency, member_of):
    asset = AssetFactory(agency=agency, harvestable=True)
    client.force_login(member_of(agency))
    rows = {str(label): value for label, value, _url in client.get(asset.get_absolute_url()).context["fields"]}
    assert rows["harvest-now-decrypt-later applies"] == "Yes"
