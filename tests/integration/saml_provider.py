"""A real SAML 2.0 identity provider for the tests: pysaml2's IdP (tests/integration/saml_idp_server.py) in its
own process on 127.0.0.1, with an RSA key and self-signed certificate made here when the fixture starts
(no key is committed). `run_saml_identity_provider` is the body of a session fixture."""

import datetime as dt
import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.core.test_identity_providers import make_provider
from tests.factories import AgencyFactory
from tests.integration.oidc_provider import missing_tool
from tests.integration.processes import TestProcess

SERVER = Path(__file__).with_name("saml_idp_server.py")
PASSWORD_CLASS = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"
PHR = "urn:qgov:test:phr"
MAPPINGS = [{"claim_value": "qkd-editors", "role": "editor"}, {"claim_value": "qkd-staff", "role": "viewer"}]


def key_and_certificate(common_name: str) -> tuple[bytes, bytes]:
    """(private key PEM, self-signed certificate PEM), made now."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)


class SamlIdentityProvider(TestProcess):
    """The running IdP: its base URL, entity ID, single sign-on URL and certificate (PEM)."""

    what = "the SAML identity provider"

    def __init__(self, workdir: Path):
        key_pem, cert_pem = key_and_certificate("qgov test IdP")
        (workdir / "key.pem").write_bytes(key_pem)
        (workdir / "cert.pem").write_bytes(cert_pem)
        self.certificate = cert_pem.decode()
        self.log_path = workdir / "idp.log"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(  # noqa: S603
                [sys.executable, str(SERVER), str(workdir / "key.pem"), str(workdir / "cert.pem")],
                stdout=log, stderr=subprocess.STDOUT)
        self.wait_until_ready(timeout=30)
        self.base = next(line.split()[1] for line in self.log().splitlines() if line.startswith("listening "))
        self.entity_id, self.sso_url = f"{self.base}/idp", f"{self.base}/sso"

    def answers(self) -> bool:
        return "listening " in self.log()

    def post(self, path: str, data: bytes) -> None:
        with urllib.request.urlopen(urllib.request.Request(f"{self.base}{path}", data=data), timeout=30):  # noqa: S310
            pass

    def set_account(self, name_id: str, *, groups=(), authn_class=PASSWORD_CLASS, faults=(), **attributes):
        """The person the IdP signs in next, and how (`faults`: see saml_idp_server.py)."""
        attributes = {"groups": list(groups), **{key: [value] for key, value in attributes.items()}}
        self.post("/account", json.dumps({"name_id": name_id, "attributes": attributes, "authn_class": authn_class,
                                          "faults": list(faults)}).encode())

    def trust(self, sp_metadata: bytes) -> None:
        """Answer the service provider of this metadata (qgov's metadata endpoint for a registration)."""
        self.post("/sp", sp_metadata)

    def requests(self) -> list[dict]:
        with urllib.request.urlopen(f"{self.base}/requests", timeout=30) as response:  # noqa: S310
            return json.loads(response.read())

    def login_page(self, url: str) -> str:
        """The IdP's answer to the browser sent to `url` (an AuthnRequest): its auto-posting form."""
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
            return response.read().decode()


def run_saml_identity_provider(tmp_path_factory):
    if shutil.which("xmlsec1") is None:
        missing_tool("xmlsec1 is missing: apt-get install -y xmlsec1 (make test does this)")
    idp = SamlIdentityProvider(tmp_path_factory.mktemp("saml-idp"))
    try:
        yield idp
    finally:
        idp.stop()


def register(idp, code: str, name: str, **fields):
    """The agency `code`'s registration of the test IdP (http on the loopback address)."""
    agency = AgencyFactory(name=name, code=code)
    fields = {"name": f"{code} SAML", "protocol": "saml", "issuer": idp.entity_id, "saml_sso_url": idp.sso_url,
              "saml_certificate": idp.certificate, "jit_provisioning": True, "role_mappings": MAPPINGS, **fields}
    return make_provider(agency, **fields)
