"""Demo records for incidents: the agency's own copy of the key-compromise playbook; an open QKD key
compromise on KMS-A, mid-way through that playbook (triage done, contained, one contain step still
open); and a closed tampering case on the Riverside trusted node, worked through every step of the
device-tampering template, with its post-incident review and the follow-up risk it raised in the
register. Everything goes through the real services, so the audit trail and the checklist show."""

from datetime import timedelta

from django.utils import timezone

from incidents import catalog, clocks
from incidents.catalog import regimes
from incidents.models import AgencyRegime, Incident, KeyAction, Playbook, RegulatorRegime
from incidents.services import follow_up_risk_raise, incident_create, incident_step_complete, playbook_copy
from qgov.services import object_create, object_transition, object_update

OPEN_TITLE = "Suspected key compromise on KMS-A"
CLOSED_TITLE = "Broken seal on the Riverside trusted node"


def _named(model, agency, name):
    return model.objects.filter(agency=agency, name=name).first()


def _complete(incident, user, phases, *, leave_open=0):
    """Complete the steps of `phases` in order, leaving the last `leave_open` of them open."""
    steps = list(incident.steps.filter(phase__in=phases).order_by("position"))
    for step in steps[:len(steps) - leave_open]:
        incident_step_complete(incident=incident, step_id=step.pk, user=user, note="Done (demo).")


def load(*, agency, users):
    if Incident.objects.filter(agency=agency, title=OPEN_TITLE).exists():
        return  # already loaded
    from certification.models import Device
    from procurement.models import Supplier
    from risks.models import Asset

    if not Playbook.objects.filter(agency__isnull=True).exists():
        catalog.load()
    editor, admin = users["editor"], users["admin"]
    now = timezone.now()
    template = Playbook.objects.get(agency__isnull=True, code="PB-01")
    copy = Playbook.objects.filter(agency=agency, code="PB-01").first() or playbook_copy(
        template=template, agency=agency, user=admin)

    kms, kms_asset = _named(Device, agency, "KMS-A"), _named(Asset, agency, "Key management system KMS-A")
    incident = incident_create(user=editor, data={
        "agency": agency, "title": OPEN_TITLE, "incident_type": "key_compromise", "severity": 1,
        "marking": "TLP:AMBER+STRICT", "classification": "OFFICIAL-SENSITIVE", "playbook": copy,
        # Aware 21 hours ago: the NIS2 early warning (24 h) is due in three hours (load_regulator_clocks below).
        "detected_at": now - timedelta(hours=21), "classified_at": now - timedelta(hours=19),
        "reporter_name": "Government SOC",
        "description": "The KMS audit log shows key IDs of the Capital–Northgate link delivered to an SAE that did "
                       "not request them, in the half hour before the alert.",
        "devices": [kms] if kms else [], "assets": [kms_asset] if kms_asset else []})
    object_transition(instance=incident, name="triage", user=editor)
    _complete(incident, editor, ["detect"])
    object_transition(instance=incident, name="contain", user=editor, reason="Detect and analyse steps done.")
    _complete(incident, editor, ["contain"], leave_open=1)

    node, node_asset = _named(Device, agency, "TN-2 Riverside relay"), _named(Asset, agency,
                                                                             "Trusted node TN-2 (Riverside)")
    securelay = _named(Supplier, agency, "Securelay Trusted Nodes GmbH")
    tampering = incident_create(user=editor, data={
        "agency": agency, "title": CLOSED_TITLE, "incident_type": "device_tampering", "severity": 2,
        "marking": "TLP:AMBER", "classification": "OFFICIAL", "reporter_name": "Site security, Riverside",
        "playbook": Playbook.objects.get(agency__isnull=True, code="PB-04"),
        "detected_at": now - timedelta(days=40), "classified_at": now - timedelta(days=40, hours=-2),
        "description": "The tamper-evident seal on the relay's key-store enclosure was found broken during the "
                       "monthly walk-round.",
        "devices": [node] if node else [], "assets": [node_asset] if node_asset else [],
        "suppliers": [securelay] if securelay else []})
    for name, phases in (("triage", ["detect"]), ("contain", ["contain"]), ("eradicate", ["recover"]),
                         ("recover", ["forensics", "review"])):
        object_transition(instance=tampering, name=name, user=editor)
        _complete(tampering, editor, phases)
    tampering = object_update(instance=Incident.objects.get(pk=tampering.pk), user=editor, data={
        "review_summary": "The seal was broken by a contractor opening the wrong cabinet; the relay was replaced by "
                          "a vetted spare within a day and no relayed key was found misused.",
        "root_cause": "Cabinets of different owners share one key and carry no owner marking.",
        "lessons": "Separate keys per cabinet; label enclosures; check seals weekly, not monthly."})
    follow_up_risk_raise(incident=tampering, user=editor, data={
        "agency": agency, "title": "Shared cabinet keys at trusted-node sites", "owner": editor,
        "description": "Raised from the Riverside seal incident: one key opens every cabinet at the site.",
        "treatment": "mitigate", "inherent_likelihood": 3, "inherent_impact": 4,
        "review_date": timezone.localdate() + timedelta(days=90),
        "assets": [node_asset] if node_asset else []})
    object_transition(instance=Incident.objects.get(pk=tampering.pk), name="close", user=editor,
                      reason="Review done; follow-up risk raised.")
    return []


def load_regulator_clocks(*, agency, users):
    """The agency reports under NIS2; the open key-compromise incident gets NIS2 (its early warning due a
    few hours ahead), a timeline note and the key revocation of the affected window."""
    incident = Incident.objects.filter(agency=agency, title=OPEN_TITLE).first()
    if incident is None or KeyAction.objects.filter(incident=incident).exists():
        return []  # no incident to work on, or loaded already
    if not RegulatorRegime.objects.exists():
        regimes.load()
    editor, admin = users["editor"], users["admin"]
    nis2 = RegulatorRegime.objects.get(code="NIS2")
    if not AgencyRegime.objects.filter(agency=agency, regime=nis2).exists():
        object_create(model=AgencyRegime, user=admin, data={
            "agency": agency, "regime": nis2, "notes": "Essential entity (digital infrastructure); reports go to "
                                                       "the national CSIRT."})
    object_update(instance=incident, user=editor, data={"regimes": [nis2]})  # the incident service syncs the clocks
    # The half hour before the alert, as the description says (times shown in the agency's zone).
    window_start = (incident.detected_at - timedelta(minutes=45)).replace(second=0, microsecond=0)
    clocks.timeline_add(incident=incident, user=editor, at=incident.detected_at,
                        text="Government SOC reports key IDs of the Capital–Northgate link delivered to an SAE that "
                             "did not request them.")
    clocks.key_action_record(incident=incident, user=editor, data={
        "action": "revoke", "deviation": "unnamed_sae",
        "key_ids": "6b1f0c2e-4d3a-4f8e-9a71-2c5d8e0f1a10..6b1f0c2e-4d3a-4f8e-9a71-2c5d8e0f1a7f",
        "sae_ids": "SAE-CAP-01, SAE-UNKNOWN-17", "kme_ids": "KME-CAPITAL, KME-NORTHGATE",
        "window_start": window_start, "window_end": window_start + timedelta(minutes=30),
        "performed_at": min(timezone.now(), incident.detected_at + timedelta(hours=2)),
        "note": "Keys of the window marked compromised in both KMEs; delivery to SAE-UNKNOWN-17 blocked."})
    return []
