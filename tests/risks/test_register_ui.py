"""The register as policy staff see it: heat maps, filters, detail, the catalog and the dashboard."""

import datetime
import json
import re

from django.core.management import call_command
from django.utils import timezone

from qgov.choices import RoleChoices
from qgov.services import object_transition
from risks.catalog import CATALOG_FILE
from risks.models import ThreatVector
from risks.services import risk_matrix_ensure
from tests.risks.factories import AssetFactory, RiskAcceptanceFactory, RiskFactory, ThreatVectorFactory


def test_heat_maps_count_risks_and_link_to_the_filtered_list(client, agency, other_agency, member_of):
    RiskFactory(agency=agency, inherent_likelihood=4, inherent_impact=5, residual_likelihood=2, residual_impact=3)
    RiskFactory(agency=agency, inherent_likelihood=4, inherent_impact=5)
    RiskFactory(agency=other_agency, inherent_likelihood=4, inherent_impact=5)
    client.force_login(member_of(agency))
    page = client.get("/risks/register/")
    maps = dict(page.context["heatmaps"])
    inherent, residual = str(maps["inherent"]), str(maps["residual"])
    cell = re.search(r'<a href="([^"]+)" aria-label="2 risks at likelihood 4, impact 5 \(Critical\)">', inherent)
    assert cell, inherent
    assert cell.group(1) == "/risks/register/?inherent_likelihood=4&amp;inherent_impact=5"
    assert 'aria-label="1 risks at likelihood 2, impact 3 (Medium)"' in residual
    filtered = client.get("/risks/register/", {"inherent_likelihood": 4, "inherent_impact": 5})
    assert filtered.context["table"].paginator.count == 2


def test_register_filters(client, agency, member_of):
    today = timezone.localdate()
    crypto = ThreatVectorFactory(code="CRY-01", category="cryptanalytic")
    RiskFactory(agency=agency, title="Late", review_date=today - datetime.timedelta(days=1))
    RiskFactory(agency=agency, title="Closed late", review_date=today - datetime.timedelta(days=5), status="closed")
    harvest = RiskFactory(agency=agency, title="Harvest", inherent_likelihood=5, inherent_impact=5)
    harvest.threat_vectors.set([crypto])
    expiring = RiskFactory(agency=agency, title="Expiring")
    admin = member_of(agency, RoleChoices.ADMIN)
    acceptance = RiskAcceptanceFactory(agency=agency, risk=expiring, valid_until=today + datetime.timedelta(days=10))
    object_transition(instance=acceptance, name="approve", user=admin)
    client.force_login(admin)

    def titles(**params):
        return sorted(r.title for r in client.get("/risks/register/", params).context["table"].data)

    assert titles(overdue="true") == ["Late"]
    assert titles(category="cryptanalytic") == ["Harvest"]
    assert titles(threat_vector=crypto.pk) == ["Harvest"]
    assert titles(rating="Critical") == ["Harvest"]
    rating_choices = client.get("/risks/register/").context["filter"].form.fields["rating"].choices
    assert [value for value, _label in rating_choices] == ["", "Critical", "High", "Medium", "Low"]
    assert titles(acceptance_expiring="true") == ["Expiring"]
    assert titles(status="closed") == ["Closed late"]
    assert titles(q="harv") == ["Harvest"]


def test_risk_detail_shows_ratings_links_and_overdue(client, agency, member_of):
    asset = AssetFactory(agency=agency, name="Link A")
    risk = RiskFactory(agency=agency, inherent_likelihood=4, inherent_impact=5, residual_likelihood=1,
                       residual_impact=5, review_date=timezone.localdate() - datetime.timedelta(days=2))
    risk.assets.set([asset])
    client.force_login(member_of(agency))
    page = client.get(risk.get_absolute_url())
    ratings = {label: (score, band["name"] if band else None) for label, _l, _i, score, band in page.context["ratings"]}
    assert ratings == {"Inherent": (20, "Critical"), "Current": (None, None), "Residual": (5, "Medium")}
    html = page.content.decode()
    assert "Review overdue" in html
    assert asset.get_absolute_url() in html


