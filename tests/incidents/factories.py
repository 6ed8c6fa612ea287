"""factory_boy factories of the incidents app."""

import factory
from django.utils import timezone

from incidents.models import Incident, IncidentStep, Playbook, PlaybookStep
from tests.factories import AgencyFactory


class PlaybookFactory(factory.django.DjangoModelFactory):
    """A platform template unless given an agency."""

    class Meta:
        model = Playbook

    agency = None
    code = factory.Sequence(lambda n: f"PB-T{n}")
    title = factory.Sequence(lambda n: f"Test playbook {n}")
    incident_type = "key_compromise"
    citations = ["NIST SP 800-61 Rev. 3"]


class PlaybookStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlaybookStep

    playbook = factory.SubFactory(PlaybookFactory)
    position = factory.Sequence(lambda n: n + 1)
    phase = "detect"
    csf_category = "DE.AE"
    instruction = factory.Sequence(lambda n: f"Instruction {n}")
    mandatory = True
    role = "Incident manager"


# (phase, mandatory) of the steps of `playbook_with_steps`: two per gating phase, one optional.
STEPS = [("detect", True), ("detect", False), ("contain", True), ("recover", True), ("forensics", True),
         ("review", True)]


def playbook_with_steps(agency=None, code=None, steps=STEPS):
    playbook = PlaybookFactory(agency=agency, **({"code": code} if code else {}))
    for position, (phase, mandatory) in enumerate(steps, start=1):
        PlaybookStepFactory(playbook=playbook, position=position, phase=phase, mandatory=mandatory,
                            instruction=f"{phase.capitalize()} step {position}")
    return playbook


class IncidentFactory(factory.django.DjangoModelFactory):
    """Saved directly (no checklist, no alert): tests that need those use the services."""

    class Meta:
        model = Incident

    agency = factory.SubFactory(AgencyFactory)
    title = factory.Sequence(lambda n: f"Incident {n}")
    incident_type = "key_compromise"
    severity = 3
    detected_at = factory.LazyFunction(timezone.now)
    marking = "TLP:AMBER"


class IncidentStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentStep

    incident = factory.SubFactory(IncidentFactory)
    position = factory.Sequence(lambda n: n + 1)
    phase = "detect"
    instruction = factory.Sequence(lambda n: f"Checklist line {n}")
    mandatory = True
