"""Webhooks (Standard Webhooks v1): agency endpoints subscribed to event types, the outbox of
deliveries written in the change's transaction, and the sender the beat runs (docs/integrating.md).

- `models`: WebhookEndpoint, WebhookDelivery (the outbox row, one per endpoint and event),
  WebhookAttempt (the delivery log).
- `services`: endpoint create / rotate / test, the outbox receiver, emit, redelivery.
- `delivery`: claim due deliveries, send one (signed), record the attempt, schedule the next.
- `ssrf`: which addresses a webhook may reach, and an HTTP adapter pinned to the checked address.
"""
