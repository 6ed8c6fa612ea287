"""Demo records for procurement: the demo agency's quantum supply chain. The vendors of the
certification demo's fleet become suppliers at every status, each rated by a due-diligence review
that went through the real services (answers, completion, submission: the scores are computed, not
typed in), plus one review out with the supplier at the portal, half answered, whose link every
`load_demo` renews and prints; components with quantum-vulnerable and post-quantum algorithms,
linked to the demo's devices and assets, the HSM vendor's share of them imported from its CycloneDX
CBOM through the core import (so the import history and the BOM provenance show); and contracts at
the interesting points of their lives: one reaching its sunset within 60 days, one overdue for
re-evaluation, one renewed, one exiting."""

import json
from datetime import timedelta

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from procurement import catalog
from procurement.models import Component, Contract, DueDiligenceReview, Questionnaire, Supplier
from procurement.services import portal_answers_save, portal_path, review_send
from qgov.imports.services import import_run_create, import_run_execute
from qgov.services import object_create, object_transition, object_update

QUESTIONNAIRE = "QKD-SCRM-1"

SUPPLIERS = [
    # name, country, criticality, contact name, contact e-mail, ownership, foreign control, export control
    ("Photonica Quantum AG", "CH", "critical", "Dana Vogt", "dd@photonica.example",
     "Listed on SIX Swiss Exchange; no holder above 10 %.", "None known.",
     "Wassenaar Cat. 5 Pt. 2 (5A002); Swiss general export licence for EU destinations."),
    ("Liberty Quantum Networks Inc.", "US", "high", "Morgan Reyes", "compliance@libertyquantum.example",
     "Private; majority held by two US venture funds.", "Subject to the US CLOUD Act for data held by US staff.",
     "ECCN 5A002.a; EAR licence exception ENC."),
    ("Securelay Trusted Nodes GmbH", "DE", "critical", "Jonas Keller", "security@securelay.example",
     "Owned by its founders (62 %) and a German defence holding (38 %).", "None known.",
     "Annex I dual-use item 5A002."),
    ("Keystone Key Management Oy", "FI", "high", "Aino Virtanen", "aino.virtanen@keystone.example",
     "Subsidiary of a Nordic IT services group.", "None known.", "5D002 (key management software)."),
    ("Cryptovault HSM Ltd", "GB", "medium", "Priya Shah", "assurance@cryptovault.example",
     "Private limited company; ownership disclosed at Companies House.", "None known.",
     "UK Strategic Export Control List 5A002; open general licence for the EU."),
    ("Netcipher Systems B.V.", "NL", "medium", "Sanne de Vries", "sales@netcipher.example",
     "Acquired in 2026 by a holding whose owners were not disclosed.",
     "Ownership after the acquisition could not be established.", "5A002.a."),
    ("Shenzhen Photon Link Co., Ltd.", "CN", "critical", "Li Wei", "export@photonlink.example",
     "Not disclosed.", "Jurisdiction can compel access to keys and source code (national intelligence law).",
     "Not stated."),
]

# Answers to Q1…Q18: e(videnced), p(artial), u(nknown); the score follows from the weights.
ANSWERS = {
    "Photonica Quantum AG": "eeeeeeeeepeeepepue",
    "Liberty Quantum Networks Inc.": "epeppeppeuepupppue",
    "Securelay Trusted Nodes GmbH": "eeepeepeeeeeeeeeee",
    "Cryptovault HSM Ltd": "epeepeeeeeepepeeee",
    "Netcipher Systems B.V.": "upuupuuppuupuuupuu",
    # A critical supplier that does not say who owns it: escalated whatever the score.
    "Shenzhen Photon Link Co., Ltd.": "uupepupueeppepppuu",
}
COMMENTS = {"evidenced": "Evidence on file.", "partial": "Partly evidenced; follow-up requested.",
            "unknown": "No answer given."}
CODES = {"e": "evidenced", "p": "partial", "u": "unknown"}

STATUS_CHANGES = {
    # supplier: [(transition, reason)], done by an admin after the review
    "Photonica Quantum AG": [("approve", "")],
    "Cryptovault HSM Ltd": [("approve", "")],
    "Liberty Quantum Networks Inc.": [("approve_with_conditions",
                                       "Independent side-channel test of the LQ-5 by the end of next quarter; "
                                       "no remote telemetry without the agency's approval.")],
    "Securelay Trusted Nodes GmbH": [("approve", ""),
                                     ("suspend", "Tamper seal found broken on TN-3 after a field visit; suspended "
                                                 "until the incident review closes.")],
    "Netcipher Systems B.V.": [("exit", "Ownership after the 2026 acquisition could not be established; "
                                        "the WAN encryptors are being replaced.")],
}

