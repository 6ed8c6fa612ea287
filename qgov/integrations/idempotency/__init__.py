"""`Idempotency-Key` on API writes: the stored answers (models), the viewset mixin that honours the
header (api), and the purge of expired keys (services, tasks). docs/integrating.md says what
clients see."""
