"""The audit chain: events, the chain heads and the signed checkpoints."""


from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from qgov.choices import (
    AuditActionChoices,
    AuditSourceChoices,
)
from qgov.models.agencies import Agency
from qgov.models.base import RestrictedQuerySet
from qgov.permissions import PLATFORM_ONLY
from qgov.roles import Action


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
