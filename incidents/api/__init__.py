"""The incidents API: playbooks, incidents and their checklists; regulator clocks, timelines and key actions."""

from incidents.api.clocks import (  # noqa: F401
    AgencyRegimeSerializer,
    AgencyRegimeViewSet,
    IncidentRecordsMixin,
    KeyActionInputSerializer,
    KeyActionSerializer,
    KeyActionViewSet,
    NestedRegulatorClockSerializer,
    NotificationSentSerializer,
    RegulatorClockSerializer,
    RegulatorClockViewSet,
    RegulatorNotificationSerializer,
    RegulatorNotificationViewSet,
    RegulatorRegimeSerializer,
    RegulatorRegimeViewSet,
    TimelineEntryInputSerializer,
    TimelineEntrySerializer,
    TimelineEntryViewSet,
    notification_sent_response,
    notification_state,
)
from incidents.api.incidents import (  # noqa: F401
    IncidentSerializer,
    IncidentStepSerializer,
    IncidentStepViewSet,
    IncidentViewSet,
    NestedIncidentStepSerializer,
    NestedPlaybookStepSerializer,
    PlaybookCopySerializer,
    PlaybookSerializer,
    PlaybookStepSerializer,
    PlaybookStepViewSet,
    PlaybookViewSet,
    StepCompleteSerializer,
)

__all__ = [
    "AgencyRegimeSerializer", "AgencyRegimeViewSet", "IncidentRecordsMixin", "IncidentSerializer",
    "IncidentStepSerializer", "IncidentStepViewSet", "IncidentViewSet", "KeyActionInputSerializer",
    "KeyActionSerializer", "KeyActionViewSet", "NestedIncidentStepSerializer", "NestedPlaybookStepSerializer",
    "NestedRegulatorClockSerializer", "NotificationSentSerializer", "PlaybookCopySerializer",
    "PlaybookSerializer", "PlaybookStepSerializer", "PlaybookStepViewSet", "PlaybookViewSet",
    "RegulatorClockSerializer", "RegulatorClockViewSet", "RegulatorNotificationSerializer",
    "RegulatorNotificationViewSet", "RegulatorRegimeSerializer", "RegulatorRegimeViewSet",
    "StepCompleteSerializer", "TimelineEntryInputSerializer", "TimelineEntrySerializer",
    "TimelineEntryViewSet", "notification_sent_response", "notification_state",
]
