from django.urls import path

from qgov.routing import model_urls
from risks import views
from risks.models import Asset, Control, Risk, RiskAcceptance, RiskMatrix, ThreatVector

app_name = "risks"

urlpatterns = [
    path("register/import/", views.RiskImportView.as_view(), name="risk_import"),
    *model_urls("register", Risk, views),
    *model_urls("threat-vectors", ThreatVector, views),
    *model_urls("matrices", RiskMatrix, views),
    *model_urls("assets", Asset, views),
    *model_urls("controls", Control, views),
    *model_urls("acceptances", RiskAcceptance, views),
]
