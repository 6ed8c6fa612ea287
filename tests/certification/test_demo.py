"""The demo fleet loads (twice, without duplicates) and shows every compliance outcome."""

import pytest
from django.core.management import call_command

from certification.models import Device, DeviceCertification, Person
from certification.selectors import (
    device_compliance_reasons,
    devices_with_compliance,
    people_with_compliance,
)
from qgov.models import Agency


@pytest.mark.django_db
def test_the_demo_fleet_shows_every_outcome():
    call_command("load_catalogs", verbosity=0)
    call_command("load_demo", password="demo-password-1", verbosity=0)
    call_command("load_demo", password="demo-password-1", verbosity=0)
    agency = Agency.objects.get(code="DEMO")
    assert agency.jurisdiction == "DE"
    assert Device.objects.filter(agency=agency).count() == 9
    devices = {d.name: d for d in devices_with_compliance(Device.objects.filter(agency=agency), agency=agency)}
    outcome = {name: d.compliance for name, d in devices.items()}
    assert outcome == {
        "QKD-TX-CN-A": "compliant", "QKD-RX-CN-B": "non_compliant", "QKD-TX-NR-A": "non_compliant",
        "QKD-RX-NR-B": "non_compliant", "TN-2 Riverside relay": "compliant", "TN-3 Northgate relay": "expiring",
        "KMS-A": "compliant", "PQC HSM Capital-1": "expiring", "Link encryptor WAN-1": "compliant"}

    def reasons(name):
        return [f.reason_code for f in device_compliance_reasons(devices[name])]

    assert reasons("QKD-RX-CN-B") == ["firmware_mismatch"]
    assert reasons("QKD-TX-NR-A") == ["not_recognised"]
    assert reasons("QKD-RX-NR-B") == ["revoked"]
    [sogis] = device_compliance_reasons(devices["TN-2 Riverside relay"])
    assert sogis.arrangement.code == "SOG-IS"
    assert DeviceCertification.objects.filter(agency=agency, device__name="PQC HSM Capital-1").get().expires
    people = {p.name: p.compliance for p in people_with_compliance(Person.objects.filter(agency=agency),
                                                                    agency=agency)}
    assert people == {"Alex Meyer": "compliant", "Sam Novak": "non_compliant", "Kim Schulz": "expiring",
                      "Jo Weber": "compliant", "Robin Fischer": "compliant", "Charlie Braun": "compliant",
                      "Eli Hoffmann": "not_required"}
