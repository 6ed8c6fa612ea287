"""Endpoint secrets sealed at rest (Fernet), keyed by QGOV_WEBHOOK_SECRET_KEY or, without it, a
key derived from SECRET_KEY. The signing secret must be readable to sign, so it cannot be hashed
like an API token; a database dump alone does not give it away."""

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet
from django.conf import settings

SECRET_PREFIX = "whsec_"


def _fernet() -> Fernet:
    material = settings.QGOV_WEBHOOK_SECRET_KEY or f"qgov-webhook-secrets:{settings.SECRET_KEY}"
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest()))


def generate_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
