"""The incidents tables and export columns."""

from incidents.tables.clocks import (  # noqa: F401
    AgencyRegimeTable,
    KeyActionTable,
    RegulatorClockTable,
    RegulatorNotificationTable,
    RegulatorRegimeTable,
    TimelineEntryTable,
)
from incidents.tables.incidents import IncidentStepTable, IncidentTable, PlaybookStepTable, PlaybookTable, theme_colour  # noqa: F401

__all__ = [
    "AgencyRegimeTable", "IncidentStepTable", "IncidentTable", "KeyActionTable", "PlaybookStepTable",
    "PlaybookTable", "RegulatorClockTable", "RegulatorNotificationTable", "RegulatorRegimeTable",
    "TimelineEntryTable", "theme_colour",
]
