"""Evidence workflows: attach a file to a record, open it (a logged download), verify it, hand it
over, withdraw it. Each checks the permission on the record inside its transaction, writes the
custody log and, through the audited models, the agency's audit chain.

Actors are users, except for uploads by someone without an account (a supplier answering
through a one-time link): `evidence_attach(user=None, actor_name=…)`, where the caller has
authorised the upload itself. The custody log keeps the name beside the user (`actor_name`,
`uploader_name`).
"""

import uuid
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from qgov.audit import mark_transition, one_change, snapshot
from qgov.evidence.choices import CustodyEventActionChoices as Custody
from qgov.evidence.content import check_upload
from qgov.evidence.models import CustodyEvent, EvidenceFile
from qgov.files import removed_unless_committed, sha256_and_size
from qgov.permissions import require, user_can, users_who_can
from qgov.roles import Action

# What each evidence workflow needs on the record (as the record's model maps the action).
MAY_READ = Action.VIEW  # list, download, verify
MAY_WRITE = Action.CHANGE  # upload, hand over, withdraw


def evidence_storage():
    return EvidenceFile._meta.get_field("file").storage


def accepts_evidence(model_or_record) -> bool:
    return bool(getattr(model_or_record, "accepts_evidence", False))


def can_on_record(user, evidence, action: str) -> bool:
    """May `user` do `action` on the record `evidence` belongs to (from the request's memberships)?"""
    return user_can(user, evidence.agency_id, action, evidence.record_model)


def _require_on_record(user, evidence, action: str) -> None:
    require(user, evidence.agency_id, action, evidence.record_model)


def _custody(evidence, action: str, *, user, note: str = "", from_user=None, to_user=None,
             observed_sha256: str = "", actor_name: str = "") -> CustodyEvent:
    # Built here from values the service has already checked, so no full_clean (its foreign-key
    # checks would cost a query each on every download).
    event = CustodyEvent(agency_id=evidence.agency_id, evidence=evidence, action=action, actor=user,
                         actor_name=actor_name or user.get_username(), from_user=from_user, to_user=to_user, note=note,
                         observed_sha256=observed_sha256, at=timezone.now())
    event.save()
    return event


@transaction.atomic
def evidence_attach(*, record, upload, user, description: str = "", actor_name: str = "",
                    custodian=None) -> EvidenceFile:
    """Keep `upload` as evidence for `record`: checked (type, size, content), hashed, stored under
    a random name, logged as uploaded with the uploader as its first custodian. A refused upload
    writes nothing; a failure after the file is stored, or a rollback of the caller's transaction,
    removes the file again (qgov.files.removed_unless_committed).

    `user=None` is an upload by someone without an account (a supplier contact through a one-time
    link): no permission is asked — the caller has checked the link — and `actor_name` must say
    who it was; the first custodian is then `custodian` (a member of the agency, or nobody). Run
    it inside `qgov.audit.actor_without_account(label=…)` so that the audit events name them too."""
    model = type(record)
    agency_id = getattr(record, "owning_agency_id", None)
    if not accepts_evidence(model) or agency_id is None:
        raise ValidationError({"file": [_("%(models)s do not take evidence files.") % {
            "models": str(model._meta.verbose_name_plural).capitalize()}]})
    if user is not None:
        require(user, agency_id, MAY_WRITE, model)  # asked afresh, inside this transaction
        actor_name, custodian = user.get_username(), user
    elif not actor_name.strip():
        raise ValueError("An upload without a user needs the uploader's name (actor_name).")
    actor_name = actor_name.strip()[:200]
    checked = check_upload(upload)
    storage = evidence_storage()
    # A random name: nothing about the record or the uploader can be read from the storage.
    stored_name = storage.save(f"{uuid.uuid4().hex}.{checked.extension}", upload)
    with removed_unless_committed(storage, stored_name):
        evidence = EvidenceFile(
            agency_id=agency_id, content_type=ContentType.objects.get_for_model(model), object_id=record.pk,
            file_name=checked.file_name, description=description.strip(), sha256=checked.sha256,
            size=checked.size, media_type=checked.media_type, uploaded_by=user, uploader_name=actor_name,
            uploaded_at=timezone.now(), custodian=custodian)
        evidence.file.name = stored_name
        evidence.full_clean(exclude=["file", "uploaded_by", "custodian", "content_type", "agency"])
        with one_change():  # the file's "create" event and the custody entry's, written together
            evidence.save()
            _custody(evidence, Custody.UPLOADED, user=user, to_user=custodian, actor_name=actor_name)
    return evidence


