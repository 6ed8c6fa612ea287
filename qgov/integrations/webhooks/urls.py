"""Webhook pages, included under /agency/ (/agency/webhooks/…) in the core's "qgov" namespace."""

from django.urls import path

from qgov.integrations.webhooks import views
from qgov.integrations.webhooks.models import WebhookEndpoint
from qgov.routing import model_urls

urlpatterns = [
    *model_urls("webhooks", WebhookEndpoint, views),
    path("webhooks/<int:pk>/rotate-secret/", views.WebhookEndpointRotateSecretView.as_view(),
         name="webhookendpoint_rotate"),
    path("webhooks/<int:pk>/test/", views.WebhookEndpointTestView.as_view(), name="webhookendpoint_test"),
    path("webhooks/<int:pk>/redeliver/", views.WebhookEndpointRedeliverView.as_view(),
         name="webhookendpoint_redeliver"),
    path("webhooks/deliveries/<int:pk>/", views.WebhookDeliveryDetailView.as_view(), name="webhookdelivery_detail"),
    path("webhooks/deliveries/<int:pk>/redeliver/", views.WebhookDeliveryRedeliverView.as_view(),
         name="webhookdelivery_redeliver"),
]
