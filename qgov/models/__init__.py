# ruff: noqa: F401 — this module re-exports the core models
"""The core every qgov app builds on: the agency-scoped model base and its
restricted queryset, and the platform models (agencies, memberships, API tokens,
the audit chain and notifications)."""

# The core's models live in modules of this package; they are imported here, in dependency order, so
# that `qgov.models` stays the one namespace apps and migrations import them from.
from qgov.models.base import RECORD_FIELDS, AgencyScopedModel, CatalogModel, QgovModel, RestrictedQuerySet  # noqa: I001
from qgov.models.agencies import (
    DEFAULT_REMINDER_THRESHOLDS, Agency, Membership, _timezone_choices, default_reminder_thresholds,
    validate_reminder_thresholds,
)
from qgov.models.api_tokens import ApiToken, ApiTokenQuerySet, hash_token_key
from qgov.models.audit_records import (
    AuditChainHead, AuditCheckpoint, AuditEvent, AuditEventQuerySet, AuditRecord, CurrentTransactionId,
)
from qgov.models.notifications import Notification

from qgov.duedates.models import Reminder  # noqa: E402, F401 - the core's models in one namespace

from qgov.models.import_runs import ImportRun, import_upload_path  # noqa: E402

# Evidence files live in their own package; re-exported here with the other core models.
from qgov.evidence.models import CustodyEvent, EvidenceFile  # noqa: E402, F401

# Failed sign-ins counted per username and client address (qgov.identity.lockout).
from qgov.identity.lockout import LoginAttempt  # noqa: E402, F401

# Second factors and recovery codes (qgov.identity.mfa).
from qgov.identity.mfa.models import Authenticator, RecoveryCode  # noqa: E402, F401

# Signed-in browser sessions, one record each (qgov.identity.sessions).
from qgov.identity.models import UserSession  # noqa: E402, F401

# Agency identity providers and the external identities users are keyed on (qgov.identity).
from qgov.identity.providers.models import ExternalIdentity, IdentityProvider  # noqa: E402, F401

# Users and groups that agency identity providers provision over SCIM 2.0 (qgov.identity.scim).
from qgov.identity.scim.models import ScimGroup, ScimUser  # noqa: E402, F401

# The stored answers of API writes sent with an Idempotency-Key (qgov.integrations.idempotency).
from qgov.integrations.idempotency.models import IdempotencyKey  # noqa: E402, F401

# Webhook endpoints, their deliveries (the outbox) and attempts live in the integrations package.
from qgov.integrations.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint  # noqa: E402, F401

# Report runs, their files and schedules live in the reports package.
from qgov.reports.models import ReportFile, ReportRun, ReportSchedule  # noqa: E402, F401
