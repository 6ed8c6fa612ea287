import pytest
from rest_framework.test import APIClient

from qgov.choices import RoleChoices
from tests.factories import AgencyFactory, MembershipFactory, UserFactory


@pytest.fixture
def agency(db):
    return AgencyFactory(name="Department of Quantum Networks", code="DQN")


@pytest.fixture
def other_agency(db):
    return AgencyFactory(name="Ministry of Other Things", code="MOT")


@pytest.fixture
def member_of(db):
    """member_of(agency, role) -> a new user holding that role in that agency."""

    def make(agency, role=RoleChoices.VIEWER, **user_fields):
        return MembershipFactory(agency=agency, role=role, user=UserFactory(**user_fields)).user

    return make


@pytest.fixture
def superuser(db):
    return UserFactory(username="platform", is_superuser=True, is_staff=True)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as(api_client):
    """api_as(user) -> an APIClient authenticated as that user."""

    def login(user):
        api_client.force_authenticate(user)
        return api_client

    return login
