"""The generic suite, proven on the core's own models."""

from qgov.choices import AgencySectorChoices, RoleChoices
from qgov.models import Agency, Membership
from qgov.testing import ModelTestSuite
from tests.factories import MembershipFactory, UserFactory


class TestAgency(ModelTestSuite):
    model = Agency
    api_path = "/api/agencies/"
    list_queries = 2
    ui_list_queries = 9
    api_delete = False
    ui_delete = False

    def make_record(self, agency):
        return agency

    def create_payload(self, agency):
        return {"name": "National Cyber Centre", "code": "NCC", "sector": AgencySectorChoices.DEFENCE,
                "time_zone": "Europe/Paris"}

    def update_payload(self, record):
        return {"description": "Runs the metropolitan QKD backbone."}

    def form_data(self, agency, record=None):
        return {"name": "National Cyber Centre" if record is None else record.name,
                "code": "NCC" if record is None else record.code, "sector": AgencySectorChoices.DEFENCE,
                "time_zone": "Europe/Paris", "description": "Runs the metropolitan QKD backbone."}


class TestMembership(ModelTestSuite):
    model = Membership
    api_path = "/api/memberships/"
    list_queries = 2
    ui_list_queries = 7
    ui_create = False  # members join through the invitation form

    def make_record(self, agency):
        return MembershipFactory(agency=agency, role=RoleChoices.VIEWER)

    def create_payload(self, agency):
        return {"user": UserFactory().pk, "agency": agency.pk, "role": RoleChoices.EDITOR}

    def update_payload(self, record):
        return {"role": RoleChoices.EDITOR}

    def form_data(self, agency, record=None):
        return {"role": RoleChoices.EDITOR}