# The supplier whose review is out at the portal: its contact has saved the first answers, not submitted.
PORTAL_SUPPLIER = "Keystone Key Management Oy"
PORTAL_SAVED = {"Q1": ("evidenced", "Group structure chart and register extract attached."),
                "Q2": ("evidenced", "ISO/IEC 27001 certificate, scope covers KMS development."),
                "Q3": ("partial", "Secure development policy in place; SBOMs from release 2.4 on."),
                "Q4": ("unknown", "")}

SOFTWARE = [
    # name, type, supplier, version, part number, purl, origin, firmware hash, authenticity (method, days ago,
    # result) or None, device, asset
    ("QX-100 transmitter firmware", "firmware", "Photonica Quantum AG", "3.1.0", "QX-100T-FW",
     "pkg:generic/photonica/qx-100-firmware@3.1.0", "CH", "3f" * 32,
     ("Signature verified against Photonica's release key", 60, "verified"), "QKD-TX-CN-A", None),
    ("QX-100 receiver firmware", "firmware", "Photonica Quantum AG", "3.2.1", "QX-100R-FW",
     "pkg:generic/photonica/qx-100-firmware@3.2.1", "CH", "9c" * 32, None, "QKD-RX-CN-B", None),
    ("InGaAs single-photon detector module", "device", "Photonica Quantum AG", "rev C", "SPD-IGA-4", "", "JP", "",
     ("X-ray comparison with a golden sample", 120, "verified"), "QKD-RX-CN-B", None),
    ("LQ-5 DFB laser source", "device", "Liberty Quantum Networks Inc.", "2.0", "LQ5-LAS-1550", "", "US", "",
     None, "QKD-TX-NR-A", None),
    ("SR-900 relay operating system", "firmware", "Securelay Trusted Nodes GmbH", "7.4.2", "SR900-OS",
     "pkg:generic/securelay/sr-900-os@7.4.2", "DE", "5e" * 32,
     ("Hash compared with the vendor's signed release notes", 200, "failed"), "TN-3 Northgate relay", None),
    ("KS-QKMS key delivery service", "application", "Keystone Key Management Oy", "2.3.0", "",
     "pkg:generic/keystone/ks-qkms@2.3.0", "FI", "", None, "KMS-A", "Key management system KMS-A"),
    ("OpenSSL", "library", "Netcipher Systems B.V.", "3.0.13", "", "pkg:generic/openssl@3.0.13", "", "",
     None, "Link encryptor WAN-1", None),
]

CRYPTO = [
    # name, supplier, asset type, primitive, algorithm, parameter set, classical bits, NIST quantum level,
    # certification level, key state, device, asset
    ("RSA-2048 firmware signing key", "Photonica Quantum AG", "related-crypto-material", "signature", "RSA", "2048",
     112, 0, [], "active", "QKD-TX-CN-A", "QKD link Capital–Northgate"),
    ("ECDSA P-256 (KMS TLS server certificate)", "Keystone Key Management Oy", "certificate", "signature", "ECDSA",
     "P-256", 128, 0, [], "", "KMS-A", "Key management system KMS-A"),
    ("ECDH P-384 (IKEv2 key agreement)", "Netcipher Systems B.V.", "algorithm", "key-agree", "ECDH", "P-384", 192, 0,
     [], "", "Link encryptor WAN-1", "Inter-ministry WAN"),
    ("AES-256-GCM", "Netcipher Systems B.V.", "algorithm", "ae", "AES", "256", 256, 5, [], "",
     "Link encryptor WAN-1", "Inter-ministry WAN"),
    ("SHA-384", "Photonica Quantum AG", "algorithm", "hash", "SHA-384", "384", 192, 4, [], "", "QKD-TX-CN-A", None),
]

# The HSM vendor delivers a CycloneDX 1.6 CBOM with its HSMs; the demo imports it as an editor would.
HSM_CBOM_SUPPLIER = "Cryptovault HSM Ltd"
HSM_CBOM_LINKS = {"device": "PQC HSM Capital-1", "asset": "Government root CA"}


