"""The core pages: sign-in, dashboard and navigation, agency switcher, invitations, system
tokens, notifications, time zones."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from qgov.choices import RoleChoices
from qgov.models import ApiToken, Membership, Notification
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory

User = get_user_model()
# An editor's navigation: the audit trail and agency admin are not theirs (tests/core/test_pages.py).
NAVIGATION = ["Dashboard", "Due soon", "Risks"]


def test_pages_need_a_login(client, agency):
    for url in ["/", "/agencies/", "/members/", "/audit/", "/notifications/", "/agency/invite/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_sign_in_reaches_the_dashboard(client, agency, member_of):
    user = member_of(agency, RoleChoices.EDITOR)
    response = client.post("/login/", {"username": user.username, "password": TEST_PASSWORD}, follow=True)
    assert response.redirect_chain == [("/", 302)]
    html = response.content.decode()
    assert "Department of Quantum Networks" in html
    for label in NAVIGATION:
        assert f">{label}<" in html
    assert ">Audit<" not in html
    assert response.context["active_role"] == "editor"


def test_login_form_has_csrf_protection(agency, member_of):
    from django.test import Client

    user = member_of(agency)
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/login/", {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 403


def test_switcher_lists_only_my_agencies_and_switches(client, agency, other_agency, member_of):
    third = AgencyFactory(code="THIRD", name="Third Office")
    user = member_of(agency, RoleChoices.VIEWER)
    MembershipFactory(user=user, agency=other_agency, role=RoleChoices.AUDITOR)
    client.force_login(user)
    page = client.get("/")
    assert [a.code for a in page.context["user_agencies"]] == ["DQN", "MOT"]
    assert page.context["active_agency"] == agency
    switched = client.post("/agency/switch/", {"agency": other_agency.pk, "next": "/"}, follow=True)
    assert switched.context["active_agency"] == other_agency
    assert switched.context["active_role"] == "auditor"
    refused = client.post("/agency/switch/", {"agency": third.pk, "next": "/"}, follow=True)
    assert refused.context["active_agency"] == other_agency
    assert "You are not a member of that agency." in refused.content.decode()


def test_switcher_ignores_offsite_next(client, agency, other_agency, member_of):
    user = member_of(agency)
    MembershipFactory(user=user, agency=other_agency)
    client.force_login(user)
    response = client.post("/agency/switch/", {"agency": other_agency.pk, "next": "//evil.example/"})
    assert response["Location"] == "/"


def test_invite_creates_account_membership_and_password_link(client, agency, member_of, mailoutbox,
                                                             django_capture_on_commit_callbacks):
    admin = member_of(agency, RoleChoices.ADMIN)
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/agency/invite/", {"username": "new.analyst", "email": "analyst@agency.gov",
                                                   "role": "editor"})
    assert response.status_code == 302
    user = User.objects.get(username="new.analyst")
    assert not user.has_usable_password()
    assert Membership.objects.get(user=user).role == "editor"
    notification = Notification.objects.get(user=user)
    assert notification.title == "You were added to Department of Quantum Networks as Editor"
    assert "/password/reset/" in notification.url
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["analyst@agency.gov"]
    # The link lets the new member choose a password.
    link = notification.url.replace("http://testserver", "")
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert "new_password1" in form_page.content.decode()


def test_invite_refuses_existing_members_and_non_admins(client, agency, member_of):
    admin = member_of(agency, RoleChoices.ADMIN)
    member = member_of(agency, RoleChoices.VIEWER)
    client.force_login(admin)
    response = client.post("/agency/invite/", {"username": member.username, "email": "x@example.org",
                                               "role": "editor"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"username": ["This user is already a member of the agency."]}
    client.force_login(member_of(agency, RoleChoices.EDITOR))
    before = Membership.objects.count()
    response = client.post("/agency/invite/", {"username": "x", "email": "x@example.org", "role": "admin"})
    assert response.status_code == 403
    assert Membership.objects.count() == before


def test_system_token_is_shown_once_and_works(client, api_client, agency, member_of):
    admin = member_of(agency, RoleChoices.ADMIN)
    client.force_login(admin)
    response = client.post("/agency/tokens/add/", {"name": "CMDB", "agencies": [agency.pk],
                                                   "scopes": ["read", "risks:write"], "valid_days": 90,
                                                   "allowed_ips": "192.0.2.0/24\n127.0.0.1"})
    assert response.status_code == 200
    key = response.context["key"]
    assert key in response.content.decode()
    token = ApiToken.objects.get(name="CMDB")
    assert list(token.agencies.all()) == [agency] and token.user.username == "system-dqn-cmdb"
    assert (token.scopes, token.allowed_ips) == (["read", "risks:write"], ["127.0.0.1/32", "192.0.2.0/24"])
    assert Membership.objects.get(user=token.user).role == "editor"  # a scope writes
    assert not token.user.has_usable_password()
    # Shown once: the agency page lists the token by prefix only.
    page = client.get(reverse("qgov:agency_detail", args=[agency.pk])).content.decode()
    assert token.prefix in page and key not in page
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api_client.get("/api/agencies/").json()["results"][0]["code"] == "DQN"
    revoked = client.post(reverse("qgov:token_revoke", args=[token.pk]), {"next": "/agency/"})
    assert revoked.status_code == 302
    assert api_client.get("/api/agencies/").status_code == 401


def test_system_token_form_refuses_unknown_scopes_other_agencies_and_long_lives(client, agency, other_agency,
                                                                                member_of):
    # Scopes replaced the role field: the account's role follows from them (editor at most).
    client.force_login(member_of(agency, RoleChoices.ADMIN))
    response = client.post("/agency/tokens/add/", {"name": "SOC", "agencies": [other_agency.pk],
                                                   "scopes": ["admin"], "valid_days": 367,
                                                   "allowed_ips": "192.0.2.0/33"})
    assert response.status_code == 200
    assert sorted(response.context["form"].errors) == ["agencies", "allowed_ips", "scopes", "valid_days"]
    assert not ApiToken.objects.exists()


def test_others_cannot_revoke_a_token(client, agency, other_agency, member_of):
    from qgov import services

    owner = member_of(agency, RoleChoices.ADMIN)
    token, _ = services.token_issue(user=owner, name="mine", agencies=[agency])
    client.force_login(member_of(other_agency, RoleChoices.ADMIN))
    assert client.post(reverse("qgov:token_revoke", args=[token.pk])).status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None


def test_notifications_badge_list_and_mark_read(client, agency, member_of):
    from qgov import services

    user = member_of(agency)
    services.notify(users=[user], title="Certificate expires in 30 days", body="QKD-TX-01", email=False)
    services.notify(users=[user], title="Risk review overdue", email=False)
    client.force_login(user)
    page = client.get("/notifications/")
    assert page.context["unread_notifications"] == 2
    assert [n.title for n in page.context["object_list"]] == ["Risk review overdue", "Certificate expires in 30 days"]
    client.post("/notifications/")
    assert client.get("/").context["unread_notifications"] == 0


def test_times_are_shown_in_the_agency_time_zone(client, agency, member_of):
    agency.time_zone = "Asia/Tokyo"
    agency.save()
    client.force_login(member_of(agency, RoleChoices.ADMIN))
    event = client.get(f"/agencies/{agency.pk}/history/").context["events"][0]
    html = client.get(reverse("qgov:auditevent_detail", args=[event.pk])).content.decode()
    assert "JST" in html
    assert event.timestamp.tzname() == "UTC"  # stored in UTC


@pytest.mark.parametrize("role", ["viewer", "editor", "auditor"])
def test_agency_admin_page_hides_members_from_non_admins(role, client, agency, member_of):
    client.force_login(member_of(agency, role))
    page = client.get("/agency/", follow=True)
    assert page.status_code == 200
    assert page.context["can_manage"] is False
    assert "members" not in page.context


def test_filter_choices_never_offer_another_agency(rf, agency, other_agency, member_of):
    from qgov.filters import MembershipFilterSet

    request = rf.get("/api/memberships/")
    request.user = member_of(agency, RoleChoices.ADMIN)
    form = MembershipFilterSet(data={}, queryset=Membership.objects.all(), request=request).form
    assert list(form.fields["agency"].queryset) == [agency]


def test_lists_do_not_offer_an_agency_filter(client, agency, member_of):
    client.force_login(member_of(agency, RoleChoices.ADMIN))
    assert "agency" not in client.get("/members/").context["filter"].form.fields


def test_a_signed_in_person_without_any_membership_sees_the_dashboard_not_an_error(db, client):
    # A provider or SCIM may create an account before any agency grants it a role.
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    response = client.get("/")
    assert response.status_code == 200
