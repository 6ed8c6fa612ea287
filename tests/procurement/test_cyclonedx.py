"""CycloneDX JSON import of components: real generator output (cyclonedx-py over this project's own
environment), hand-written CBOMs covering every crypto asset type, re-import idempotency, newer
versions, every kind of bad file (nothing written), the API (file or JSON body) and the UI page."""

import hashlib
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from procurement import catalog
from procurement.models import Component
from qgov.choices import RoleChoices
from qgov.models import AuditEvent, ImportRun
from tests.procurement.factories import SupplierFactory

FIXTURES = Path(__file__).parent / "fixtures"
CBOM = "cbom-qkd-node.json"


def fixture(name) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def editor(agency, member_of):
    catalog.load()
    return member_of(agency, RoleChoices.EDITOR, username="ed")


@pytest.fixture
def upload(editor, import_file):
    def run(name, content=None, user=None):
        return import_file(user or editor, fixture(name) if content is None else content, name=name,
                           path="/api/cyclonedx-imports/")
    return run


def components(agency):
    return {c.bom_ref: c for c in Component.objects.filter(agency=agency).prefetch_related("depends_on")}


# --- real-world BOMs ----------------------------------------------------------------------------


def test_a_bom_generated_by_cyclonedx_py_over_this_environment_imports(upload, agency):
    bom = json.loads(fixture("cyclonedx-py-environment.cdx.json"))
    expected = len(bom["components"])
    response = upload("cyclonedx-py-environment.cdx.json")
    assert response.status_code == 202, response.content
    run = response.run
    assert run["status"] == "succeeded", run["errors"]
    assert (run["created_count"], run["updated_count"], run["unchanged_count"]) == (expected, 0, 0)
    assert run["sha256"] == hashlib.sha256(fixture("cyclonedx-py-environment.cdx.json")).hexdigest()
    django = Component.objects.get(agency=agency, name="Django")
    assert django.purl.startswith("pkg:pypi/django@") and django.component_version
    assert django.bom_serial == bom["serialNumber"] and django.bom_version == bom["version"]
    # cyclonedx-py's dependency graph is kept: Django depends on asgiref and sqlparse.
    assert {"asgiref", "sqlparse"} <= {c.name for c in django.depends_on.all()}


@pytest.mark.parametrize("name", ["sbom-1.4.json", "sbom-1.5.json"])
def test_older_supported_spec_versions_import(upload, agency, name):
    run = upload(name).run
    assert run["status"] == "succeeded", run["errors"]
    assert Component.objects.get(agency=agency).purl == "pkg:pypi/requests@2.32.3"


# --- a hand-written CBOM: every crypto asset type -----------------------------------------------


def test_a_cbom_maps_every_crypto_asset_type(upload, agency, editor):
    acme = SupplierFactory(agency=agency, name="Acme Quantum")
    run = upload(CBOM).run
    assert run["status"] == "succeeded", run["errors"]
    assert run["created_count"] == 9  # nested components flattened; the BOM's own subject is not one
    found = components(agency)
    firmware = found["fw"]
    assert firmware.supplier == acme  # matched case-insensitively ("ACME QUANTUM")
    assert firmware.firmware_sha256 == "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    assert firmware.component_type == "firmware" and firmware.component_version == "4.2.1"
    openssl = found["openssl"]
    assert openssl.supplier is None  # no supplier of that name: none is created, the name is kept
    assert "OpenSSL Foundation" in openssl.notes
    rsa = found["alg-rsa"]
    assert (rsa.crypto_asset_type, rsa.primitive, rsa.algorithm, rsa.parameter_set_identifier) == (
        "algorithm", "pke", "RSA-2048", "2048")
    assert (rsa.classical_security_level, rsa.nist_quantum_security_level) == (112, 0)
    assert rsa.certification_level == ["fips140-3-l1"]
    assert rsa.quantum_vulnerable and str(rsa.policy_deadline) == "2030-12-31"  # NIST IR 8547, ≤ 112 bits
    ecdsa = found["alg-ecdsa"]
    assert ecdsa.quantum_vulnerable and str(ecdsa.policy_deadline) == "2035-12-31"
    assert not found["alg-mlkem"].quantum_vulnerable and found["alg-mlkem"].nist_quantum_security_level == 3
    assert not found["alg-aes"].quantum_vulnerable
    certificate = found["cert-mgmt"]
    assert certificate.crypto_asset_type == "certificate" and certificate.algorithm == "RSA-2048"
    assert certificate.quantum_vulnerable  # signed with RSA
    key = found["key-rsa"]
    assert (key.crypto_asset_type, key.key_state, key.algorithm) == ("related-crypto-material", "active", "RSA-2048")
    protocol = found["proto-tls"]
    assert protocol.crypto_asset_type == "protocol" and "tls 1.3" in protocol.notes
    assert {c.bom_ref for c in protocol.depends_on.all()} == {"alg-aes", "alg-mlkem", "cert-mgmt"}
    assert {c.bom_ref for c in firmware.depends_on.all()} == {"openssl", "proto-tls"}


