"""What agency systems integrate through, beyond the plain CRUD API (docs/integrating.md).

- `events`: the one stream of events. Every audited change of an agency's record is an audit
  event (qgov.audit.record_event); `change_recorded` is sent for it inside the change's
  transaction, and events without a record change (a due-date reminder, a report ready) are
  emitted with `emit()`. No second event model beside the audit trail.
- `representation`: a record as the API serialises it, outside a request (webhook payloads and
  the change feed).
- `webhooks`: endpoints, the outbox of deliveries and the sender (Standard Webhooks v1).
- `idempotency`: `Idempotency-Key` on API writes.
- `changes`: `/api/changes/`, the agency's change feed after an opaque cursor.
"""
