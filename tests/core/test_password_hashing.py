"""The suite hashes with MD5 for speed (tests/conftest.py); the product's own hasher is proved here."""

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.test import override_settings

from qgov import settings as product_settings


def test_the_product_hashes_passwords_with_argon2():
    assert product_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=product_settings.PASSWORD_HASHERS):
        encoded = make_password("correct-horse-battery-staple-42")
        assert identify_hasher(encoded).algorithm == "argon2"
        assert check_password("correct-horse-battery-staple-42", encoded) is True
        assert check_password("wrong-horse-battery-staple-42", encoded) is False


@pytest.mark.django_db
def test_signing_in_upgrades_a_weaker_hash_to_argon2():
    from tests.factories import UserFactory

    user = UserFactory(username="upgrade")  # hashed with the suite's MD5
    with override_settings(PASSWORD_HASHERS=product_settings.PASSWORD_HASHERS + [
            "django.contrib.auth.hashers.MD5PasswordHasher"]):
        assert user.check_password("correct-horse-battery-staple-42") is True
        user.refresh_from_db()
        assert identify_hasher(user.password).algorithm == "argon2"
