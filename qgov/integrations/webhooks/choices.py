from django.db import models
from django.utils.translation import gettext_lazy as _


class WebhookDeliveryStatusChoices(models.TextChoices):
    PENDING = "pending", _("Pending")  # waiting for its first attempt or a retry
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")  # given up: retries exhausted, or the endpoint is disabled
