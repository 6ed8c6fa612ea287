"""Checkpoints of the audit chains: each chain's head (sequence, hash, time) signed with the audit
key, stored for auditors to download, mailed to them, and verified later against the chain
(`manage.py verify_audit --checkpoint FILE`)."""

import datetime as dt
import hmac
import json
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.utils import timezone

from qgov.audit import agency_of_chain, current_key, keyring, sign
from qgov.audit_verify import verify_chains

CHECKPOINT_FORMAT = "qgov-audit-checkpoint/1"


def checkpoint_document(*, chain: str, seq: int, hash_: str, created) -> dict:
    key_id, key = current_key()
    document = {
        "format": CHECKPOINT_FORMAT,
        "chain": chain,
        "seq": seq,
        "hash": hash_,
        "created": created.astimezone(dt.UTC).isoformat(),
        "key_id": key_id,
    }
    return {**document, "signature": sign(document, key)}


@dataclass
class CheckpointResult:
    ok: bool
    message: str
    events: int = 0


def verify_checkpoint(document: dict) -> CheckpointResult:
    """Does the chain still extend this checkpoint? Its signature must be ours, the event at its
    sequence must still carry its hash, and the chain from there to the head must verify."""
    from qgov.models import AuditEvent

    try:
        signature = document["signature"]
        body = {k: document[k] for k in ("format", "chain", "seq", "hash", "created", "key_id")}
    except (KeyError, TypeError):
        return CheckpointResult(False, "not a qgov audit checkpoint (fields missing)")
    if body["format"] != CHECKPOINT_FORMAT:
        return CheckpointResult(False, f"unknown checkpoint format {body['format']!r}")
    key = keyring().get(body["key_id"])
    if key is None:
        return CheckpointResult(False, f"checkpoint signed with key {body['key_id']!r}, which is not configured")
    if not isinstance(signature, str) or not hmac.compare_digest(sign(body, key), signature):
        return CheckpointResult(False, "checkpoint signature is invalid: the file was altered or not made by qgov")
    chain, seq = body["chain"], body["seq"]
    if seq == 0:
        reports = verify_chains(chain=chain)
    else:
        event = AuditEvent.objects.filter(chain=chain, seq=seq).first()
        if event is None:
            return CheckpointResult(False, f"chain {chain}: event #{seq} of the checkpoint is missing")
        if event.hash != body["hash"]:
            return CheckpointResult(False, f"chain {chain}: event #{seq} (id {event.pk}) no longer has the "
                                           "checkpoint's hash: the chain was rewritten")
        reports = verify_chains(chain=chain, from_seq=seq)
    report = reports[0]
    if report.problem is not None:
        return CheckpointResult(False, f"chain broken after the checkpoint: {report.problem}")
    return CheckpointResult(
        True, f"chain {chain} still extends checkpoint event #{seq} ({body['hash'][:12]}…, {body['created']}); "
              f"{report.events} events up to head #{report.head_seq} verified.", events=report.events)



def checkpoints_write(*, now=None) -> list:
    """Sign each chain's head as a checkpoint; chains that have not moved since their last
    checkpoint are skipped."""
    from qgov.models import AuditChainHead, AuditCheckpoint

    now = now or timezone.now()
    written = []
    with transaction.atomic():
        last = dict(AuditCheckpoint.objects.values("chain").annotate(last=models.Max("seq"))
                    .values_list("chain", "last"))
        for head in AuditChainHead.objects.order_by("chain"):
            if head.seq == 0 or last.get(head.chain) == head.seq:
                continue
            document = checkpoint_document(chain=head.chain, seq=head.seq, hash_=head.hash, created=now)
            written.append(AuditCheckpoint.objects.create(
                chain=head.chain, agency_id=agency_of_chain(head.chain), seq=head.seq, hash=head.hash,
                created=now, key_id=document["key_id"], signature=document["signature"]))
    return written


def checkpoint_recipients(checkpoint) -> list:
    """The agency's auditors for an agency chain; platform admins for the platform and legacy chains."""
    from qgov.choices import RoleChoices

    users = get_user_model().objects.filter(is_active=True)
    if checkpoint.agency_id is None:
        return list(users.filter(is_superuser=True).order_by("username"))
    return list(users.filter(memberships__agency_id=checkpoint.agency_id,
                             memberships__role=RoleChoices.AUDITOR).order_by("username"))


def checkpoint_send(checkpoint) -> int:
    """Mail the signed checkpoint file to its recipients (and tell them in the app)."""
    from django.core.mail import EmailMessage
    from django.urls import reverse

    from qgov.services import notify

    recipients = checkpoint_recipients(checkpoint)
    if not recipients:
        return 0
    title = f"Audit checkpoint: {checkpoint.chain} at event #{checkpoint.seq}"
    body = (f"The audit chain {checkpoint.chain} reached event #{checkpoint.seq} (hash {checkpoint.hash}) on "
            f"{checkpoint.created:%Y-%m-%d %H:%M} UTC. Keep the attached signed checkpoint outside qgov; "
            "`manage.py verify_audit --checkpoint FILE` proves later that the chain still extends it.")
    with transaction.atomic():
        notify(users=recipients, agency=checkpoint.agency, title=title, body=body,
               url=reverse("qgov:auditcheckpoint_list"), email=False)
    addresses = [user.email for user in recipients if user.email]
    if addresses:
        message = EmailMessage(subject=f"[qgov] {title}", body=body, to=addresses)
        message.attach(checkpoint.filename(), json.dumps(checkpoint.document(), indent=2) + "\n", "application/json")
        message.send()
    return len(addresses)
