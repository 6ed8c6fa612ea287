"""Reminders of expiring certifications and accreditations through the core's due dates: one per
threshold, an escalation to the admins at the last one, none once the certificate is renewed."""

import datetime as dt

import pytest

from qgov.choices import RoleChoices
from qgov.duedates.services import due_reminders_send
from qgov.models import Notification
from tests.certification.factories import DeviceCertificationFactory, DeviceFactory, PersonnelAccreditationFactory

DUE = dt.date(2027, 3, 31)


def day(days_before):
    return DUE - dt.timedelta(days=days_before)


@pytest.fixture
def people(agency, member_of):
    return {"owner": member_of(agency, RoleChoices.EDITOR, username="owner"),
            "admin": member_of(agency, RoleChoices.ADMIN, username="admin"),
            "viewer": member_of(agency, RoleChoices.VIEWER, username="viewer")}


@pytest.fixture
def certification(agency, people):
    device = DeviceFactory(agency=agency, name="QKD-TX-01", owner=people["owner"])
    return DeviceCertificationFactory(agency=agency, device=device, certificate_id="BSI-DSZ-CC-1301",
                                      scheme__code="CC-BSI", issued=dt.date(2024, 4, 1), expires=DUE)


def run(today, captured):
    with captured(execute=True):
        return due_reminders_send(today=today)


def titles_to(username):
    return [n.title for n in Notification.objects.filter(user__username=username).order_by("pk")]


def test_one_reminder_per_threshold_and_an_escalation_at_the_last(certification, people,
                                                                  django_capture_on_commit_callbacks):
    sent = {days: run(day(days), django_capture_on_commit_callbacks) for days in (91, 90, 89, 30, 30, 7, 7)}
    assert sent == {91: 0, 90: 1, 89: 0, 30: 0, 7: 0}  # the second run of a day sends nothing
    name = "CC-BSI BSI-DSZ-CC-1301"
    expected = [f"Certificate expires in 90 days: {name}", f"Certificate expires in 30 days: {name}",
                f"Escalation: Certificate expires in 7 days: {name}"]
    assert titles_to("owner") == expected
    assert titles_to("admin") == expected
    assert titles_to("viewer") == []


def test_reminders_stop_once_the_certificate_is_renewed(agency, certification, people,
                                                        django_capture_on_commit_callbacks):
    assert run(day(30), django_capture_on_commit_callbacks) == 1
    DeviceCertificationFactory(agency=agency, device=certification.device, scheme=certification.scheme,
                               certificate_id="BSI-DSZ-CC-1301-V2", issued=day(20), expires=DUE + dt.timedelta(1825))
    assert run(day(7), django_capture_on_commit_callbacks) == 0
    assert run(day(0), django_capture_on_commit_callbacks) == 0
    assert len(titles_to("owner")) == 1


def test_a_suspended_or_revoked_certificate_is_no_longer_reminded(certification, people,
                                                                  django_capture_on_commit_callbacks):
    type(certification).objects.filter(pk=certification.pk).update(status="revoked")
    assert run(day(30), django_capture_on_commit_callbacks) == 0


def test_accreditation_expiry_and_review_reach_the_holder(agency, people, django_capture_on_commit_callbacks):
    from tests.certification.factories import PersonFactory

    kim = PersonFactory(agency=agency, name="Kim", user=people["owner"])
    expiring = PersonnelAccreditationFactory(agency=agency, person=kim, level="SC", expires=DUE, review_due=None)
    reviewed = PersonnelAccreditationFactory(agency=agency, person=kim, level="DV", expires=None, review_due=DUE,
                                             scheme=expiring.scheme)
    assert run(day(90), django_capture_on_commit_callbacks) == 2
    assert run(day(90), django_capture_on_commit_callbacks) == 0
    assert titles_to("owner") == [f"Accreditation expires in 90 days: {expiring}",
                                  f"Accreditation review due in 90 days: {reviewed}"]
    assert titles_to("admin") == titles_to("owner")
