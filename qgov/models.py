"""The core every qgov app builds on: the agency-scoped model base and its
restricted queryset, and the platform models (agencies, memberships, API tokens,
the audit chain and notifications)."""

import uuid
import zoneinfo
from datetime import timedelta
from pathlib import PurePath

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from qgov import tokens
from qgov.choices import (
    AgencySectorChoices,
    AuditActionChoices,
    AuditSourceChoices,
    ImportRunStatusChoices,
    MembershipSourceChoices,
    RoleChoices,
)
from qgov.fields import LongTextField
from qgov.identity.validators import StricterThanPlatform
from qgov.permissions import PLATFORM_ONLY, restrict_queryset
from qgov.roles import Action


class RestrictedQuerySet(models.QuerySet):
    """Scopes records to what a user may see or do: the queryset form of the one permission
    check in qgov.permissions."""

    def restrict(self, user, action: str = Action.VIEW):
        return restrict_queryset(self, user, action)

    def in_agency(self, agency):
        lookup = self.model.agency_lookup
        if getattr(self.model, "shared_without_agency", False):  # the agency's rows and the shared ones
            return self.filter(models.Q(**{lookup: agency}) | models.Q(**{f"{lookup}__isnull": True}))
        return self.filter(**{lookup: agency})


# The record-keeping fields of every QgovModel: read-only, and listed last, in every face
# (serializer, admin, detail page).
RECORD_FIELDS = ("version", "created", "last_updated")


class QgovModel(models.Model):
    """Versioned, timestamped, audited, and scoped through `restrict()`."""

    version = models.PositiveIntegerField(default=1, editable=False, verbose_name=_("version"))
    created = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    last_updated = models.DateTimeField(auto_now=True, verbose_name=_("last updated"))

    objects = RestrictedQuerySet.as_manager()

    # How a record reaches its agency, for restrict().
    agency_lookup = "agency"
    # Generic action -> the action a role must grant for this model (PLATFORM_ONLY for superusers only).
    action_map: dict = {}
    # Fields left out of audit snapshots.
    audit_exclude: tuple = ("created", "last_updated")
    # A user field that the create service fills with the acting user (e.g. "requested_by").
    creator_field: str | None = None
    # Fields set when the record is created and never changed afterwards (form, API, services).
    create_only_fields: tuple[str, ...] = ("agency",)
    # Expiries and deadlines the core reminds about and lists as due (qgov.duedates.DueDate).
    due_dates: tuple = ()
    # Whether evidence files may be attached to its records (docs/evidence.md).
    accepts_evidence: bool = False
    # Rows whose agency is empty are shared reference data beside the agencies' own rows (playbook
    # templates beside agency copies): every signed-in user reads them, only platform admins change them.
    shared_without_agency: bool = False
    # The area of API token scopes (`<area>:read`, `<area>:write`) its records fall in; None: the app label.
    scope_area: str | None = None

    class Meta:
        abstract = True

    @classmethod
    def permission_action(cls, action: str):
        return cls.action_map.get(action, action)

    @property
    def owning_agency_id(self):
        return self.agency_id

    def save(self, *args, **kwargs):
        if not self._state.adding:
            self.version += 1
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "version", "last_updated"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse(f"{self._meta.app_label}:{self._meta.model_name}_detail", args=[self.pk])


class CatalogModel(QgovModel):
    """A shared reference record (threat vectors, schemes, playbook templates): every signed-in
    user reads it, only platform admins change it."""

    agency_lookup = None
    action_map = {Action.ADD: PLATFORM_ONLY, Action.CHANGE: PLATFORM_ONLY, Action.DELETE: PLATFORM_ONLY}
    # The field that identifies an entry across catalog reloads.
    natural_key_field = "code"

    class Meta:
        abstract = True

    @property
    def owning_agency_id(self):
        return None


class AgencyScopedModel(QgovModel):
    """A record that belongs to one agency."""

    agency = models.ForeignKey(
        "qgov.Agency",
        on_delete=models.PROTECT,
        related_name="%(app_label)s_%(class)s_set",
        verbose_name=_("agency"),
    )

    class Meta:
        abstract = True


DEFAULT_REMINDER_THRESHOLDS = (90, 30, 7)


def default_reminder_thresholds():
    return list(DEFAULT_REMINDER_THRESHOLDS)


