"""The supplier portal's pages, at /portal/ (declared as the app's public URLs): reached by a
one-time link, without signing in."""

from django.urls import path

from procurement import portal

app_name = "portal"

urlpatterns = [
    path("<str:token>/", portal.PortalQuestionnaireView.as_view(), name="questionnaire"),
]
