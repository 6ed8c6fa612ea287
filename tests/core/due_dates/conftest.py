"""The due-date tests' people and approved acceptance."""


import pytest

from qgov.choices import RoleChoices
from tests.core.due_dates.support import DUE
from tests.risks.factories import approved_acceptance


@pytest.fixture
def people(agency, member_of):
    """The risk owner (an editor), two admins, a viewer who must never be told."""
    return {
        "owner": member_of(agency, RoleChoices.EDITOR, username="owner"),
        "admin": member_of(agency, RoleChoices.ADMIN, username="admin"),
        "admin2": member_of(agency, RoleChoices.ADMIN, username="admin2"),
        "viewer": member_of(agency, RoleChoices.VIEWER, username="viewer"),
    }


@pytest.fixture
def acceptance(agency, people):
    return approved_acceptance(agency=agency, owner=people["owner"], valid_until=DUE)
