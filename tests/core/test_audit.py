"""The audit chain: what is recorded, from which door, and that tampering is detected."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection

from qgov.audit import audit_context
from qgov.audit_verify import verify_chain
from qgov.choices import AuditActionChoices, AuditSourceChoices, RoleChoices
from qgov.models import Agency, AuditChainHead, AuditEvent, Membership
from qgov.testing import events_for
from tests.factories import AgencyFactory, MembershipFactory


def test_create_update_delete_are_chained_events(agency):
    membership = MembershipFactory(agency=agency, role=RoleChoices.VIEWER)
    membership.role = RoleChoices.EDITOR
    membership.save()
    pk = membership.pk
    membership.delete()
    events = list(events_for(Membership, pk).order_by("seq"))
    assert [e.action for e in events] == ["create", "update", "delete"]
    update = events[1]
    assert update.changed_fields == ["role", "version"]
    assert update.before["role"] == "viewer" and update.after["role"] == "editor"
    assert update.before["version"] == 1 and update.after["version"] == 2
    assert events[2].after is None and events[2].before["role"] == "editor"
    assert update.agency_id == agency.pk
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert verify_chain() is None


def test_events_carry_source_and_label_outside_requests(agency):
    with audit_context(source=AuditSourceChoices.TASK, label="task:nightly"):
        MembershipFactory(agency=agency)
    event = AuditEvent.objects.filter(content_type__model="membership").latest("seq")
    assert event.source == "task"
    assert event.actor is None
    assert event.actor_repr == "task:nightly"


def test_api_change_records_actor_source_and_request_id(agency, member_of, api_as):
    admin = member_of(agency, RoleChoices.ADMIN)
    membership = MembershipFactory(agency=agency)
    response = api_as(admin).patch(
        f"/api/memberships/{membership.pk}/", {"role": "auditor"}, format="json", HTTP_X_REQUEST_ID="req-abc-12345"
    )
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-abc-12345"
    event = events_for(membership).latest("seq")
    assert (event.action, event.actor, event.source, event.request_id) == ("update", admin, "api", "req-abc-12345")


def test_ui_change_is_recorded_as_ui(client, agency, member_of):
    admin = member_of(agency, RoleChoices.ADMIN)
    client.force_login(admin)
    response = client.post(f"/agencies/{agency.pk}/edit/", {
        "name": agency.name, "code": agency.code, "sector": agency.sector, "time_zone": "Europe/Vienna",
        "description": "", "version": agency.version})
    assert response.status_code == 302
    event = events_for(agency).latest("seq")
    assert (event.source, event.actor, event.after["time_zone"]) == ("ui", admin, "Europe/Vienna")


def test_admin_change_is_recorded_as_admin(client, agency, superuser):
    client.force_login(superuser)
    response = client.post(f"/admin/qgov/agency/{agency.pk}/change/", {
        "name": agency.name, "code": agency.code, "sector": agency.sector, "time_zone": "Europe/Rome",
        "description": "via admin", "qgov_membership_set-TOTAL_FORMS": "0",
        "qgov_membership_set-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content[:2000]
    event = events_for(agency).latest("seq")
    assert (event.source, event.actor, event.after["description"]) == ("admin", superuser, "via admin")


def test_management_command_changes_are_recorded_as_command(db):
    call_command("load_demo", password="demo-password-for-tests", stdout=io.StringIO())
    demo = Agency.objects.get(code="DEMO")
    event = events_for(demo).get(action=AuditActionChoices.CREATE)
    assert (event.source, event.actor_repr) == ("command", "command:load_demo")
    # Running it again changes nothing that is audited but the supplier-portal link it prints anew
    # (procurement's demo), and the logins still work.
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    call_command("load_demo", password="demo-password-for-tests", stdout=io.StringIO())
    again = AuditEvent.objects.filter(pk__gt=before).select_related("content_type")
    assert sorted({(event.content_type.model, event.action) for event in again}) == [
        ("duediligencereview", "transition"), ("portallink", "create"), ("portallink", "update")]
    assert get_user_model().objects.get(username="demo-editor").check_password("demo-password-for-tests")
    assert Membership.objects.filter(agency=demo).count() == 4


def test_password_hashes_never_reach_the_audit_trail(db):
    user = get_user_model().objects.create_user("alice", "alice@example.org", "a-long-password-1")
    event = events_for(user).get()
    assert "password" not in event.after and "last_login" not in event.after
    user.set_password("another-long-password-2")
    user.save()
    assert events_for(user).count() == 1  # nothing audited changed


def test_events_are_append_only(agency):
    event = AuditEvent.objects.latest("seq")
    event.object_repr = "rewritten"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()


def _chain_of_three():
    """Three events in one agency's chain: the agency's creation and two edits."""
    agency = AgencyFactory(code="A1")
    for description in ("first", "second"):
        agency.description = description
        agency.save()
    return list(AuditEvent.objects.filter(chain=f"agency:{agency.pk}").order_by("seq"))


def test_verify_audit_passes_on_an_intact_chain(db):
    events = _chain_of_three()
    assert [e.seq for e in events] == [1, 2, 3]
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert out.getvalue().strip() == "Audit chains intact: 3 events in 1 chain verified."


def test_verify_audit_names_an_altered_event(db):
    events = _chain_of_three()
    AuditEvent.objects.filter(pk=events[1].pk).update(after={**events[1].after, "name": "Forged"})
    with pytest.raises(CommandError, match=rf"chain {events[1].chain}: event #2 \(id {events[1].pk}\).*altered"):
        call_command("verify_audit")


def test_verify_audit_names_a_removed_event(db):
    events = _chain_of_three()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM qgov_auditevent WHERE id = %s", [events[1].pk])
    with pytest.raises(CommandError, match=r"event #3 .*expected sequence 2"):
        call_command("verify_audit")


def test_verify_audit_detects_a_removed_last_event(db):
    events = _chain_of_three()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM qgov_auditevent WHERE id = %s", [events[2].pk])
    with pytest.raises(CommandError, match=r"chain head: head records event #3 but the chain ends at #2"):
        call_command("verify_audit")


def test_verify_audit_detects_a_rehashed_forgery(db):
    """Recomputing a forged event's own hash still breaks the link to the next event."""
    from qgov.audit import compute_hash

    events = _chain_of_three()
    forged = AuditEvent.objects.get(pk=events[0].pk)
    forged.object_repr = "Forged"
    AuditEvent.objects.filter(pk=forged.pk).update(object_repr="Forged", hash=compute_hash(forged))
    with pytest.raises(CommandError, match=r"event #2 .*previous-hash link is broken"):
        call_command("verify_audit")


def test_nightly_task_notifies_platform_admins_of_a_broken_chain(db, superuser, mailoutbox,
                                                                  django_capture_on_commit_callbacks):
    from qgov.tasks import verify_audit_chain

    events = _chain_of_three()
    AuditEvent.objects.filter(pk=events[0].pk).update(object_repr="Forged")
    with django_capture_on_commit_callbacks(execute=True):
        result = verify_audit_chain.delay().get()
    assert result["ok"] is False
    assert "event #1" in result["problem"]
    assert superuser.notifications.get().title == "Audit chain verification failed"
    assert [m.to for m in mailoutbox] == [[superuser.email]]


def test_head_tracks_the_last_event(db):
    events = _chain_of_three()
    head = AuditChainHead.objects.get(chain=events[0].chain)
    assert (head.seq, head.hash) == (3, events[-1].hash)
