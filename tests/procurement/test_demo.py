"""The procurement demo loads (twice, without duplicates) after the other apps' demos and shows the
supply chain the issue asks for: suppliers at every status rated through the real scoring service, a
review out at the portal, quantum-vulnerable cryptography with policy deadlines, and contracts near
their sunset, overdue for re-evaluation, renewed and exiting."""

import datetime
import io
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone

from procurement.models import Component, Contract, DueDiligenceReview, PortalLink, Supplier
from procurement.services import answers_of, contracts_due, review_score
from qgov.models import Agency, ImportRun


@pytest.fixture
def demo(db):
    call_command("load_catalogs", verbosity=0)
    call_command("load_demo", password="demo-password-1", verbosity=0)
    call_command("load_demo", password="demo-password-1", verbosity=0)
    return Agency.objects.get(code="DEMO")


def test_suppliers_at_every_status_rated_by_their_reviews(demo):
    suppliers = {s.name: s for s in Supplier.objects.filter(agency=demo)}
    assert {name: (s.status, s.country, s.rating_outcome, s.rating_score) for name, s in suppliers.items()} == {
        "Photonica Quantum AG": ("approved", "CH", "approve", Decimal("90.0")),
        "Liberty Quantum Networks Inc.": ("conditional", "US", "conditional", Decimal("62.5")),
        "Securelay Trusted Nodes GmbH": ("suspended", "DE", "approve", Decimal("93.5")),
        "Keystone Key Management Oy": ("candidate", "FI", "", None),
        "Cryptovault HSM Ltd": ("approved", "GB", "approve", Decimal("90.0")),
        "Netcipher Systems B.V.": ("exited", "NL", "reject", Decimal("18.0")),
        "Shenzhen Photon Link Co., Ltd.": ("candidate", "CN", "escalate", Decimal("43.5")),
    }
    assert {s.status for s in suppliers.values()} == {"candidate", "approved", "conditional", "suspended", "exited"}
    for review in DueDiligenceReview.objects.filter(agency=demo, status="submitted").select_related("supplier"):
        again = review_score(review.questionnaire, answers_of(review), review.supplier.criticality)
        assert (review.score, review.outcome) == (again.score, again.outcome)  # the one scoring service's result
    escalated = DueDiligenceReview.objects.get(agency=demo, supplier__name="Shenzhen Photon Link Co., Ltd.")
    assert [reason[:2] for reason in escalated.escalation_reasons] == ["Q1", "Q6", "Q8"]


def test_one_review_is_out_at_the_portal_half_answered(demo):
    [sent] = DueDiligenceReview.objects.filter(agency=demo, status="sent")
    assert sent.supplier.name == "Keystone Key Management Oy"
    [link] = PortalLink.objects.filter(review=sent, status="active")
    assert link.contact_email == "aino.virtanen@keystone.example"
    assert link.expires_at > timezone.now()
    assert PortalLink.objects.filter(review=sent).exclude(status="active").count() == 1  # the first run's
    saved = {code: value for code, value in answers_of(sent).items() if value != "unknown"}
    assert saved == {"Q1": "evidenced", "Q2": "evidenced", "Q3": "partial"}


def test_each_load_prints_a_new_portal_link_that_opens_and_the_last_one_stops(db, client):
    call_command("load_catalogs", verbosity=0)
    printed = []
    for _run in range(2):
        out = io.StringIO()
        call_command("load_demo", password="demo-password-1", stdout=out)
        [line] = [line for line in out.getvalue().splitlines() if "Supplier portal" in line]
        printed.append(re.search(r"https?://\S+", line).group(0))
    first, second = (urlsplit(url) for url in printed)
    assert second.netloc == "127.0.0.1:8000" and first.path != second.path
    assert client.get(second.path).status_code == 200
    assert client.get(first.path).status_code == 410  # withdrawn when the demo was loaded again


