"""Demo records for certification: the demo agency's QKD fleet on its backbone links, the trusted
nodes, key management, a PQC HSM and an encryptor, the staff who run and audit them, and what the
agency requires of each. The fleet shows every compliance outcome: compliant, expiring within 30
days, a firmware mismatch, a revoked certificate, a certificate recognised under SOG-IS from another
country, and a US NIAP EAL4+ certificate that does not count in an EU agency."""

from datetime import timedelta

from django.utils import timezone

from certification import catalog
from certification.models import Device, DeviceCertification, Person, PersonnelAccreditation, RequiredScheme, Scheme
from qgov.services import object_create, object_transition, object_update
from risks.models import Asset

JURISDICTION = "DE"  # the demo agency sits in Germany: BSI is its national Common Criteria scheme

QKD_PP = "ETSI GS QKD 016 V2.1.1 (BSI-CC-PP-0120-2024)"
FIRMWARE = {"3.1.0": "3f" * 32, "3.2.1": "9c" * 32, "5.4.2": "47" * 32}

NEW_ASSETS = [
    # name, type, criticality, x, y, harvestable, description
    ("QKD link Northgate–Riverside", "qkd_link", "critical", 25, 4, True,
     "27 km link from the Northgate data centre to trusted node TN-2."),
]

REQUIREMENTS = [
    # scheme, minimum level, device kind, personnel role, notes
    ("CC-BSI", "EAL4+", "qkd_transmitter", "", "QKD modules certified against the ETSI GS QKD 016 protection profile."),
    ("CC-BSI", "EAL4+", "qkd_receiver", "", "QKD modules certified against the ETSI GS QKD 016 protection profile."),
    ("CC-BSI", "EAL4", "trusted_node", "", "Relay nodes; SOG-IS partners' certificates count up to EAL4."),
    ("CC-BSI", "EAL4", "key_management", "", ""),
    ("CC-BSI", "EAL4", "encryptor", "", ""),
    ("CMVP-FIPS140-3", "Level 3", "pqc_hsm", "", "ML-KEM and ML-DSA keys held in a Level 3 module."),
    ("UK-NSV", "SC", "", "key_custodian", "SC or above (staff on secondment hold UK clearances)."),
    ("UK-NSV", "SC", "", "security_officer", ""),
    ("QKD-OPERATOR", "Operator", "", "qkd_operator", "Vendor course plus supervised shifts, signed off internally."),
    ("ISO27001-LA", "Lead Auditor", "", "auditor", ""),
]

DEVICES = [
    # name, kind, vendor, model, serial, firmware, site, assets
    ("QKD-TX-CN-A", "qkd_transmitter", "Photonica", "QX-100T", "PH-T-20417", "3.1.0", "Capital DC",
     ["QKD link Capital–Northgate"]),
    ("QKD-RX-CN-B", "qkd_receiver", "Photonica", "QX-100R", "PH-R-20418", "3.2.1", "Northgate DC",
     ["QKD link Capital–Northgate"]),
    ("QKD-TX-NR-A", "qkd_transmitter", "Liberty Quantum", "LQ-5 Tx", "LQ-55012", "5.4.2", "Northgate DC",
     ["QKD link Northgate–Riverside"]),
    ("QKD-RX-NR-B", "qkd_receiver", "Photonica", "QX-100R", "PH-R-20533", "3.1.0", "Riverside",
     ["QKD link Northgate–Riverside", "Trusted node TN-2 (Riverside)"]),
    ("TN-2 Riverside relay", "trusted_node", "Securelay", "SR-900", "SR-0912", "", "Riverside",
     ["Trusted node TN-2 (Riverside)"]),
    ("TN-3 Northgate relay", "trusted_node", "Securelay", "SR-900", "SR-0913", "", "Northgate DC",
     ["QKD link Capital–Northgate", "QKD link Northgate–Riverside"]),
    ("KMS-A", "key_management", "Keystone", "KS-QKMS 2", "KS-7781", "", "Capital DC",
     ["Key management system KMS-A"]),
    ("PQC HSM Capital-1", "pqc_hsm", "Cryptovault", "CV-HSM 8", "CV-88213", "", "Capital DC",
     ["Government root CA"]),
    ("Link encryptor WAN-1", "encryptor", "Netcipher", "NC-400", "NC-40077", "", "Capital DC",
     ["Inter-ministry WAN"]),
]

