"""No server-side request forgery: https only, public addresses only (checked when saved and when
sent, the connection pinned to the checked address), unless the operator allows a host or network."""

import pytest
from django.db import transaction

from qgov.choices import RoleChoices
from qgov.integrations.events import REPORT_READY, emit
from qgov.integrations.webhooks import delivery as sender
from qgov.integrations.webhooks.models import WebhookDelivery, WebhookEndpoint
from qgov.integrations.webhooks.ssrf import TargetRefused, check_url
from tests.integrations.factories import make_endpoint
from tests.integrations.receiver import Receiver

REFUSED = [
    ("https://127.0.0.1/hook", "127.0.0.1"),  # loopback
    ("https://localhost/hook", "127.0.0.1"),  # a name that resolves to loopback
    ("https://[::1]/hook", "::1"),
    ("https://10.0.0.1/hook", "10.0.0.1"),  # RFC 1918
    ("https://172.16.5.4/hook", "172.16.5.4"),
    ("https://192.168.1.10/hook", "192.168.1.10"),
    ("https://169.254.169.254/latest/meta-data", "169.254.169.254"),  # link-local: cloud metadata
    ("https://[fe80::1]/hook", "fe80::1"),
    ("https://100.64.0.1/hook", "100.64.0.1"),  # CGNAT
    ("https://[fd00::1]/hook", "fd00::1"),  # ULA
    ("https://[::ffff:127.0.0.1]/hook", "::ffff:127.0.0.1"),  # IPv4-mapped
    ("https://[::ffff:8.8.8.8]/hook", "::ffff:8.8.8.8"),  # IPv4-mapped, even of a public address
    ("https://0.0.0.0/hook", "0.0.0.0"),  # noqa: S104 - the address refused
    ("https://224.0.0.1/hook", "224.0.0.1"),  # multicast
    ("https://240.0.0.1/hook", "240.0.0.1"),  # reserved
]


@pytest.mark.parametrize(("url", "address"), REFUSED)
def test_private_and_special_addresses_are_refused(url, address, settings):
    settings.QGOV_WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(TargetRefused) as refused:
        check_url(url)
    assert str(refused.value).endswith(f"resolves to {address}, which is not a public address.")


@pytest.mark.parametrize("url", ["http://8.8.8.8/hook", "ftp://8.8.8.8/hook", "gopher://8.8.8.8/"])
def test_only_https_is_allowed(url, settings):
    settings.QGOV_WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(TargetRefused, match="Webhook URLs must use https."):
        check_url(url)


def test_a_public_address_is_allowed_and_is_the_one_connected_to(settings):
    settings.QGOV_WEBHOOK_ALLOWED_HOSTS = []
    assert check_url("https://8.8.8.8/hook") == "8.8.8.8"
    assert check_url("https://[2001:4860:4860::8888]:8443/hook") == "2001:4860:4860::8888"


@pytest.mark.parametrize("allowed", [["127.0.0.1"], ["127.0.0.0/8"], ["localhost"]])
def test_the_operator_allows_intranet_receivers_by_host_or_network_plain_http_included(allowed, settings):
    settings.QGOV_WEBHOOK_ALLOWED_HOSTS = allowed
    url = "http://localhost:8080/hook" if allowed == ["localhost"] else "http://127.0.0.1:8080/hook"
    assert check_url(url) == "127.0.0.1"
    with pytest.raises(TargetRefused):  # what is not listed stays refused
        check_url("https://10.0.0.1/hook")


@pytest.mark.django_db
def test_the_api_refuses_a_private_target_with_a_field_message_and_writes_nothing(agency, member_of, api_as,
                                                                                  settings):
    settings.QGOV_WEBHOOK_ALLOWED_HOSTS = []
    admin = member_of(agency, RoleChoices.ADMIN)

    response = api_as(admin).post("/api/webhooks/", {"agency": agency.pk, "name": "Metadata",
                                                     "target_url": "https://169.254.169.254/latest",
                                                     "all_events": True}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "target_url": ["169.254.169.254 resolves to 169.254.169.254, which is not a public address."]}
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(("scheme", "error"), [
    ("http", "Webhook URLs must use https."),
    ("https", "127.0.0.1 resolves to 127.0.0.1, which is not a public address."),
])
def test_the_address_is_checked_again_when_sending(agency, settings, scheme, error):
    """Saved while the operator allowed it (or when its name resolved elsewhere); not allowed when
    the event is sent: refused, and the receiver never called."""
    settings.QGOV_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    with Receiver() as receiver:
        make_endpoint(agency, target_url=receiver.url.replace("http:", f"{scheme}:"))
        with transaction.atomic():
            emit(agency_id=agency.pk, event_type=REPORT_READY, data={})
        settings.QGOV_WEBHOOK_ALLOWED_HOSTS = []
        sender.send_due()

    delivery = WebhookDelivery.objects.get()
    assert (receiver.received, delivery.status, delivery.last_status_code) == ([], "pending", None)
    assert (delivery.last_error, delivery.attempt_log.get().error) == (error, error)
