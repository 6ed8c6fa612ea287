"""Clients generated from the committed schema (docs/openapi.yaml), as an agency system would make
them: a Python client with openapi-python-client's default settings, without a warning, and
TypeScript types with openapi-typescript that tsc accepts; then the generated Python client, as it
is, against a live server with a real API token.

Each client is generated once per test session (openapi-python-client takes about 15 s); the tests
and the smoke flow share it through the `python_client` fixture."""

import importlib
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from standardwebhooks.webhooks import Webhook

from qgov import services
from qgov.choices import RoleChoices
from risks.models import Risk as RiskModel
from risks.services import risk_matrix_ensure
from tests.factories import AgencyFactory, MembershipFactory, UserFactory
from tests.integrations.factories import make_endpoint
from tests.integrations.receiver import Receiver

SCHEMA_FILE = settings.BASE_DIR / "docs" / "openapi.yaml"
VENV_BIN = Path(sys.executable).parent
OPENAPI_PYTHON_CLIENT = VENV_BIN / "openapi-python-client"
NODE_TOOLS = settings.BASE_DIR / "tools" / "openapi-typescript" / "node_modules" / ".bin"
PACKAGE = "qgov_api_client"  # what openapi-python-client names the package after the schema's title


def run(command, cwd) -> subprocess.CompletedProcess:
    # The generator's post-hooks call `ruff` by name: this venv's bin comes first on the PATH.
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=240, check=False)


def missing_tool(message):
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def generated_python_client(tmp_path_factory):
    """(the generator's output, the project folder) of a client generated with the default settings."""
    if not OPENAPI_PYTHON_CLIENT.exists():
        missing_tool(f"{OPENAPI_PYTHON_CLIENT} is missing: pip install -r requirements-dev.txt (make test does this)")
    folder = tmp_path_factory.mktemp("python-client")
    project = folder / "qgov-api-client"
    result = run([OPENAPI_PYTHON_CLIENT, "generate", "--path", SCHEMA_FILE, "--output-path", project], folder)
    return SimpleNamespace(result=result, project=project)


@pytest.fixture(scope="session")
def python_client(generated_python_client):
    """The generated package, imported from where it was generated."""
    if generated_python_client.result.returncode != 0:
        pytest.fail(f"openapi-python-client failed:\n{generated_python_client.result.stdout}"
                    f"{generated_python_client.result.stderr}")
    sys.path.insert(0, str(generated_python_client.project))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(generated_python_client.project))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_a_python_client_generates_with_the_default_settings_and_no_warning(generated_python_client):
    result = generated_python_client.result

    assert (result.returncode, result.stdout + result.stderr) == (0, f"Generating {generated_python_client.project}\n")
    package = generated_python_client.project / PACKAGE
    assert (package / "api" / "risks" / "risks_assess_create.py").exists()
    assert (package / "models" / "risk_status_enum.py").exists()
    assert not (package / "models" / "time_zone_enum.py").exists()