def test_the_hsm_cbom_is_imported_through_the_core_import(demo):
    [run] = ImportRun.objects.filter(agency=demo)
    assert (run.status, run.file_name, run.format) == ("succeeded", "cryptovault-cv-9000.cdx.json", "cyclonedx-json")
    imported = {c.name: c for c in Component.objects.filter(agency=demo).exclude(bom_serial="")
                .select_related("device", "asset", "supplier")}
    assert sorted(imported) == ["CV-9000 HSM firmware", "ML-DSA-65", "ML-KEM-768", "RSA-3072",
                                "RSA-3072 root CA key"]
    assert {(c.supplier.name, c.device.name, c.asset.name) for c in imported.values()} == {
        ("Cryptovault HSM Ltd", "PQC HSM Capital-1", "Government root CA")}
    assert imported["RSA-3072 root CA key"].algorithm == "RSA-3072"
    assert [d.name for d in imported["CV-9000 HSM firmware"].depends_on.all()] == [
        "ML-DSA-65", "ML-KEM-768", "RSA-3072"]


def test_a_cryptographic_bom_with_quantum_vulnerable_algorithms_and_their_deadlines(demo):
    components = {c.name: c for c in Component.objects.filter(agency=demo).select_related("device", "asset")}
    assert len(components) == 17
    vulnerable = {name: c.policy_deadline for name, c in components.items() if c.quantum_vulnerable}
    assert vulnerable == {
        "RSA-2048 firmware signing key": datetime.date(2030, 12, 31),  # 112-bit: NIST IR 8547 deprecates in 2030
        "ECDSA P-256 (KMS TLS server certificate)": datetime.date(2035, 12, 31),
        "ECDH P-384 (IKEv2 key agreement)": datetime.date(2035, 12, 31),
        "RSA-3072": datetime.date(2035, 12, 31),
        "RSA-3072 root CA key": datetime.date(2035, 12, 31),
    }
    assert not components["ML-KEM-768"].quantum_vulnerable and not components["AES-256-GCM"].quantum_vulnerable
    assert components["RSA-2048 firmware signing key"].device.name == "QKD-TX-CN-A"
    assert components["ECDH P-384 (IKEv2 key agreement)"].asset.name == "Inter-ministry WAN"
    assert components["SR-900 relay operating system"].authenticity_result == "failed"
    linked = {name: [risk.title for risk in c.risks.all()] for name, c in components.items() if c.risks.exists()}
    assert linked == {
        "RSA-2048 firmware signing key": ["Tampered firmware update on QKD devices"],
        "ECDH P-384 (IKEv2 key agreement)": ["Recorded WAN traffic decrypted once a quantum computer exists"],
        "RSA-3072 root CA key": ["Root CA signatures forgeable before the PQC migration ends"],
    }


def test_contracts_near_sunset_overdue_renewed_and_exiting(demo, client):
    today = timezone.localdate()
    contracts = {c.reference: c for c in Contract.objects.filter(agency=demo)}
    assert {ref: c.status for ref, c in contracts.items()} == {
        "CT-2023-014": "active", "CT-2024-007": "active", "CT-2022-003": "renewed", "CT-2021-011": "exiting",
        "CT-2025-002": "active", "CT-2026-001": "draft"}
    assert 0 < (contracts["CT-2023-014"].sunset_date - today).days <= 60
    assert contracts["CT-2024-007"].next_reevaluation < today
    renewed = contracts["CT-2022-003"]
    assert renewed.next_reevaluation > today and renewed.status_note.startswith("Re-evaluated")
    assert [d.name for d in contracts["CT-2023-014"].devices.all()] == ["QKD-RX-CN-B", "QKD-TX-CN-A"]
    rows = {c.reference: [(d.name, d.overdue) for d in dues]
            for c, dues in contracts_due(Contract.objects.filter(agency=demo), today=today)}
    assert rows == {"CT-2024-007": [("reevaluation", True)], "CT-2023-014": [("sunset", False)],
                    "CT-2021-011": [("end", False)]}
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username="demo-editor"))
    for url in ("/procurement/contracts/due/", renewed.get_absolute_url(), "/"):
        assert client.get(url).status_code == 200, url
