"""The incidents app's models: playbooks (global templates and agency copies) with their steps,
and incidents with the checklist instantiated from their playbook."""

from incidents.models.incidents import Incident, IncidentStep
from incidents.models.playbooks import Playbook, PlaybookStep

__all__ = ["Incident", "IncidentStep", "Playbook", "PlaybookStep"]
