"""A real SAML 2.0 identity provider for the tests: pysaml2's own IdP (saml2.server.Server) in a small WSGI
app on 127.0.0.1, run in its own process by tests/integration/saml_provider.py with a key and certificate
made by the fixture. It does not import Django.

    python saml_idp_server.py <key.pem> <cert.pem>   → prints "listening <base URL>", then serves:

GET  /sso?SAMLRequest=…  (HTTP-Redirect) answers with the auto-posting form of a Response (HTTP-POST) for the
                         account set by /account, signed as /account says (the Assertion by default; one of
                         `faults` changes the response, which is then signed as a whole, or not at all).
POST /account            JSON: {"name_id", "attributes", "authn_class", "faults": [...]} of the next sign-ins.
POST /sp                 the service provider's metadata XML (qgov's metadata endpoint), to answer it.
GET  /requests           JSON: the AuthnRequests received (id, force_authn, requested classes, ACS URL).

Faults: "unsigned", "wrong_audience", "wrong_issuer" (another entity ID, signed with the same key),
"wrong_assertion_issuer" (the Response's issuer right, its Assertion's another),
"expired" (conditions and confirmation ended ten minutes ago), "wrong_destination"; and "ignore_force_authn"
(answers from its own session, with the old AuthnInstant, as an IdP that disregards ForceAuthn) and
"idp_initiated" (no InResponseTo), both signed as usual."""

import base64
import json
import shutil
import sys
import time
from html import escape
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, make_server

from saml2 import BINDING_HTTP_REDIRECT, class_name, samlp
from saml2.config import IdPConfig
from saml2.saml import NAME_FORMAT_BASIC, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.sigver import pre_signature_part, signed_instance_factory
from saml2.time_util import instant


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class TestIdentityProvider:
    def __init__(self, base: str, key_file: str, cert_file: str):
        self.base, self.entity_id = base, f"{base}/idp"
        config = IdPConfig()
        config.load({
            "entityid": self.entity_id,
            "xmlsec_binary": shutil.which("xmlsec1"),
            "key_file": key_file,
            "cert_file": cert_file,
            "allow_unknown_attributes": True,
            "metadata": {},
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(f"{base}/sso", BINDING_HTTP_REDIRECT)]},
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_BASIC}},
            }},
        })
        self.server = Server(config=config)
        self.account = {}
        self.authn_instants = {}  # name ID → when it last authenticated (the IdP's own session)
        self.requests = []

    def __call__(self, environ, start_response):
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode() if length else ""
        if method == "POST" and path == "/account":
            self.account = json.loads(body)
            return self._answer(start_response, "200 OK", "text/plain", "ok")
        if method == "POST" and path == "/sp":
            self.server.metadata.load("inline", body)
            return self._answer(start_response, "200 OK", "text/plain", "ok")
        if method == "GET" and path == "/requests":
            return self._answer(start_response, "200 OK", "application/json", json.dumps(self.requests))
        if method == "GET" and path == "/sso":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            return self._answer(start_response, "200 OK", "text/html", self.sso(query["SAMLRequest"][0]))
        return self._answer(start_response, "404 Not Found", "text/plain", "not found")

    @staticmethod
    def _answer(start_response, status, content_type, text):
        start_response(status, [("Content-Type", content_type)])
        return [text.encode()]

    def sso(self, saml_request: str) -> str:
        message = self.server.parse_authn_request(saml_request, BINDING_HTTP_REDIRECT).message
        context = message.requested_authn_context
        self.requests.append({
            "id": message.id, "force_authn": message.force_authn, "acs": message.assertion_consumer_service_url,
            "name_id_policy": message.name_id_policy.format if message.name_id_policy else None,
            "authn_context": [ref.text for ref in context.authn_context_class_ref] if context else []})
        account, faults = self.account, set(self.account.get("faults", []))
        forced = message.force_authn == "true" and "ignore_force_authn" not in faults
        # An IdP-initiated response answers no request (no InResponseTo), signed as usual.
        in_response_to = None if "idp_initiated" in faults else message.id
        faults -= {"ignore_force_authn", "idp_initiated"}
        name_id = account["name_id"]
        if forced or name_id not in self.authn_instants:
            self.authn_instants[name_id] = int(time.time())
        acs = message.assertion_consumer_service_url
        response = self.server.create_authn_response(
            identity=account.get("attributes", {}), in_response_to=in_response_to, destination=acs,
            sp_entity_id=message.issuer.text, name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=name_id),
            authn={"class_ref": account.get("authn_class", "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"),
                   "authn_auth": self.entity_id, "authn_instant": self.authn_instants[name_id]},
            sign_response=False, sign_assertion=not faults)
        if faults:
            # Unsigned, pysaml2 hands the Response itself over.
            response = self._faulty(response if isinstance(response, samlp.Response)
                                    else samlp.response_from_string(response), faults)
        encoded = base64.b64encode(str(response).encode()).decode()
        return (f'<html><body onload="document.forms[0].submit()"><form method="post" action="{escape(acs)}">'
                f'<input type="hidden" name="SAMLResponse" value="{encoded}"><input type="submit" value="Continue">'
                f'</form></body></html>')

    def _faulty(self, response, faults: set) -> str:
        assertion = response.assertion[0] if isinstance(response.assertion, list) else response.assertion
        if "wrong_audience" in faults:
            assertion.conditions.audience_restriction[0].audience[0].text = "https://elsewhere.example.gov/sp"
        if "wrong_issuer" in faults:
            response.issuer.text = assertion.issuer.text = f"{self.base}/another-idp"
        if "wrong_assertion_issuer" in faults:
            assertion.issuer.text = f"{self.base}/another-idp"
        if "expired" in faults:
            ended = instant(time_stamp=int(time.time()) - 600)
            assertion.conditions.not_on_or_after = ended
            assertion.conditions.not_before = instant(time_stamp=int(time.time()) - 900)
            for confirmation in assertion.subject.subject_confirmation:
                confirmation.subject_confirmation_data.not_on_or_after = ended
        if "wrong_destination" in faults:
            response.destination = "https://elsewhere.example.gov/acs"
        if "unsigned" in faults:
            return str(response)
        response.signature = pre_signature_part(response.id, self.server.sec.my_cert, 1)
        return signed_instance_factory(response, self.server.sec, [(class_name(response), response.id)])


def main():
    key_file, cert_file = sys.argv[1:3]
    httpd = make_server("127.0.0.1", 0, lambda environ, start_response: app(environ, start_response),
                        handler_class=QuietHandler)
    base = f"http://127.0.0.1:{httpd.server_port}"
    app = TestIdentityProvider(base, key_file, cert_file)
    print(f"listening {base}", flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
