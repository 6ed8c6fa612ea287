from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from qgov.models import ApiToken, hash_token_key


class ApiTokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>` against hashed, expiring, revocable tokens."""

    keyword = "Token"

    def authenticate_credentials(self, key):
        token = ApiToken.objects.select_related("user").filter(key_hash=hash_token_key(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("Token has been revoked."))
        if token.expires <= timezone.now():
            raise exceptions.AuthenticationFailed(_("Token has expired."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
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
            "description": 'Send "Token <key>"; obtain a key from POST /api/auth/token/.',
        }
