"""The playbook catalog, templates beside agency copies, copying and "the template has moved on"."""

import pytest

from incidents import catalog
from incidents.models import Playbook, PlaybookStep
from tests.incidents.factories import PlaybookStepFactory, playbook_with_steps

pytestmark = pytest.mark.django_db


def test_catalog_loads_the_eight_playbooks_idempotently():
    assert catalog.load() == "playbook templates: 8 created, 0 updated, 0 unchanged"
    templates = Playbook.objects.filter(agency__isnull=True).order_by("code")
    assert [p.code for p in templates] == [f"PB-0{n}" for n in range(1, 9)]
    assert [p.incident_type for p in templates] == [
        "key_compromise", "eavesdropping", "trusted_node_breach", "device_tampering", "malicious_firmware",
        "pqc_break", "auth_key_compromise", "key_delivery_api_breach"]
    assert PlaybookStep.objects.count() == 52
    pb01 = templates[0]
    assert [s.phase for s in pb01.steps.order_by("position")] == [
        "detect", "detect", "contain", "contain", "recover", "recover", "forensics", "review"]
    assert any("SP 800-61 Rev. 3" in c for c in pb01.citations)
    assert any("ETSI GS QKD 014" in c for c in pb01.citations)
    versions = {p.code: p.version for p in templates}
    assert catalog.load() == "playbook templates: 0 created, 0 updated, 8 unchanged"
    assert {p.code: p.version for p in Playbook.objects.filter(agency__isnull=True)} == versions
    assert PlaybookStep.objects.count() == 52


def test_every_phase_of_every_template_has_a_mandatory_step():
    catalog.load()
    for playbook in Playbook.objects.filter(agency__isnull=True):
        mandatory = set(playbook.steps.filter(mandatory=True).values_list("phase", flat=True))
        assert mandatory == {"detect", "contain", "recover", "forensics", "review"}, playbook.code


def test_a_changed_step_in_the_catalog_is_a_new_template_version(tmp_path):
    import json

    catalog.load()
    entries = json.loads((catalog.HERE / "playbooks.json").read_text())
    entries[0]["steps"][0]["instruction"] = "A reworded first step."
    (tmp_path / "playbooks.json").write_text(json.dumps(entries))
    assert catalog.load(tmp_path) == "playbook templates: 0 created, 1 updated, 7 unchanged"
    pb01 = Playbook.objects.get(agency__isnull=True, code="PB-01")
    assert pb01.version == 2
    assert pb01.steps.get(position=1).instruction == "A reworded first step."


def test_members_read_templates_but_only_platform_admins_change_them(api_as, agency, member_of):
    template = playbook_with_steps(code="PB-T")
    admin = member_of(agency, "admin")
    listed = api_as(admin).get("/api/playbooks/").json()["results"]
    assert [p["code"] for p in listed] == ["PB-T"]
    response = api_as(admin).patch(f"/api/playbooks/{template.pk}/", {"title": "Mine now"}, format="json")
    assert response.status_code == 403
    assert Playbook.objects.get(pk=template.pk).title == template.title
    step = template.steps.first()
    response = api_as(admin).patch(f"/api/playbook-steps/{step.pk}/", {"instruction": "x"}, format="json")
    assert response.status_code == 403
    assert PlaybookStep.objects.get(pk=step.pk).instruction == step.instruction


def test_a_platform_admin_edits_a_template(api_as, superuser):
    template = playbook_with_steps(code="PB-T")
    response = api_as(superuser).patch(f"/api/playbooks/{template.pk}/", {"title": "Better"}, format="json")
    assert response.status_code == 200
    assert response.json()["version"] == template.version + 1


def test_an_agency_admin_copies_a_template_and_sees_when_it_moves_on(api_as, agency, member_of, superuser):
    template = playbook_with_steps(code="PB-T")
    template.refresh_from_db()
    admin = member_of(agency, "admin")
    response = api_as(admin).post(f"/api/playbooks/{template.pk}/copy/", {"agency": agency.pk}, format="json")
    assert response.status_code == 201, response.json()
    copy = response.json()
    assert (copy["agency"]["id"], copy["code"], copy["source"]["id"], copy["source_version"]) == (
        agency.pk, "PB-T", template.pk, template.version)
    assert copy["template_moved_on"] is False
    assert [(s["position"], s["phase"]) for s in copy["steps"]] == [
        (1, "detect"), (2, "detect"), (3, "contain"), (4, "recover"), (5, "forensics"), (6, "review")]
    # The platform admin adds a step to the template: a new version, and the copy says so.
    added = api_as(superuser).post("/api/playbook-steps/", {
        "playbook": template.pk, "position": 7, "phase": "review", "instruction": "Tell the regulator.",
        "mandatory": True}, format="json")
    assert added.status_code == 201
    assert Playbook.objects.get(pk=template.pk).version == template.version + 1
    again = api_as(admin).get(f"/api/playbooks/{copy['id']}/").json()
    assert again["template_moved_on"] is True
    # The copy is the agency's to adapt: its admin edits its steps.
    step_id = copy["steps"][0]["id"]
    edited = api_as(admin).patch(f"/api/playbook-steps/{step_id}/", {"instruction": "Ours."}, format="json")
    assert edited.status_code == 200


