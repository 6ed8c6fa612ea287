"""The incidents filter sets."""

from incidents.filters.clocks import (  # noqa: F401
    AgencyRegimeFilterSet,
    KeyActionFilterSet,
    RegulatorClockFilterSet,
    RegulatorNotificationFilterSet,
    RegulatorRegimeFilterSet,
    TimelineEntryFilterSet,
)
from incidents.filters.incidents import (  # noqa: F401
    IncidentFilterSet,
    IncidentStepFilterSet,
    PlaybookFilterSet,
    PlaybookStepFilterSet,
)

__all__ = [
    "AgencyRegimeFilterSet", "IncidentFilterSet", "IncidentStepFilterSet", "KeyActionFilterSet",
    "PlaybookFilterSet", "PlaybookStepFilterSet", "RegulatorClockFilterSet", "RegulatorNotificationFilterSet",
    "RegulatorRegimeFilterSet", "TimelineEntryFilterSet",
]
