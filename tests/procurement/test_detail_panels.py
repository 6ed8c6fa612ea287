"""Procurement's panels on other apps' pages (qgov.detail_panels): a certification device's, a
register asset's and a register risk's page list the components linked to them, how many are
quantum-vulnerable and the nearest policy deadline, with links to the component list filtered the
same way; certification and the register import nothing of procurement; the pages' query counts
do not grow with the components."""

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from procurement import catalog
from procurement.panels import COMPONENTS_SHOWN
from tests.certification.factories import DeviceFactory
from tests.procurement.factories import ComponentFactory, CryptoComponentFactory, SupplierFactory
from tests.risks.factories import AssetFactory, RiskFactory

D = datetime.date


@pytest.fixture(autouse=True)
def policies(db):
    catalog.load()  # NIST IR 8547 by default: 112-bit schemes by 2030, the rest by 2035


def components_panel(page):
    (context,) = [ctx for panel, ctx in page.context["detail_panels"] if panel.template.endswith("components_of.html")]
    return context


def panel_html(page):
    html = page.content.decode()
    return html.split('data-testid="components-summary"')[1].split("</section>")[0]


def fleet(agency, **link):
    """Two quantum-vulnerable components (RSA-2048 due 2030, ECDH-256 due 2035), one quantum-safe
    and one that is no cryptography, all linked through `link`."""
    supplier = SupplierFactory(agency=agency)
    return [
        CryptoComponentFactory(agency=agency, supplier=supplier, name="rsa-signing", **link),
        CryptoComponentFactory(agency=agency, name="ecdh-exchange", algorithm="ECDH", classical_security_level=128,
                               **link),
        CryptoComponentFactory(agency=agency, name="ml-kem", algorithm="ML-KEM", nist_quantum_security_level=3,
                               **link),
        ComponentFactory(agency=agency, name="kme-firmware", **link),
    ]


@pytest.mark.parametrize("kind", ["device", "asset", "risk"])
def test_the_page_lists_the_linked_components_and_counts_the_vulnerable(client, agency, other_agency, member_of,
                                                                       kind):
    record = {"device": DeviceFactory, "asset": AssetFactory, "risk": RiskFactory}[kind](agency=agency)
    if kind == "risk":
        components = fleet(agency)
        for component in components:
            component.risks.add(record)
    else:
        components = fleet(agency, **{kind: record})
    fleet(agency)  # linked to nothing: not counted
    elsewhere = CryptoComponentFactory(agency=other_agency, name="theirs")
    if kind == "risk":
        elsewhere.risks.add(RiskFactory(agency=other_agency))
    client.force_login(member_of(agency))
    page = client.get(record.get_absolute_url())
    assert page.status_code == 200
    panel = components_panel(page)
    assert (panel["components"], panel["vulnerable"], panel["earliest_deadline"]) == (4, 2, D(2030, 12, 31))
    # The most urgent first: vulnerable by deadline, then the others by name.
    assert [component.name for component in panel["shown"]] == ["rsa-signing", "ecdh-exchange", "kme-firmware",
                                                                  "ml-kem"]
    html = panel_html(page)
    assert "4 components" in html and "2 quantum-vulnerable" in html and "2030-12-31" in html
    assert "theirs" not in html and components[0].supplier.name in html
    listed = client.get(panel["list_url"])
    assert {row.record for row in listed.context["table"].rows} == set(components)
    vulnerable = client.get(panel["vulnerable_url"])
    assert {row.record.name for row in vulnerable.context["table"].rows} == {"rsa-signing", "ecdh-exchange"}


def test_the_api_filters_the_same_way(api_as, agency, member_of):
    device = DeviceFactory(agency=agency)
    fleet(agency, device=device)
    fleet(agency)
    client = api_as(member_of(agency))
    body = client.get("/api/components/", {"device": device.pk, "quantum_vulnerable": "true"}).json()
    assert sorted(item["name"] for item in body["results"]) == ["ecdh-exchange", "rsa-signing"]


def test_a_record_without_components_says_so(client, agency, member_of):
    device = DeviceFactory(agency=agency)
    client.force_login(member_of(agency))
    page = client.get(device.get_absolute_url())
    assert components_panel(page)["components"] == 0
    assert "No component recorded." in panel_html(page)


def test_the_list_names_the_most_urgent_and_links_to_the_rest(client, agency, member_of):
    asset = AssetFactory(agency=agency)
    for n in range(COMPONENTS_SHOWN + 2):
        CryptoComponentFactory(agency=agency, asset=asset, name=f"rsa-{n:02d}")
    client.force_login(member_of(agency))
    page = client.get(asset.get_absolute_url())
    panel = components_panel(page)
    assert len(panel["shown"]) == COMPONENTS_SHOWN and panel["more"] == 2
    assert "2 more…" in panel_html(page)


@pytest.mark.parametrize("kind", ["device", "asset"])
def test_the_page_query_count_does_not_grow_with_components(client, agency, member_of, kind):
    record = DeviceFactory(agency=agency) if kind == "device" else AssetFactory(agency=agency)
    CryptoComponentFactory(agency=agency, **{kind: record})
    client.force_login(member_of(agency))
    client.get(record.get_absolute_url())
    with CaptureQueriesContext(connection) as few:
        client.get(record.get_absolute_url())
    supplier = SupplierFactory(agency=agency)
    for n in range(COMPONENTS_SHOWN + 5):
        CryptoComponentFactory(agency=agency, supplier=supplier, name=f"more-{n}", **{kind: record})
    with CaptureQueriesContext(connection) as many:
        page = client.get(record.get_absolute_url())
    assert components_panel(page)["components"] == COMPONENTS_SHOWN + 6
    assert len(many) == len(few)
    panel_queries = [q["sql"] for q in many.captured_queries if "procurement_component" in q["sql"]]
    assert len(panel_queries) == 2  # the counts, the components named


def test_certification_and_the_register_import_nothing_of_procurement():
    for app in ("certification", "risks"):
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            text = path.read_text()
            assert "import procurement" not in text and "from procurement" not in text, path
        for path in (Path(settings.BASE_DIR) / "templates" / app).rglob("*.html"):
            assert "procurement" not in path.read_text(), path
