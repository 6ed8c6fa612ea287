"""Each risk model's CRUD × role × agency suite, from the generic test case."""

import datetime

from django.utils import timezone

from qgov.choices import RoleChoices
from qgov.testing import ModelTestSuite
from risks.models import Asset, Control, Risk, RiskAcceptance, RiskMatrix, ThreatVector
from risks.services import risk_matrix_ensure
from tests.factories import MembershipFactory
from tests.risks.factories import (
    AssetFactory,
    ControlFactory,
    RiskAcceptanceFactory,
    RiskFactory,
    ThreatVectorFactory,
)


class TestThreatVector(ModelTestSuite):
    model = ThreatVector
    api_path = "/api/threat-vectors/"
    list_queries = 2
    ui_list_queries = 7
    scoped = False

    def make_record(self, agency):
        return ThreatVectorFactory()

    def create_payload(self, agency):
        return {"code": "NEW-01", "title": "A new threat", "category": "supply_chain", "description": "Test.",
                "default_likelihood": 2, "default_impact": 5, "citations": ["Judgement of the qgov authors [J]"]}

    def update_payload(self, record):
        return {"default_likelihood": 4}

    def form_data(self, agency, record=None):
        return {"code": record.code if record else "NEW-01", "title": "A new threat", "category": "supply_chain",
                "description": "Test.", "default_likelihood": 2, "default_impact": 5, "rationale": "",
                "citations": '["Judgement of the qgov authors [J]"]'}


class TestRiskMatrix(ModelTestSuite):
    model = RiskMatrix
    api_path = "/api/risk-matrices/"
    list_queries = 2
    ui_list_queries = 7

    def make_record(self, agency):
        return risk_matrix_ensure(agency)

    def create_payload(self, agency):
        return {"agency": agency.pk, **RiskMatrix.defaults(3), "name": "Three by three"}

    def update_payload(self, record):
        return {"z_central": "12.0"}

    def form_data(self, agency, record=None):
        defaults = RiskMatrix.defaults(4)
        return {"name": "Four by four", "size": 4, "likelihood_labels": str(defaults["likelihood_labels"]).replace(
            "'", '"'), "impact_labels": str(defaults["impact_labels"]).replace("'", '"'),
            "bands": str(defaults["bands"]).replace("'", '"'), "z_optimistic": "8", "z_central": "14",
            "policy_deadline_year": "2033"}


class TestAsset(ModelTestSuite):
    model = Asset
    api_path = "/api/assets/"
    list_queries = 3
    ui_list_queries = 10

    def make_record(self, agency):
        risk_matrix_ensure(agency)
        return AssetFactory(agency=agency)

    def create_payload(self, agency):
        return {"agency": agency.pk, "name": "Trusted node TN-9", "asset_type": "trusted_node",
                "shelf_life_years": "20", "migration_years": "4", "criticality": "critical"}

    def update_payload(self, record):
        return {"migration_years": "6.5"}

    def form_data(self, agency, record=None):
        return {"name": "Trusted node TN-9", "asset_type": "trusted_node", "criticality": "critical",
                "shelf_life_years": "20", "migration_years": "4", "protects": "confidentiality", "harvestable": "on"}


class TestControl(ModelTestSuite):
    model = Control
    api_path = "/api/controls/"
    list_queries = 2
    ui_list_queries = 9

    def make_record(self, agency):
        return ControlFactory(agency=agency)

    def create_payload(self, agency):
        return {"agency": agency.pk, "title": "Optical isolators on every transmitter", "control_type": "preventive"}

    def update_payload(self, record):
        return {"status": "implemented", "effectiveness": "effective"}

    def form_data(self, agency, record=None):
        return {"title": "Optical isolators on every transmitter", "control_type": "preventive",
                "status": "implemented", "effectiveness": "effective"}


class TestRisk(ModelTestSuite):
    model = Risk
    api_path = "/api/risks/"
    list_queries = 5
    ui_list_queries = 15  # the three heat maps in one grouped query, which also gives the count

    def make_record(self, agency):
        return RiskFactory(agency=agency)

    def create_payload(self, agency):
        risk_matrix_ensure(agency)
        return {"agency": agency.pk, "title": "Detector blinding on link A", "inherent_likelihood": 3,
                "inherent_impact": 5, "threat_vectors": [ThreatVectorFactory(code="QIM-01").pk]}

    def update_payload(self, record):
        return {"title": "Detector blinding on link A–B", "review_date": "2027-01-31"}

    def form_data(self, agency, record=None):
        risk_matrix_ensure(agency)
        return {"title": "Detector blinding on link A", "inherent_likelihood": 3, "inherent_impact": 5,
                "treatment": "mitigate"}


class TestRiskAcceptance(ModelTestSuite):
    model = RiskAcceptance
    api_path = "/api/risk-acceptances/"
    list_queries = 2
    ui_list_queries = 9

    def make_record(self, agency):
        requester = MembershipFactory(agency=agency, role=RoleChoices.EDITOR).user
        return RiskAcceptanceFactory(agency=agency, requested_by=requester)

    def create_payload(self, agency):
        return {"agency": agency.pk, "risk": RiskFactory(agency=agency).pk, "rationale": "Isolators fitted.",
                "valid_until": str(timezone.localdate() + datetime.timedelta(days=60))}

    def update_payload(self, record):
        return {"rationale": "Isolators and monitors fitted."}

    def form_data(self, agency, record=None):
        risk = record.risk if record else RiskFactory(agency=agency)
        return {"risk": risk.pk, "rationale": "Isolators fitted.",
                "valid_until": str(timezone.localdate() + datetime.timedelta(days=60))}
