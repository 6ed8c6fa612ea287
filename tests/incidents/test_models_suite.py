"""Each incidents model's CRUD × role × agency suite (and the incident lifecycle's checks), from the
generic test case."""

from incidents.models import Incident, IncidentStep, Playbook, PlaybookStep
from qgov.testing import ModelTestSuite
from tests.incidents.factories import IncidentFactory, IncidentStepFactory, PlaybookFactory, PlaybookStepFactory


class TestPlaybook(ModelTestSuite):
    """An agency's own playbooks (copies); the shared templates are tested in test_playbooks.py."""

    model = Playbook
    api_path = "/api/playbooks/"
    list_queries = 3
    ui_list_queries = 11

    def make_record(self, agency):
        return PlaybookFactory(agency=agency)

    def create_payload(self, agency):
        return {"agency": agency.pk, "code": "PB-LOCAL", "title": "Local playbook", "incident_type": "other",
                "citations": ["NIST SP 800-61 Rev. 3"]}

    def update_payload(self, record):
        return {"title": "Renamed playbook"}

    def form_data(self, agency, record=None):
        return {"code": record.code if record else "PB-LOCAL", "title": "Local playbook", "incident_type": "other",
                "citations": '["NIST SP 800-61 Rev. 3"]'}


class TestPlaybookStep(ModelTestSuite):
    model = PlaybookStep
    api_path = "/api/playbook-steps/"
    list_queries = 2
    ui_list_queries = 9

    def make_record(self, agency):
        return PlaybookStepFactory(playbook=PlaybookFactory(agency=agency))

    def create_payload(self, agency):
        return {"playbook": PlaybookFactory(agency=agency).pk, "position": 1, "phase": "contain",
                "csf_category": "RS.MI", "instruction": "Isolate the node.", "mandatory": True, "role": "NOC"}

    def update_payload(self, record):
        return {"instruction": "Isolate the node and re-route."}

    def form_data(self, agency, record=None):
        playbook = record.playbook_id if record else PlaybookFactory(agency=agency).pk
        return {"playbook": playbook, "position": record.position if record else 1, "phase": "contain",
                "csf_category": "RS.MI", "instruction": "Isolate the node.", "mandatory": "on", "role": "NOC"}


class TestIncident(ModelTestSuite):
    model = Incident
    api_path = "/api/incidents/"
    list_queries = 9  # the page, its count, and the prefetched relations (regimes too) and checklist
    ui_list_queries = 17  # five related-record filters in the sidebar: ids, then choices

    def make_record(self, agency):
        return IncidentFactory(agency=agency)

    def create_payload(self, agency):
        return {"agency": agency.pk, "title": "QBER above baseline", "incident_type": "eavesdropping",
                "severity": 3, "marking": "TLP:GREEN", "detected_at": "2026-11-30T08:00:00Z"}

    def update_payload(self, record):
        return {"title": "QBER above baseline on link 2"}

    def form_data(self, agency, record=None):
        return {"reference": record.reference if record else "", "title": "QBER above baseline",
                "incident_type": "eavesdropping", "severity": "3", "marking": "TLP:GREEN",
                "detected_at": "2026-11-30T08:00"}


class TestIncidentStep(ModelTestSuite):
    model = IncidentStep
    api_path = "/api/incident-steps/"
    list_queries = 2
    ui_list_queries = 9

    def make_record(self, agency):
        return IncidentStepFactory(incident=IncidentFactory(agency=agency))

    def create_payload(self, agency):
        return {"incident": IncidentFactory(agency=agency).pk, "position": 9, "phase": "forensics",
                "instruction": "Image the KME.", "mandatory": True}

    def update_payload(self, record):
        return {"instruction": "Image the KME and hash the image."}

    def form_data(self, agency, record=None):
        incident = record.incident_id if record else IncidentFactory(agency=agency).pk
        return {"incident": incident, "position": record.position if record else 9, "phase": "forensics",
                "instruction": "Image the KME.", "mandatory": "on"}
