"""The incidents app's models: playbooks (global templates and agency copies) with their steps,
and incidents with the checklist instantiated from their playbook."""

from incidents.models.clocks import AgencyRegime, RegulatorClock, RegulatorNotification, RegulatorRegime
from incidents.models.incidents import Incident, IncidentStep
from incidents.models.keys import KeyAction
from incidents.models.playbooks import Playbook, PlaybookStep
from incidents.models.timeline import TimelineEntry

__all__ = ["AgencyRegime", "Incident", "IncidentStep", "KeyAction", "Playbook", "PlaybookStep", "RegulatorClock",
           "RegulatorNotification", "RegulatorRegime", "TimelineEntry"]
