"""Secrets qgov must read back in clear (an identity provider's client secret) sealed at rest with
Fernet. Keys come from QGOV_IDENTITY_SECRET_KEYS: the first seals, every one opens, so a rotation
puts a new key first and re-seals (`manage.py reseal_identity_secrets`) before the old one is
dropped. Without keys, one is derived from SECRET_KEY. A database dump alone gives nothing away."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


class SecretUnreadable(Exception):
    """A sealed value none of the configured keys opens (a key was dropped too early)."""


def _fernet_for(material: str) -> Fernet:
    # Any string is a key: hashed to the 32 bytes Fernet wants.
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(material.encode()).digest()))


def _keys() -> MultiFernet:
    materials = list(settings.QGOV_IDENTITY_SECRET_KEYS) or [f"qgov-identity-secrets:{settings.SECRET_KEY}"]
    return MultiFernet([_fernet_for(material) for material in materials])


def seal(plain: str) -> str:
    return _keys().encrypt(plain.encode()).decode()


def unseal(token: str) -> str:
    try:
        return _keys().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("None of QGOV_IDENTITY_SECRET_KEYS opens this secret.") from None


def reseal(token: str) -> str:
    """The same secret sealed with the current (first) key."""
    try:
        return _keys().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable("None of QGOV_IDENTITY_SECRET_KEYS opens this secret.") from None


class SealedTextField(models.TextField):
    """Plain text in Python, sealed in the database column. Not for lookups: each seal differs.
    Declared editable=False by its models, so no form, serializer, detail page or export shows it
    unless it says so; keep it in the model's audit_exclude."""

    def from_db_value(self, value, expression, connection):
        return unseal(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return seal(value) if value else value
