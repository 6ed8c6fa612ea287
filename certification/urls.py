from django.urls import path

from certification import views
from certification.models import (
    Device,
    DeviceCertification,
    Person,
    PersonnelAccreditation,
    Recognition,
    RecognitionArrangement,
    RequiredScheme,
    Scheme,
)
from qgov.routing import model_urls

app_name = "certification"

urlpatterns = [
    path("compliance/", views.ComplianceView.as_view(), name="compliance"),
    *model_urls("devices", Device, views),
    *model_urls("certifications", DeviceCertification, views),
    *model_urls("personnel", Person, views),
    *model_urls("accreditations", PersonnelAccreditation, views),
    *model_urls("required-schemes", RequiredScheme, views),
    *model_urls("schemes", Scheme, views),
    *model_urls("arrangements", RecognitionArrangement, views),
    *model_urls("recognitions", Recognition, views),
]
