"""qgov as a SAML 2.0 service provider, through pysaml2 (signatures checked by the xmlsec1 binary): one
service provider per registration, its entity ID the URL of its metadata and its assertion consumer service
its own URL, built per request from the registration (nothing read from files). The IdP is only what the
agency admin registered (qgov.identity.saml.metadata)."""

import base64
import binascii
import calendar
import shutil
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.urls import reverse
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT, AuthnContextClassRef
from saml2.samlp import RequestedAuthnContext
from saml2.time_util import str_to_time

from qgov.identity.saml.metadata import idp_metadata_xml

CLOCK_SKEW_SECONDS = 60  # as LEEWAY_SECONDS for ID tokens (qgov.identity.oidc.tokens)
# Attribute names (Name or FriendlyName) read for a new account's details; never for who the person is.
PROFILE_ATTRIBUTES = {
    "email": ("email", "mail", "emailaddress", "urn:oid:0.9.2342.19200300.100.1.3",
              "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"),
    "given_name": ("givenname", "given_name", "urn:oid:2.5.4.42",
                   "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"),
    "family_name": ("sn", "surname", "family_name", "urn:oid:2.5.4.4",
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname"),
    "preferred_username": ("uid", "username", "preferred_username", "urn:oid:0.9.2342.19200300.100.1.1"),
}


class ResponseRefused(Exception):
    """The SAML response fails a check; `reason` is a short code for the logs (never the response)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def xmlsec_available() -> bool:
    """Whether the xmlsec1 binary (Debian package xmlsec1) is there: without it no signature can be checked."""
    return shutil.which("xmlsec1") is not None


def sp_entity_id(request, provider) -> str:
    return request.build_absolute_uri(reverse("login_saml_metadata", args=[provider.pk]))


def acs_url(request, provider) -> str:
    return request.build_absolute_uri(reverse("login_saml_acs", args=[provider.pk]))


def service_provider(request, provider) -> Saml2Client:
    config = SPConfig()
    config.load({
        "entityid": sp_entity_id(request, provider),
        "xmlsec_binary": shutil.which("xmlsec1"),
        "metadata": {"inline": [idp_metadata_xml(provider)]},
        "allow_unknown_attributes": True,
        "accepted_time_diff": CLOCK_SKEW_SECONDS,
        "service": {"sp": {
            "name": f"qgov ({provider.agency.code})",
            "endpoints": {"assertion_consumer_service": [(acs_url(request, provider), BINDING_HTTP_POST)]},
            # Only answers to a request this browser made; the Response or its Assertion signed by the
            # registered certificate (only_use_keys_in_metadata: never a key the message carries itself).
            "allow_unsolicited": False,
            "want_response_signed": False,
            "want_assertions_signed": False,
            "want_assertions_or_response_signed": True,
            "only_use_keys_in_metadata": True,
            "authn_requests_signed": False,
            "name_id_format": [NAMEID_FORMAT_PERSISTENT],
            "name_id_policy_format": NAMEID_FORMAT_PERSISTENT,
        }},
    })
    return Saml2Client(config)


def sp_metadata_xml(request, provider) -> str:
    return str(entity_descriptor(service_provider(request, provider).config))


def authn_request_url(request, provider, *, force_authn: bool, authn_context: str = "") -> tuple[str, str]:
    """(request ID, URL of the IdP's single sign-on service with the AuthnRequest, HTTP-Redirect binding)."""
    client = service_provider(request, provider)
    extra = {"force_authn": "true"} if force_authn else {}
    if authn_context:
        extra["requested_authn_context"] = RequestedAuthnContext(
            authn_context_class_ref=[AuthnContextClassRef(text=authn_context)], comparison="exact")
    request_id, info = client.prepare_for_authenticate(entityid=provider.issuer, binding=BINDING_HTTP_REDIRECT,
                                                       **extra)
    return request_id, dict(info["headers"])["Location"]


def verified_claims(request, provider, saml_response: str, outstanding: dict) -> tuple[str, dict]:
    """(InResponseTo, claims) of a base64 SAMLResponse (HTTP-POST) once every check passes; else
    ResponseRefused. `outstanding`: the IDs of the requests this session waits for (request ID → anything).
    pysaml2 checks the signature with the registered certificate, InResponseTo among `outstanding`,
    Destination and Recipient against this provider's ACS, the Audience (our entity ID) and the time
    conditions; qgov checks the issuers and reads the subject, groups and authentication context."""
    try:  # Destination first: pysaml2 passes over a response without one, and answers a wrong one with None
        destination = fromstring(base64.b64decode(saml_response)).get("Destination")
    except (binascii.Error, ValueError, ParseError, DefusedXmlException) as error:
        raise ResponseRefused("malformed", type(error).__name__) from error
    if destination != acs_url(request, provider):
        raise ResponseRefused("destination")
    if not xmlsec_available():
        raise ResponseRefused("xmlsec1_missing")
    client = service_provider(request, provider)
    try:
        response = client.parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding=outstanding)
    except Exception as error:  # noqa: BLE001 - pysaml2 signals every failed check by an exception of its own
        raise ResponseRefused(_reason(error), type(error).__name__) from error
    if response is None or response.assertion is None:
        raise ResponseRefused("malformed")
    assertion = response.assertion
    if response.issuer() != provider.issuer or (assertion.issuer is None or
                                                 (assertion.issuer.text or "").strip() != provider.issuer):
        raise ResponseRefused("issuer")
    if not assertion.authn_statement:
        raise ResponseRefused("authn_statement")
    subject = _subject(provider, response)
    statement = assertion.authn_statement[0]
    context = statement.authn_context
    class_ref = context.authn_context_class_ref.text.strip() if (
        context is not None and context.authn_context_class_ref is not None
        and context.authn_context_class_ref.text) else None
    try:
        auth_time = calendar.timegm(str_to_time(statement.authn_instant))
    except (TypeError, ValueError) as error:
        raise ResponseRefused("authn_instant") from error
    attributes = _attributes(assertion)
    claims = {"sub": subject, "acr": class_ref, "auth_time": auth_time, "saml_assertion_id": assertion.id,
              "saml_not_on_or_after": response.not_on_or_after or None,
              provider.groups_claim: attributes.get(provider.groups_claim.lower(), [])}
    for claim, names in PROFILE_ATTRIBUTES.items():
        value = next((attributes[name][0] for name in names if attributes.get(name)), None)
        if value is not None:
            claims.setdefault(claim, value)
    return response.in_response_to, claims


def _reason(error: Exception) -> str:
    name = type(error).__name__
    text = str(error).lower()
    if name in ("UnsolicitedResponse",):
        return "unsolicited"
    if "signature" in name.lower() or "signed" in text or name in ("SigverError", "MissingKey", "IncorrectlySigned"):
        return "signature"
    if "audience" in text:
        return "audience"
    if name in ("ResponseLifetimeExceed", "ToEarly", "TooEarly") or "lifetime" in text or "too early" in text:
        return "time"
    if "recipient" in text or "destination" in text:
        return "destination"
    if name.startswith("Status"):
        return "status"
    return "invalid"


def _subject(provider, response) -> str:
    """The person: the registered subject attribute, or the NameID; a transient NameID changes at every
    sign-in, so it never names anyone."""
    if provider.saml_subject_attribute:
        values = _attributes(response.assertion).get(provider.saml_subject_attribute.lower(), [])
        if len(values) != 1 or not 0 < len(values[0]) <= 255:
            raise ResponseRefused("subject_attribute")
        return values[0]
    name_id = response.assertion.subject.name_id if response.assertion.subject is not None else None
    text = (name_id.text or "").strip() if name_id is not None else ""
    if not text or len(text) > 255 or name_id.format == NAMEID_FORMAT_TRANSIENT:
        raise ResponseRefused("name_id")
    return text


def _attributes(assertion) -> dict[str, list[str]]:
    """Attribute values by lower-cased Name and FriendlyName, text values only."""
    found: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement:
        for attribute in statement.attribute:
            values = [value.text.strip() for value in attribute.attribute_value
                      if isinstance(value.text, str) and value.text.strip()]
            for name in {attribute.name, attribute.friendly_name} - {None, ""}:
                found.setdefault(name.lower(), []).extend(values)
    return found