def validate_reminder_thresholds(value):
    if not isinstance(value, list) or not 1 <= len(value) <= 6:
        raise ValidationError(_("Give from 1 to 6 numbers of days, e.g. 90, 30, 7."), code="count")
    if any(isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650 for days in value):
        raise ValidationError(_("Each threshold is a whole number of days from 1 to 3650."), code="range")
    if len(set(value)) != len(value):
        raise ValidationError(_("Give each number of days once."), code="duplicate")


def _timezone_choices():
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class Agency(QgovModel):
    # Every API token reads the agencies it is limited to, whatever its scopes: a write names one.
    readable_by_every_token = True

    name = models.CharField(_("name"), max_length=200, unique=True)
    code = models.CharField(
        _("code"),
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9][A-Z0-9-]*$", _("Use capital letters, digits and hyphens."))],
        help_text=_("Short unique code, e.g. DQN or MOD-CYBER."),
    )
    sector = models.CharField(_("sector"), max_length=30, choices=AgencySectorChoices.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent agency"),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, choices=_timezone_choices, default="UTC")
    description = LongTextField(_("description"), blank=True)
    reminder_thresholds = models.JSONField(
        _("reminder thresholds (days)"), default=default_reminder_thresholds, blank=True,
        validators=[validate_reminder_thresholds],
        help_text=_("Days before a due date when the owner and the agency admins are reminded, e.g. 90, 30, 7 "
                    "(left empty: those); the largest is the warning window of lists and dashboards."))
    jurisdiction = models.CharField(
        _("jurisdiction"), max_length=2, blank=True,
        validators=[RegexValidator(r"^[A-Z]{2}$", _("Use the two capital letters of the ISO 3166-1 country code."))],
        help_text=_("ISO 3166-1 alpha-2 country code, e.g. DE: decides which certificate recognition "
                    "arrangements apply."))
    # Session policy (qgov.identity.sessions): stricter than the platform's limits only; the strictest
    # of a user's agencies applies to them. Empty: the platform's.
    session_idle_minutes = models.PositiveIntegerField(
        _("session idle limit (minutes)"), null=True, blank=True,
        validators=[StricterThanPlatform("QGOV_SESSION_IDLE_SECONDS")],
        help_text=_("Members are signed out after this many minutes without activity. Empty: the platform's limit; "
                    "it can only be made shorter."))
    session_absolute_minutes = models.PositiveIntegerField(
        _("session time limit (minutes)"), null=True, blank=True,
        validators=[StricterThanPlatform("QGOV_SESSION_ABSOLUTE_SECONDS")],
        help_text=_("Members are signed out this many minutes after signing in, active or not. Empty: the "
                    "platform's limit; it can only be made shorter."))
    # MFA policy (qgov.identity.mfa.policy): platform admins always need MFA, whatever these say.
    phishing_resistant_required = models.BooleanField(
        _("require phishing-resistant MFA"), default=False,
        help_text=_("Members must sign in with a passkey, or through an identity provider that reports "
                    "phishing-resistant MFA."))
    totp_allowed = models.BooleanField(
        _("allow authenticator apps (TOTP)"), default=True,
        help_text=_("Members may use a one-time code app as their second factor (never where phishing-resistant "
                    "MFA is required)."))

    agency_lookup = "pk"
    scope_area = "agencies"
    action_map = {Action.ADD: PLATFORM_ONLY, Action.DELETE: PLATFORM_ONLY, Action.CHANGE: Action.MANAGE_MEMBERS}

    class Meta:
        ordering = ["name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    brief_fields = ("name", "code")  # what __str__ reads: all a brief reference loads

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def owning_agency_id(self):
        return self.pk

    def get_absolute_url(self):
        return reverse("qgov:agency_detail", args=[self.pk])

    def after_create(self, *, user):
        from qgov.registry import agency_setup

        agency_setup(self)

    @property
    def warning_window_days(self) -> int:
        return max(self.reminder_thresholds or DEFAULT_REMINDER_THRESHOLDS)

    @property
    def last_threshold_days(self) -> int:
        return min(self.reminder_thresholds or DEFAULT_REMINDER_THRESHOLDS)

    def clean(self):
        if self.reminder_thresholds in (None, "", []):
            self.reminder_thresholds = default_reminder_thresholds()
        elif isinstance(self.reminder_thresholds, list) and all(
                isinstance(days, int) for days in self.reminder_thresholds):
            self.reminder_thresholds = sorted(self.reminder_thresholds, reverse=True)
        # Walk up the parents: an agency may not end up as its own ancestor.
        seen, parent = {self.pk}, self.parent
        while parent is not None:
            if parent.pk in seen:
                raise ValidationError({"parent": _("An agency cannot be its own parent or ancestor.")})
            seen.add(parent.pk)
            parent = parent.parent


class Membership(AgencyScopedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=20, choices=RoleChoices.choices, default=RoleChoices.VIEWER)
    # Identity (qgov.identity): who keeps this membership. A sign-in recomputes only its provider's own.
    source = models.CharField(_("source"), max_length=10, choices=MembershipSourceChoices.choices,
                              default=MembershipSourceChoices.MANUAL, editable=False)
    provider = models.ForeignKey("qgov.IdentityProvider", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="memberships", editable=False, verbose_name=_("identity provider"))

    action_map = dict.fromkeys((Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE), Action.MANAGE_MEMBERS)
    scope_area = "members"
    create_only_fields = ("agency", "user")
    shown_read_only_fields = ("source", "provider")  # on its page, never in a form

    class Meta:
        ordering = ["agency__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "agency"], name="membership_unique_user_agency"),
            # A provider's memberships name it; no other does.
            models.CheckConstraint(
                condition=models.Q(source=MembershipSourceChoices.PROVIDER, provider__isnull=False)
                | (~models.Q(source=MembershipSourceChoices.PROVIDER) & models.Q(provider__isnull=True)),
                name="membership_provider_iff_provider_source"),
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} — {self.agency.code}"

    def get_absolute_url(self):
        return reverse("qgov:membership_detail", args=[self.pk])

    def _assert_agency_keeps_an_admin(self):
        # Without an admin nobody but a platform admin could manage the agency again.
        others = Membership.objects.filter(agency_id=self.agency_id, role=RoleChoices.ADMIN).exclude(pk=self.pk)
        if not others.exists():
            raise ValidationError({"role": _("An agency must keep at least one admin.")})

    def clean(self):
        if self.provider_id is not None and self.provider.agency_id != self.agency_id:
            # A provider grants roles in its own agency only.
            raise ValidationError({"agency": _("An identity provider grants memberships of its own agency only.")})
        if self.pk is not None and self.role != RoleChoices.ADMIN:
            stored_role = Membership.objects.filter(pk=self.pk).values_list("role", flat=True).first()
            if stored_role == RoleChoices.ADMIN:
                self._assert_agency_keeps_an_admin()

    def clean_delete(self):
        if self.role == RoleChoices.ADMIN:
            self._assert_agency_keeps_an_admin()


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True, expires__gt=now)


def hash_token_key(key: str) -> str:
    return tokens.hash_secret(key)


class ApiToken(models.Model):
    """A bearer token for the REST API. Only a keyed hash of its secret is stored; the secret is
    shown once. Its agencies and scopes narrow what its user may do (qgov.permissions.TokenGrant)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    agencies = models.ManyToManyField(
        Agency,
        blank=True,
        related_name="api_tokens",
        verbose_name=_("agencies"),
        help_text=_("The agencies the token may act in; none: every agency of its user."),
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=tokens.PREFIX_LENGTH, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(
        _("scopes"), default=list,
        help_text=_("read, write (which includes read), or per area: <area>:read, <area>:write, <area>:manage."))
    allowed_ips = models.JSONField(
        _("allowed addresses"), default=list, blank=True,
        help_text=_("Networks in CIDR notation the token may be used from; none: any address."))
    created = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    audit_exclude = ("key_hash", "last_used", "created")

    class Meta:
        ordering = ["-created"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate_key() -> str:
        return tokens.generate_secret()

    def set_key(self, key: str):
        self.prefix = key[:tokens.PREFIX_LENGTH]
        self.key_hash = hash_token_key(key)

    def clean(self):
        errors = {}
        try:
            self.scopes = tokens.clean_scopes(self.scopes)
        except ValidationError as error:
            errors["scopes"] = error.messages
        try:
            self.allowed_ips = tokens.clean_networks(self.allowed_ips)
        except ValidationError as error:
            errors["allowed_ips"] = error.messages
        if self._state.adding and self.expires is not None:
            now = timezone.now()
            if self.expires <= now:
                errors["expires"] = [_("The expiry must be in the future.")]
            elif self.expires > now + timedelta(days=tokens.MAX_LIFETIME_DAYS):
                errors["expires"] = [_("A token may be valid for at most %(days)s days.")
                                     % {"days": tokens.MAX_LIFETIME_DAYS}]
        if errors:
            raise ValidationError(errors)

    @property
    def is_active(self):
        return self.revoked_at is None and self.expires > timezone.now()

    @property
    def owning_agency_id(self):
        """Whose audit chain records the token: its first agency's (a personal token's: the platform's)."""
        if self.pk is None:
            return None
        return min((agency.pk for agency in self.agencies.all()), default=None)

    def grant(self):
        from qgov.permissions import TokenGrant

        agency_ids = frozenset(agency.pk for agency in self.agencies.all())
        return TokenGrant(user_id=self.user_id, agency_ids=agency_ids or None, scopes=frozenset(self.scopes))


class AuditEventQuerySet(RestrictedQuerySet):
    def for_object(self, obj):
        return self.filter(content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk))