def test_asset_list_has_the_mosca_column(client, agency, member_of):
    risk_matrix_ensure(agency)
    AssetFactory(agency=agency, name="Archive", shelf_life_years=30, migration_years=5, harvestable=True)
    AssetFactory(agency=agency, name="Portal", shelf_life_years=2, migration_years=2, harvestable=True)
    client.force_login(member_of(agency))
    html = client.get("/risks/assets/").content.decode()
    assert re.search(r"Archive.*\+20\.0.*Critical", html, re.S)
    assert re.search(r"Portal.*-11\.0.*Low", html, re.S)


def test_dashboard_lists_exposed_assets_and_register_counts(client, agency, member_of):
    risk_matrix_ensure(agency)
    AssetFactory(agency=agency, name="Cabinet archive", shelf_life_years=30, migration_years=5)
    AssetFactory(agency=agency, name="Portal", shelf_life_years=2, migration_years=2)
    RiskFactory(agency=agency, inherent_likelihood=5, inherent_impact=5,
                review_date=timezone.localdate() - datetime.timedelta(days=1))
    client.force_login(member_of(agency))
    panels = {str(panel.title): ctx for panel, ctx in client.get("/").context["panels"]}
    assert [asset.name for asset, _ in panels["Quantum-exposed assets (Mosca)"]["assets"]] == ["Cabinet archive"]
    register = panels["Risk register"]
    assert (register["open_count"], register["overdue"]) == (1, 1)
    assert [(band["name"], n) for band, n in register["bands"]] == [("Critical", 1), ("High", 0), ("Medium", 0),
                                                                   ("Low", 0)]


def test_new_agencies_get_the_default_matrix(superuser, api_as):
    response = api_as(superuser).post("/api/agencies/", {"name": "New Office", "code": "NEW", "sector": "health"},
                                      format="json")
    assert response.status_code == 201
    matrices = api_as(superuser).get("/api/risk-matrices/", {"agency": response.json()["id"]}).json()["results"]
    assert [(m["size"], m["z_central"]) for m in matrices] == [(5, "15.0")]


def test_catalog_ships_every_reference_entry_and_loads_idempotently(db):
    entries = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    assert len(entries) == 41
    assert {e["category"] for e in entries} == {"cryptanalytic", "qkd_implementation", "qkd_operational",
                                               "supply_chain", "pqc_migration"}
    assert all(e["citations"] and all(c.strip() for c in e["citations"]) for e in entries)
    call_command("load_catalogs", verbosity=0)
    assert ThreatVector.objects.count() == 41
    hndl = ThreatVector.objects.get(code="CRY-01")
    assert (hndl.default_likelihood, hndl.default_impact) == (4, 5)
    version = hndl.version
    call_command("load_catalogs", verbosity=0)
    hndl.refresh_from_db()
    assert hndl.version == version


def test_reloading_updates_changed_entries_without_touching_agency_data(db, tmp_path, agency):
    from risks.catalog import load

    call_command("load_catalogs", verbosity=0)
    risk = RiskFactory(agency=agency, title="Mine")
    risk.threat_vectors.set([ThreatVector.objects.get(code="QIM-01")])
    entries = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    entries[0]["default_likelihood"] = 5
    changed = tmp_path / "threat_vectors.json"
    changed.write_text(json.dumps(entries), encoding="utf-8")
    assert load(changed) == "threat vectors: 0 created, 1 updated, 40 unchanged"
    assert ThreatVector.objects.get(code=entries[0]["code"]).default_likelihood == 5
    risk.refresh_from_db()
    assert (risk.title, risk.version, [tv.code for tv in risk.threat_vectors.all()]) == ("Mine", 1, ["QIM-01"])


