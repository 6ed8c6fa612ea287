from django.urls import path
from django.views.generic import TemplateView

app_name = "sandbox"

urlpatterns = [
    path("things/", TemplateView.as_view(template_name="base.html"), name="thing_list"),
    path("things/other/", TemplateView.as_view(template_name="base.html"), name="other_list"),
]
