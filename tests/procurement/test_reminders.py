"""Procurement's due dates run through the core's reminder service: a supplier's next due-diligence
review and a quantum-vulnerable component's policy deadline are reminded to their owner (the
supplier's) and the agency admins at the agency's own thresholds, escalated at the last one, and
no longer once closed (the review superseded, the supplier exited, the component made safe). The
contract sunset is in test_contracts.py."""

import datetime

import pytest

from procurement import catalog
from procurement.models import DueDiligenceReview
from procurement.services import review_answers_save, review_start
from qgov.choices import RoleChoices
from qgov.duedates.models import Reminder
from qgov.duedates.services import due_reminders_send
from qgov.models import Notification
from qgov.services import object_transition, object_update
from tests.procurement.factories import CryptoComponentFactory, SupplierFactory

pytestmark = pytest.mark.django_db

CODES = [f"Q{n}" for n in range(1, 19)]


@pytest.fixture(autouse=True)
def catalogs():
    catalog.load()  # the questionnaire, and the crypto policies that date components


@pytest.fixture
def agency(agency):
    agency.reminder_thresholds = [60, 14]  # not the default (90, 30, 7): the agency's own are used
    agency.save()
    return agency


@pytest.fixture
def owner(agency, member_of):
    return member_of(agency, RoleChoices.EDITOR, username="owner")


@pytest.fixture
def admin(agency, member_of):
    return member_of(agency, RoleChoices.ADMIN, username="admin")


@pytest.fixture
def supplier(agency, owner):
    return SupplierFactory(agency=agency, name="Photonica AG", criticality="critical", owner=owner)


def days(on: datetime.date, n: int) -> datetime.date:
    return on + datetime.timedelta(days=n)


def send(today, django_capture_on_commit_callbacks) -> int:
    with django_capture_on_commit_callbacks(execute=True):
        return due_reminders_send(today=today)


def titles(username):
    return list(Notification.objects.filter(user__username=username).order_by("pk").values_list("title", flat=True))


def submitted_review(supplier, user):
    review = review_start(supplier=supplier, user=user)
    review_answers_save(review=review, user=user, items=[{"question": code, "answer": "evidenced"} for code in CODES])
    return object_transition(instance=object_transition(instance=review, name="complete", user=user),
                             name="submit", user=user)


# --- the next due-diligence review --------------------------------------------------------------

def test_the_next_review_is_reminded_at_the_agencys_thresholds_until_the_supplier_exits(
        supplier, owner, admin, django_capture_on_commit_callbacks):
    review = submitted_review(supplier, owner)
    due = review.next_review_due
    assert due is not None
    assert send(days(due, -61), django_capture_on_commit_callbacks) == 0
    assert send(days(due, -60), django_capture_on_commit_callbacks) == 1
    first = f"Supplier review due in 60 days: {review}"
    assert titles("owner") == titles("admin") == [first]
    assert send(days(due, -30), django_capture_on_commit_callbacks) == 0  # no threshold of this agency's
    assert send(days(due, -14), django_capture_on_commit_callbacks) == 1  # the last threshold escalates
    second = f"Escalation: Supplier review due in 14 days: {review}"
    assert titles("owner") == titles("admin") == [first, second]
    # Exited, the supplier's review is no longer chased, not even on the date itself.
    object_transition(instance=supplier, name="exit", user=admin, reason="Contract ended")
    assert send(due, django_capture_on_commit_callbacks) == 0
    assert titles("owner") == [first, second]


def test_a_superseded_review_is_no_longer_reminded_its_successor_is(
        supplier, owner, admin, django_capture_on_commit_callbacks):
    first = submitted_review(supplier, owner)
    due = first.next_review_due
    second = submitted_review(supplier, owner)
    first.refresh_from_db()
    assert (first.status, first.next_review_due) == ("superseded", due)
    # The successor is due later (set here: both were submitted today).
    later = days(due, 200)
    DueDiligenceReview.objects.filter(pk=second.pk).update(next_review_due=later)
    assert send(days(due, -60), django_capture_on_commit_callbacks) == 0
    assert send(due, django_capture_on_commit_callbacks) == 0
    assert not Reminder.objects.filter(object_id=first.pk, due_name="next_review_due").exists()
    assert send(days(later, -60), django_capture_on_commit_callbacks) == 1
    assert titles("owner") == titles("admin") == [f"Supplier review due in 60 days: {second}"]


# --- the quantum-vulnerable component's policy deadline ------------------------------------------

def test_a_policy_deadline_is_reminded_until_the_component_is_no_longer_vulnerable(
        agency, supplier, owner, admin, django_capture_on_commit_callbacks):
    component = CryptoComponentFactory(agency=agency, supplier=supplier)  # RSA-2048: NIST IR 8547, 2030-12-31
    assert (component.quantum_vulnerable, component.policy_deadline) == (True, datetime.date(2030, 12, 31))
    due = component.policy_deadline
    assert send(days(due, -61), django_capture_on_commit_callbacks) == 0
    assert send(days(due, -60), django_capture_on_commit_callbacks) == 1
    first = f"Quantum-vulnerable cryptography must be replaced in 60 days: {component}"
    assert titles("owner") == titles("admin") == [first]
    # Replaced by ML-DSA: safe, so nothing more is sent, not the escalation at the last threshold.
    component = object_update(instance=component, user=owner, data={
        "name": "ML-DSA-65 signing key", "algorithm": "ML-DSA", "parameter_set_identifier": "65",
        "classical_security_level": 192, "nist_quantum_security_level": 3})
    assert (component.quantum_vulnerable, component.policy_deadline) == (False, None)
    assert send(days(due, -14), django_capture_on_commit_callbacks) == 0
    assert send(due, django_capture_on_commit_callbacks) == 0
    assert titles("owner") == titles("admin") == [first]


def test_a_component_still_vulnerable_is_escalated_at_the_last_threshold_and_on_the_date(
        agency, supplier, owner, admin, django_capture_on_commit_callbacks):
    component = CryptoComponentFactory(agency=agency, supplier=supplier)
    due = component.policy_deadline
    assert send(days(due, -14), django_capture_on_commit_callbacks) == 1  # 60 is passed over, not sent late
    assert send(days(due, -13), django_capture_on_commit_callbacks) == 0
    assert send(due, django_capture_on_commit_callbacks) == 1
    label = "Quantum-vulnerable cryptography must be replaced"
    assert titles("owner") == titles("admin") == [
        f"Escalation: {label} in 14 days: {component}", f"Escalation: {label} today: {component}"]
