"""Components linked to register risks: the link stored (model, form, API), another agency's risk
refused with nothing written, a risk raised from a component linked back to it in the same
transaction, an existing risk linked from the component page, and the linked risks listed with
their current rating."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from procurement import catalog
from procurement.models import Component
from procurement.services import component_risk_raise, component_risks_link
from qgov.choices import RoleChoices
from qgov.models import AuditEvent
from qgov.services import object_create, object_update
from risks.models import Risk
from tests.factories import MembershipFactory
from tests.procurement.factories import CryptoComponentFactory
from tests.risks.factories import AssetFactory, RiskFactory, ThreatVectorFactory


@pytest.fixture(autouse=True)
def policies(db):
    catalog.load()


@pytest.fixture
def editor(agency, member_of):
    return member_of(agency, RoleChoices.EDITOR, username="ed")


@pytest.fixture
def both_agencies_editor(agency, other_agency, member_of):
    """An editor of both agencies: another agency's risk is one they may see, so only the agency
    rule (not visibility) can refuse it."""
    user = member_of(agency, RoleChoices.EDITOR, username="two")
    MembershipFactory(agency=other_agency, user=user, role=RoleChoices.EDITOR)
    return user


def work_in(client, user, agency):
    """Sign in with `agency` active (as the switcher sets it)."""
    from qgov.middleware import ACTIVE_AGENCY_SESSION_KEY

    client.force_login(user)
    session = client.session
    session[ACTIVE_AGENCY_SESSION_KEY] = agency.pk
    session.save()


def component_events(component):
    return AuditEvent.objects.filter(content_type__model="component", object_id=str(component.pk))


# --- the relation and the write path --------------------------------------------------------------

def test_the_core_write_path_links_risks_and_audits_the_ids(agency, editor):
    first, second = RiskFactory(agency=agency), RiskFactory(agency=agency)
    component = object_create(model=Component, user=editor, data={
        "agency": agency, "name": "kme-signing-key", "risks": [first]})
    assert list(component.risks.all()) == [first]
    assert list(first.components.all()) == [component]  # the register reads it back, importing nothing
    object_update(instance=component, user=editor, data={"risks": [first, second]})
    update = component_events(component).filter(action="update").get()
    assert update.after["risks"] == sorted([first.pk, second.pk])


def test_another_agencys_risk_is_refused_and_nothing_is_written(agency, other_agency, both_agencies_editor):
    ours, theirs = RiskFactory(agency=agency), RiskFactory(agency=other_agency)
    component = CryptoComponentFactory(agency=agency)
    component.risks.add(ours)
    events = component_events(component).count()
    with pytest.raises(ValidationError) as refused:
        object_update(instance=component, user=both_agencies_editor, data={"risks": [ours, theirs]})
    assert "risks" in refused.value.message_dict
    with pytest.raises(ValidationError):
        component_risks_link(component=component, risks=[theirs], user=both_agencies_editor)
    with pytest.raises(ValidationError):
        object_create(model=Component, user=both_agencies_editor, data={
            "agency": agency, "name": "new", "risks": [theirs]})
    assert list(component.risks.all()) == [ours]
    assert component_events(component).count() == events
    assert not Component.objects.filter(name="new").exists()


def test_linking_keeps_the_risks_already_linked_and_is_one_audited_change(agency, editor):
    first, second = RiskFactory(agency=agency), RiskFactory(agency=agency)
    component = CryptoComponentFactory(agency=agency)
    component_risks_link(component=component, risks=[first], user=editor)
    component_risks_link(component=component, risks=[second, first], user=editor)
    assert set(component.risks.all()) == {first, second}
    updates = list(component_events(component).filter(action="update").order_by("id"))
    assert [event.after["risks"] for event in updates] == [[first.pk], sorted([first.pk, second.pk])]
    component_risks_link(component=component, risks=[first], user=editor)  # already linked: no change
    assert component_events(component).filter(action="update").count() == 2


def test_a_viewer_may_not_link(agency, member_of):
    viewer = member_of(agency, RoleChoices.VIEWER, username="vi")
    risk, component = RiskFactory(agency=agency), CryptoComponentFactory(agency=agency)
    with pytest.raises(PermissionDenied):
        component_risks_link(component=component, risks=[risk], user=viewer)
    assert not component.risks.exists()


# --- the API -------------------------------------------------------------------------------------

def test_the_api_writes_risk_ids_and_reads_brief_objects(api_as, agency, editor):
    risk = RiskFactory(agency=agency, title="RSA signing key")
    client = api_as(editor)
    created = client.post("/api/components/", {"agency": agency.pk, "name": "kme", "risks": [risk.pk]},
                          format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert [item["id"] for item in body["risks"]] == [risk.pk]
    assert body["risks"][0]["display"] == str(risk)
    assert body["risks"][0]["url"].endswith(f"/api/risks/{risk.pk}/")
    listed = client.get("/api/components/", {"risk": risk.pk}).json()["results"]
    assert [item["id"] for item in listed] == [body["id"]]
    patched = client.patch(f"/api/components/{body['id']}/", {"risks": []}, format="json")
    assert patched.status_code == 200 and patched.json()["risks"] == []
    assert not Component.objects.get(pk=body["id"]).risks.exists()


def test_the_api_refuses_another_agencys_risk_with_a_400_and_writes_nothing(api_as, agency, other_agency,
                                                                          both_agencies_editor, member_of):
    ours, theirs = RiskFactory(agency=agency), RiskFactory(agency=other_agency)
    component = CryptoComponentFactory(agency=agency)
    component.risks.add(ours)
    version, events = component.version, component_events(component).count()
    # Seen by the caller (an editor of both agencies): the agency rule refuses it.
    response = api_as(both_agencies_editor).patch(f"/api/components/{component.pk}/", {"risks": [ours.pk, theirs.pk]},
                                                  format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"risks": ["Choose a record of the same agency."]}
    # Unseen by the caller: it does not exist for them.
    only_ours = member_of(agency, RoleChoices.EDITOR, username="one")
    response = api_as(only_ours).patch(f"/api/components/{component.pk}/", {"risks": [theirs.pk]}, format="json")
    assert response.status_code == 400 and "risks" in response.json()["errors"]
    response = api_as(only_ours).post("/api/components/", {"agency": agency.pk, "name": "new", "risks": [theirs.pk]},
                                      format="json")
    assert response.status_code == 400 and "risks" in response.json()["errors"]
    component.refresh_from_db()
    assert component.version == version and list(component.risks.all()) == [ours]
    assert component_events(component).count() == events
    assert not Component.objects.filter(name="new").exists()


# --- the component form ------------------------------------------------------------------------

def form_data(**extra):
    return {"name": "kme-firmware", "component_type": "firmware", "authenticity_result": "not_checked",
            "certification_level": "[]", **extra}


def test_the_component_form_picks_the_agencys_risks(client, agency, other_agency, editor):
    ours = RiskFactory(agency=agency, title="Ours")
    RiskFactory(agency=other_agency, title="Theirs")
    client.force_login(editor)
    page = client.get("/procurement/components/add/")
    widget = page.context["form"].fields["risks"].widget
    html = page.content.decode()
    assert 'name="risks"' in html and "Theirs" not in html
    assert widget.attrs["data-multiselect"] == ""  # a short register: the searchable multi-select
    response = client.post("/procurement/components/add/", form_data(risks=[ours.pk]))
    assert response.status_code == 302
    assert list(Component.objects.get(name="kme-firmware").risks.all()) == [ours]


def test_the_component_form_refuses_another_agencys_risk(client, agency, other_agency, both_agencies_editor):
    theirs = RiskFactory(agency=other_agency)
    work_in(client, both_agencies_editor, agency)
    response = client.post("/procurement/components/add/", form_data(risks=[theirs.pk]))
    assert response.status_code == 200
    assert response.context["form"].errors["risks"]
    assert not Component.objects.exists()


def test_a_long_register_is_picked_by_typing(client, agency, editor):
    from qgov.autocomplete import CHOICES_LIMIT
    from risks.services import risk_matrix_ensure

    matrix = risk_matrix_ensure(agency)
    risks = Risk.objects.bulk_create([  # a register past the select's limit, written at once
        Risk(agency=agency, matrix=matrix, reference=f"R-{n}", title=f"Risk {n}", inherent_likelihood=1,
             inherent_impact=1, inherent_score=1, rating_score=1) for n in range(CHOICES_LIMIT + 1)])
    client.force_login(editor)
    page = client.get("/procurement/components/add/")
    html = page.content.decode()
    picker = re.search(r'<input[^>]*name="risks"[^>]*>', html).group(0)
    assert 'data-autocomplete="/autocomplete/risks/risk/"' in picker and "data-autocomplete-multiple" in picker
    assert "Risk 7" not in html  # nothing chosen, nothing read
    response = client.post("/procurement/components/add/", form_data(risks=f"{risks[0].pk}, {risks[-1].pk}"))
    assert response.status_code == 302
    assert set(Component.objects.get().risks.all()) == {risks[0], risks[-1]}


# --- raise a risk from a component, and link it back -----------------------------------------------

def test_the_page_raises_a_risk_prefilled_and_links_it_back(client, agency, editor):
    from risks.services import risk_matrix_ensure

    risk_matrix_ensure(agency)
    hndl = ThreatVectorFactory(code="CRY-01")
    asset = AssetFactory(agency=agency)
    component = CryptoComponentFactory(agency=agency, asset=asset)
    client.force_login(editor)
    detail = client.get(component.get_absolute_url())
    url = detail.context["risk_raise_url"]
    assert url == f"/procurement/components/{component.pk}/raise-risk/"
    assert f'href="{url}"' in detail.content.decode()
    form = client.get(url).context["form"]
    assert form.initial["title"] == f"Quantum-vulnerable cryptography: {component}"
    assert form.initial["assets"] == [asset.pk] and form.initial["threat_vectors"] == [hndl.pk]
    response = client.post(url, {"title": form.initial["title"], "description": form.initial["description"],
                                 "assets": [asset.pk], "threat_vectors": [hndl.pk], "inherent_likelihood": 4,
                                 "inherent_impact": 5, "treatment": "mitigate"})
    assert response.status_code == 302 and response["Location"] == component.get_absolute_url()
    risk = Risk.objects.get()
    assert risk.title.startswith("Quantum-vulnerable") and list(risk.assets.all()) == [asset]
    assert list(component.risks.all()) == [risk]
    assert component_events(component).filter(action="update").get().after["risks"] == [risk.pk]
    page = client.get(component.get_absolute_url())
    assert [linked for linked, _colour in page.context["linked_risks"]] == [risk]


def test_a_refused_link_leaves_no_risk_behind(agency, other_agency, both_agencies_editor):
    """Risk and link are one transaction: a link refused (here a component of another agency than
    the risk) takes the new risk with it."""
    component = CryptoComponentFactory(agency=other_agency)
    RiskFactory(agency=agency)  # the agency's matrix
    with pytest.raises(ValidationError):
        component_risk_raise(component=component, user=both_agencies_editor, data={
            "agency": agency, "title": "Stray", "inherent_likelihood": 3, "inherent_impact": 3})
    assert not Risk.objects.filter(title="Stray").exists()
    assert not component.risks.exists()


def test_a_bad_risk_form_writes_nothing(client, agency, editor):
    component = CryptoComponentFactory(agency=agency)
    RiskFactory(agency=agency)
    client.force_login(editor)
    url = f"/procurement/components/{component.pk}/raise-risk/"
    response = client.post(url, {"title": "", "inherent_likelihood": 9, "inherent_impact": 1,
                                 "treatment": "mitigate"})
    assert response.status_code == 200 and response.context["form"].errors
    assert Risk.objects.count() == 1 and not component.risks.exists()
    assert response.context["cancel_url"] == component.get_absolute_url()


def test_raising_needs_the_right_to_add_risks_and_change_the_component(client, agency, other_agency, member_of):
    component = CryptoComponentFactory(agency=agency)
    url = f"/procurement/components/{component.pk}/raise-risk/"
    client.force_login(member_of(agency, RoleChoices.VIEWER, username="vi"))
    assert client.get(url).status_code == 403
    assert 'data-testid="raise-risk"' not in client.get(component.get_absolute_url()).content.decode()
    client.force_login(member_of(other_agency, RoleChoices.EDITOR, username="them"))
    assert client.get(url).status_code == 404
    assert client.post(url, {"title": "x"}).status_code == 404
    assert not Risk.objects.exists()


# --- link an existing risk from the component page ---------------------------------------------

def test_the_page_links_an_existing_risk_and_lists_it_with_its_rating(client, agency, editor):
    component = CryptoComponentFactory(agency=agency)
    risk = RiskFactory(agency=agency, title="Harvested key exchange", current_likelihood=4, current_impact=5)
    other = RiskFactory(agency=agency, title="Not linked")
    client.force_login(editor)
    url = client.get(component.get_absolute_url()).context["risk_link_url"]
    assert url == f"/procurement/components/{component.pk}/link-risk/"
    assert "Harvested key exchange" in client.get(url).content.decode()
    response = client.post(url, {"risk": risk.pk})
    assert response.status_code == 302 and response["Location"] == component.get_absolute_url()
    assert list(component.risks.all()) == [risk]
    assert component_events(component).filter(action="update").get().actor == editor
    page = client.get(component.get_absolute_url())
    card = page.content.decode().split('data-testid="linked-risks"')[1].split("</section>")[0]
    assert "Harvested key exchange" in card and other.title not in card
    assert f"{risk.rating} (20)" in card  # the current rating: 4 × 5 on the agency's matrix
    linked = page.context["linked_risks"]
    assert linked[0][1] == risk.matrix.band_for(20)["colour"]


def test_linking_another_agencys_risk_is_a_form_error(client, agency, other_agency, both_agencies_editor):
    component = CryptoComponentFactory(agency=agency)
    theirs = RiskFactory(agency=other_agency)
    work_in(client, both_agencies_editor, other_agency)  # even with the risk's agency active
    response = client.post(f"/procurement/components/{component.pk}/link-risk/", {"risk": theirs.pk})
    assert response.status_code == 200 and response.context["form"].errors["risk"]
    assert not component.risks.exists()


def test_a_viewer_sees_the_linked_risks_but_may_not_link(client, agency, member_of):
    component = CryptoComponentFactory(agency=agency)
    risk = RiskFactory(agency=agency)
    component.risks.add(risk)
    client.force_login(member_of(agency, RoleChoices.VIEWER, username="vi"))
    page = client.get(component.get_absolute_url())
    assert str(risk) in page.content.decode()
    assert 'data-testid="link-risk"' not in page.content.decode()
    assert client.post(f"/procurement/components/{component.pk}/link-risk/", {"risk": risk.pk}).status_code == 403


def test_the_component_page_query_count_does_not_grow_with_linked_risks(client, agency, editor):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    component = CryptoComponentFactory(agency=agency)
    component.risks.add(RiskFactory(agency=agency))
    client.force_login(editor)
    client.get(component.get_absolute_url())
    with CaptureQueriesContext(connection) as few:
        client.get(component.get_absolute_url())
    component.risks.add(*[RiskFactory(agency=agency) for _ in range(5)])
    with CaptureQueriesContext(connection) as many:
        page = client.get(component.get_absolute_url())
    assert len(page.context["linked_risks"]) == 6
    assert len(many) == len(few)
