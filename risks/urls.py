from django.urls import path
from django.utils.translation import gettext_lazy as _

from qgov.routing import model_urls
from risks import views
from risks.models import Asset, Control, Risk, RiskAcceptance, RiskMatrix, ThreatVector

app_name = "risks"

# The section's own navigation, shown under the main bar.
SECTION_NAV = [
    (_("Register"), "risks:risk_list"),
    (_("Assets"), "risks:asset_list"),
    (_("Controls"), "risks:control_list"),
    (_("Acceptances"), "risks:riskacceptance_list"),
    (_("Threat catalog"), "risks:threatvector_list"),
    (_("Matrix"), "risks:riskmatrix_list"),
]

urlpatterns = [
    path("register/import/", views.RiskImportView.as_view(), name="risk_import"),
    *model_urls("register", Risk, views),
    *model_urls("threat-vectors", ThreatVector, views),
    *model_urls("matrices", RiskMatrix, views),
    *model_urls("assets", Asset, views),
    *model_urls("controls", Control, views),
    *model_urls("acceptances", RiskAcceptance, views),
]