def test_the_same_bom_twice_changes_nothing(upload, agency):
    upload(CBOM)
    before = list(Component.objects.filter(agency=agency).values_list("pk", "version", "last_updated"))
    events = AuditEvent.objects.filter(content_type__model="component").count()
    run = upload(CBOM).run
    assert run["status"] == "succeeded"
    assert (run["created_count"], run["updated_count"], run["unchanged_count"]) == (0, 0, 9)
    assert list(Component.objects.filter(agency=agency).values_list("pk", "version", "last_updated")) == before
    assert AuditEvent.objects.filter(content_type__model="component").count() == events


def test_a_newer_version_updates_and_records_what_changed(upload, agency):
    upload(CBOM)
    response = upload("cbom-qkd-node-v2.json")
    run = response.run
    assert run["status"] == "succeeded", run["errors"]
    # fw: version; key-rsa: state; cert-mgmt: depends on ML-DSA now; alg-mldsa: new.
    assert (run["created_count"], run["updated_count"], run["unchanged_count"]) == (1, 3, 6)
    found = components(agency)
    assert found["fw"].component_version == "4.3.0" and found["fw"].bom_version == 2
    assert found["key-rsa"].key_state == "deactivated"
    assert {c.bom_ref for c in found["cert-mgmt"].depends_on.all()} == {"alg-mldsa", "key-rsa"}
    assert found["alg-aes"].bom_version == 1  # unchanged components keep the version that set them
    changes = {change["object_repr"]: set(change["changed_fields"]) for change in run["changes"]}
    assert {"component_version", "bom_version"} <= changes[str(found["fw"])]
    assert "key_state" in changes[str(found["key-rsa"])]
    assert "depends_on" in changes[str(found["cert-mgmt"])]


def test_an_older_version_is_refused(upload, agency):
    upload("cbom-qkd-node-v2.json")
    before = list(Component.objects.filter(agency=agency).values_list("pk", "version"))
    run = upload(CBOM).run
    assert run["status"] == "failed"
    assert run["errors"][0]["field"] == "$.version" and "older" in run["errors"][0]["message"]
    assert list(Component.objects.filter(agency=agency).values_list("pk", "version")) == before


def test_the_same_version_with_other_content_is_refused(upload, agency):
    upload(CBOM)
    changed = json.loads(fixture(CBOM))
    changed["components"][1]["name"] = "RSA-3072"
    run = upload(CBOM, json.dumps(changed).encode()).run
    assert run["status"] == "failed"
    assert run["errors"][0]["field"] == "$.version"
    assert {"row": 0, "field": "$.components[1]", "message": "Differs from the imported version."} in run["errors"]
    assert not Component.objects.filter(name="RSA-3072").exists()


# --- bad files: clear errors, nothing written ---------------------------------------------------


@pytest.mark.parametrize(("name", "path", "words"), [
    ("malformed.json", "$", "Malformed JSON at line 1"),
    ("not-cyclonedx.json", "$.bomFormat", "not a CycloneDX BOM"),
    ("unsupported-spec.json", "$.specVersion", "CycloneDX 1.2 is not supported"),
    ("unknown-ref.json", "$.dependencies[5].dependsOn[0]", "alg-dsa-missing is not the bom-ref"),
    ("schema-invalid.json", "$.components[1].cryptoProperties.algorithmProperties.nistQuantumSecurityLevel",
     "greater than the maximum of 6"),
])
def test_a_bad_file_fails_with_the_json_path_and_writes_nothing(upload, agency, name, path, words):
    run = upload(name).run
    assert run["status"] == "failed"
    assert any(error["field"] == path and words in error["message"] for error in run["errors"]), run["errors"]
    assert not Component.objects.filter(agency=agency).exists()


