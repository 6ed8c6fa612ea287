"""Demo records for the risk register: a metropolitan QKD backbone, its trusted nodes and key
management, the PKI being migrated to PQC, and the register that goes with them."""

from datetime import timedelta

from django.utils import timezone

from qgov.services import object_create, object_transition
from risks.models import Asset, Control, Risk, ThreatVector

ASSETS = [
    # name, type, criticality, x shelf-life, y migration, harvestable, description
    ("QKD link Capital–Northgate", "qkd_link", "critical", 25, 4, True,
     "38 km dark-fibre BB84 link between the two government data centres."),
    ("Trusted node TN-2 (Riverside)", "trusted_node", "critical", 25, 3, False,
     "Relay node joining the backbone's two segments; keys are in the clear inside it."),
    ("Key management system KMS-A", "key_management", "critical", 20, 3, False,
     "Delivers QKD keys to encryptors over the ETSI GS QKD 014 REST interface."),
    ("Government root CA", "system", "critical", 20, 6, False,
     "Offline RSA-4096 root; signs agency issuing CAs until 2040."),
    ("Cabinet correspondence archive", "data_set", "high", 30, 5, True,
     "Classified records that must stay confidential for thirty years."),
    ("Inter-ministry WAN", "network_segment", "high", 10, 4, True,
     "IPsec (IKEv2, ECDH) mesh between ministries, the main harvest-now target."),
    ("Citizen services portal", "system", "medium", 2, 2, True,
     "Public portal; session data has a short confidentiality life."),
]

CONTROLS = [
    # title, type, status, effectiveness, due in days (None = no date)
    ("Hybrid ML-KEM-768 + X25519 on the inter-ministry WAN", "preventive", "in_progress", "partial", 120),
    ("Optical isolators and input power monitors on QKD transmitters", "preventive", "implemented", "effective",
     None),
    ("Two-person rule and CCTV at trusted nodes", "preventive", "implemented", "effective", None),
    ("QBER and detector-current anomaly alerting", "detective", "implemented", "partial", None),
    ("Cryptographic inventory (CBOM) of all agency systems", "directive", "in_progress", "not_assessed", 60),
    ("Vendor firmware signature and SBOM check before rollout", "preventive", "planned", "not_assessed", 45),
]

RISKS = [
    # title, threat codes, asset names, controls (index), inherent L/I, current L/I, residual L/I, treatment,
    # status, review in days
    ("Recorded WAN traffic decrypted once a quantum computer exists", ["CRY-01", "CRY-02", "CRY-03"],
     ["Inter-ministry WAN", "Cabinet correspondence archive"], [0, 4], (4, 5), (4, 5), (2, 5), "mitigate",
     "in_treatment", 30),
    ("Trusted node TN-2 compromised by an insider", ["QOP-03", "QOP-08"], ["Trusted node TN-2 (Riverside)"],
     [2], (3, 5), (2, 5), (2, 4), "mitigate", "assessed", 90),
    ("Detector blinding on the Capital–Northgate link", ["QIM-01", "QIM-09"], ["QKD link Capital–Northgate"],
     [1, 3], (3, 5), (2, 4), (1, 4), "mitigate", "assessed", 180),
    ("Trojan-horse probing of transmitter settings", ["QIM-03"], ["QKD link Capital–Northgate"], [1],
     (2, 5), (1, 5), (1, 5), "accept", "assessed", 200),
    ("Key-delivery API abused by a rogue application", ["QOP-04", "QOP-05"], ["Key management system KMS-A"], [],
     (3, 5), (3, 5), (2, 4), "mitigate", "in_treatment", -10),
    ("Root CA signatures forgeable before the PQC migration ends", ["CRY-06", "PQM-02"], ["Government root CA"], [4],
     (3, 5), (3, 5), (2, 5), "mitigate", "in_treatment", 60),
    ("Tampered firmware update on QKD devices", ["SUP-02", "CRY-07"], ["QKD link Capital–Northgate"], [5],
     (2, 5), (2, 5), (1, 5), "mitigate", "draft", 14),
    ("Single QKD vendor leaves the market", ["SUP-04", "SUP-05"], ["QKD link Capital–Northgate"], [],
     (3, 4), (3, 4), (3, 3), "transfer", "assessed", 365),
    ("Silent fallback to classical keys during link outages", ["QOP-09", "QOP-01"],
     ["QKD link Capital–Northgate", "Inter-ministry WAN"], [3], (3, 4), (2, 4), (2, 3), "mitigate", "assessed", -3),
]


STATUS_TRANSITIONS = {"assessed": "assess", "in_treatment": "start_treatment"}


def load(*, agency, users):
    if Asset.objects.filter(agency=agency, name=ASSETS[0][0]).exists():
        return  # already loaded
    editor, admin = users["editor"], users["admin"]
    today = timezone.localdate()
    assets = {}
    for name, kind, criticality, x, y, harvestable, description in ASSETS:
        assets[name] = object_create(model=Asset, user=editor, data={
            "agency": agency, "name": name, "asset_type": kind, "criticality": criticality, "shelf_life_years": x,
            "migration_years": y, "harvestable": harvestable, "description": description, "owner": editor})
    controls = []
    for title, kind, status, effectiveness, due in CONTROLS:
        controls.append(object_create(model=Control, user=editor, data={
            "agency": agency, "title": title, "control_type": kind, "status": status, "effectiveness": effectiveness,
            "owner": editor, "due_date": today + timedelta(days=due) if due is not None else None}))
    vectors = {tv.code: tv for tv in ThreatVector.objects.all()}
    risks = []
    for title, codes, asset_names, control_ids, inherent, current, residual, treatment, status, review in RISKS:
        risk = object_create(model=Risk, user=editor, data={
            "agency": agency, "title": title, "owner": editor, "treatment": treatment,
            "inherent_likelihood": inherent[0], "inherent_impact": inherent[1],
            "current_likelihood": current[0], "current_impact": current[1],
            "residual_likelihood": residual[0], "residual_impact": residual[1],
            "review_date": today + timedelta(days=review),
            "threat_vectors": [vectors[c] for c in codes if c in vectors],
            "assets": [assets[n] for n in asset_names], "controls": [controls[i] for i in control_ids]})
        if status != "draft":  # statuses are reached through the register's lifecycle
            risk = object_transition(instance=risk, name=STATUS_TRANSITIONS[status], user=editor)
        risks.append(risk)
    from risks.models import RiskAcceptance

    trojan = risks[3]
    acceptance = object_create(model=RiskAcceptance, user=editor, data={
        "agency": agency, "risk": trojan, "valid_until": today + timedelta(days=20),
        "rationale": "Isolators and power monitors are fitted; residual exposure needs physical access to the "
                     "transmitter room. Re-assess after the vendor's implementation-security evaluation."})
    object_transition(instance=acceptance, name="approve", user=admin)
    object_create(model=RiskAcceptance, user=editor, data={
        "agency": agency, "risk": risks[7], "valid_until": today + timedelta(days=180),
        "rationale": "A second QKD supplier is being qualified; until then the contract's escrow and spares clauses "
                     "transfer most of the continuity risk."})
