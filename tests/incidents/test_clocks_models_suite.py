"""The generic CRUD × role × agency suite for the regime catalog and the agency's chosen regimes
(timeline entries, key actions and notifications are records with their own rules: their files)."""

import itertools

from incidents.models import AgencyRegime, RegulatorClock, RegulatorRegime
from qgov.testing import ModelTestSuite

_codes = itertools.count(1)


def regime(**fields):
    n = next(_codes)
    return RegulatorRegime.objects.create(**{"code": f"REG-{n}", "name": f"Regime {n}", "citation": "Art. 1",
                                             **fields})


class TestRegulatorRegime(ModelTestSuite):
    model = RegulatorRegime
    api_path = "/api/regulator-regimes/"
    list_queries = 3
    ui_list_queries = 7
    scoped = False

    def make_record(self, agency):
        return regime()

    def create_payload(self, agency):
        return {"code": "TEST-REG", "name": "Test regime", "citation": "Test Act, s. 1", "sources": ["A source [K]"]}

    def update_payload(self, record):
        return {"name": "Renamed regime"}

    def form_data(self, agency, record=None):
        return {"code": record.code if record else "TEST-REG", "name": "Test regime", "citation": "Test Act, s. 1",
                "applies_from": "", "description": "", "sources": '["A source [K]"]'}


class TestRegulatorClock(ModelTestSuite):
    model = RegulatorClock
    api_path = "/api/regulator-clocks/"
    list_queries = 2
    ui_list_queries = 9
    scoped = False

    def make_record(self, agency):
        return RegulatorClock.objects.create(regime=regime(), code="notification", label="Notification",
                                             start="awareness", hours=72)

    def create_payload(self, agency):
        return {"regime": regime().pk, "code": "early", "label": "Early warning", "start": "awareness", "hours": 24}

    def update_payload(self, record):
        return {"label": "Renamed clock"}

    def form_data(self, agency, record=None):
        return {"regime": record.regime_id if record else regime().pk, "code": "early", "label": "Early warning",
                "position": "1", "start": "awareness", "hours": "24", "months": "", "awareness_hours": "",
                "after": ""}


class TestAgencyRegime(ModelTestSuite):
    model = AgencyRegime
    api_path = "/api/agency-regimes/"
    list_queries = 2
    ui_list_queries = 9

    def make_record(self, agency):
        return AgencyRegime.objects.create(agency=agency, regime=regime())

    def create_payload(self, agency):
        return {"agency": agency.pk, "regime": regime().pk, "notes": "Reports go to the CSIRT."}

    def update_payload(self, record):
        return {"notes": "Reports go to the CSIRT's portal."}

    def form_data(self, agency, record=None):
        return {"regime": record.regime_id if record else regime().pk, "notes": "Reports go to the CSIRT."}
