from qgov.integrations.webhooks.models import WebhookEndpoint
from qgov.integrations.webhooks.sealing import generate_secret, seal


def make_endpoint(agency, *, target_url="https://hooks.example.org/qgov", created_by=None, **fields):
    """An endpoint saved as the create service saves it, but without the address check (the tests'
    receivers are on loopback); its plain secret is on `.plain_secret`."""
    secret = generate_secret()
    fields.setdefault("all_events", not fields.get("event_types"))
    endpoint = WebhookEndpoint.objects.create(agency=agency, name=fields.pop("name", "Receiver"),
                                              target_url=target_url, secret_sealed=seal(secret),
                                              created_by=created_by, **fields)
    endpoint.plain_secret = secret
    return endpoint
