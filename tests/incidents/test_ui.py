"""The incident pages: board, detail (checklist, review, raise a follow-up risk), markings on every
page and file, panels on other apps' pages, and their query counts."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from incidents.models import Incident, IncidentStep
from incidents.services import incident_create
from risks.models import Risk
from risks.services import risk_matrix_ensure
from tests.certification.factories import DeviceFactory
from tests.incidents.factories import IncidentFactory, playbook_with_steps
from tests.procurement.factories import SupplierFactory
from tests.risks.factories import AssetFactory, RiskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(agency, member_of):
    return member_of(agency, "editor", username="ed")


@pytest.fixture
def incident(agency, editor):
    return incident_create(user=editor, data={
        "agency": agency, "title": "Seal broken on TN-2", "incident_type": "device_tampering", "severity": 3,
        "marking": "TLP:AMBER+STRICT", "classification": "OFFICIAL-SENSITIVE",
        "playbook": playbook_with_steps(code="PB-X")})


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


def test_every_incident_page_carries_the_marking_top_and_bottom(client, editor, incident):
    client.force_login(editor)
    for suffix in ("", "edit/", "history/", "contain/"):
        page = client.get(f"{incident.get_absolute_url()}{suffix}").content.decode()
        for where in ("top", "bottom"):
            assert f'data-testid="marking-{where}"' in page, (suffix, where)
        assert page.count("TLP:AMBER+STRICT · OFFICIAL-SENSITIVE") >= 2, suffix


def test_the_pages_of_an_incidents_parts_and_evidence_carry_its_marking(client, agency, editor, incident, settings,
                                                                      tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from incidents.clocks import key_action_record, timeline_add
    from qgov.evidence.services import evidence_attach

    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(editor)
    step = incident.steps.first()
    entry = timeline_add(incident=incident, user=editor, text="Seal photographed.")
    action = key_action_record(incident=incident, user=editor, data={
        "action": "revoke", "key_ids": "3f0d6a9e-7c1b-4e2a-9b8d-5a6c7e8f9012"})
    evidence = evidence_attach(record=incident, user=editor,
                               upload=SimpleUploadedFile("seal.txt", b"seal 0042 broken", content_type="text/plain"))
    risk_evidence = evidence_attach(record=RiskFactory(agency=agency), user=editor,
                                    upload=SimpleUploadedFile("r.txt", b"risk", content_type="text/plain"))
    for record in (step, entry, action, evidence):
        page = client.get(record.get_absolute_url()).content.decode()
        assert page.count("TLP:AMBER+STRICT · OFFICIAL-SENSITIVE") == 2, record
        assert 'data-testid="marking-top"' in page and 'data-testid="marking-bottom"' in page, record
    assert 'data-testid="marking-top"' not in client.get(risk_evidence.get_absolute_url()).content.decode()


def test_exports_of_incidents_carry_the_marking(client, agency, editor, incident):
    client.force_login(editor)
    response = client.get("/incidents/incidents/", {"export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Marking", "Classification", "Reference"]
    assert rows[1][:3] == ["TLP:AMBER+STRICT", "OFFICIAL-SENSITIVE", incident.reference]
    response = client.get("/incidents/incidents/", {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[cell.value for cell in row][:3] for row in sheet.iter_rows()]
    assert values == [["Marking", "Classification", "Reference"],
                      ["TLP:AMBER+STRICT", "OFFICIAL-SENSITIVE", incident.reference]]
    response = client.get("/incidents/steps/", {"export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:2] == ["Marking", "Incident"]
    assert {row[0] for row in rows[1:]} == {"TLP:AMBER+STRICT"}


def test_the_board_groups_incidents_by_status_in_a_fixed_number_of_queries(client, agency, editor):
    client.force_login(editor)
    IncidentFactory(agency=agency, status="triage", title="First")
    first, response = count_queries(client, "/incidents/board/")
    for status in ("reported", "contained", "closed", "triage"):
        IncidentFactory(agency=agency, status=status)
    second, response = count_queries(client, "/incidents/board/")
    assert first == second == 7
    columns = {state: [card.title for card in cards] for state, _label, cards in response.context["columns"]}
    assert [len(columns[state]) for state in ("reported", "triage", "contained", "eradicated", "recovered",
                                              "closed")] == [1, 2, 1, 0, 0, 1]
    page = response.content.decode()
    assert page.count('data-testid="card"') == 5
    assert page.count('data-testid="card-marking"') == 5


def test_the_board_shows_only_the_active_agencys_incidents(client, agency, other_agency, editor):
    IncidentFactory(agency=other_agency, title="Not ours")
    client.force_login(editor)
    assert "Not ours" not in client.get("/incidents/board/").content.decode()


def test_the_detail_page_costs_a_fixed_number_of_queries(client, agency, editor, incident):
    client.force_login(editor)
    first, _response = count_queries(client, incident.get_absolute_url())
    incident.devices.add(DeviceFactory(agency=agency), DeviceFactory(agency=agency))
    incident.follow_up_risks.add(RiskFactory(agency=agency))
    IncidentStep.objects.filter(incident=incident, position__lte=3).update(completed_by=editor)
    second, response = count_queries(client, incident.get_absolute_url())
    # 14, the incident's regimes (prefetched), the deadlines, key actions and timeline panels (one
    # each), and the ids of a form's record field before its choices.
    assert first == second == 19
    page = response.content.decode()
    assert page.count('data-testid="step"') == 6
    assert 'data-testid="complete-1"' in page


def test_the_page_completes_a_step_with_its_button(client, editor, incident):
    client.force_login(editor)
    step = incident.steps.get(position=1)
    response = client.post(f"/incidents/incidents/{incident.pk}/steps/{step.pk}/complete/", {"note": "Seal photo"})
    assert response.status_code == 302
    step.refresh_from_db()
    assert (step.completed_by, step.note) == (editor, "Seal photo")
    page = client.get(incident.get_absolute_url()).content.decode()
    assert 'data-testid="complete-1"' not in page
    assert "done by ed at" in page


def test_the_page_refuses_another_incidents_step(client, agency, editor, incident):
    other = incident_create(user=editor, data={"agency": agency, "title": "Other", "incident_type": "other",
                                               "severity": 4, "playbook": incident.playbook})
    step = other.steps.get(position=1)
    client.force_login(editor)
    response = client.post(f"/incidents/incidents/{incident.pk}/steps/{step.pk}/complete/")
    assert response.status_code == 404
    assert IncidentStep.objects.filter(completed_at__isnull=False).count() == 0


def test_a_viewer_gets_no_complete_buttons_and_is_refused(client, agency, member_of, incident):
    viewer = member_of(agency, "viewer")
    client.force_login(viewer)
    assert 'data-testid="complete-1"' not in client.get(incident.get_absolute_url()).content.decode()
    step = incident.steps.get(position=1)
    assert client.post(f"/incidents/incidents/{incident.pk}/steps/{step.pk}/complete/").status_code == 403
    assert IncidentStep.objects.get(pk=step.pk).completed_at is None


def test_the_review_is_saved_from_the_page(client, agency, editor, incident):
    risk = RiskFactory(agency=agency)
    client.force_login(editor)
    response = client.post(f"/incidents/incidents/{incident.pk}/review/", {
        "review_summary": "Replaced.", "root_cause": "Shared keys.", "lessons": "Label cabinets.",
        "follow_up_risks": [risk.pk], "version": incident.version})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert (incident.review_summary, incident.root_cause, incident.lessons) == (
        "Replaced.", "Shared keys.", "Label cabinets.")
    assert list(incident.follow_up_risks.all()) == [risk]


def test_raise_follow_up_risk_creates_a_prefilled_register_risk_and_links_it(client, agency, editor, incident):
    risk_matrix_ensure(agency)  # as every real agency has
    incident.root_cause = "Shared cabinet keys."
    incident.save()
    client.force_login(editor)
    form = client.get(f"/incidents/incidents/{incident.pk}/raise-risk/").context["form"]
    assert form.initial["title"] == f"Follow-up of {incident.reference}: Seal broken on TN-2"
    assert "Root cause: Shared cabinet keys." in form.initial["description"]
    response = client.post(f"/incidents/incidents/{incident.pk}/raise-risk/", {
        "title": form.initial["title"], "description": form.initial["description"], "owner": editor.pk,
        "inherent_likelihood": 3, "inherent_impact": 4, "treatment": "mitigate", "status": "draft"})
    assert response.status_code == 302, response.context["form"].errors
    risk = Risk.objects.get(agency=agency)
    assert list(Incident.objects.get(pk=incident.pk).follow_up_risks.all()) == [risk]


def test_other_apps_pages_list_their_incidents(client, agency, editor):
    device, asset, risk, supplier = (DeviceFactory(agency=agency), AssetFactory(agency=agency),
                                     RiskFactory(agency=agency), SupplierFactory(agency=agency))
    incident = IncidentFactory(agency=agency, title="Linked everywhere")
    incident.devices.add(device)
    incident.assets.add(asset)
    incident.risks.add(risk)
    incident.suppliers.add(supplier)
    client.force_login(editor)
    for record in (device, asset, risk, supplier):
        page = client.get(record.get_absolute_url()).content.decode()
        assert 'data-testid="incidents-panel"' in page, record
        assert incident.reference in page, record
