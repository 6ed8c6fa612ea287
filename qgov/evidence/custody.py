"""The custody log of each evidence file as a hash chain of its own (docs/evidence.md, "Custody
chain"): every entry has a sequence number (1, 2, 3… per file), the previous entry's hash and its
own SHA-256 over a canonical serialisation of its fields. Editing an entry, removing one or
changing their order breaks the chain at a sequence number that `custody_chain_verify` names.

The chain needs no key, so anyone holding the exported log can check it; the agency's audit chain
(keyed, qgov.audit) records each entry's creation as well, with its hash.
"""

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from qgov.exports import csv_cell

GENESIS_HASH = "0" * 64  # the "previous hash" of each file's first entry

# The fields of the canonical serialisation, as `canonical_fields` names them.
CANONICAL_KEYS = ("action", "actor", "actor_name", "at", "chain_intact", "collected_at", "collected_by_name",
                  "evidence", "from", "location", "note", "observed_sha256", "previous_hash", "reason",
                  "sequence", "to")


def canonical_time(value) -> str | None:
    """UTC, microseconds always written: 2026-12-01T15:40:27.123456Z."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_fields(event) -> dict:
    """What an entry's hash covers. Reads only attributes (ids, not related rows), so it works on
    historical models in migrations and costs no query."""
    return {
        "action": event.action, "actor": event.actor_id, "actor_name": event.actor_name,
        "at": canonical_time(event.at), "chain_intact": event.chain_intact,
        "collected_at": canonical_time(event.collected_at), "collected_by_name": event.collected_by_name,
        "evidence": event.evidence_id, "from": event.from_user_id, "location": event.location, "note": event.note,
        "observed_sha256": event.observed_sha256, "previous_hash": event.previous_hash, "reason": event.reason,
        "sequence": event.sequence, "to": event.to_user_id,
    }


def canonical_bytes(fields: dict) -> bytes:
    """JSON, keys sorted, no whitespace, UTF-8 (non-ASCII characters as they are)."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(event) -> str:
    return hashlib.sha256(canonical_bytes(canonical_fields(event))).hexdigest()


def custody_append(evidence, *, action: str, user, actor_name: str = "", from_user=None, to_user=None,
                   note: str = "", reason: str = "", location: str = "", observed_sha256: str = "",
                   collected_at=None, collected_by_name: str = "", chain_intact: bool | None = None,
                   locked: bool = False):
    """Append one entry to `evidence`'s custody chain. Must run inside the caller's transaction.
    The evidence row is locked first (unless the caller holds the lock: `locked=True`) so that two
    appends to one file take turns and never both extend the same head."""
    from qgov.evidence.models import CustodyEvent, EvidenceFile

    if not locked:
        # FOR UPDATE on the file's row (a no-op on SQLite, whose writers queue anyway).
        list(EvidenceFile.objects.select_for_update(of=("self",)).filter(pk=evidence.pk).values_list("pk"))
    head = (CustodyEvent.objects.filter(evidence_id=evidence.pk).order_by("-sequence")
            .values_list("sequence", "entry_hash").first())
    sequence, previous = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    # Built from values the service has already checked, so no full_clean (its foreign-key checks
    # would cost a query each on every download).
    event = CustodyEvent(
        agency_id=evidence.agency_id, evidence=evidence, action=action, actor=user,
        actor_name=actor_name or user.get_username(), from_user=from_user, to_user=to_user, note=note,
        reason=reason, location=location, observed_sha256=observed_sha256, collected_at=collected_at,
        collected_by_name=collected_by_name, chain_intact=chain_intact,
        # The hash covers the time as the database keeps it: microseconds, no finer.
        at=timezone.now(), sequence=sequence, previous_hash=previous)
    event.entry_hash = entry_hash(event)
    event.save()
    return event


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    entries: int  # how many entries were read
    broken_sequence: int | None  # the first sequence number at which the chain does not hold
    reason: str  # why, in words ("" when ok)
    head_hash: str  # the last entry's hash (GENESIS_HASH for an empty log)
    checked_at: dt.datetime

    def as_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "broken_sequence": self.broken_sequence,
                "reason": self.reason, "head_hash": self.head_hash, "checked_at": self.checked_at}