class AuditRecord:
    """What the audit trail's records share: read by those who may view an agency's audit trail,
    written by no one through the generic interfaces."""

    agency_lookup = "agency"
    action_map = {Action.VIEW: Action.VIEW_AUDIT, Action.EXPORT: Action.VIEW_AUDIT}
    scope_area = "audit"

    @classmethod
    def permission_action(cls, action):
        return cls.action_map.get(action, PLATFORM_ONLY)

    @property
    def owning_agency_id(self):
        return self.agency_id


class CurrentTransactionId(models.Func):
    """The id of the transaction writing the row, filled in by the database: on PostgreSQL the
    top-level transaction's 64-bit id (`pg_current_xact_id()`, also inside savepoints); elsewhere 0,
    where writers are serialised and ids follow commit order. The change feed reads it to serve
    only what no open transaction can still precede (qgov.integrations.changes)."""

    template = "0"
    output_field = models.BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return "(pg_current_xact_id()::text::bigint)", []


class AuditEvent(AuditRecord, models.Model):
    """One create, update or delete. Append-only; each event carries the hash of the one before."""

    # Each agency has its own chain ("agency:<id>"), platform records theirs ("platform").
    chain = models.CharField(_("chain"), max_length=40, editable=False)
    seq = models.PositiveBigIntegerField(_("sequence"), editable=False, help_text=_("Position in its chain."))
    timestamp = models.DateTimeField(_("time"), editable=False, db_index=True)
    # Plain references without database constraints: the chain must survive the deletion of what it records.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_repr = models.CharField(_("actor"), max_length=200)
    agency = models.ForeignKey(
        Agency, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+", verbose_name=_("agency")
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.CharField(_("object id"), max_length=64, db_index=True)
    object_repr = models.CharField(_("object"), max_length=300)
    action = models.CharField(_("action"), max_length=10, choices=AuditActionChoices.choices)
    before = models.JSONField(_("before"), null=True)
    after = models.JSONField(_("after"), null=True)
    changed_fields = models.JSONField(_("changed fields"), default=list)
    # What kind of change it was beyond create/update/delete: {"transition": name, "reason": text}.
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True, db_index=True)
    source = models.CharField(_("source"), max_length=10, choices=AuditSourceChoices.choices)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)
    # Which QGOV_AUDIT_KEY signed the hash (empty: a legacy-chain event hashed with plain SHA-256).
    key_id = models.CharField(_("key id"), max_length=16, blank=True, editable=False)
    # The writing transaction's id (not hashed: it says when the event became visible, not what happened).
    txid = models.BigIntegerField(_("transaction id"), db_default=CurrentTransactionId(), editable=False)

    objects = AuditEventQuerySet.as_manager()


    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="auditevent_unique_chain_seq")]
        indexes = [
            models.Index(fields=["content_type", "object_id"]),
            # The change feed, in (txid, id) order: of one agency, and of several (walked in order, filtered).
            models.Index(fields=["agency", "txid", "id"], name="auditevent_agency_txid_id"),
            models.Index(fields=["txid", "id"], name="auditevent_txid_id"),
        ]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self):
        return f"#{self.seq} {self.get_action_display()} {self.object_repr}"


    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only.")

    def get_absolute_url(self):
        return reverse("qgov:auditevent_detail", args=[self.pk])


