"""A real OpenID provider for the tests: panva's oidc-provider (tools/oidc-provider, installed by
`make test` from its lock file; its server.js says how it is configured), started by a session fixture
(`run_openid_provider`) on 127.0.0.1, a free port, with its development login screen (any password;
the login names an account of the accounts file, which the tests write). Its one client is qgov's, with
the live server's callbacks for the agencies DQN and MOT."""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings

from tests.core.test_identity_providers import make_provider
from tests.factories import AgencyFactory

TOOL = settings.BASE_DIR / "tools" / "oidc-provider"
CLIENT_ID, CLIENT_SECRET = "qgov-test", "qgov-test-client-secret-0123456789"
PHR = "urn:qgov:test:phr"


class OpenIdProvider:
    """The running provider: its issuer, and the accounts file it reads at every sign-in."""

    def __init__(self, process, issuer: str, accounts_file: Path):
        self.process, self.issuer, self.accounts_file = process, issuer, accounts_file

    def set_account(self, login: str, **claims):
        accounts = json.loads(self.accounts_file.read_text())
        accounts[login] = claims
        self.accounts_file.write_text(json.dumps(accounts))


def missing_tool(message):
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run_openid_provider(live_server, tmp_path_factory):
    """The body of a module's session fixture `openid_provider`: yields the running provider."""
    node = shutil.which("node")
    if node is None:
        missing_tool("node is missing: apt-get install -y nodejs npm (the provider sign-in tests need it)")
    if not (TOOL / "node_modules" / "oidc-provider").exists():
        missing_tool(f"{TOOL}/node_modules is missing: npm ci --prefix {TOOL} (make test does this)")
    accounts_file = tmp_path_factory.mktemp("oidc-provider") / "accounts.json"
    accounts_file.write_text("{}")
    redirect_uris = ",".join(f"{live_server.url}/login/sso/{code}/callback/" for code in ("DQN", "MOT"))
    env = {**os.environ, "OIDC_CLIENT_ID": CLIENT_ID, "OIDC_CLIENT_SECRET": CLIENT_SECRET,
           "OIDC_REDIRECT_URIS": redirect_uris, "OIDC_ACCOUNTS_FILE": str(accounts_file), "NO_COLOR": "1"}
    process = subprocess.Popen([node, "server.js"], cwd=TOOL, env=env, stdout=subprocess.PIPE,  # noqa: S603
                               stderr=subprocess.STDOUT, text=True)
    issuer, seen = None, []
    deadline = time.monotonic() + 30
    while issuer is None and time.monotonic() < deadline and process.poll() is None:
        line = process.stdout.readline()
        seen.append(line)
        if line.startswith("listening "):
            issuer = line.split()[1]
    if issuer is None:
        process.kill()
        pytest.fail("the OpenID provider did not start:\n" + "".join(seen))
    try:
        yield OpenIdProvider(process, issuer, accounts_file)
    finally:
        process.terminate()
        process.wait(timeout=10)


MAPPINGS = [{"claim_value": "qkd-editors", "role": "editor"}, {"claim_value": "qkd-staff", "role": "viewer"}]


def register(openid_provider, code: str, name: str, **fields):
    """The agency `code`'s registration of the test provider (an http issuer on the loopback address)."""
    agency = AgencyFactory(name=name, code=code)
    return make_provider(agency, name=f"{code} login", issuer=openid_provider.issuer, client_id=CLIENT_ID,
                         client_secret=CLIENT_SECRET, jit_provisioning=True, role_mappings=MAPPINGS, **fields)
