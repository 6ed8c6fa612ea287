"""The key-material detector (incidents.keymaterial) on its own: what it refuses, what it lets
through. The API and form tests (test_key_actions.py) check that a refusal writes nothing."""

import base64

import pytest

from incidents.keymaterial import key_material_kind, key_material_message

KEY_ID = "3f0d6a9e-7c1b-4e2a-9b8d-5a6c7e8f9012"
KEY_ID_2 = "3f0d6a9e-7c1b-4e2a-9b8d-5a6c7e8f90ff"
KEY_16 = bytes(range(16))
KEY_32 = bytes(range(100, 132))


@pytest.mark.parametrize("text", [
    "",
    KEY_ID,
    f"{KEY_ID}..{KEY_ID_2}",
    f"{KEY_ID}-{KEY_ID_2}",
    f"{KEY_ID} – {KEY_ID_2}, {KEY_ID.upper()}",
    f"{KEY_ID}\n{KEY_ID_2}",
    "SAE-BER-01, SAE-BER-02",
    "kme-berlin-01-to-kme-potsdam-02-sae-alpha",  # URL-safe-looking identifiers are names
    "Informationssicherheitsbeauftragter notified",  # a long word is no key
    "firmware hash prefix 9f86d081884c7d659a2feaa0",  # 24 hex digits: below the hex threshold
    "Keys from the window were quarantined; see ticket SOC-2026-0042.",
])
def test_ids_names_and_prose_pass(text):
    assert key_material_kind(text) is None


@pytest.mark.parametrize(("text", "kind"), [
    (KEY_16.hex(), "hex"),  # 32 hex digits
    (KEY_32.hex().upper(), "hex"),
    (f"key {KEY_32.hex()} leaked", "hex"),
    (KEY_ID.replace("-", ""), "hex"),  # a UUID without hyphens is 32 hex digits
    (f"{KEY_ID}{KEY_32.hex()}", "hex"),  # bytes glued to a key ID
    (base64.b64encode(KEY_16).decode(), "base64"),  # 24 characters with == padding
    (base64.b64encode(KEY_32).decode(), "base64"),
    (f"key: {base64.b64encode(b'0123456789abcdefghij0123').decode()}", "base64"),
    ("ABCDEFGHIJKLMNOPQRSTUVWX1", "base64"),  # letters and a digit, 25 characters
    ("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----", "pem"),
    ("-----BEGIN CERTIFICATE-----", "pem"),
])
def test_key_bytes_are_spotted(text, kind):
    assert key_material_kind(text) == kind


def test_the_message_names_the_field_and_never_repeats_the_text():
    message = key_material_message("SAE IDs", "hex")
    assert message == ("“SAE IDs” looks like it holds key material (a run of 32 or more hexadecimal digits). "
                       "Record key IDs (UUIDs, or ranges of them) and never key bytes; remove it and try again.")
