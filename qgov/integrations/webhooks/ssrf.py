"""Which addresses a webhook may reach. A target must be https on a public address; the host is
resolved when the endpoint is saved and again at every send, and the connection goes to the very
address that was checked (no second lookup an attacker's DNS could answer differently).
QGOV_WEBHOOK_ALLOWED_HOSTS (host names or CIDRs) lets an operator allow intranet receivers, plain
http included."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


class TargetRefused(Exception):
    """The URL may not be called: its scheme, or an address its host resolves to."""


def _allowed_entries():
    hosts, networks = set(), []
    for entry in settings.QGOV_WEBHOOK_ALLOWED_HOSTS:
        entry = entry.strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            hosts.add(entry)
    return hosts, networks


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None or address.sixtofour is not None or address.teredo is not None:
            return False  # an IPv4 address in IPv6 clothing: refused outright rather than unwrapped
        if address in ipaddress.ip_network("64:ff9b::/96"):  # NAT64 of any IPv4 address
            return False
    # is_global is False for loopback, RFC 1918, link-local, CGNAT (100.64/10), ULA (fc00::/7),
    # documentation, benchmarking and reserved ranges; multicast is "global" for some, so both.
    return address.is_global and not address.is_multicast and not address.is_unspecified


def resolve(host: str, port: int) -> list[str]:
    """The addresses of `host`, as the system resolver answers (an IP literal is itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise TargetRefused(_("The host %(host)s cannot be resolved.") % {"host": host}) from error
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_url(url: str) -> str:
    """The address to connect to for `url`, checked; TargetRefused with the reason otherwise."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        raise TargetRefused(_("Enter a full URL, e.g. https://hooks.example.org/qgov."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise TargetRefused(_("The port is not valid.")) from error
    allowed_hosts, allowed_networks = _allowed_entries()
    host_allowed = host in allowed_hosts
    if parts.scheme != "https" and not (parts.scheme == "http" and (host_allowed or allowed_networks)):
        raise TargetRefused(_("Webhook URLs must use https."))
    if parts.username or parts.password:
        raise TargetRefused(_("Put no credentials in the URL; verify the signature instead."))
    addresses = resolve(host, port)
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        allowed = host_allowed or any(address in network for network in allowed_networks)
        if parts.scheme == "http" and not allowed:
            raise TargetRefused(_("Webhook URLs must use https."))
        if not allowed and not _is_public(address):
            raise TargetRefused(_("%(host)s resolves to %(address)s, which is not a public address.")
                                % {"host": host, "address": text})
    # Every address was checked; connect to the first.
    return addresses[0]