def test_every_schema_problem_is_reported(upload):
    paths = {error["field"] for error in upload("schema-invalid.json").run["errors"]}
    assert "$.components[2].cryptoProperties.assetType" in paths


def test_a_file_failing_late_rolls_back_everything(upload, agency):
    """Components already written when a later one fails validation are rolled back with the file."""
    bom = json.loads(fixture(CBOM))
    # The last component passes the schema but not the model: a 40-digit "SHA-256" firmware hash.
    bom["components"].append({"type": "firmware", "bom-ref": "fw-2", "name": "Line card firmware",
                              "hashes": [{"alg": "SHA-256", "content": "a" * 40}]})
    run = upload(CBOM, json.dumps(bom).encode()).run
    assert run["status"] == "failed"
    assert [error["field"] for error in run["errors"]] == ["$.components[8]"], run["errors"]
    assert any("firmware_sha256" in error["message"] for error in run["errors"])
    assert not Component.objects.filter(agency=agency).exists()


def test_an_upload_over_the_size_limit_is_refused_at_once(upload, settings, agency):
    settings.QGOV_IMPORT_MAX_BYTES = 1000
    response = upload(CBOM)
    assert response.status_code == 400
    assert "at most" in str(response.json())
    assert not ImportRun.objects.exists()


def test_a_50_mb_json_body_is_refused_before_it_is_read(editor, api_as):
    client = api_as(editor)
    body = b'{"bomFormat": "CycloneDX", "pad": "' + b"x" * (50 * 1024 * 1024) + b'"}'
    response = client.generic("POST", "/api/cyclonedx-imports/", body, content_type="application/json")
    assert response.status_code == 400
    assert "at most" in str(response.json())
    assert not ImportRun.objects.exists()


def test_a_file_that_is_not_json_by_name_is_refused_at_upload(upload):
    response = upload("bom.xml", fixture(CBOM))
    assert response.status_code == 400 and "CycloneDX JSON" in str(response.json())


# --- API and pages ------------------------------------------------------------------------------


def test_the_bom_can_be_sent_as_the_json_body(editor, api_as, settings, tmp_path, django_capture_on_commit_callbacks,
                                               agency):
    settings.MEDIA_ROOT = tmp_path
    client = api_as(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.generic("POST", "/api/cyclonedx-imports/", fixture(CBOM), content_type="application/json")
    assert response.status_code == 202, response.content
    run = client.get(response["Location"]).json()
    assert run["status"] == "succeeded" and run["created_count"] == 9
    assert run["format"] == "cyclonedx-json" and run["model"] == "procurement.component"
    listed = client.get("/api/cyclonedx-imports/").json()
    assert [item["id"] for item in listed["results"]] == [run["id"]]


def test_viewers_may_not_import(agency, member_of, upload):
    viewer = member_of(agency, RoleChoices.VIEWER, username="vi")
    assert upload(CBOM, user=viewer).status_code == 403
    assert not ImportRun.objects.exists()


def test_another_agencys_runs_are_not_listed(upload, other_agency, member_of, api_as):
    upload(CBOM)
    outsider = member_of(other_agency, RoleChoices.ADMIN, username="out")
    assert api_as(outsider).get("/api/cyclonedx-imports/").json()["results"] == []


def test_the_import_page_uploads_and_shows_the_history(client, editor, settings, tmp_path,
                                                       django_capture_on_commit_callbacks, agency):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(editor)
    page = client.get("/procurement/components/import/")
    assert page.status_code == 200 and b"CycloneDX" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/procurement/components/import/",
                               {"file": SimpleUploadedFile("node.json", fixture(CBOM))})
    run = ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    assert client.get(run.get_absolute_url()).status_code == 200
    assert b"node.json" in client.get("/procurement/components/import/").content  # the history
    bad = client.post("/procurement/components/import/", {"file": SimpleUploadedFile("node.xml", b"<bom/>")})
    assert bad.status_code == 200 and "CycloneDX JSON" in bad.content.decode()


