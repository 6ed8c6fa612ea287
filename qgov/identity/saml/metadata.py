"""What a SAML 2.0 registration holds and how it is checked: the IdP's entity ID (the provider's `issuer`),
its single sign-on URL (HTTP-Redirect) and signing certificate, typed in or taken from pasted IdP metadata;
and the IdP metadata qgov gives pysaml2, written from those fields only (so the one certificate the agency
admin registered is the one signatures are checked with)."""

import base64
import binascii
import datetime as dt
import re
from xml.etree.ElementTree import ParseError

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.core.exceptions import ValidationError
from django.utils.html import escape
from django.utils.translation import gettext as _

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
DS = "http://www.w3.org/2000/09/xmldsig#"
BINDING_HTTP_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
MAX_METADATA_CHARS = 200_000


class MetadataError(ValueError):
    pass


def certificate_pem(text: str) -> str:
    """The certificate as PEM, from PEM or the bare base64 of metadata; MetadataError when it is none."""
    body = re.sub(r"-----(BEGIN|END) CERTIFICATE-----|\s", "", text or "")
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(body, validate=True))
    except (binascii.Error, ValueError) as error:
        raise MetadataError(_("Not an X.509 certificate (give it as PEM, -----BEGIN CERTIFICATE----- …).")) \
            from error
    return certificate.public_bytes(Encoding.PEM).decode("ascii")


def certificate_summary(pem: str) -> dict | None:
    """What the provider page shows of the registered certificate: whom it names, until when, and
    its SHA-256 fingerprint (what an admin compares with the IdP's); None if it does not read."""
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except ValueError:
        return None
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex().upper()
    return {"subject": certificate.subject.rfc4514_string(), "not_after": certificate.not_valid_after_utc,
            "expired": certificate.not_valid_after_utc <= dt.datetime.now(dt.UTC),
            "sha256": ":".join(fingerprint[i:i + 2] for i in range(0, len(fingerprint), 2))}


def certificate_body(pem: str) -> str:
    """The base64 of the certificate, as metadata and KeyInfo write it."""
    return re.sub(r"-----(BEGIN|END) CERTIFICATE-----|\s", "", pem)


def read_idp_metadata(xml: str, entity_id: str = "") -> dict:
    """entity_id, sso_url (HTTP-Redirect) and certificate (PEM) of the IdP in pasted metadata: its one
    EntityDescriptor with an IDPSSODescriptor, or the one of `entity_id` among several."""
    if len(xml) > MAX_METADATA_CHARS:
        raise MetadataError(_("The metadata is longer than %(count)d characters.") % {"count": MAX_METADATA_CHARS})
    try:
        root = fromstring(xml.strip().encode())
    except (ParseError, DefusedXmlException, ValueError) as error:
        raise MetadataError(_("The metadata is not well-formed XML without DTDs or entities.")) from error
    entities = [root] if root.tag == f"{{{MD}}}EntityDescriptor" else root.iter(f"{{{MD}}}EntityDescriptor")
    idps = [entity for entity in entities if entity.find(f"{{{MD}}}IDPSSODescriptor") is not None]
    if entity_id and len(idps) > 1:
        idps = [entity for entity in idps if entity.get("entityID") == entity_id]
    if len(idps) != 1:
        raise MetadataError(_("The metadata must describe exactly one identity provider (IDPSSODescriptor)."))
    descriptor = idps[0].find(f"{{{MD}}}IDPSSODescriptor")
    sso_urls = [service.get("Location", "") for service in descriptor.findall(f"{{{MD}}}SingleSignOnService")
                if service.get("Binding") == BINDING_HTTP_REDIRECT]
    if not sso_urls:
        raise MetadataError(_("The identity provider offers no single sign-on service with the HTTP-Redirect "
                              "binding."))
    certificates = [key.find(f".//{{{DS}}}X509Certificate") for key in descriptor.findall(f"{{{MD}}}KeyDescriptor")
                    if key.get("use", "signing") == "signing"]
    certificates = {certificate_pem(element.text) for element in certificates if element is not None}
    if len(certificates) != 1:
        # Two keys (a rollover) would need two registered certificates; one is what qgov keeps.
        raise MetadataError(_("The metadata must hold exactly one signing certificate (it holds %(count)d).")
                            % {"count": len(certificates)})
    return {"entity_id": idps[0].get("entityID", ""), "sso_url": sso_urls[0], "certificate": certificates.pop()}


def clean_saml_registration(provider) -> dict:
    """Field errors of a SAML registration (for IdentityProvider.clean), after taking the single sign-on URL
    and certificate from pasted metadata. The OpenID Connect client is not a SAML provider's: cleared."""
    errors = {}
    provider.client_id, provider.client_secret = "", ""
    if provider.saml_metadata.strip():
        try:
            found = read_idp_metadata(provider.saml_metadata, provider.issuer)
        except MetadataError as error:
            return {"saml_metadata": [str(error)]}
        if provider.issuer and found["entity_id"] != provider.issuer:
            return {"saml_metadata": [_("The metadata is for the entity ID “%(found)s”, not this provider's "
                                        "issuer.") % {"found": found["entity_id"]}]}
        provider.saml_sso_url, provider.saml_certificate = found["sso_url"], found["certificate"]
    if not provider.saml_sso_url:
        errors["saml_sso_url"] = [_("Give the identity provider's single sign-on URL, or paste its metadata.")]
    if not provider.saml_certificate.strip():
        errors["saml_certificate"] = [_("Give the identity provider's signing certificate, or paste its "
                                        "metadata.")]
    else:
        try:
            provider.saml_certificate = certificate_pem(provider.saml_certificate)
        except MetadataError as error:
            errors["saml_certificate"] = [str(error)]
    if provider.saml_sso_url and "saml_sso_url" not in errors:
        from qgov.identity.providers.models import validate_sso_url

        try:
            validate_sso_url(provider.saml_sso_url)
        except ValidationError as error:
            errors["saml_sso_url"] = error.messages
    return errors


def idp_metadata_xml(provider) -> str:
    """The IdP as pysaml2 reads it: the registered entity ID, single sign-on URL and certificate only."""
    return (f'<md:EntityDescriptor xmlns:md="{MD}" xmlns:ds="{DS}" entityID="{escape(provider.issuer)}">'
            f'<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">'
            f'<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>'
            f'{certificate_body(provider.saml_certificate)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>'
            f'</md:KeyDescriptor>'
            f'<md:SingleSignOnService Binding="{BINDING_HTTP_REDIRECT}" Location="{escape(provider.saml_sso_url)}"/>'
            f'</md:IDPSSODescriptor></md:EntityDescriptor>')