def hsm_cbom() -> dict:
    def algorithm(ref, name, primitive, parameters, classical, quantum, functions):
        return {"type": "cryptographic-asset", "bom-ref": ref, "name": name, "cryptoProperties": {
            "assetType": "algorithm", "algorithmProperties": {
                "primitive": primitive, "parameterSetIdentifier": parameters, "executionEnvironment": "hardware",
                "certificationLevel": ["fips140-3-l3"], "cryptoFunctions": functions,
                "classicalSecurityLevel": classical, "nistQuantumSecurityLevel": quantum}}}

    return {
        "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
        "serialNumber": "urn:uuid:6f1c2b0e-8d3a-4c7e-9a51-3b2f0c9d7e10",
        "metadata": {"timestamp": "2026-10-15T09:00:00Z", "supplier": {"name": HSM_CBOM_SUPPLIER},
                     "component": {"type": "device", "bom-ref": "hsm", "name": "CV-9000 PQC HSM"}},
        "components": [
            {"type": "firmware", "bom-ref": "hsm-fw", "name": "CV-9000 HSM firmware", "version": "5.1.2",
             "purl": "pkg:generic/cryptovault/cv-9000-firmware@5.1.2",
             "hashes": [{"alg": "SHA-256", "content": "4b" * 32}]},
            algorithm("alg-rsa3072", "RSA-3072", "signature", "3072", 128, 0, ["sign", "verify"]),
            {"type": "cryptographic-asset", "bom-ref": "key-root-ca", "name": "RSA-3072 root CA key",
             "cryptoProperties": {"assetType": "related-crypto-material", "relatedCryptoMaterialProperties": {
                 "type": "private-key", "id": "root-ca-2024", "state": "active", "algorithmRef": "alg-rsa3072",
                 "size": 3072, "format": "PKCS#11"}}},
            algorithm("alg-mlkem768", "ML-KEM-768", "kem", "768", 192, 3, ["keygen", "encapsulate", "decapsulate"]),
            algorithm("alg-mldsa65", "ML-DSA-65", "signature", "65", 192, 3, ["keygen", "sign", "verify"]),
        ],
        "dependencies": [{"ref": "hsm", "dependsOn": ["hsm-fw"]},
                         {"ref": "hsm-fw", "dependsOn": ["alg-rsa3072", "alg-mlkem768", "alg-mldsa65"]},
                         {"ref": "key-root-ca", "dependsOn": ["alg-rsa3072"]}],
    }

# The register risks (risks/demo.py) that quantum-vulnerable demo components raise; the ECDSA
# certificate is left unlinked, for a demo user to raise or link one.
RISK_LINKS = {
    "RSA-2048 firmware signing key": ["Tampered firmware update on QKD devices"],
    "ECDH P-384 (IKEv2 key agreement)": ["Recorded WAN traffic decrypted once a quantum computer exists"],
    "RSA-3072 root CA key": ["Root CA signatures forgeable before the PQC migration ends"],
}

CONTRACTS = [
    # reference, supplier, title, value, start (days from today), end, sunset, re-evaluation months,
    # next re-evaluation (days from today or None), interfaces, devices, assets, multi-vendor, escrow, exit plan,
    # transitions [(name, reason)]
    ("CT-2023-014", "Photonica Quantum AG", "QKD backbone Capital–Northgate: supply, maintenance and firmware",
     1_850_000, -1050, 200, 45, 12, 320, ["ETSI GS QKD 004", "ETSI GS QKD 014", "ETSI GS QKD 015"],
     ["QKD-TX-CN-A", "QKD-RX-CN-B"], ["QKD link Capital–Northgate"],
     "Key delivery over ETSI GS QKD 014 so that a second vendor's modules can be added on the same KMS.",
     "Firmware source deposited with an escrow agent; released on insolvency or end of support.",
     "Six months' parallel run with the replacement link; keys re-established over ML-KEM-768 meanwhile.",
     [("activate", "")]),
    ("CT-2024-007", "Liberty Quantum Networks Inc.", "Northgate–Riverside QKD link", 940_000, -500, 700, 400, 12,
     -20, ["ETSI GS QKD 014", "ITU-T Y.3800 series"], ["QKD-TX-NR-A", "QKD-RX-NR-B"],
     ["QKD link Northgate–Riverside"], "", "", "Return to the Capital–Northgate vendor's modules on both ends.",
     [("activate", "")]),
    ("CT-2022-003", "Keystone Key Management Oy", "Key management system KMS-A: licences and support", 310_000,
     -1200, 900, 500, 12, -10, ["ETSI GS QKD 014", "ETSI GS QKD 015"], ["KMS-A"],
     ["Key management system KMS-A"], "The KMS serves keys from any vendor's QKD modules.",
     "Database schema and export tooling documented and deposited.", "Export keys and policies to the successor KMS.",
     [("activate", ""), ("start_reevaluation", ""),
      ("renew", "Re-evaluated: service levels met; renewed with PQC hybrid key delivery added.")]),
    ("CT-2021-011", "Netcipher Systems B.V.", "Link encryptors for the inter-ministry WAN", 420_000, -1800, 90,
     -30, 24, None, ["other"], ["Link encryptor WAN-1"], ["Inter-ministry WAN"], "", "",
     "Replace with CC-certified encryptors supporting hybrid ML-KEM; decommission and zeroise by the end date.",
     [("activate", ""), ("begin_exit", "The supplier was exited after its 2026 due-diligence review.")]),
    ("CT-2025-002", "Cryptovault HSM Ltd", "PQC HSMs for the government root CA", 260_000, -200, 1600, 1300, 24,
     None, ["other"], ["PQC HSM Capital-1"], ["Government root CA"], "",
     "Key backup in a second HSM vendor's module under split knowledge.",
     "Migrate keys by wrapped export to a FIPS 140-3 Level 3 module of another vendor.", [("activate", "")]),
    ("CT-2026-001", "Securelay Trusted Nodes GmbH", "Trusted node relays TN-2 and TN-3: maintenance", 180_000, 30,
     1100, 1000, 12, None, ["ETSI GS QKD 015"], ["TN-2 Riverside relay", "TN-3 Northgate relay"],
     ["Trusted node TN-2 (Riverside)"], "", "", "", []),
]


