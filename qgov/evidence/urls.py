"""Evidence pages, included under /evidence/ in the core's "qgov" namespace."""

from django.urls import path, re_path

from qgov.evidence import views

urlpatterns = [
    path("add/<int:content_type_id>/<int:object_id>/", views.EvidenceFileAddView.as_view(), name="evidencefile_add"),
    path("<int:pk>/", views.EvidenceFileDetailView.as_view(), name="evidencefile_detail"),
    path("<int:pk>/download/", views.EvidenceFileDownloadView.as_view(), name="evidencefile_download"),
    path("<int:pk>/verify/", views.EvidenceFileVerifyView.as_view(), name="evidencefile_verify"),
    path("<int:pk>/handover/", views.EvidenceFileHandoverView.as_view(), name="evidencefile_handover"),
    re_path(r"^(?P<pk>[0-9]+)/custody\.(?P<export_format>csv|json)$", views.EvidenceFileCustodyExportView.as_view(),
            name="evidencefile_custody_export"),
    path("<int:pk>/withdraw/", views.EvidenceFileWithdrawView.as_view(), name="evidencefile_withdraw"),
]
