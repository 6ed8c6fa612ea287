"""The register at scale: record filters of many records are autocomplete pickers (no <option>
per asset), a chosen one still filters and shows its name, and the page's query count does not grow
with the number of risks or assets."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from qgov.autocomplete import CHOICES_LIMIT
from risks.models import Asset, Risk
from risks.selectors import all_heatmap_counts, heatmap_counts
from tests.risks.factories import AssetFactory, RiskFactory


def make_assets(agency, count, prefix="Fleet asset"):
    return Asset.objects.bulk_create([Asset(agency=agency, name=f"{prefix} {n:04d}", asset_type="qkd_link",
                                            shelf_life_years=10, migration_years=3) for n in range(count)])


def test_hundreds_of_assets_are_not_rendered_as_options(client, agency, member_of):
    make_assets(agency, 300)
    client.force_login(member_of(agency))
    html = client.get("/risks/register/").content.decode()
    assert "Fleet asset" not in html  # not one of the 300 names
    asset_input = re.search(r'<input[^>]*name="asset"[^>]*>', html).group(0)
    assert 'data-autocomplete="/autocomplete/risks/asset/"' in asset_input
    assert '<select name="asset"' not in html
    assert 'name="status"' in html and 'type="checkbox"' in html  # fixed choices stay checkboxes


def test_a_few_assets_stay_a_select(client, agency, member_of):
    make_assets(agency, 3, prefix="Few")
    client.force_login(member_of(agency))
    html = client.get("/risks/register/").content.decode()
    assert re.search(r'<select name="asset"', html)
    assert html.count(">Few ") == 3


def test_a_chosen_asset_filters_and_shows_its_name(client, agency, other_agency, member_of):
    assets = make_assets(agency, CHOICES_LIMIT + 50)
    chosen = assets[-1]
    linked = RiskFactory(agency=agency, title="Linked risk")
    linked.assets.add(chosen)
    RiskFactory(agency=agency, title="Unlinked risk")
    theirs = AssetFactory(agency=other_agency, name="Their asset")
    client.force_login(member_of(agency))
    page = client.get("/risks/register/", {"asset": chosen.pk})
    assert [risk.title for risk in page.context["table"].data] == ["Linked risk"]
    html = page.content.decode()
    asset_input = re.search(r'<input[^>]*name="asset"[^>]*>', html).group(0)
    assert f'value="{chosen.pk}"' in asset_input
    assert chosen.name in asset_input  # the chosen label, for the picker
    assert html.count("Fleet asset") == 1  # and no other asset's
    # Another agency's asset is refused as a choice, and its name never shown.
    refused = client.get("/risks/register/", {"asset": theirs.pk})
    assert refused.context["filter_errors"] and b"Their asset" not in refused.content


def test_ids_typed_without_javascript_filter_too(client, agency, member_of):
    """The picker degrades to a text box of ids; several ids for a multiple filter, comma-separated."""
    from risks.models import ThreatVector

    vectors = ThreatVector.objects.bulk_create([ThreatVector(code=f"SCL-{n:03d}", title=f"Scale threat {n}",
                                                             category="qkd_operational", default_likelihood=2,
                                                             default_impact=2) for n in range(CHOICES_LIMIT + 5)])
    first, second = RiskFactory(agency=agency, title="First"), RiskFactory(agency=agency, title="Second")
    RiskFactory(agency=agency, title="Neither")
    first.threat_vectors.add(vectors[0])
    second.threat_vectors.add(vectors[1])
    client.force_login(member_of(agency))
    page = client.get("/risks/register/", {"threat_vector": f"{vectors[0].pk}, {vectors[1].pk}"})
    assert sorted(risk.title for risk in page.context["table"].data) == ["First", "Second"]
    assert re.search(r'<input[^>]*name="threat_vector"[^>]*data-autocomplete-multiple', page.content.decode())


def test_register_query_count_does_not_grow_with_risks_or_assets(client, agency, member_of):
    client.force_login(member_of(agency))
    counts = []
    for step in range(2):
        make_assets(agency, 150, prefix=f"Step {step}")
        for _ in range(30):
            RiskFactory(agency=agency)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/risks/register/")
        assert response.status_code == 200
        counts.append(len(queries))
    # 14: the number of risks comes from the heat maps' grouped query, not a COUNT of its own; the
    # matrix is read once; each record filter reads up to 101 ids, and a short one (owners, threat
    # vectors) then reads its records for the select.
    assert counts[0] == counts[1] == 14, [q["sql"][:100] for q in queries.captured_queries]
    asset_reads = [q["sql"] for q in queries.captured_queries if 'FROM "risks_asset"' in q["sql"]]
    # The asset filter, 300 assets: one query of ids past the limit, no asset record built.
    assert len(asset_reads) == 1 and '"risks_asset"."name"' not in asset_reads[0], asset_reads
    matrix_reads = [q["sql"] for q in queries.captured_queries if 'FROM "risks_riskmatrix"' in q["sql"]]
    assert len(matrix_reads) == 1


def test_one_grouped_query_gives_the_three_heat_maps(agency, other_agency):
    RiskFactory(agency=agency, inherent_likelihood=4, inherent_impact=5, residual_likelihood=2, residual_impact=3)
    RiskFactory(agency=agency, inherent_likelihood=4, inherent_impact=5, current_likelihood=3, current_impact=3)
    RiskFactory(agency=agency, inherent_likelihood=1, inherent_impact=2)
    RiskFactory(agency=other_agency, inherent_likelihood=4, inherent_impact=5)
    risks = Risk.objects.filter(agency=agency)
    with CaptureQueriesContext(connection) as queries:
        counts = all_heatmap_counts(risks)
    assert len(queries) == 1
    assert counts == {"inherent": {(4, 5): 2, (1, 2): 1},
                      "current": {(4, 5): 1, (3, 3): 1, (1, 2): 1},
                      "residual": {(2, 3): 1}}
    assert heatmap_counts(risks, "current") == counts["current"]


def test_heat_maps_count_each_risk_once_across_a_to_many_filter(agency):
    """A filter through assets joins the link table: a risk of two matching assets counts once."""
    first, second = AssetFactory(agency=agency, name="A1"), AssetFactory(agency=agency, name="A2")
    risk = RiskFactory(agency=agency, inherent_likelihood=3, inherent_impact=3)
    risk.assets.add(first, second)
    joined = Risk.objects.filter(agency=agency, assets__name__startswith="A")
    assert joined.count() == 2  # the join repeats the risk
    assert all_heatmap_counts(joined)["inherent"] == {(3, 3): 1}
    assert all_heatmap_counts(joined.distinct())["inherent"] == {(3, 3): 1}