def load(*, agency, users) -> list[str]:
    """Load the records once; on every run, give the portal review a new link (only its hash is
    kept, so an earlier run's link cannot be printed again) and return the line that names it."""
    token = None
    if not Supplier.objects.filter(agency=agency, name=SUPPLIERS[0][0]).exists():
        token = _load_records(agency=agency, users=users)
    token = token or _portal_link_renew(agency=agency, user=users["editor"])
    if token is None:
        return []  # someone has recalled or scored the demo review meanwhile
    site = (settings.QGOV_SITE_URL or "http://127.0.0.1:8000/").rstrip("/")
    return [f"Supplier portal, as {PORTAL_SUPPLIER}'s contact (no account): {site}{portal_path(token)}"]


def _portal_link_renew(*, agency, user) -> str | None:
    review = DueDiligenceReview.objects.filter(agency=agency, supplier__name=PORTAL_SUPPLIER, status="sent").first()
    if review is None:
        return None
    review = object_transition(instance=review, name="recall", user=user,
                               reason="The demo was loaded again: a new link replaces the one printed before.")
    supplier = review.supplier
    _link, token = review_send(review=review, user=user, contact_name=supplier.contact_name,
                               contact_email=supplier.contact_email)
    return token


def _load_records(*, agency, users) -> str:
    """Every demo record; returns the portal link's token."""
    if not Questionnaire.objects.filter(code=QUESTIONNAIRE).exists():
        catalog.load()
    editor, admin = users["editor"], users["admin"]
    questionnaire = Questionnaire.objects.get(code=QUESTIONNAIRE)
    today = timezone.localdate()

    suppliers = {}
    for name, country, criticality, contact, email, ownership, foreign, export in SUPPLIERS:
        suppliers[name] = object_create(model=Supplier, user=editor, data={
            "agency": agency, "name": name, "country": country, "criticality": criticality, "owner": editor,
            "contact_name": contact, "contact_email": email, "beneficial_ownership": ownership,
            "foreign_control_notes": foreign, "export_control_notes": export})

    for name, pattern in ANSWERS.items():
        review = object_create(model=DueDiligenceReview, user=editor, data={
            "agency": agency, "supplier": suppliers[name], "questionnaire": questionnaire, "reviewer": editor})
        for answer, code in zip(review.answers.order_by("pk"), pattern, strict=True):
            value = CODES[code]
            object_update(instance=answer, user=editor, data={"answer": value, "comment": COMMENTS[value]})
        review = object_transition(instance=review, name="complete", user=editor)
        object_transition(instance=review, name="submit", user=editor)
    for name, changes in STATUS_CHANGES.items():
        supplier = suppliers[name]
        for transition, reason in changes:
            supplier = object_transition(instance=supplier, name=transition, user=admin, reason=reason)

    portal = object_create(model=DueDiligenceReview, user=editor, data={
        "agency": agency, "supplier": suppliers[PORTAL_SUPPLIER], "questionnaire": questionnaire,
        "reviewer": editor})
    link, token = review_send(review=portal, user=editor, contact_name=suppliers[PORTAL_SUPPLIER].contact_name,
                              contact_email=suppliers[PORTAL_SUPPLIER].contact_email)
    portal_answers_save(link=link, answers={code: {"answer": answer, "comment": comment}
                                            for code, (answer, comment) in PORTAL_SAVED.items()})

    devices, assets = _devices(agency), _assets(agency)
    for (name, kind, supplier, version, part, purl, origin, firmware, authenticity, device,
         asset) in SOFTWARE:
        method, checked_ago, result = authenticity or ("", None, "not_checked")
        object_create(model=Component, user=editor, data={
            "agency": agency, "supplier": suppliers[supplier], "name": name, "component_type": kind,
            "component_version": version, "part_number": part, "purl": purl, "origin_country": origin,
            "firmware_sha256": firmware, "authenticity_method": method, "authenticity_result": result,
            "authenticity_checked_on": today - timedelta(days=checked_ago) if checked_ago is not None else None,
            "device": devices.get(device), "asset": assets.get(asset)})
    risks = _risks(agency)
    for (name, supplier, asset_type, primitive, algorithm, parameters, classical, quantum, certification, key_state,
         device, asset) in CRYPTO:
        object_create(model=Component, user=editor, data={
            "agency": agency, "supplier": suppliers[supplier], "name": name, "component_type": "cryptographic-asset",
            "crypto_asset_type": asset_type, "primitive": primitive, "algorithm": algorithm,
            "parameter_set_identifier": parameters, "classical_security_level": classical,
            "nist_quantum_security_level": quantum, "certification_level": certification, "key_state": key_state,
            "device": devices.get(device), "asset": assets.get(asset),
            "risks": [risks[title] for title in RISK_LINKS.get(name, ()) if title in risks]})

    _hsm_cbom_import(agency=agency, user=editor, device=devices.get(HSM_CBOM_LINKS["device"]),
                     asset=assets.get(HSM_CBOM_LINKS["asset"]), risks=risks)

    for (reference, supplier, title, value, start, end, sunset, months, next_reevaluation, interfaces,
         device_names, asset_names, multi_vendor, escrow, exit_plan, transitions) in CONTRACTS:
        contract = object_create(model=Contract, user=editor, data={
            "agency": agency, "supplier": suppliers[supplier], "reference": reference, "title": title,
            "value": value, "currency": "EUR", "start": today + timedelta(days=start),
            "end": today + timedelta(days=end), "sunset_date": today + timedelta(days=sunset),
            "reevaluation_months": months,
            "next_reevaluation": today + timedelta(days=next_reevaluation) if next_reevaluation is not None else None,
            "open_interfaces": interfaces, "multi_vendor_terms": multi_vendor, "escrow_terms": escrow,
            "exit_plan": exit_plan, "owner": editor,
            "devices": [devices[n] for n in device_names if n in devices],
            "assets": [assets[n] for n in asset_names if n in assets]})
        for transition, reason in transitions:
            contract = object_transition(instance=contract, name=transition, user=admin, reason=reason)
    return token