class AuditChainHead(models.Model):
    """One row per chain holding its newest event's sequence and hash. Locking it serialises
    appends to that chain only, and comparing it with the chain's last event detects a removed tail."""

    chain = models.CharField(max_length=40, unique=True)
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self):
        return f"{self.chain} #{self.seq}"


class AuditCheckpoint(AuditRecord, models.Model):
    """A chain's head (sequence, hash, time) signed with the audit key: kept here for auditors to
    download and mailed to them, so a rewrite of the chain after it is provable from outside."""

    chain = models.CharField(_("chain"), max_length=40, editable=False)
    agency = models.ForeignKey(
        Agency, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+", verbose_name=_("agency")
    )
    seq = models.PositiveBigIntegerField(_("sequence"), editable=False)
    hash = models.CharField(_("hash"), max_length=64, editable=False)
    created = models.DateTimeField(_("created"), editable=False, db_index=True)
    key_id = models.CharField(_("key id"), max_length=16, editable=False)
    signature = models.CharField(_("signature"), max_length=64, editable=False)

    objects = RestrictedQuerySet.as_manager()


    class Meta:
        ordering = ["-created", "chain"]
        verbose_name = _("audit checkpoint")
        verbose_name_plural = _("audit checkpoints")

    def __str__(self):
        return f"{self.chain} #{self.seq} ({self.created:%Y-%m-%d})"


    def document(self) -> dict:
        """The signed file auditors keep (verify it with `manage.py verify_audit --checkpoint`)."""
        import datetime as dt

        from qgov.audit_checkpoints import CHECKPOINT_FORMAT

        return {"format": CHECKPOINT_FORMAT, "chain": self.chain, "seq": self.seq, "hash": self.hash,
                "created": self.created.astimezone(dt.UTC).isoformat(), "key_id": self.key_id,
                "signature": self.signature}

    def filename(self) -> str:
        return f"qgov-audit-checkpoint-{self.chain.replace(':', '-')}-{self.seq}-{self.created:%Y%m%d}.json"


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("user")
    )
    agency = models.ForeignKey(
        Agency, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("agency")
    )
    title = models.CharField(_("title"), max_length=200)
    body = LongTextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self):
        return self.title




