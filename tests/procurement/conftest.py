import pytest
from django.core.cache import cache

from procurement import services
from qgov.choices import RoleChoices
from tests.procurement.factories import DueDiligenceReviewFactory, SupplierFactory


@pytest.fixture
def fresh_rate_limits(settings, tmp_path):
    """Portal tests: no rate-limit counters left by earlier tests, uploads in a throwaway folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def reviewer(agency, member_of):
    return member_of(agency, RoleChoices.EDITOR, username="rita")


@pytest.fixture
def review(agency, reviewer):
    supplier = SupplierFactory(agency=agency, name="Photonica AG", contact_name="Dana Vogt",
                               contact_email="dana@photonica.example")
    return DueDiligenceReviewFactory(agency=agency, supplier=supplier, reviewer=reviewer)


@pytest.fixture
def sent(review, reviewer):
    """(link, token) of the review sent to its supplier's contact."""
    return services.review_send(review=review, user=reviewer, contact_name="Dana Vogt",
                                contact_email="dana@photonica.example")
