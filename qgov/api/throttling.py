"""Rate limits per API token: at most QGOV_API_TOKEN_RATE_LIMIT requests per window for each token,
counted in the default cache (qgov.ratelimit), answered 429 with Retry-After."""

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from qgov import ratelimit
from qgov.models import ApiToken


class ApiTokenRateThrottle(BaseThrottle):
    def allow_request(self, request, view):
        self.retry_after = None
        limit = ratelimit.parse_limit(settings.QGOV_API_TOKEN_RATE_LIMIT)
        if limit is None or not isinstance(request.auth, ApiToken):
            return True  # sessions are people at a browser; sign-ins have their own limit (qgov.identity.lockout)
        try:
            # By the key's hash, which no other token ever has (a deleted token's id may be reused).
            ratelimit.hit("api-token", {"token": request.auth.key_hash}, {"token": limit})
        except ratelimit.RateLimited as limited:
            self.retry_after = limited.retry_after
            return False
        return True

    def wait(self):
        return self.retry_after
