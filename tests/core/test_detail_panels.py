"""Panels an app adds to another app's detail pages (qgov.detail_panels): declared in the app's
QgovApp, rendered in the side column of the model's detail page in their order, left out where
their context is None, on no other model's page and not on the history tab, and gone when the app
is unregistered."""

import re

from qgov import registry
from qgov.choices import RoleChoices
from tests.core.test_registry import sandbox_app  # noqa: F401 (the fixture)
from tests.risks.factories import AssetFactory, ControlFactory
from tests.sandbox import app as sandbox


def panel_titles(page):
    return [str(panel.title) for panel, _ctx in page.context["detail_panels"]]


def test_an_app_shows_its_panels_on_another_apps_detail_page(sandbox_app, client, agency, member_of):  # noqa: F811
    asset = AssetFactory(agency=agency, name="Backbone link")
    client.force_login(member_of(agency, RoleChoices.VIEWER))
    page = client.get(asset.get_absolute_url())
    # Procurement's and incidents' own panels sit between the sandbox's two, by order; the empty one
    # is left out.
    assert panel_titles(page) == ["Early sandbox", "Components", "Incidents", "Sandboxes"]
    html = page.content.decode()
    assert '<p data-testid="sandbox-panel">2 sandboxes beside Backbone link</p>' in html
    assert "never" not in html
    side = html.split('<div class="col-lg-4">')[1]
    assert re.search(r'<h2 class="h6 mb-0" id="detail-panel-4">Sandboxes</h2>', side)


def test_panels_appear_on_their_model_only_and_not_on_the_history_tab(sandbox_app, client, agency,  # noqa: F811
                                                                      member_of):
    asset, control = AssetFactory(agency=agency), ControlFactory(agency=agency)
    client.force_login(member_of(agency, RoleChoices.ADMIN))
    assert "sandbox-panel" not in client.get(control.get_absolute_url()).content.decode()
    assert client.get(control.get_absolute_url()).context["detail_panels"] == []
    history = client.get(f"{asset.get_absolute_url()}history/")
    assert history.status_code == 200 and history.context["detail_panels"] == []


def test_unregistering_the_app_takes_its_panels_away(sandbox_app, client, agency, member_of):  # noqa: F811
    asset = AssetFactory(agency=agency)
    registry.unregister(sandbox.APP.label)
    try:
        client.force_login(member_of(agency))
        assert panel_titles(client.get(asset.get_absolute_url())) == ["Components", "Incidents"]
    finally:
        registry.register(sandbox.APP)  # the fixture unregisters it
