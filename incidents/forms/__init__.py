"""The incidents forms."""

from incidents.forms.clocks import (  # noqa: F401
    AgencyRegimeForm,
    KeyActionForm,
    RegulatorClockForm,
    RegulatorNotificationForm,
    RegulatorRegimeForm,
    TimelineEntryForm,
)
from incidents.forms.incidents import (  # noqa: F401
    IncidentForm,
    IncidentReviewForm,
    IncidentStepForm,
    PlaybookCopyForm,
    PlaybookForm,
    PlaybookStepForm,
    StepCompleteForm,
)

__all__ = [
    "AgencyRegimeForm", "IncidentForm", "IncidentReviewForm", "IncidentStepForm", "KeyActionForm",
    "PlaybookCopyForm", "PlaybookForm", "PlaybookStepForm", "RegulatorClockForm", "RegulatorNotificationForm",
    "RegulatorRegimeForm", "StepCompleteForm", "TimelineEntryForm",
]