def evidence_open(*, evidence, user) -> File:
    """The stored file, opened for reading, for `user` to download; logged in the custody log
    (and so in the audit chain). The caller closes it (a FileResponse does)."""
    with transaction.atomic():
        _require_on_record(user, evidence, MAY_READ)
        opened = evidence_storage().open(evidence.file.name, "rb")
        try:
            with one_change():
                _custody(evidence, Custody.DOWNLOADED, user=user)
        except BaseException:
            opened.close()
            raise
    return opened


@dataclass(frozen=True)
class Verification:
    match: bool
    expected: str  # the SHA-256 recorded at upload
    actual: str  # the SHA-256 of the stored file now ("" when the file is missing)
    expected_size: int
    actual_size: int | None
    event: CustodyEvent


@transaction.atomic
def evidence_verification(*, evidence, user) -> Verification:
    """Recompute the stored file's SHA-256 and size and compare them with what was recorded at
    upload; the outcome (match or mismatch, with the hash found) goes into the custody log."""
    _require_on_record(user, evidence, MAY_READ)
    storage = evidence_storage()
    try:
        with storage.open(evidence.file.name, "rb") as stored:
            actual, actual_size = sha256_and_size(stored)
        note = ""
    except FileNotFoundError:
        actual, actual_size, note = "", None, _("The stored file is missing.")
    match = actual == evidence.sha256 and actual_size == evidence.size
    with one_change():
        event = _custody(evidence, Custody.VERIFIED_MATCH if match else Custody.VERIFIED_MISMATCH, user=user,
                         note=note, observed_sha256=actual)
    return Verification(match=match, expected=evidence.sha256, actual=actual, expected_size=evidence.size,
                        actual_size=actual_size, event=event)


def evidence_verify(*, evidence, user) -> bool:
    """True when the stored file still has the SHA-256 and size recorded at upload (logged)."""
    return evidence_verification(evidence=evidence, user=user).match


def handover_candidates(evidence):
    """Who may receive custody: the active members of the agency who may view the record."""
    return users_who_can(evidence.agency_id, MAY_READ, evidence.record_model)


def _lock(evidence, user):
    locked = EvidenceFile.objects.select_for_update(of=("self",)).filter(pk=evidence.pk).first()
    if locked is None:
        raise PermissionDenied(_("You do not have permission to do this."))
    _require_on_record(user, locked, MAY_WRITE)
    return locked


@transaction.atomic
def evidence_handover(*, evidence, user, to_user, note: str = "") -> CustodyEvent:
    """Make `to_user` (a member of the agency who may view the record) the file's custodian."""
    locked = _lock(evidence, user)
    if to_user is None or not handover_candidates(locked).filter(pk=to_user.pk).exists():
        raise ValidationError({"to_user": [_("Choose a member of the agency who may view the record.")]})
    if to_user.pk == locked.custodian_id:
        raise ValidationError({"to_user": [_("%(user)s is already the custodian.") % {
            "user": to_user.get_username()}]})
    note = note.strip()
    with one_change() as change:  # the custodian's change and the custody entry, one change
        change.remember(locked, before=snapshot(locked))
        mark_transition(locked, "handover", note)
        from_user = locked.custodian
        locked.custodian = to_user
        locked.save()
        event = _custody(locked, Custody.HANDED_OVER, user=user, from_user=from_user, to_user=to_user, note=note)
    evidence.custodian, evidence.version = locked.custodian, locked.version
    return event


@transaction.atomic
def evidence_withdraw(*, evidence, user, reason: str) -> CustodyEvent:
    """Mark the file as withdrawn (wrong file, superseded…), with a reason. The file and its log
    are kept: evidence is never deleted through the UI or the API."""
    locked = _lock(evidence, user)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the file is withdrawn.")]})
    if locked.is_withdrawn:
        raise ValidationError({"reason": [_("This file was already withdrawn.")]})
    with one_change() as change:
        change.remember(locked, before=snapshot(locked))
        mark_transition(locked, "withdraw", reason)
        locked.withdrawn_at, locked.withdrawn_by, locked.withdrawn_reason = timezone.now(), user, reason
        locked.save()
        event = _custody(locked, Custody.WITHDRAWN, user=user, note=reason)
    for name in ("withdrawn_at", "withdrawn_by", "withdrawn_reason", "version"):
        setattr(evidence, name, getattr(locked, name))
    return event


def evidence_orphans(*, older_than) -> list[str]:
    """Stored evidence files (top level of the evidence storage, where uploads are written) that
    no EvidenceFile row names and that were last modified before `older_than`: what a process
    killed between storing an upload and committing it leaves behind."""
    storage = evidence_storage()
    try:
        _folders, names = storage.listdir("")
    except FileNotFoundError:
        return []
    known = set(EvidenceFile.objects.filter(file__in=names).values_list("file", flat=True))
    return sorted(name for name in names if name not in known and storage.get_modified_time(name) < older_than)