CERTIFICATIONS = [
    # device, scheme, level, certificate id, lab, covered firmware, PP, issued days ago, expires in days, end state
    ("QKD-TX-CN-A", "CC-BSI", "EAL4+", "BSI-DSZ-CC-1301-2025", "TÜV Informationstechnik", "3.1.0", QKD_PP, 300,
     None, "valid"),
    # The receiver runs 3.2.1, which the certificate does not cover: firmware mismatch.
    ("QKD-RX-CN-B", "CC-BSI", "EAL4+", "BSI-DSZ-CC-1302-2025", "TÜV Informationstechnik", "3.1.0", QKD_PP, 300,
     None, "valid"),
    # A US certificate at EAL4+: the CCRA recognises NIAP certificates only up to EAL2 here.
    ("QKD-TX-NR-A", "CC-NIAP", "EAL4+", "CCEVS-VR-11480-2024", "Gossamer Security Solutions", "5.4.2", "", 500,
     None, "valid"),
    ("QKD-RX-NR-B", "CC-BSI", "EAL4+", "BSI-DSZ-CC-1188-2024", "SRC Security Research & Consulting", "3.1.0",
     QKD_PP, 600, None, "revoked"),
    # A French certificate at EAL4, recognised in Germany under SOG-IS.
    ("TN-2 Riverside relay", "CC-ANSSI", "EAL4", "ANSSI-CC-2024/37", "Thales ITSEF", "", "", 420, None, "valid"),
    ("TN-3 Northgate relay", "CC-BSI", "EAL4", "BSI-DSZ-CC-1099-2021", "atsec information security", "", "",
     1800, 25, "valid"),
    ("KMS-A", "CC-BSI", "EAL4", "BSI-DSZ-CC-1250-2025", "TÜV Informationstechnik", "", "", 200, None, "valid"),
    # Validated almost five years ago: drops off the CMVP Active list in 20 days.
    ("PQC HSM Capital-1", "CMVP-FIPS140-3", "Level 3", "4711", "atsec information security", "", "", 5 * 365 - 19,
     None, "valid"),
    ("Link encryptor WAN-1", "CC-BSI", "EAL4", "BSI-DSZ-CC-1260-2025", "TÜV Informationstechnik", "", "", 150,
     None, "valid"),
]

STAFF = [
    # name, role, unit, demo user role (or None)
    ("Alex Meyer", "qkd_operator", "Network operations", None),
    ("Sam Novak", "qkd_operator", "Network operations", None),
    ("Kim Schulz", "key_custodian", "Key management", None),
    ("Jo Weber", "key_custodian", "Key management", "editor"),
    ("Robin Fischer", "security_officer", "Security office", "admin"),
    ("Charlie Braun", "auditor", "Internal audit", "auditor"),
    ("Eli Hoffmann", "incident_responder", "CSIRT", None),
]

ACCREDITATIONS = [
    # person, scheme, level, credential id, issued days ago, expires in days, review due in days, end state
    ("Alex Meyer", "QKD-OPERATOR", "Operator", "QOP-2025-004", 200, None, 165, "valid"),
    ("Sam Novak", "QKD-OPERATOR", "Trainee", "QOP-2026-011", 40, None, 140, "valid"),
    ("Kim Schulz", "UK-NSV", "SC", "UKSV-SC-551820", 1800, 28, None, "valid"),
    ("Jo Weber", "UK-NSV", "DV", "UKSV-DV-300417", 900, None, 1600, "valid"),
    ("Robin Fischer", "UK-NSV", "eSC", "UKSV-ESC-70212", 700, None, 1100, "valid"),
    ("Robin Fischer", "ISC2-CISSP", "CISSP", "CISSP-811204", 400, None, None, "valid"),
    ("Charlie Braun", "ISO27001-LA", "Lead Auditor", "LA-27001-3392", 500, None, 595, "valid"),
    ("Eli Hoffmann", "GIAC-GCIH", "GCIH", "GCIH-44120", 1000, None, None, "valid"),
]


