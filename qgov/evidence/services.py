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
from qgov.evidence.custody import (
    EXPORT_FORMATS,
    ChainVerification,
    custody_append,
    custody_chain_verify,
    export_csv,
    export_json,
)
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


def require_on_record(user, evidence, action: str) -> None:
    require(user, evidence.agency_id, action, evidence.record_model)


def _check_custody_text(errors: dict, **values) -> dict:
    """The custody entry's text fields, stripped, with their length checks (the form and the API
    check them too; a service called directly must not write what they would refuse)."""
    cleaned = {}
    for name, value in values.items():
        field = CustodyEvent._meta.get_field(name)
        cleaned[name] = (value or "").strip()
        if len(cleaned[name]) > field.max_length:
            errors.setdefault(name, []).append(_("At most %(limit)s characters.") % {"limit": field.max_length})
    return cleaned


def _check_collected_at(errors: dict, collected_at):
    if collected_at is not None and collected_at > timezone.now():
        errors.setdefault("collected_at", []).append(_("The evidence cannot have been collected in the future."))


@transaction.atomic
def evidence_attach(*, record, upload, user, description: str = "", actor_name: str = "",
                    custodian=None, collected_at=None, collected_by_name: str = "",
                    location: str = "") -> EvidenceFile:
    """Keep `upload` as evidence for `record`: checked (type, size, content), hashed, stored under
    a random name, logged as uploaded with the uploader as its first custodian. The first custody
    entry also says when, by whom and where the evidence was collected (`collected_at`, not in the
    future; `collected_by_name`; `location`) when that is not the upload itself. A refused upload
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
    errors = {}
    text = _check_custody_text(errors, collected_by_name=collected_by_name, location=location)
    _check_collected_at(errors, collected_at)
    if errors:  # before the file is read or stored: a refusal writes nothing
        raise ValidationError(errors)
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
            custody_append(evidence, action=Custody.UPLOADED, user=user, to_user=custodian, actor_name=actor_name,
                           collected_at=collected_at, **text)
    return evidence


def evidence_open(*, evidence, user) -> File:
    """The stored file, opened for reading, for `user` to download; logged in the custody log
    (and so in the audit chain). The caller closes it (a FileResponse does)."""
    with transaction.atomic():
        require_on_record(user, evidence, MAY_READ)
        opened = evidence_storage().open(evidence.file.name, "rb")
        try:
            with one_change():
                custody_append(evidence, action=Custody.DOWNLOADED, user=user)
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
    chain: ChainVerification  # the custody chain as it was before this verification's entry


@transaction.atomic
def evidence_verification(*, evidence, user) -> Verification:
    """Recompute the stored file's SHA-256 and size and compare them with what was recorded at
    upload, and check the custody chain; both outcomes (match or mismatch with the hash found,
    chain intact or where it breaks) go into the custody log as one entry."""
    require_on_record(user, evidence, MAY_READ)
    # Locked before the chain is read, so that the chain checked is the one this entry extends.
    list(EvidenceFile.objects.select_for_update(of=("self",)).filter(pk=evidence.pk).values_list("pk"))
    chain = custody_chain_verify(evidence)
    storage = evidence_storage()
    try:
        with storage.open(evidence.file.name, "rb") as stored:
            actual, actual_size = sha256_and_size(stored)
        note = ""
    except FileNotFoundError:
        actual, actual_size, note = "", None, _("The stored file is missing.")
    match = actual == evidence.sha256 and actual_size == evidence.size
    if not chain.ok:
        broken = _("The custody chain breaks at entry #%(sequence)s: %(reason)s.") % {
            "sequence": chain.broken_sequence, "reason": chain.reason}
        note = f"{note} {broken}".strip()
    with one_change():
        event = custody_append(evidence, action=Custody.VERIFIED_MATCH if match else Custody.VERIFIED_MISMATCH,
                               user=user, note=note, observed_sha256=actual, chain_intact=chain.ok, locked=True)
    return Verification(match=match, expected=evidence.sha256, actual=actual, expected_size=evidence.size,
                        actual_size=actual_size, event=event, chain=chain)


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
    require_on_record(user, locked, MAY_WRITE)
    return locked


@transaction.atomic
def evidence_handover(*, evidence, user, to_user, reason: str, location: str = "", note: str = "") -> CustodyEvent:
    """Make `to_user` (a member of the agency who may view the record) the file's custodian, saying
    why (`reason`, required) and where it was handed over (`location`, e.g. where the original
    medium went). All refusals are checked together, before anything is written."""
    locked = _lock(evidence, user)
    errors = {}
    if to_user is None or not handover_candidates(locked).filter(pk=to_user.pk).exists():
        errors["to_user"] = [_("Choose a member of the agency who may view the record.")]
    elif to_user.pk == locked.custodian_id:
        errors["to_user"] = [_("%(user)s is already the custodian.") % {"user": to_user.get_username()}]
    text = _check_custody_text(errors, reason=reason, location=location, note=note)
    if not text["reason"] and "reason" not in errors:
        errors["reason"] = [_("Say why the file is handed over.")]
    if errors:
        raise ValidationError(errors)
    with one_change() as change:  # the custodian's change and the custody entry, one change
        change.remember(locked, before=snapshot(locked))
        mark_transition(locked, "handover", text["reason"])
        from_user = locked.custodian
        locked.custodian = to_user
        locked.save()
        event = custody_append(locked, action=Custody.HANDED_OVER, user=user, from_user=from_user, to_user=to_user,
                               locked=True, **text)
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
        event = custody_append(locked, action=Custody.WITHDRAWN, user=user, reason=reason, locked=True)
    for name in ("withdrawn_at", "withdrawn_by", "withdrawn_reason", "version"):
        setattr(evidence, name, getattr(locked, name))
    return event


def evidence_custody_check(*, evidence, user) -> ChainVerification:
    """Check `evidence`'s custody chain without writing anything (a read: view permission)."""
    require_on_record(user, evidence, MAY_READ)
    return custody_chain_verify(evidence)


@dataclass(frozen=True)
class CustodyExport:
    content: bytes
    content_type: str
    file_name: str
    event: CustodyEvent  # the log entry recording this export (the last entry of the export)


@transaction.atomic
def evidence_custody_export(*, evidence, user, export_format: str) -> CustodyExport:
    """The custody log as a file (`export_format` "csv" or "json", with the hashes; the JSON also
    says whether the chain holds). Reading the log is logged like a download of the file: the
    export's own entry is appended first, and is the export's last line."""
    if export_format not in EXPORT_FORMATS:
        raise ValidationError({"format": [_("Choose csv or json.")]})
    require_on_record(user, evidence, MAY_READ)
    with one_change():
        event = custody_append(evidence, action=Custody.EXPORTED, user=user, note=export_format)
    events = list(evidence.custody_events.select_related("from_user", "to_user").order_by("sequence", "pk"))
    if export_format == "json":
        content = export_json(evidence, events, custody_chain_verify(evidence, events=events))
        content_type = "application/json"
    else:
        content, content_type = export_csv(events), "text/csv; charset=utf-8"
    return CustodyExport(content=content, content_type=content_type,
                         file_name=f"evidence-{evidence.pk}-custody.{export_format}", event=event)


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