def test_typescript_types_generate_and_type_check(tmp_path):
    generate, tsc = NODE_TOOLS / "openapi-typescript", NODE_TOOLS / "tsc"
    if not (generate.exists() and tsc.exists()):
        missing_tool(f"{generate} is missing: `make test` installs it with npm "
                     "(or: npm ci --prefix tools/openapi-typescript); without npm this test cannot run")

    # defaultNonNullable off: with it, openapi-typescript would make every request field that has a
    # default (a risk's `reference`, say) required, which the API does not.
    result = run([generate, SCHEMA_FILE, "--default-non-nullable", "false", "--output", tmp_path / "qgov-api.ts"],
                 tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warn" not in (result.stdout + result.stderr).lower(), result.stdout + result.stderr
    types = (tmp_path / "qgov-api.ts").read_text()
    assert '    "/api/risks/{id}/assess/": {' in types
    assert "export interface components {" in types

    # A client's use of the types: what tsc accepts, and what it must refuse (@ts-expect-error fails the
    # check when the line is accepted).
    (tmp_path / "client.ts").write_text("""\
import type { components, paths } from "./qgov-api";

type RiskPage = paths["/api/risks/"]["get"]["responses"][200]["content"]["application/json"];
type Risk = components["schemas"]["Risk"];
export const page: RiskPage = { count: 0, count_exact: true, next: null, previous: null, results: [] };
export const status: Risk["status"] = "in_treatment";
// @ts-expect-error: not a state of a risk's lifecycle
export const unknownStatus: Risk["status"] = "pending";
export const newRisk: components["schemas"]["RiskRequest"] = {
  agency: 1, title: "Harvest-now-decrypt-later on the backbone", inherent_likelihood: 4, inherent_impact: 5,
};
export const zone: components["schemas"]["AgencyRequest"]["time_zone"] = "Europe/Brussels";
export const unsetKind: components["schemas"]["RequiredScheme"]["device_kind"] = null;
""")
    result = run([tsc, "--noEmit", "--strict", "--target", "es2022", "--module", "es2022",
                  "--moduleResolution", "bundler", "client.ts"], tmp_path)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


# --- the generated Python client against a live server ------------------------------------------------


@pytest.fixture
def agency_system(transactional_db, live_server, python_client, settings):
    """An agency system as it is set up in practice: a service account with the editor role, a token
    issued by the token service, and the generated client pointed at a live server with it."""
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
    risk_matrix_ensure(agency)
    account = UserFactory(username="cmdb-sync")
    MembershipFactory(agency=agency, user=account, role=RoleChoices.EDITOR)
    _, key = services.token_issue(user=account, name="CMDB sync")
    client = python_client.AuthenticatedClient(base_url=live_server.url, token=key, prefix="Token",
                                               raise_on_unexpected_status=True)
    settings.QGOV_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the receiver is on loopback
    with Receiver() as receiver:
        endpoint = make_endpoint(agency, target_url=receiver.url, event_types=[
            "risks.risk.created", "risks.risk.assess"])
        yield SimpleNamespace(agency=agency, account=account, key=key, client=client, live_server=live_server,
                              receiver=receiver, webhook_secret=endpoint.plain_secret)


def test_the_generated_python_client_works_against_a_live_server(python_client, agency_system):
    from qgov_api_client.api.risks import risks_assess_create, risks_create, risks_list, risks_retrieve
    from qgov_api_client.models import (
        BriefRecord,
        Error,
        PaginatedRiskList,
        Risk,
        RiskRequest,
        RiskStatusEnum,
        TransitionRequest,
    )

    client, agency = agency_system.client, agency_system.agency

    # List: an empty register, as a typed page.
    page = risks_list.sync(client=client)
    assert isinstance(page, PaginatedRiskList)
    assert (page.count, page.count_exact, page.next_, page.results) == (0, True, None, [])

    # Create.
    body = RiskRequest(agency=agency.pk, title="Harvest-now-decrypt-later on the backbone",
                       inherent_likelihood=4, inherent_impact=5)
    created = risks_create.sync_detailed(client=client, body=body)
    risk = created.parsed
    assert created.status_code == 201
    assert isinstance(risk, Risk)
    assert (risk.reference, risk.title, risk.status, risk.inherent_score, risk.version) == (
        "R-0001", "Harvest-now-decrypt-later on the backbone", RiskStatusEnum.DRAFT, 20, 1)
    assert isinstance(risk.agency, BriefRecord)
    assert (risk.agency.id, risk.agency.display) == (agency.pk, "Department of Quantum Networks (DQN)")
    assert risk.url == f"{agency_system.live_server.url}/api/risks/{risk.id}/"

    # A refused write comes back as the typed error, field by field.
    refused = risks_create.sync(client=client, body=RiskRequest(agency=agency.pk, title="",
                                                                 inherent_likelihood=4, inherent_impact=5))
    assert isinstance(refused, Error)
    assert (refused.status, refused.code) == (400, "invalid")
    assert refused.errors.to_dict() == {"title": ["This field may not be blank."]}

    # A create sent twice with one Idempotency-Key (a retry after a timeout) makes one record: the
    # second answer is the first one, replayed.
    retried = RiskRequest(agency=agency.pk, title="Trusted node tampering at the border site",
                          inherent_likelihood=3, inherent_impact=4)
    first = risks_create.sync_detailed(client=client, body=retried, idempotency_key="cmdb-7f3a9c")
    again = risks_create.sync_detailed(client=client, body=retried, idempotency_key="cmdb-7f3a9c")
    assert (first.status_code, again.status_code, again.headers["Idempotent-Replayed"]) == (201, 201, "true")
    assert (again.parsed.id, again.parsed.reference) == (first.parsed.id, "R-0002")
    assert RiskModel.objects.filter(agency=agency).count() == 2

    # A lifecycle transition: draft → assessed.
    assessed = risks_assess_create.sync(risk.id, client=client, body=TransitionRequest(reason="Rated at intake"))
    assert isinstance(assessed, Risk)
    assert (assessed.id, assessed.status, assessed.version) == (risk.id, RiskStatusEnum.ASSESSED, 2)

    # Read back, with the ETag that a later If-Match sends.
    read = risks_retrieve.sync_detailed(risk.id, client=client)
    assert read.status_code == 200
    assert read.headers["ETag"] == '"2"'
    assert (read.parsed.status, read.parsed.version, read.parsed.reference) == (RiskStatusEnum.ASSESSED, 2, "R-0001")

    page = risks_list.sync(client=client, status=[python_client.models.RisksListStatusItem.ASSESSED])
    assert (page.count, [row.id for row in page.results]) == (1, [risk.id])

    # The agency's webhook endpoint received each change, signed (verified as docs/integrating.md shows).
    deliveries = [Webhook(agency_system.webhook_secret).verify(got.body, got.headers)
                  for got in agency_system.receiver.received]
    assert [(d["type"], d["data"]["object_id"]) for d in deliveries] == [
        ("risks.risk.created", str(risk.id)), ("risks.risk.created", str(first.parsed.id)),
        ("risks.risk.assess", str(risk.id))]
    assert deliveries[2]["data"]["record"]["status"] == "assessed"
