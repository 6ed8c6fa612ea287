from django.urls import path

from incidents import views
from incidents.models import (
    AgencyRegime,
    Incident,
    IncidentStep,
    KeyAction,
    Playbook,
    PlaybookStep,
    RegulatorClock,
    RegulatorNotification,
    RegulatorRegime,
    TimelineEntry,
)
from qgov.routing import model_urls

app_name = "incidents"

urlpatterns = [
    path("board/", views.IncidentBoardView.as_view(), name="board"),
    path("incidents/<int:pk>/steps/<int:step_id>/complete/", views.IncidentStepCompleteView.as_view(),
         name="incident_step_complete"),
    path("incidents/<int:pk>/review/", views.IncidentReviewView.as_view(), name="incident_review"),
    path("incidents/<int:incident>/raise-risk/", views.FollowUpRiskRaiseView.as_view(), name="incident_risk_raise"),
    path("playbooks/<int:pk>/copy/", views.PlaybookCopyView.as_view(), name="playbook_copy"),
    *model_urls("incidents", Incident, views),
    *model_urls("steps", IncidentStep, views),
    *model_urls("playbooks", Playbook, views),
    *model_urls("playbook-steps", PlaybookStep, views),
    *model_urls("regimes", RegulatorRegime, views),
    *model_urls("regulator-clocks", RegulatorClock, views),
    *model_urls("agency-regimes", AgencyRegime, views),
    *model_urls("notifications", RegulatorNotification, views),
    *model_urls("timeline", TimelineEntry, views),
    *model_urls("key-actions", KeyAction, views),
]
