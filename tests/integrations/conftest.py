import pytest

from qgov.choices import RoleChoices


@pytest.fixture
def loopback_allowed(settings):
    """The tests' HTTP receivers listen on 127.0.0.1, which webhooks refuse unless the operator allows it."""
    settings.QGOV_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]


@pytest.fixture
def admin(agency, member_of):
    """The agency admin who manages its webhook endpoints."""
    return member_of(agency, RoleChoices.ADMIN, username="ada")