def load(*, agency, users):
    if Device.objects.filter(agency=agency, name=DEVICES[0][0]).exists():
        return  # already loaded
    if not Scheme.objects.filter(code="CC-BSI").exists():
        catalog.load()
    editor, admin = users["editor"], users["admin"]
    if not agency.jurisdiction:  # recognition arrangements apply by the agency's country
        agency = object_update(instance=agency, user=admin, data={"jurisdiction": JURISDICTION})
    today = timezone.localdate()
    schemes = {scheme.code: scheme for scheme in Scheme.objects.all()}

    for name, kind, criticality, x, y, harvestable, description in NEW_ASSETS:
        if not Asset.objects.filter(agency=agency, name=name).exists():
            object_create(model=Asset, user=editor, data={
                "agency": agency, "name": name, "asset_type": kind, "criticality": criticality,
                "shelf_life_years": x, "migration_years": y, "harvestable": harvestable, "description": description,
                "owner": editor})
    assets = {asset.name: asset for asset in Asset.objects.filter(agency=agency)}

    for code, level, kind, role, notes in REQUIREMENTS:
        object_create(model=RequiredScheme, user=admin, data={
            "agency": agency, "scheme": schemes[code], "min_level": level, "device_kind": kind,
            "personnel_role": role, "notes": notes})

    devices = {}
    for name, kind, vendor, model, serial, firmware, site, asset_names in DEVICES:
        device = object_create(model=Device, user=editor, data={
            "agency": agency, "name": name, "kind": kind, "vendor": vendor, "model": model, "serial": serial,
            "firmware_version": firmware, "firmware_sha256": FIRMWARE.get(firmware, ""), "site": site,
            "owner": editor, "assets": [assets[a] for a in asset_names if a in assets]})
        devices[name] = object_transition(instance=device, name="commission", user=editor)

    for (device, code, level, cert_id, lab, firmware, pp, issued_ago, expires_in,
         state) in CERTIFICATIONS:
        certification = object_create(model=DeviceCertification, user=editor, data={
            "agency": agency, "device": devices[device], "scheme": schemes[code], "level": level,
            "certificate_id": cert_id, "evaluation_lab": lab, "firmware_version": firmware,
            "firmware_sha256": FIRMWARE.get(firmware, ""), "protection_profile": pp,
            "issued": today - timedelta(days=issued_ago),
            "expires": today + timedelta(days=expires_in) if expires_in is not None else None})
        certification = object_transition(instance=certification, name="confirm", user=editor)
        if state == "revoked":
            object_transition(instance=certification, name="revoke", user=editor, reason=(
                "Revoked by BSI after the vendor's firmware 3.0 line lost its assurance continuity; a re-evaluation "
                "is planned."))

    people = {}
    for name, role, unit, user_role in STAFF:
        people[name] = object_create(model=Person, user=editor, data={
            "agency": agency, "name": name, "role": role, "unit": unit,
            "email": f"{name.split()[0].lower()}@demo.example.org",
            "user": users.get(user_role) if user_role else None})
    for person, code, level, credential, issued_ago, expires_in, review_in, _state in ACCREDITATIONS:
        accreditation = object_create(model=PersonnelAccreditation, user=editor, data={
            "agency": agency, "person": people[person], "scheme": schemes[code], "level": level,
            "credential_id": credential, "issued": today - timedelta(days=issued_ago),
            "expires": today + timedelta(days=expires_in) if expires_in is not None else None,
            "review_due": today + timedelta(days=review_in) if review_in is not None else None})
        object_transition(instance=accreditation, name="confirm", user=editor)