def _hsm_cbom_import(*, agency, user, device, asset, risks):
    """The HSM vendor's CBOM, through the same upload and run as a user's (run here, not queued, so
    its components can be linked to the device and asset the BOM cannot name)."""
    from qgov.choices import ImportRunStatusChoices

    upload = SimpleUploadedFile("cryptovault-cv-9000.cdx.json", json.dumps(hsm_cbom(), indent=1).encode(),
                                content_type="application/json")
    run = import_run_create(user=user, agency=agency, model=Component, upload=upload)
    run = import_run_execute(run_id=run.pk)
    if run.status != ImportRunStatusChoices.SUCCEEDED:
        raise RuntimeError(f"The demo CBOM did not import: {run.errors}")
    for component in Component.objects.filter(agency=agency, bom_serial=hsm_cbom()["serialNumber"]):
        object_update(instance=component, user=user, data={
            "device": device, "asset": asset,
            "risks": [risks[title] for title in RISK_LINKS.get(component.name, ()) if title in risks]})


def _devices(agency):
    from certification.models import Device

    return {device.name: device for device in Device.objects.filter(agency=agency)}


def _assets(agency):
    from risks.models import Asset

    return {asset.name: asset for asset in Asset.objects.filter(agency=agency)}


def _risks(agency):
    from risks.models import Risk

    return {risk.title: risk for risk in Risk.objects.filter(agency=agency, title__in=[
        title for titles in RISK_LINKS.values() for title in titles])}
