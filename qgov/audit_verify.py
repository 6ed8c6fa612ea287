"""Verifying the audit chains: walk each chain from its start (or a checkpoint) to its head and
name the first event that was altered, removed or re-linked, or a truncated tail."""

import hmac
from dataclasses import dataclass

from qgov.audit import GENESIS_HASH, LEGACY_CHAIN, LEGACY_KEY_ID, PLATFORM_CHAIN, compute_hash, keyring


@dataclass
class ChainProblem:
    seq: int | None
    event_id: int | None
    reason: str
    chain: str = PLATFORM_CHAIN

    def __str__(self):
        where = f"event #{self.seq} (id {self.event_id})" if self.seq is not None else "chain head"
        return f"chain {self.chain}: {where}: {self.reason}"


@dataclass
class ChainReport:
    chain: str
    events: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    problem: ChainProblem | None = None


def _check_event(event, expected_seq, expected_prev, keys) -> str | None:
    if event.seq != expected_seq:
        return f"expected sequence {expected_seq}: an event was removed"
    if event.prev_hash != expected_prev:
        return "previous-hash link is broken: an earlier event was removed"
    if event.key_id == LEGACY_KEY_ID and event.chain != LEGACY_CHAIN:
        return "carries no key id: unkeyed hashes are only accepted in the legacy chain"
    if event.key_id != LEGACY_KEY_ID and event.key_id not in keys:
        return f"signed with key {event.key_id!r}, which is not configured (QGOV_AUDIT_KEY / QGOV_AUDIT_OLD_KEYS)"
    key = keys.get(event.key_id)
    if not hmac.compare_digest(compute_hash(event, key), event.hash):
        return "content does not match its hash: the event was altered"
    return None


def verify_chains(*, chain: str | None = None, from_seq: int = 1, batch_size: int = 2000) -> list[ChainReport]:
    """Walk every chain (or one) from `from_seq` to its head; each report names the chain's first
    problem, or none when the chain is intact."""
    from qgov.models import AuditChainHead, AuditEvent

    heads = {h.chain: h for h in AuditChainHead.objects.all() if chain is None or h.chain == chain}
    events = AuditEvent.objects.select_related("content_type").order_by("chain", "seq")
    names = set(heads)
    if chain is not None:
        events = events.filter(chain=chain)
        names.add(chain)
    else:
        names |= set(AuditEvent.objects.values_list("chain", flat=True).distinct())
    if from_seq > 1:
        events = events.filter(seq__gte=from_seq)
    keys = keyring()
    reports = {name: ChainReport(chain=name) for name in names}
    state: dict[str, tuple[int, str]] = {}  # chain -> (expected seq, expected prev hash)
    for event in events.iterator(chunk_size=batch_size):
        report = reports[event.chain]
        if report.problem is not None:
            continue
        expected_seq, expected_prev = state.get(
            event.chain, (from_seq, GENESIS_HASH if from_seq == 1 else event.prev_hash))
        reason = _check_event(event, expected_seq, expected_prev, keys)
        if reason:
            report.problem = ChainProblem(event.seq, event.pk, reason, chain=event.chain)
            continue
        state[event.chain] = (event.seq + 1, event.hash)
        report.events += 1
    for name, report in reports.items():
        head = heads.get(name)
        report.head_seq, report.head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
        if report.problem is None:
            last_seq, last_hash = state.get(name, (from_seq, GENESIS_HASH))
            last_seq -= 1
            if from_seq > 1 and name not in state and report.head_seq >= from_seq:
                report.problem = ChainProblem(from_seq, None, f"event #{from_seq} is missing", chain=name)
            elif report.head_seq != last_seq or (name in state and report.head_hash != last_hash):
                report.problem = ChainProblem(
                    None, None, f"head records event #{report.head_seq} but the chain ends at #{last_seq}",
                    chain=name)
    return sorted(reports.values(), key=lambda r: (r.chain != LEGACY_CHAIN, r.chain != PLATFORM_CHAIN, r.chain))


def verify_chain(*, chain: str | None = None, batch_size: int = 2000) -> ChainProblem | None:
    """The first problem of any chain (or of the one named), or None when all are intact."""
    for report in verify_chains(chain=chain, batch_size=batch_size):
        if report.problem is not None:
            return report.problem
    return None
