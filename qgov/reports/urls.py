"""Reports pages, included under /reports/ in the core's "qgov" namespace."""

from django.urls import path

from qgov.reports import views
from qgov.reports.models import ReportSchedule
from qgov.routing import model_urls

urlpatterns = [
    path("", views.ReportRunListView.as_view(), name="reportrun_list"),
    path("<int:pk>/", views.ReportRunDetailView.as_view(), name="reportrun_detail"),
    path("request/", views.ReportRequestView.as_view(), name="report_request"),
    path("verify/", views.ReportVerifyView.as_view(), name="report_verify"),
    path("<int:pk>/retry/", views.ReportRunRetryView.as_view(), name="reportrun_retry"),
    path("<int:pk>/download/<str:report_format>/", views.ReportRunDownloadView.as_view(), name="reportrun_download"),
    *model_urls("schedules", ReportSchedule, views),
]