def test_copying_twice_or_by_an_editor_is_refused(api_as, agency, member_of):
    template = playbook_with_steps(code="PB-T")
    admin, editor = member_of(agency, "admin"), member_of(agency, "editor")
    refused = api_as(editor).post(f"/api/playbooks/{template.pk}/copy/", {"agency": agency.pk}, format="json")
    assert refused.status_code == 403
    assert Playbook.objects.filter(agency=agency).count() == 0
    assert api_as(admin).post(f"/api/playbooks/{template.pk}/copy/", {"agency": agency.pk},
                              format="json").status_code == 201
    twice = api_as(admin).post(f"/api/playbooks/{template.pk}/copy/", {"agency": agency.pk}, format="json")
    assert twice.status_code == 400
    assert twice.json()["errors"] == {"code": ["The agency already has a playbook PB-T."]}
    assert Playbook.objects.filter(agency=agency).count() == 1


def test_copying_into_another_agency_is_refused(api_as, agency, other_agency, member_of):
    template = playbook_with_steps(code="PB-T")
    admin = member_of(agency, "admin")
    response = api_as(admin).post(f"/api/playbooks/{template.pk}/copy/", {"agency": other_agency.pk}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["agency"]
    assert Playbook.objects.filter(agency=other_agency).count() == 0


def test_the_copy_page_says_when_the_template_moved_on(client, agency, member_of, superuser):
    from incidents.services import playbook_copy

    template = playbook_with_steps(code="PB-T")
    admin = member_of(agency, "admin")
    copy = playbook_copy(template=template, agency=agency, user=admin)
    client.force_login(admin)
    page = client.get(copy.get_absolute_url()).content.decode()
    assert 'data-testid="template-current"' in page
    PlaybookStepFactory(playbook=template, position=7, phase="review")  # not through a service: no bump
    Playbook.objects.get(pk=template.pk).save()  # a new template version
    page = client.get(copy.get_absolute_url()).content.decode()
    assert 'data-testid="template-moved-on"' in page
    assert f"this copy was made from version {copy.source_version}, the template is now at version " \
           f"{copy.source_version + 1}." in page


def test_the_copy_button_copies_through_the_ui(client, agency, member_of):
    template = playbook_with_steps(code="PB-T")
    admin = member_of(agency, "admin")
    client.force_login(admin)
    assert 'data-testid="copy-playbook"' in client.get(template.get_absolute_url()).content.decode()
    response = client.post(f"/incidents/playbooks/{template.pk}/copy/")
    copy = Playbook.objects.get(agency=agency)
    assert response.status_code == 302
    assert response["Location"] == copy.get_absolute_url()
    assert copy.steps.count() == 6
    assert 'data-testid="copy-playbook"' not in client.get(template.get_absolute_url()).content.decode()


def test_removing_or_editing_a_templates_step_is_a_new_template_version(api_as, superuser):
    template = playbook_with_steps(code="PB-T")
    version = Playbook.objects.get(pk=template.pk).version
    first, last = template.steps.order_by("position")[0], template.steps.order_by("position").last()
    edited = api_as(superuser).patch(f"/api/playbook-steps/{first.pk}/", {"instruction": "Reworded."},
                                     format="json")
    assert edited.status_code == 200
    assert Playbook.objects.get(pk=template.pk).version == version + 1
    assert api_as(superuser).delete(f"/api/playbook-steps/{last.pk}/").status_code == 204
    assert Playbook.objects.get(pk=template.pk).version == version + 2
    assert template.steps.count() == 5


def test_an_agency_admin_is_offered_no_change_of_a_template_and_its_pages_refuse(client, agency, member_of):
    """A template has no agency: the agency admin's rights in their own agency do not reach it."""
    template = playbook_with_steps(code="PB-T")
    step = template.steps.first()
    client.force_login(member_of(agency, "admin"))
    page = client.get(template.get_absolute_url()).content.decode()
    assert 'data-testid="copy-playbook"' in page
    assert f'href="/incidents/playbooks/{template.pk}/edit/"' not in page
    assert 'data-testid="add-step"' not in page
    assert f'href="/incidents/playbooks/{template.pk}/delete/"' not in page
    for url in (f"/incidents/playbooks/{template.pk}/edit/", f"/incidents/playbooks/{template.pk}/delete/",
                f"/incidents/playbook-steps/{step.pk}/edit/", f"/incidents/playbook-steps/add/?playbook={template.pk}"):
        assert client.get(url).status_code == 403, url
