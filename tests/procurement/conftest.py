import pytest
from django.core.cache import cache


@pytest.fixture
def fresh_rate_limits(settings, tmp_path):
    """Portal tests: no rate-limit counters left by earlier tests, uploads in a throwaway folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()