from qgov.duedates.models import Reminder  # noqa: E402, F401 - the core's models in one namespace


def import_upload_path(instance, filename):
    # A random name in a folder that is never served: the file is read by the run, then removed.
    return f"private/imports/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()[:10]}"


class ImportRun(AgencyScopedModel):
    """One uploaded file imported into one model in the background: who, when, what file, how far,
    and what came of it (counts and the row-by-row report)."""

    scope_area = "imports"

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("record type"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     editable=False, verbose_name=_("requested by"))
    file = models.FileField(_("file"), upload_to=import_upload_path, max_length=255, blank=True, editable=False,
                            help_text=_("Kept, privately, until the run ends."))
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    format = models.CharField(_("format"), max_length=20)
    status = models.CharField(_("status"), max_length=10, choices=ImportRunStatusChoices.choices,
                              default=ImportRunStatusChoices.QUEUED, editable=False)
    started = models.DateTimeField(_("started"), null=True, blank=True, editable=False)
    finished = models.DateTimeField(_("finished"), null=True, blank=True, editable=False)
    rows_total = models.PositiveIntegerField(_("rows"), null=True, blank=True, editable=False)
    rows_processed = models.PositiveIntegerField(_("rows processed"), default=0, editable=False)
    created_count = models.PositiveIntegerField(_("created"), default=0, editable=False)
    updated_count = models.PositiveIntegerField(_("updated"), default=0, editable=False)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0, editable=False)
    failed_count = models.PositiveIntegerField(_("failed rows"), default=0, editable=False)
    errors = models.JSONField(_("problems"), default=list, blank=True, editable=False,
                              help_text=_('[{"row": 2, "field": "title", "message": "…"}, …]; row 1 is the header, '
                                          "row 0 the file as a whole."))

    creator_field = "requested_by"
    # Progress is written often and outside the import's transaction; the audit trail keeps the outcome.
    # The stored file's random name says nothing (file_name and sha256 identify the upload).
    audit_exclude = ("created", "last_updated", "rows_processed", "file")

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["agency", "status"])]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")

    def __str__(self):
        return f"#{self.pk} {self.file_name}" if self.pk else self.file_name

    def get_absolute_url(self):
        return reverse("qgov:importrun_detail", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportRunStatusChoices.SUCCEEDED, ImportRunStatusChoices.FAILED)

    @property
    def target_model(self):
        return self.content_type.model_class()


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

# The stored answers of API writes sent with an Idempotency-Key (qgov.integrations.idempotency).
from qgov.integrations.idempotency.models import IdempotencyKey  # noqa: E402, F401

# Webhook endpoints, their deliveries (the outbox) and attempts live in the integrations package.
from qgov.integrations.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint  # noqa: E402, F401

# Report runs, their files and schedules live in the reports package.
from qgov.reports.models import ReportFile, ReportRun, ReportSchedule  # noqa: E402, F401
