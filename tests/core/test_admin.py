"""The Django admin writes through the core services: permission, version, same-agency check,
model rules such as the last-admin rule, agency-setup hooks and one audit event per change.
A refusal is an error message on the page, and nothing is written."""

from types import SimpleNamespace

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages

from qgov.choices import RoleChoices
from qgov.models import RECORD_FIELDS, Agency, AuditEvent, Membership
from qgov.testing import events_for
from risks.models import Control, RiskAcceptance, RiskMatrix
from tests.factories import MembershipFactory
from tests.risks.factories import AssetFactory, RiskAcceptanceFactory, RiskFactory

LAST_ADMIN = "An agency must keep at least one admin."


@pytest.fixture
def platform(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def sole_admin(agency, member_of):
    member_of(agency, RoleChoices.VIEWER)
    return Membership.objects.get(user=member_of(agency, RoleChoices.ADMIN))


def admin_form_data(response) -> dict:
    """What the admin change page would post back unchanged."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value in (None, False):
            continue
        data[name] = "on" if value is True else [str(v.pk if hasattr(v, "pk") else v) for v in value] if isinstance(
            value, list | tuple) else str(value)
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
    return data


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_removing_the_last_admin_through_the_admin_is_refused(platform, agency, sole_admin):
    events = AuditEvent.objects.count()
    response = platform.post(f"/admin/qgov/membership/{sole_admin.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert messages_of(response) == [LAST_ADMIN]
    assert Membership.objects.filter(pk=sole_admin.pk, role=RoleChoices.ADMIN).exists()
    assert AuditEvent.objects.count() == events


def test_bulk_deleting_the_last_admin_is_refused_and_nothing_is_deleted(platform, agency, sole_admin):
    viewer = Membership.objects.get(agency=agency, role=RoleChoices.VIEWER)
    events = AuditEvent.objects.count()
    response = platform.post("/admin/qgov/membership/", {
        "action": "delete_selected", "_selected_action": [viewer.pk, sole_admin.pk], "post": "yes"}, follow=True)
    assert response.status_code == 200
    assert messages_of(response) == [LAST_ADMIN]
    assert sorted(Membership.objects.filter(agency=agency).values_list("pk", flat=True)) == sorted(
        [viewer.pk, sole_admin.pk])
    assert AuditEvent.objects.count() == events


def test_deleting_the_last_admin_in_the_agency_inline_is_refused(platform, agency, sole_admin):
    page = platform.get(f"/admin/qgov/agency/{agency.pk}/change/")
    data = admin_form_data(page)
    inline = page.context["inline_admin_formsets"][0].formset
    for index, form in enumerate(inline.forms):
        data.update({f"{inline.prefix}-{index}-id": str(form.instance.pk),
                     f"{inline.prefix}-{index}-agency": str(agency.pk),
                     f"{inline.prefix}-{index}-user": str(form.instance.user_id),
                     f"{inline.prefix}-{index}-role": form.instance.role})
        if form.instance.pk == sole_admin.pk:
            data[f"{inline.prefix}-{index}-DELETE"] = "on"
    response = platform.post(f"/admin/qgov/agency/{agency.pk}/change/", data, follow=True)
    assert messages_of(response) == [LAST_ADMIN]
    assert Membership.objects.filter(pk=sole_admin.pk).exists()


def test_an_admin_edit_bumps_the_version_and_writes_one_audit_event(platform, agency, superuser):
    asset = AssetFactory(agency=agency, name="Link A")
    events = AuditEvent.objects.count()
    data = {**admin_form_data(platform.get(f"/admin/risks/asset/{asset.pk}/change/")), "name": "Link B"}
    response = platform.post(f"/admin/risks/asset/{asset.pk}/change/", data)
    assert response.status_code == 302
    asset.refresh_from_db()
    assert (asset.name, asset.version) == ("Link B", 2)
    assert AuditEvent.objects.count() == events + 1
    event = events_for(asset).latest("seq")
    assert (event.action, event.source, event.actor, event.changed_fields) == (
        "update", "admin", superuser, ["name", "version"])


def test_an_admin_edit_cannot_link_another_agencys_records(platform, agency, other_agency):
    risk = RiskFactory(agency=agency)
    theirs = AssetFactory(agency=other_agency)
    data = {**admin_form_data(platform.get(f"/admin/risks/risk/{risk.pk}/change/")), "assets": [str(theirs.pk)]}
    response = platform.post(f"/admin/risks/risk/{risk.pk}/change/", data, follow=True)
    assert messages_of(response) == ["Choose a record of the same agency."]
    risk.refresh_from_db()
    assert (list(risk.assets.all()), risk.version) == ([], 1)


def test_an_agency_added_in_the_admin_gets_every_apps_setup(platform, superuser):
    response = platform.post("/admin/qgov/agency/add/", {
        "name": "Office of Links", "code": "OOL", "sector": "digital", "time_zone": "UTC",
        "qgov_membership_set-TOTAL_FORMS": "0", "qgov_membership_set-INITIAL_FORMS": "0"})
    assert response.status_code == 302
    agency = Agency.objects.get(code="OOL")
    assert RiskMatrix.objects.filter(agency=agency).count() == 1
    assert [(e.action, e.source) for e in events_for(agency)] == [("create", "admin")]


def test_a_member_added_in_the_agency_inline_goes_through_the_services(platform, agency, sole_admin, member_of):
    newcomer = member_of(agency.__class__.objects.create(name="Elsewhere", code="ELS", sector="digital"))
    page = platform.get(f"/admin/qgov/agency/{agency.pk}/change/")
    data = admin_form_data(page)
    inline = page.context["inline_admin_formsets"][0].formset
    for index, form in enumerate(inline.forms[:inline.initial_form_count()]):
        data.update({f"{inline.prefix}-{index}-id": str(form.instance.pk),
                     f"{inline.prefix}-{index}-agency": str(agency.pk),
                     f"{inline.prefix}-{index}-user": str(form.instance.user_id),
                     f"{inline.prefix}-{index}-role": form.instance.role})
    new = inline.initial_form_count()
    data.update({f"{inline.prefix}-TOTAL_FORMS": str(new + 1), f"{inline.prefix}-{new}-agency": str(agency.pk),
                 f"{inline.prefix}-{new}-user": str(newcomer.pk), f"{inline.prefix}-{new}-role": "editor"})
    response = platform.post(f"/admin/qgov/agency/{agency.pk}/change/", data)
    assert response.status_code == 302, messages_of(response)
    membership = Membership.objects.get(agency=agency, user=newcomer)
    assert membership.role == "editor"
    assert [(e.action, e.source) for e in events_for(membership)] == [("create", "admin")]


def test_record_and_lifecycle_owned_fields_are_read_only(platform, agency):
    assert admin.site._registry[Control].get_readonly_fields(None) == list(RECORD_FIELDS)
    acceptance_admin = admin.site._registry[RiskAcceptance]
    assert acceptance_admin.get_readonly_fields(None) == [
        "requested_by", *RECORD_FIELDS, "approved_at", "approved_by", "decision_note", "rating_at_decision",
        "residual_score_at_decision", "status"]
    acceptance = RiskAcceptanceFactory(agency=agency)
    page = platform.get(f"/admin/risks/riskacceptance/{acceptance.pk}/change/")
    assert "status" not in page.context["adminform"].form.fields
    data = {**admin_form_data(page), "status": "approved", "rationale": "Reworded"}
    assert platform.post(f"/admin/risks/riskacceptance/{acceptance.pk}/change/", data).status_code == 302
    acceptance.refresh_from_db()
    assert (acceptance.rationale, acceptance.status) == ("Reworded", "requested")


def test_models_outside_the_core_records_are_read_only_in_the_admin(platform, agency, superuser):
    from qgov.models import ApiToken, AuditEvent, Notification

    request = SimpleNamespace(user=superuser)
    for model in (ApiToken, AuditEvent, Notification):
        model_admin = admin.site._registry[model]
        assert (model_admin.has_add_permission(request), model_admin.has_change_permission(request),
                model_admin.has_delete_permission(request)) == (False, False, False)
    MembershipFactory(agency=agency)
    assert platform.get("/admin/qgov/auditevent/").status_code == 200
