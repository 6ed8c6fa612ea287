import hmac

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS

from qgov import tokens
from qgov.models import ApiToken, hash_token_key
from qgov.permissions import TokenGrant, activate_token_grant
from qgov.prepared import PreparedQuery
from qgov.ratelimit import client_ip

# Prepared: compiling this query cost more than running it, on every API request.
token_rows = PreparedQuery(
    lambda key_hash: ApiToken.objects.select_related("user").filter(key_hash=key_hash)
    .annotate(qgov_agency_id=F("agencies__id")).order_by(),
    key_hash="\x00qgov: the token's key hash\x00")


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>` against keyed-hashed, expiring, revocable tokens, used from
    an allowed address; the token's agencies and scopes then limit the request."""

    keyword = "Token"

    def authenticate(self, request):
        self.request = request
        return super().authenticate(request)

    def authenticate_credentials(self, key):
        key_hash = hash_token_key(key)
        # One query: the token, its user, and one row per agency the token is limited to (its
        # agency ids, read from the link table). Every request reads the row again, so a revoked
        # or expired token is refused at once.
        rows = token_rows(key_hash=key_hash)
        token = rows[0] if rows else None
        # The lookup found the row by its hash; comparing in constant time keeps timing from telling more.
        if token is None or not hmac.compare_digest(token.key_hash, key_hash):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("Token has been revoked."))
        if token.expires <= timezone.now():
            raise exceptions.AuthenticationFailed(_("Token has expired."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if not tokens.address_allowed(client_ip(self.request), token.allowed_ips):
            raise exceptions.PermissionDenied(_("This token may not be used from this address."))
        if self.request.method not in SAFE_METHODS and not tokens.writes(token.scopes):
            # A read-only token writes nothing, not even what no record's check covers.
            raise exceptions.PermissionDenied(_("This token may only read."))
        agency_ids = frozenset(row.qgov_agency_id for row in rows if row.qgov_agency_id is not None)
        # ApiToken.grant(), from the agencies read above rather than a query of its own.
        activate_token_grant(TokenGrant(user_id=token.user_id, agency_ids=agency_ids or None,
                                        scopes=frozenset(token.scopes)))
        now = timezone.now()
        # One write a minute at most: last use is for humans reviewing tokens, not a log.
        if token.last_used is None or (now - token.last_used).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        return token.user, token


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": 'Send "Token <key>"; obtain a key from POST /api/auth/token/ (yours) or, as an '
                           "agency admin, POST /api/tokens/ (an agency system's).",
        }
