"""API token secrets, scopes and address limits (docs/integrating.md, "Authentication and tokens").

A secret is `qgov_` and 43 URL-safe characters, so that secret scanners recognise a leaked one. The
database keeps only a keyed hash: HMAC-SHA256, under QGOV_TOKEN_HASH_KEY, of the secret's SHA-256.
(The inner SHA-256 is what tokens issued before keyed hashing stored, so migration 0014 turned
their rows into keyed hashes without knowing the secrets; such tokens keep working until they
expire.) Changing QGOV_TOKEN_HASH_KEY invalidates every token.
"""

import hashlib
import hmac
import ipaddress
import re
import secrets

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from qgov.permissions import AREA_LEVELS, READ, WRITE, scope_area

SECRET_PREFIX = "qgov_"
# Long enough to tell tokens apart in lists, far too short to guess the rest.
PREFIX_LENGTH = 12
MAX_LIFETIME_DAYS = 366
MANAGE_WEBHOOKS = "webhooks:manage"


def generate_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def keyed_hash(unkeyed_hash: str) -> str:
    return hmac.new(settings.QGOV_TOKEN_HASH_KEY.encode(), unkeyed_hash.encode(), hashlib.sha256).hexdigest()


def hash_secret(secret: str) -> str:
    return keyed_hash(hashlib.sha256(secret.encode()).hexdigest())


def scope_areas() -> list[str]:
    """The areas of every model the permission check knows, sorted."""
    return sorted({scope_area(model) for model in apps.get_models() if hasattr(model, "permission_action")})


def scope_choices() -> list[str]:
    return [READ, WRITE, *(f"{area}:{level}" for area in scope_areas() for level in AREA_LEVELS)]


def clean_scopes(scopes) -> list[str]:
    if not isinstance(scopes, list) or not scopes or not all(isinstance(scope, str) for scope in scopes):
        raise ValidationError(_("Give at least one scope."), code="required")
    known = set(scope_choices())
    unknown = sorted(set(scopes) - known)
    if unknown:
        raise ValidationError(
            _("Unknown scopes: %(scopes)s. Use read, write, or <area>:read, <area>:write, <area>:manage "
              "with an area among: %(areas)s.") % {"scopes": ", ".join(unknown), "areas": ", ".join(scope_areas())},
            code="invalid")
    if MANAGE_WEBHOOKS in scopes and {READ, WRITE} & set(scopes):
        # Its account is an agency admin: with read or write of every area it could read the audit
        # trail and the members, which no system needs to manage its webhooks.
        raise ValidationError(_("A token that manages webhooks names each other area it needs "
                                "(e.g. reports:read) instead of read or write."), code="invalid")
    return sorted(set(scopes))


def writes(scopes) -> bool:
    """Whether any of the scopes allows writing."""
    return any(scope == WRITE or scope.partition(":")[2] in (WRITE, "manage") for scope in scopes)


def clean_networks(networks) -> list[str]:
    """CIDRs (or single addresses), normalised to their networks (192.0.2.7/24: 192.0.2.0/24)."""
    if not isinstance(networks, list) or not all(isinstance(network, str) for network in networks):
        raise ValidationError(_("Give a list of addresses or networks in CIDR notation."), code="invalid")
    cleaned = []
    for network in networks:
        try:
            if not re.fullmatch(NETWORK_PATTERN, network.strip()):
                raise ValueError(network)
            cleaned.append(str(ipaddress.ip_network(network.strip(), strict=False)))
        except ValueError:
            raise ValidationError(
                _("“%(value)s” is not an address or a network in CIDR notation (e.g. 192.0.2.0/24)."),
                params={"value": network}, code="invalid") from None
    return sorted(set(cleaned))


_IPV4 = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(?:/(?:3[0-2]|[12]?\d))?"
_H = "[0-9a-fA-F]{1,4}"
_IPV6 = (rf"(?:(?:{_H}:){{7}}{_H}|(?:{_H}:){{1,7}}:|(?:{_H}:){{1,6}}:{_H}|(?:{_H}:){{1,5}}(?::{_H}){{1,2}}"
         rf"|(?:{_H}:){{1,4}}(?::{_H}){{1,3}}|(?:{_H}:){{1,3}}(?::{_H}){{1,4}}|(?:{_H}:){{1,2}}(?::{_H}){{1,5}}"
         rf"|{_H}:(?::{_H}){{1,6}}|:(?:(?::{_H}){{1,7}}|:))(?:/(?:12[0-8]|1[01]\d|[1-9]?\d))?")
# What clean_networks accepts, as a pattern the API schema can state.
NETWORK_PATTERN = rf"^(?:{_IPV4}|{_IPV6})$"


def address_allowed(address: str, networks) -> bool:
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network) for network in networks)
