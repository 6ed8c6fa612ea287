"""WebAuthn ceremonies (webauthn / py_webauthn): options out as JSON, responses verified with user
verification required. Each challenge is kept in the session for one ceremony and taken on first use."""

import json

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from qgov.identity.mfa.models import Authenticator, AuthenticatorKindChoices

CHALLENGE_KEY = "qgov_webauthn_challenge"


class PasskeyRefused(Exception):
    """The browser's answer does not prove what the ceremony asked for."""


def rp_id(request) -> str:
    return settings.QGOV_WEBAUTHN_RP_ID or request.get_host().rsplit(":", 1)[0]


def expected_origins(request) -> list[str]:
    return list(settings.QGOV_WEBAUTHN_ORIGINS) or [f"{request.scheme}://{request.get_host()}"]


def user_handle(user) -> bytes:
    return f"qgov-user-{user.pk}".encode()


def _keep_challenge(request, purpose: str, challenge: bytes, user_id=None) -> None:
    request.session[CHALLENGE_KEY] = {"purpose": purpose, "challenge": bytes_to_base64url(challenge),
                                      "user": user_id}


def _take_challenge(request, purpose: str, user_id=None) -> bytes:
    kept = request.session.pop(CHALLENGE_KEY, None)
    if not kept or kept["purpose"] != purpose or kept["user"] != user_id:
        raise PasskeyRefused("No passkey ceremony was started here, or it was used already.")
    return base64url_to_bytes(kept["challenge"])


def _descriptors(user):
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(cid)) for cid in user.authenticators.filter(
        kind=AuthenticatorKindChoices.PASSKEY).values_list("credential_id", flat=True)]


def registration_options(request, user) -> str:
    options = generate_registration_options(
        rp_id=rp_id(request), rp_name="qgov", user_name=user.get_username(), user_id=user_handle(user),
        user_display_name=user.get_full_name() or user.get_username(),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=_descriptors(user))
    _keep_challenge(request, "register", options.challenge, user.pk)
    return options_to_json(options)


def registration_verify(request, user, credential: dict) -> dict:
    """The fields of a new passkey Authenticator, from the browser's attestation."""
    challenge = _take_challenge(request, "register", user.pk)
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id(request),
            expected_origin=expected_origins(request), require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise PasskeyRefused(str(error)) from None
    transports = credential.get("response", {}).get("transports") or []
    return {"credential_id": bytes_to_base64url(verified.credential_id), "public_key": verified.credential_public_key,
            "sign_count": verified.sign_count, "transports": [str(t) for t in transports][:10],
            "backup_eligible": verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
            "backup_state": verified.credential_backed_up, "user_verified": verified.user_verified}


def authentication_options(request, user=None) -> str:
    """For `user`'s passkeys; without one, for any discoverable passkey (the login page's button)."""
    options = generate_authentication_options(
        rp_id=rp_id(request), allow_credentials=_descriptors(user) if user is not None else None,
        user_verification=UserVerificationRequirement.REQUIRED)
    _keep_challenge(request, "authenticate", options.challenge, user.pk if user is not None else None)
    return options_to_json(options)


def authentication_verify(request, credential: dict, user=None) -> Authenticator:
    """The passkey that signed this challenge, with user verification; of `user` when given."""
    challenge = _take_challenge(request, "authenticate", user.pk if user is not None else None)
    passkeys = Authenticator.objects.filter(kind=AuthenticatorKindChoices.PASSKEY).select_related("user")
    if user is not None:
        passkeys = passkeys.filter(user=user)
    passkey = passkeys.filter(credential_id=str(credential.get("id", ""))).first()
    if passkey is None:
        raise PasskeyRefused("This passkey is not registered for the account.")
    handle = (credential.get("response") or {}).get("userHandle")
    if handle and base64url_to_bytes(handle) != user_handle(passkey.user):
        raise PasskeyRefused("The passkey belongs to another account.")
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id(request),
            expected_origin=expected_origins(request), credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count, require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError) as error:
        raise PasskeyRefused(str(error)) from None
    # The counter moves only forward, even with two assertions verified at once.
    counter_ok = Authenticator.objects.filter(pk=passkey.pk, sign_count=passkey.sign_count).update(
        sign_count=verified.new_sign_count, backup_state=verified.credential_backed_up, last_used=timezone.now())
    if not counter_ok and verified.new_sign_count:
        raise PasskeyRefused("The passkey's signature counter did not move forward.")
    if not counter_ok:
        Authenticator.objects.filter(pk=passkey.pk).update(last_used=timezone.now(), sign_count=F("sign_count"))
    return passkey


def parse_credential(body: bytes) -> dict:
    try:
        credential = json.loads(body or b"{}")
    except ValueError:
        raise PasskeyRefused("The browser's answer is not JSON.") from None
    if not isinstance(credential, dict):
        raise PasskeyRefused("The browser's answer is not a credential.")
    return credential
