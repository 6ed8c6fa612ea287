"""The demo: an open key compromise mid-playbook and a closed tampering case with its review."""

import pytest
from django.core.management import call_command

from incidents.models import Incident
from qgov.models import Agency

pytestmark = pytest.mark.django_db


def test_load_demo_adds_the_two_incidents_once(capsys):
    call_command("load_demo", password="demo-pass-123")
    agency = Agency.objects.get(code="DEMO")
    incidents = {i.title: i for i in Incident.objects.filter(agency=agency)}
    open_one = incidents["Suspected key compromise on KMS-A"]
    assert (open_one.status, open_one.severity, open_one.marking) == ("contained", 1, "TLP:AMBER+STRICT")
    assert open_one.playbook.agency_id == agency.pk and open_one.playbook.source.code == "PB-01"
    done = {(s.phase, s.completed_at is not None) for s in open_one.steps.all()}
    assert ("detect", True) in done and ("contain", True) in done and ("contain", False) in done
    assert not open_one.steps.filter(phase="recover", completed_at__isnull=False).exists()
    closed = incidents["Broken seal on the Riverside trusted node"]
    assert closed.status == "closed"
    assert closed.closed_at is not None
    assert closed.steps.filter(completed_at__isnull=True, mandatory=True).count() == 0
    assert [r.title for r in closed.follow_up_risks.all()] == ["Shared cabinet keys at trusted-node sites"]
    assert closed.devices.count() == 1 and closed.suppliers.count() == 1
    call_command("load_demo", password="demo-pass-123")
    assert Incident.objects.filter(agency=agency).count() == 2