def test_members_cannot_change_the_catalog(agency, member_of, api_as):
    ThreatVectorFactory(code="CRY-01")
    vector = ThreatVector.objects.get(code="CRY-01")
    response = api_as(member_of(agency, RoleChoices.ADMIN)).patch(f"/api/threat-vectors/{vector.pk}/",
                                                                   {"default_impact": 1}, format="json")
    assert response.status_code == 403
    vector.refresh_from_db()
    assert vector.default_impact == 4


def test_api_filters_span_all_of_the_callers_agencies(agency, other_agency, member_of, api_as):
    from tests.factories import MembershipFactory

    user = member_of(agency, RoleChoices.VIEWER)
    MembershipFactory(user=user, agency=other_agency, role=RoleChoices.VIEWER)
    colleague = member_of(other_agency, RoleChoices.EDITOR)
    theirs = RiskFactory(agency=other_agency, owner=colleague)
    RiskFactory(agency=agency)
    rows = api_as(user).get("/api/risks/", {"owner": colleague.pk}).json()["results"]
    assert [row["id"] for row in rows] == [theirs.pk]


def test_the_register_labels_the_current_rating_and_offers_its_heat_map(client, agency, member_of):
    # Current rating given: it is what the register's rating column shows.
    RiskFactory(agency=agency, title="Rated now", inherent_likelihood=4, inherent_impact=5, current_likelihood=2,
                current_impact=2, residual_likelihood=1, residual_impact=1)
    # No current rating yet: the column (and the current map) fall back to the inherent one.
    RiskFactory(agency=agency, title="Not yet", inherent_likelihood=3, inherent_impact=3)
    client.force_login(member_of(agency))
    page = client.get("/risks/register/")
    html = page.content.decode()
    assert re.search(r"<th[^>]*>\s*(<a[^>]*>)?\s*Current rating\s*(</a>)?\s*</th>", html), "rating column label"
    maps = dict(page.context["heatmaps"])
    assert list(maps) == ["inherent", "current", "residual"]
    current = str(maps["current"])
    assert 'aria-label="1 risks at likelihood 2, impact 2 (Low)"' in current
    assert 'aria-label="1 risks at likelihood 3, impact 3 (Medium)"' in current
    cell = re.search(r'<a href="([^"]+)" aria-label="1 risks at likelihood 3, impact 3', current).group(1)
    assert cell == "/risks/register/?current_likelihood=3&amp;current_impact=3"
    titles = [r.title for r in client.get(cell.replace("&amp;", "&")).context["table"].data]
    assert titles == ["Not yet"]
    titles = [r.title for r in client.get("/risks/register/", {"current_likelihood": 2, "current_impact": 2})
              .context["table"].data]
    assert titles == ["Rated now"]
    for kind in ("Inherent", "Current", "Residual"):  # the selector between the three maps
        assert re.search(rf'<button[^>]*role="tab"[^>]*>{kind}', html), kind
    assert page.context["heatmap_shown"] == "current"
    filtered = client.get("/risks/register/", {"residual_likelihood": 1, "residual_impact": 1})
    assert filtered.context["heatmap_shown"] == "residual"  # the map whose cell was followed stays selected


def test_the_mosca_panel_labels_the_margin_and_explains_z_and_crqc(client, agency, member_of):
    risk_matrix_ensure(agency)
    AssetFactory(agency=agency, name="Cabinet archive", shelf_life_years=20, migration_years=3)
    client.force_login(member_of(agency))
    html = client.get("/").content.decode()
    panel = html[html.index("Quantum-exposed assets"):html.index("All assets")]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", panel))
    assert "Cabinet archive margin x + y − z: +8.0 y" in text, text  # 20 + 3 − 15, not the total 23
    assert re.search(r'<abbr title="cryptographically relevant quantum computer[^"]*">CRQC</abbr>', panel)
    assert re.search(r'<abbr title="[^"]*years until a CRQC[^"]*">z</abbr>', panel)
    asset_page = client.get("/risks/assets/").content.decode()
    assert re.search(r'<th title="Margin in years: [^"]*years until a CRQC \(cryptographically[^"]*"', asset_page)
