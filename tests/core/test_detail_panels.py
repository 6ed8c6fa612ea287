"""Panels an app adds to another app's detail pages (qgov.detail_panels): declared in the app's
QgovApp, rendered in the side column of the model's detail page in their order, left out where
their context is None, on no other model's page and not on the history tab, and gone when the app
is unregistered. The core's own: the agency's sign-in policy (qgov.identity.panels)."""

import re

from qgov import registry
from qgov.choices import RoleChoices
from tests.core.test_registry import sandbox_app  # noqa: F401 (the fixture)
from tests.risks.factories import AssetFactory, ControlFactory
from tests.sandbox import app as sandbox

VIEWER_AGENCY_PAGE_QUERIES = 6  # session, user, active agency, the agency, roles, unread count: the panel adds none


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


def test_the_agency_page_shows_its_sign_in_policy_in_a_panel(client, agency, member_of, django_assert_num_queries):
    """The MFA and session fields, as members meet them (an empty limit is the platform's), in one
    panel instead of rows of the field table; those who may change them get the link."""
    from qgov.identity.panels import POLICY_FIELDS

    client.force_login(member_of(agency, RoleChoices.VIEWER))
    with django_assert_num_queries(VIEWER_AGENCY_PAGE_QUERIES):
        page = client.get(agency.get_absolute_url())
    assert panel_titles(page) == ["Sign-in policy"]
    assert page.context["detail_panels"][0][1] == {
        "phishing_resistant_required": False, "totp_allowed": True, "edit_url": None,
        "limits": [{"label": "Signed out after inactivity", "duration": "1 hour", "source": "the platform's"},
                   {"label": "Signed out after signing in, however active", "duration": "12 hours",
                    "source": "the platform's"}]}
    labels = {str(label) for label, _value, _url in page.context["fields"]}
    assert not labels & {str(agency._meta.get_field(name).verbose_name) for name in POLICY_FIELDS}

    type(agency).objects.filter(pk=agency.pk).update(phishing_resistant_required=True, session_idle_minutes=15,
                                                      session_absolute_minutes=8 * 60)
    client.force_login(member_of(agency, RoleChoices.ADMIN))
    page = client.get(agency.get_absolute_url())
    side = page.content.decode().split('<div class="col-lg-4">')[1]
    assert re.search(r'<h2 class="h6 mb-0" id="detail-panel-1">Sign-in policy</h2>', side)
    panel = side.split('data-testid="sign-in-policy-panel"')[1]
    assert [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip()
            for cell in re.findall(r"<d[td][^>]*>(.*?)</d[td]>", panel, re.S)] == [
        "Second factor", "phishing-resistant required a passkey, or a provider sign-in reported phishing-resistant",
        "Authenticator apps (TOTP)", "not allowed",
        "Signed out after inactivity", "15 minutes (this agency&#x27;s)",
        "Signed out after signing in, however active", "8 hours (this agency&#x27;s)"]
    assert f'href="/agencies/{agency.pk}/edit/">Change policy</a>' in panel
