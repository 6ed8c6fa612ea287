"""Demo records of the regulator clocks, timeline and key actions, added after the incidents demo:
the agency reports under NIS2; the open key-compromise incident gets NIS2 (its early warning due a
few hours ahead), a timeline note and the key revocation of the affected window."""

from datetime import timedelta

from django.utils import timezone

from incidents import clocks, clocks_catalog
from incidents.demo import OPEN_TITLE
from incidents.models import AgencyRegime, Incident, KeyAction, RegulatorRegime
from qgov.services import object_create, object_update


def load(*, agency, users):
    incident = Incident.objects.filter(agency=agency, title=OPEN_TITLE).first()
    if incident is None or KeyAction.objects.filter(incident=incident).exists():
        return []  # no incident to work on, or loaded already
    if not RegulatorRegime.objects.exists():
        clocks_catalog.load()
    editor, admin = users["editor"], users["admin"]
    nis2 = RegulatorRegime.objects.get(code="NIS2")
    if not AgencyRegime.objects.filter(agency=agency, regime=nis2).exists():
        object_create(model=AgencyRegime, user=admin, data={
            "agency": agency, "regime": nis2, "notes": "Essential entity (digital infrastructure); reports go to "
                                                       "the national CSIRT."})
    object_update(instance=incident, user=editor, data={"regimes": [nis2]})  # the incident service syncs the clocks
    window_start = incident.detected_at.replace(minute=10, second=0, microsecond=0)
    clocks.timeline_add(incident=incident, user=editor, at=incident.detected_at,
                        text="Government SOC reports key IDs of the Capital–Northgate link delivered to an SAE that "
                             "did not request them.")
    clocks.key_action_record(incident=incident, user=editor, data={
        "action": "revoke", "deviation": "unnamed_sae",
        "key_ids": "6b1f0c2e-4d3a-4f8e-9a71-2c5d8e0f1a10..6b1f0c2e-4d3a-4f8e-9a71-2c5d8e0f1a7f",
        "sae_ids": "SAE-CAP-01, SAE-UNKNOWN-17", "kme_ids": "KME-CAPITAL, KME-NORTHGATE",
        "window_start": window_start, "window_end": window_start.replace(minute=40),
        "performed_at": min(timezone.now(), incident.detected_at + timedelta(hours=2)),
        "note": "Keys of the window marked compromised in both KMEs; delivery to SAE-UNKNOWN-17 blocked."})
    return []