def custody_chain_verify(evidence, *, events=None) -> ChainVerification:
    """Walk `evidence`'s custody entries in sequence order and name the first one that breaks the
    chain: a sequence gap (an entry removed), a previous-hash link that does not match the entry
    before it (an entry removed or moved), or content that does not match its hash (edited).
    `events` are the entries already read (ordered by sequence), to save the query."""
    if events is None:
        events = evidence.custody_events.order_by("sequence", "pk")
    expected_sequence, expected_previous, count = 1, GENESIS_HASH, 0
    problem = None
    for event in events:
        count += 1
        if event.sequence != expected_sequence:
            problem = (expected_sequence, _("entry #%(expected)s is missing: the log goes on at #%(found)s")
                       % {"expected": expected_sequence, "found": event.sequence})
        elif event.previous_hash != expected_previous:
            problem = (event.sequence, _("its previous hash is not the hash of entry #%(before)s: an entry was "
                                         "removed or the order changed") % {"before": event.sequence - 1}
                       if event.sequence > 1 else _("the first entry does not start the chain"))
        elif entry_hash(event) != event.entry_hash:
            problem = (event.sequence, _("its content does not match its hash: the entry was altered"))
        if problem:
            break
        expected_sequence, expected_previous = event.sequence + 1, event.entry_hash
    if problem:
        return ChainVerification(ok=False, entries=count, broken_sequence=problem[0], reason=problem[1],
                                 head_hash=expected_previous, checked_at=timezone.now())
    return ChainVerification(ok=True, entries=count, broken_sequence=None, reason="", head_hash=expected_previous,
                             checked_at=timezone.now())


# --- export --------------------------------------------------------------------------------------

EXPORT_FORMATS = ("csv", "json")
CSV_HEADER = ("sequence", "at", "action", "action_label", "actor_id", "actor_name", "from_user_id", "from_user",
              "to_user_id", "to_user", "collected_at", "collected_by_name", "location", "reason", "note",
              "observed_sha256", "chain_intact", "previous_hash", "entry_hash")


def _username(user) -> str:
    return user.get_username() if user is not None else ""


def export_rows(events) -> list[dict]:
    """Each entry as exported: the canonical fields (what its hash covers), its hash, and the names
    of the users it refers to (ids in the canonical fields)."""
    return [{**canonical_fields(event), "entry_hash": event.entry_hash, "action_label": event.get_action_display(),
             "from_name": _username(event.from_user), "to_name": _username(event.to_user)} for event in events]


def export_json(evidence, events, verification: ChainVerification) -> bytes:
    document = {
        "evidence": {"id": evidence.pk, "file_name": evidence.file_name, "sha256": evidence.sha256,
                     "size": evidence.size, "agency": evidence.agency.code,
                     "record_type": f"{evidence.content_type.app_label}.{evidence.content_type.model}",
                     "record_id": evidence.object_id},
        "canonical_keys": list(CANONICAL_KEYS),
        "genesis_hash": GENESIS_HASH,
        "chain": {**verification.as_dict(), "checked_at": canonical_time(verification.checked_at)},
        "events": export_rows(events),
    }
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")


def export_csv(events) -> bytes:
    """Times in UTC as in the canonical form; text that a spreadsheet would run as a formula gets a
    leading quote (so recompute hashes from the JSON export, which keeps the text as it is)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for row in export_rows(events):
        writer.writerow([csv_cell(value) for value in (
            row["sequence"], row["at"], row["action"], row["action_label"], row["actor"], row["actor_name"],
            row["from"], row["from_name"], row["to"], row["to_name"], row["collected_at"] or "",
            row["collected_by_name"], row["location"], row["reason"], row["note"], row["observed_sha256"],
            "" if row["chain_intact"] is None else str(row["chain_intact"]).lower(), row["previous_hash"],
            row["entry_hash"])])
    return out.getvalue().encode("utf-8")
