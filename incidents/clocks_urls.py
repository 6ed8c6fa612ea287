"""UI routes of the regulator clocks, timeline and key actions (included by incidents/urls.py)."""

from incidents import clocks_views
from incidents.models import (
    AgencyRegime,
    KeyAction,
    RegulatorClock,
    RegulatorNotification,
    RegulatorRegime,
    TimelineEntry,
)
from qgov.routing import model_urls

urlpatterns = [
    *model_urls("regimes", RegulatorRegime, clocks_views),
    *model_urls("regulator-clocks", RegulatorClock, clocks_views),
    *model_urls("agency-regimes", AgencyRegime, clocks_views),
    *model_urls("notifications", RegulatorNotification, clocks_views),
    *model_urls("timeline", TimelineEntry, clocks_views),
    *model_urls("key-actions", KeyAction, clocks_views),
]