def test_the_run_page_lists_what_changed(client, editor, upload):
    upload(CBOM)
    upload("cbom-qkd-node-v2.json")
    run = ImportRun.objects.order_by("-pk").first()
    client.force_login(editor)
    page = client.get(run.get_absolute_url()).content.decode()
    assert 'data-testid="import-changes"' in page and "key_state" in page


# --- large BOMs, cycles, BOMs without serial numbers ---------------------------------------------


def test_chunked_validation_keeps_paths_and_finds_duplicates_across_chunks(upload, agency, monkeypatch):
    from procurement import cyclonedx

    monkeypatch.setattr(cyclonedx, "CHUNK", 2)
    bom = json.loads(fixture("sbom-1.5.json"))
    library = bom["components"][0]
    bom["components"] = [dict(library, **{"bom-ref": f"r{i}", "name": f"n{i}"}) for i in range(5)]
    bom["components"][3]["type"] = "gadget"  # in the second chunk
    bom["components"].append(dict(bom["components"][0]))  # a duplicate of the first, in the third chunk
    errors = upload("sbom-1.5.json", json.dumps(bom).encode()).run["errors"]
    fields = [error["field"] for error in errors]
    assert "$.components[3].type" in fields
    assert "$.components[5]" in fields and "the same as $.components[0]" in str(errors)
    assert not Component.objects.filter(agency=agency).exists()


def test_a_dependency_cycle_is_imported(upload, agency):
    bom = json.loads(fixture("sbom-1.5.json"))
    library = bom["components"][0]
    bom["components"] = [dict(library, **{"bom-ref": ref, "name": ref}) for ref in ("a", "b", "c")]
    bom["dependencies"] = [{"ref": "a", "dependsOn": ["b"]}, {"ref": "b", "dependsOn": ["c"]},
                           {"ref": "c", "dependsOn": ["a"]}]
    run = upload("sbom-1.5.json", json.dumps(bom).encode()).run
    assert run["status"] == "succeeded", run["errors"]
    found = components(agency)
    assert [c.bom_ref for c in found["c"].depends_on.all()] == ["a"]
    assert [c.bom_ref for c in found["a"].depends_on.all()] == ["b"]
    again = upload("sbom-1.5.json", json.dumps(bom).encode()).run
    assert (again["created_count"], again["updated_count"], again["unchanged_count"]) == (0, 0, 3)


def test_a_bom_without_serial_number_is_keyed_by_its_file(upload, agency):
    bom = json.loads(fixture("sbom-1.5.json"))
    del bom["serialNumber"]
    content = json.dumps(bom).encode()
    upload("sbom-1.5.json", content)
    component = Component.objects.get(agency=agency)
    assert component.bom_serial == f"sha256:{hashlib.sha256(content).hexdigest()}"
    assert upload("sbom-1.5.json", content).run["unchanged_count"] == 1


def test_the_same_version_with_other_dependencies_is_refused(upload, agency):
    upload(CBOM)
    changed = json.loads(fixture(CBOM))
    changed["dependencies"][4]["dependsOn"] = []  # key-rsa no longer depends on alg-rsa
    run = upload(CBOM, json.dumps(changed).encode()).run
    assert run["status"] == "failed" and run["errors"][0]["field"] == "$.version"
    assert [c.bom_ref for c in components(agency)["key-rsa"].depends_on.all()] == ["alg-rsa"]


@pytest.mark.parametrize(("body", "words"), [(b"{not json", "Malformed JSON"), (b"[1, 2]", "a JSON object")])
def test_a_json_body_that_is_no_bom_is_refused_at_once(editor, api_as, body, words):
    response = api_as(editor).generic("POST", "/api/cyclonedx-imports/", body, content_type="application/json")
    assert response.status_code == 400 and words in str(response.json()["errors"]["file"])
    assert not ImportRun.objects.exists()


def test_a_post_without_a_body_is_a_400(editor, api_as):
    response = api_as(editor).generic("POST", "/api/cyclonedx-imports/", b"", content_type="")
    assert response.status_code == 400 and response.json()["errors"]["file"] == ["No file was submitted."]
