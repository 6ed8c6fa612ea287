"""Spotting key material in text, so that a key action never stores key bytes.

Key actions record *which* keys were compromised (GS QKD 014 key_IDs are UUIDs), never the keys.
Key bytes reach people as hex or Base64 (GS QKD 014 delivers keys Base64-encoded) or in PEM files,
so text is refused when, after its UUIDs are set aside, it holds:

- a PEM block header (``-----BEGIN …-----``);
- a run of 32 or more hexadecimal digits (128 bits and up; a UUID written without its hyphens
  is such a run too: write key IDs in their canonical 8-4-4-4-12 form);
- a run of 24 or more Base64 characters, padding included (16 bytes and up) that holds a digit, ``+``, ``/`` or
  ``=`` padding besides letters. Runs of letters alone are words (German compounds run past 24
  letters) and shorter hex runs are left to the hex rule.

The message never repeats the text found: it would end up in logs and error reports.
URL-safe Base64 (``-``, ``_``) is not looked for: identifiers such as SAE and KME names use
those characters, and GS QKD 014 uses the standard alphabet.
"""

import re

from django.utils.translation import gettext as _

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
PEM = re.compile(r"-----\s*BEGIN[A-Z0-9 ]*-----")
HEX_RUN = re.compile(r"(?<![0-9a-fA-F])[0-9a-fA-F]{32,}(?![0-9a-fA-F])")
BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{22,}={0,2}")
MIN_HEX, MIN_BASE64 = 32, 24


def _looks_like_base64(run: str) -> bool:
    body = run.rstrip("=")
    if len(run) < MIN_BASE64 or re.fullmatch(r"[0-9a-fA-F]+", body):
        return False
    has_letter = re.search(r"[A-Za-z]", body) is not None
    has_other = run.endswith("=") or re.search(r"[0-9+/]", body) is not None
    return has_letter and has_other


def key_material_kind(text: str) -> str | None:
    """What kind of key material the text seems to hold ("pem", "hex", "base64"), or None."""
    if not text:
        return None
    if PEM.search(text):
        return "pem"
    # UUIDs (and ranges of them, "uuid..uuid") are key IDs: set aside, with a space so that two
    # adjacent ones do not fuse into one run.
    rest = UUID.sub(" ", text)
    if HEX_RUN.search(rest):
        return "hex"
    if any(_looks_like_base64(match.group()) for match in BASE64_RUN.finditer(rest)):
        return "base64"
    return None


def key_material_message(label: str, kind: str) -> str:
    what = {
        "pem": _("a PEM block (-----BEGIN …-----)"),
        "hex": _("a run of %(n)s or more hexadecimal digits") % {"n": MIN_HEX},
        "base64": _("a run of %(n)s or more Base64 characters") % {"n": MIN_BASE64},
    }[kind]
    return _("“%(field)s” looks like it holds key material (%(what)s). Record key IDs (UUIDs, or ranges of "
             "them) and never key bytes; remove it and try again.") % {"field": label, "what": what}
