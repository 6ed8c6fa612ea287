"""Webhook endpoints, the outbox of deliveries and the delivery log. Re-exported by qgov.models."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from qgov.fields import LongTextField
from qgov.integrations.webhooks.choices import WebhookDeliveryStatusChoices
from qgov.models import AgencyScopedModel, RestrictedQuerySet
from qgov.permissions import PLATFORM_ONLY
from qgov.roles import Action


class WebhookEndpoint(AgencyScopedModel):
    """A receiver an agency admin subscribed to some of the agency's event types."""

    name = models.CharField(_("name"), max_length=100)
    # Not `url`: every API record's `url` is its own link.
    target_url = models.URLField(_("target URL"), max_length=500,
                          help_text=_("https only, on a public address (unless the operator allows the host)."))
    description = LongTextField(_("description"), blank=True)
    all_events = models.BooleanField(_("all events"), default=False,
                                     help_text=_("Receive every event type, including ones added later."))
    event_types = models.JSONField(_("event types"), default=list, blank=True,
                                   help_text=_('Event type names, e.g. ["qgov.membership.created", "report.ready"].'))
    is_active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True, editable=False)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True, editable=False)
    # Sealed (qgov.integrations.webhooks.sealing); shown once when created or rotated.
    secret_sealed = models.TextField(editable=False)
    # During a rotation the old secret signs too, until it expires.
    previous_secret_sealed = models.TextField(blank=True, editable=False)
    previous_secret_expires = models.DateTimeField(_("previous secret expires"), null=True, blank=True,
                                                   editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", editable=False, verbose_name=_("created by"))

    creator_field = "created_by"
    scope_area = "webhooks"  # token scopes: webhooks:read, webhooks:manage
    # Its changes are not webhook events: one receiver would learn where the others are.
    emits_webhooks = False
    action_map = dict.fromkeys((Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE, Action.EXPORT),
                               Action.MANAGE_WEBHOOKS)
    audit_exclude = ("created", "last_updated", "secret_sealed", "previous_secret_sealed")

    class Meta:
        ordering = ["agency", "name", "pk"]
        indexes = [models.Index(fields=["agency", "is_active"])]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("qgov:webhookendpoint_detail", args=[self.pk])

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._saved_target_url = instance.__dict__.get("target_url")
        return instance

    def subscribes_to(self, event_type: str) -> bool:
        return self.all_events or event_type in self.event_types

    def clean(self):
        from qgov.integrations.events import known_event_types
        from qgov.integrations.webhooks.ssrf import TargetRefused, check_url

        if self.is_active:  # enabled again by an admin: the reason it was disabled is history
            self.disabled_reason, self.disabled_at = "", None
        errors = {}
        if not isinstance(self.event_types, list) or not all(isinstance(t, str) for t in self.event_types):
            errors["event_types"] = [_("A list of event type names.")]
        else:
            unknown = sorted(set(self.event_types) - set(known_event_types()))
            if unknown:
                errors["event_types"] = [_("Unknown event types: %(names)s.") % {"names": ", ".join(unknown)}]
            elif not self.event_types and not self.all_events:
                errors["event_types"] = [_("Choose at least one event type, or all events.")]
            self.event_types = sorted(set(self.event_types))
        # Resolved when set or changed (and again at every send): an edit of the name is not refused
        # because the receiver's DNS is down.
        if self.target_url and self.target_url != getattr(self, "_saved_target_url", None):
            try:
                check_url(self.target_url)
            except TargetRefused as refused:
                errors["target_url"] = [str(refused)]
        if errors:
            raise ValidationError(errors)


class WebhookOperationalRecord:
    """What deliveries and attempts share: operational logs (not audited), seen and redelivered by
    those who manage the agency's webhooks, written only by the webhook services."""

    agency_lookup = "agency"
    scope_area = "webhooks"
    action_map = {Action.VIEW: Action.MANAGE_WEBHOOKS, Action.CHANGE: Action.MANAGE_WEBHOOKS}

    @classmethod
    def permission_action(cls, action):
        return cls.action_map.get(action, PLATFORM_ONLY)

    @property
    def owning_agency_id(self):
        return self.agency_id


def new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class WebhookDelivery(WebhookOperationalRecord, models.Model):
    """One event for one endpoint: the outbox row, written in the transaction of the change. Its
    `webhook_id` is sent on every attempt; its payload is frozen at the first attempt so every
    retry sends the same body."""

    # Every row is written on the write path: no index beyond what the sender and the log read
    # (the endpoint's is the log's index below, the audit event is never looked up from here).
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries",
                                 db_index=False, verbose_name=_("endpoint"))
    agency = models.ForeignKey("qgov.Agency", on_delete=models.CASCADE, related_name="+", verbose_name=_("agency"))
    # The change this delivers (record events); a plain reference like the audit trail's own.
    audit_event = models.ForeignKey("qgov.AuditEvent", on_delete=models.DO_NOTHING, db_constraint=False,
                                    db_index=False, null=True, blank=True, related_name="+",
                                    verbose_name=_("audit event"))
    event_type = models.CharField(_("event type"), max_length=150)
    webhook_id = models.CharField(_("webhook id"), max_length=40, unique=True, default=new_webhook_id,
                                  editable=False)
    status = models.CharField(_("status"), max_length=10, choices=WebhookDeliveryStatusChoices.choices,
                              default=WebhookDeliveryStatusChoices.PENDING)
    # Attempts since it was queued (a redelivery starts the retry schedule again).
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # When it is due; a sender that claims it moves this by a lease, so a killed worker's claim lapses.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    payload = models.JSONField(_("payload"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [
            # What the sender claims: only pending rows are in it.
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="pending"),
                         name="webhookdelivery_due_idx"),
            models.Index(fields=["endpoint", "status", "created"], name="webhookdelivery_log_idx"),
        ]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self):
        return f"{self.event_type} → {self.endpoint_id} ({self.webhook_id})"

    def get_absolute_url(self):
        return reverse("qgov:webhookdelivery_detail", args=[self.pk])


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery: the delivery log."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log",
                                 verbose_name=_("delivery"))
    attempted_at = models.DateTimeField(_("attempted"))
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    response_excerpt = models.TextField(_("response (truncated)"), blank=True, editable=False)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        ordering = ["attempted_at", "pk"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self):
        return f"{self.delivery_id} @ {self.attempted_at:%Y-%m-%d %H:%M:%S}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
