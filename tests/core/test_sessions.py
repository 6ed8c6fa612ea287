"""Browser sessions that end (issue #15, §4): idle and absolute limits enforced on the server, the
strictest agency policy, API requests that never extend a session, the "Your sessions" page,
fresh authentication before issuing tokens and changing the session policy, and the cookies."""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from qgov import services
from qgov.choices import AuditActionChoices, RoleChoices
from qgov.identity import reauth, sessions
from qgov.identity.models import UserSession
from qgov.identity.store import hash_session_key
from qgov.models import Agency, AuditEvent
from tests.factories import TEST_PASSWORD, MembershipFactory, UserFactory

HOUR = 3600


@pytest.fixture
def admin(agency, member_of):
    return member_of(agency, RoleChoices.ADMIN, username="ada")


def sign_in(user, *, address="192.0.2.10", browser="Firefox/140.0"):
    """A client signed in through the login page, as a browser at that address."""
    client = Client(REMOTE_ADDR=address, HTTP_USER_AGENT=browser)
    response = client.post("/login/", {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302, response.content
    return client


def cookie_key(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def record_of(client) -> UserSession:
    return UserSession.objects.get(key_hash=hash_session_key(cookie_key(client)))


def shift(client, **seconds_ago):
    """Move the session's times into the past (as if that much time had passed), e.g. last_seen=3601."""
    session = client.session
    keys = {"signed_in": sessions.SIGNED_IN_KEY, "last_seen": sessions.LAST_SEEN_KEY, "auth_time": reauth.AUTH_TIME_KEY}
    for name, ago in seconds_ago.items():
        session[keys[name]] = int(time.time() - ago)
    session.save()


# --- limits ---------------------------------------------------------------------------------


def test_sign_in_records_the_session_under_a_hash_of_its_key(admin):
    client = sign_in(admin)

    key = cookie_key(client)
    record = UserSession.objects.get(user=admin)
    assert (record.key_hash, record.client_ip, record.user_agent, record.ended_at) == (
        hash_session_key(key), "192.0.2.10", "Firefox/140.0", None)
    # The session table holds the hash, never the cookie's value.
    assert list(Session.objects.values_list("session_key", flat=True)) == [hash_session_key(key)]
    assert client.session[sessions.LIMITS_KEY] == [HOUR, 12 * HOUR]


def test_an_idle_session_is_ended_on_the_server_and_the_user_sent_to_sign_in(admin):
    client = sign_in(admin)
    shift(client, last_seen=HOUR + 1)

    response = client.get("/risks/", follow=True)

    assert response.redirect_chain == [("/login/?next=%2Frisks%2F", 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "You were signed out after 60 minutes without activity. Please sign in again."]
    record = UserSession.objects.get(user=admin)
    assert (record.end_reason, record.ended_at is not None) == ("idle", True)
    assert Session.objects.filter(session_key=record.key_hash).exists() is False
    event = AuditEvent.objects.get(content_type__model="usersession", object_id=str(record.pk))
    assert (event.action, event.changed_fields, event.actor) == (
        AuditActionChoices.UPDATE, ["end_reason", "ended_at"], admin)


def test_activity_within_the_idle_limit_keeps_the_session_and_is_recorded(admin):
    client = sign_in(admin)
    shift(client, last_seen=HOUR - 60)
    long_ago = timezone.now() - timedelta(seconds=HOUR - 60)
    UserSession.objects.update(last_seen=long_ago)

    assert client.get("/").status_code == 200

    assert time.time() - client.session[sessions.LAST_SEEN_KEY] < 5
    record = record_of(client)
    assert (timezone.now() - record.last_seen).total_seconds() < 5
    assert record.ended_at is None


def test_page_views_within_the_touch_interval_write_nothing(admin):
    client = sign_in(admin)
    client.get("/")  # the first page view: the dashboard's own queries are what the next one runs too
    with CaptureQueriesContext(connection) as first:
        client.get("/")
    writes = [q["sql"] for q in first.captured_queries if q["sql"].startswith(("UPDATE", "INSERT", "DELETE"))]
    assert writes == []

    shift(client, last_seen=settings.QGOV_SESSION_TOUCH_SECONDS)
    with CaptureQueriesContext(connection) as touch:
        client.get("/")
    writes = [q["sql"].split(" SET ")[0] for q in touch.captured_queries
              if q["sql"].startswith(("UPDATE", "INSERT", "DELETE"))]
    # Once per interval: the record's last-seen time, and the session (its last-seen time and expiry).
    assert writes == ['UPDATE "qgov_usersession"', 'UPDATE "django_session"']


def test_the_sessions_page_leaves_out_sessions_that_expired_unvisited(admin):
    here = sign_in(admin)
    gone = sign_in(admin, browser="Closed/1.0")
    Session.objects.filter(session_key=record_of(gone).key_hash).update(expire_date=timezone.now())

    page = here.get("/account/sessions/").content.decode()

    assert "Closed/1.0" not in page and "Firefox/140.0" in page


def test_a_session_past_its_absolute_limit_ends_however_active(admin):
    client = sign_in(admin)
    record = record_of(client)
    shift(client, signed_in=12 * HOUR + 1, last_seen=10)

    response = client.get("/", follow=True)

    assert response.redirect_chain == [("/login/?next=%2F", 302)]
    assert [str(m) for m in response.context["messages"]] == [
        "Your session reached its limit of 12 hours and has ended. Please sign in again."]
    record.refresh_from_db()
    assert record.end_reason == "absolute"
    assert client.get("/").status_code == 302  # and stays signed out


def test_the_strictest_of_the_users_agencies_wins(agency, other_agency, member_of):
    Agency.objects.filter(pk=agency.pk).update(session_idle_minutes=30)
    Agency.objects.filter(pk=other_agency.pk).update(session_idle_minutes=20, session_absolute_minutes=240)
    user = member_of(agency)
    MembershipFactory(agency=other_agency, user=user)
    bystander = member_of(agency)

    assert sessions.limits_for(user) == sessions.SessionLimits(idle=20 * 60, absolute=240 * 60)
    assert sessions.limits_for(bystander) == sessions.SessionLimits(idle=30 * 60, absolute=12 * HOUR)
    client = sign_in(user)
    record = record_of(client)
    assert client.session[sessions.LIMITS_KEY] == [20 * 60, 240 * 60]
    shift(client, last_seen=20 * 60 + 1)
    assert client.get("/").status_code == 302
    record.refresh_from_db()
    assert record.end_reason == "idle"


def test_a_stricter_policy_reaches_open_sessions_at_their_next_touch(agency, admin):
    client = sign_in(admin)
    Agency.objects.filter(pk=agency.pk).update(session_idle_minutes=10)
    shift(client, last_seen=settings.QGOV_SESSION_TOUCH_SECONDS + 1)

    assert client.get("/").status_code == 200
    assert client.session[sessions.LIMITS_KEY] == [600, 12 * HOUR]


@pytest.mark.parametrize(("field", "minutes", "message"), [
    ("session_idle_minutes", 61, "At most 60 minutes: the platform's limit. An agency may make sessions shorter, "
                                 "not longer."),
    ("session_absolute_minutes", 721, "At most 720 minutes: the platform's limit. An agency may make sessions "
                                      "shorter, not longer."),
    ("session_idle_minutes", 4, "At least 5 minutes."),
])
def test_an_agency_cannot_set_looser_limits_than_the_platform(agency, field, minutes, message):
    setattr(agency, field, minutes)
    with pytest.raises(ValidationError) as refused:
        agency.full_clean()
    assert refused.value.message_dict == {field: [message]}


def test_agency_admins_set_a_stricter_policy_through_the_api_but_never_a_looser_one(agency, admin):
    client = APIClient()
    client.force_login(admin)  # a browser session, freshly signed in

    looser = client.patch(f"/api/agencies/{agency.pk}/", {"session_idle_minutes": 90}, format="json")
    too_short = client.patch(f"/api/agencies/{agency.pk}/", {"session_absolute_minutes": 4}, format="json")
    stricter = client.patch(f"/api/agencies/{agency.pk}/", {"session_idle_minutes": 15,
                                                            "session_absolute_minutes": 480}, format="json")

    assert (looser.status_code, looser.json()["errors"]) == (400, {"session_idle_minutes": [
        "At most 60 minutes: the platform's limit. An agency may make sessions shorter, not longer."]})
    assert (too_short.status_code, too_short.json()["errors"]) == (400, {"session_absolute_minutes": [
        "At least 5 minutes."]})
    assert stricter.status_code == 200, stricter.content
    agency.refresh_from_db()
    assert (agency.session_idle_minutes, agency.session_absolute_minutes) == (15, 480)


def test_changing_the_policy_through_the_api_needs_a_fresh_sign_in(agency, admin):
    client = APIClient()
    client.force_login(admin)
    session = client.session
    session[reauth.AUTH_TIME_KEY] = int(time.time()) - settings.QGOV_REAUTH_SECONDS - 1
    session.save()

    response = client.patch(f"/api/agencies/{agency.pk}/", {"session_idle_minutes": 15}, format="json")
    renamed = client.patch(f"/api/agencies/{agency.pk}/", {"description": "Still editable"}, format="json")

    assert response.status_code == 403
    agency.refresh_from_db()
    assert (agency.session_idle_minutes, renamed.status_code) == (None, 200)


def test_agency_admins_set_the_policy_on_the_agency_form(agency, admin):
    client = Client()
    client.force_login(admin)
    page = client.get(f"/agencies/{agency.pk}/edit/")
    assert 'name="session_idle_minutes"' in page.content.decode()

    form = {"name": agency.name, "code": agency.code, "sector": agency.sector, "time_zone": "UTC",
            "reminder_thresholds": "90, 30, 7", "version": agency.version, "session_idle_minutes": "120"}
    refused = client.post(f"/agencies/{agency.pk}/edit/", form)
    saved = client.post(f"/agencies/{agency.pk}/edit/", {**form, "session_idle_minutes": "30"})

    assert refused.status_code == 200
    assert "At most 60 minutes" in refused.content.decode()
    assert saved.status_code == 302
    agency.refresh_from_db()
    assert agency.session_idle_minutes == 30


# --- the API never extends a browser session, and costs token requests nothing -----------------


def test_api_requests_never_extend_a_browser_session(admin):
    client = sign_in(admin)
    record = record_of(client)
    shift(client, last_seen=HOUR - 120)
    seen_before, record_seen_before = client.session[sessions.LAST_SEEN_KEY], record.last_seen

    assert client.get("/api/agencies/").status_code == 200

    assert (client.session[sessions.LAST_SEEN_KEY], record_of(client).last_seen) == (seen_before, record_seen_before)
    shift(client, last_seen=HOUR + 1)
    assert client.get("/api/agencies/").status_code in (401, 403)  # and an expired one ends there too
    record.refresh_from_db()
    assert record.end_reason == "idle"


def test_token_api_requests_run_no_query_for_the_session_limits(agency, admin, django_assert_num_queries):
    _token, key = services.system_token_create(agencies=[agency], name="CMDB", scopes=["read"], created_by=admin)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    client.get("/api/agencies/")  # warm caches (content types) so both counts below are steady
    without = [entry for entry in settings.MIDDLEWARE if entry != "qgov.identity.middleware.SessionLimitMiddleware"]
    with override_settings(MIDDLEWARE=without), CaptureQueriesContext(connection) as baseline:
        assert client.get("/api/agencies/").status_code == 200

    with django_assert_num_queries(len(baseline.captured_queries)):
        assert client.get("/api/agencies/").status_code == 200


# --- the sessions page ----------------------------------------------------------------------


def test_the_sessions_page_lists_them_and_ends_another_which_is_signed_out_at_once(admin):
    laptop = sign_in(admin, address="192.0.2.10", browser="Firefox/140.0")
    phone = sign_in(admin, address="198.51.100.7", browser="Mobile Safari/18")

    page = laptop.get("/account/sessions/").content.decode()

    assert page.count("<tr") == 3  # the header and two sessions
    assert "198.51.100.7" in page and "Mobile Safari/18" in page and "192.0.2.10" in page
    current_row = page.split('aria-current="true"')[1].split("</tr>")[0]
    assert "Firefox/140.0" in current_row and "This browser" in current_row
    assert page.count("This browser") == 1

    phone_record = record_of(phone)
    response = laptop.post(f"/account/sessions/{phone_record.pk}/end/")

    assert response.status_code == 302 and response["Location"] == "/account/sessions/"
    assert phone.get("/").status_code == 302  # the other browser's cookie stopped working
    ended = UserSession.objects.get(pk=phone_record.pk)
    assert ended.end_reason == "ended_by_user"
    event = AuditEvent.objects.get(content_type__model="usersession", object_id=str(ended.pk))
    assert (event.actor, event.after["end_reason"]) == (admin, "ended_by_user")
    assert laptop.get("/").status_code == 200
    assert "198.51.100.7" not in laptop.get("/account/sessions/").content.decode()


def test_nobody_ends_another_users_session(admin, agency, member_of):
    theirs = sign_in(member_of(agency, RoleChoices.ADMIN))
    mine = sign_in(admin)

    response = mine.post(f"/account/sessions/{record_of(theirs).pk}/end/")

    assert response.status_code == 404
    assert record_of(theirs).ended_at is None
    assert theirs.get("/").status_code == 200


def test_ending_the_current_session_and_signing_out_are_recorded(admin):
    here = sign_in(admin)
    there = sign_in(admin)
    record_here, record_there = record_of(here), record_of(there)

    assert here.post(f"/account/sessions/{record_here.pk}/end/")["Location"] == "/login/"
    there.post("/logout/")

    record_here.refresh_from_db()
    record_there.refresh_from_db()
    assert (record_here.end_reason, record_there.end_reason) == ("ended_by_user", "signed_out")
    assert Session.objects.count() == 0
    assert AuditEvent.objects.filter(content_type__model="usersession").count() == 2


def test_the_sessions_page_needs_a_sign_in_and_ending_needs_post(admin):
    assert Client().get("/account/sessions/").status_code == 302
    client = sign_in(admin)
    assert client.get(f"/account/sessions/{record_of(client).pk}/end/").status_code == 405


# --- fresh authentication -------------------------------------------------------------------


def test_issuing_a_token_needs_a_fresh_sign_in_then_returns_to_the_form(admin):
    client = sign_in(admin)
    shift(client, auth_time=settings.QGOV_REAUTH_SECONDS + 1)

    asked = client.get("/agency/tokens/add/")
    posted = client.post("/agency/tokens/add/", {"name": "CMDB", "scopes": ["read"]})

    assert asked.status_code == 302 and asked["Location"] == "/account/reauth/?next=%2Fagency%2Ftokens%2Fadd%2F"
    assert posted["Location"] == asked["Location"]  # nothing issued without it
    assert admin.api_tokens.count() == 0
    wrong = client.post("/account/reauth/", {"password": "not-my-password", "next": "/agency/tokens/add/"})
    assert wrong.status_code == 200 and "That is not your password." in wrong.content.decode()
    assert client.get("/agency/tokens/add/").status_code == 302

    right = client.post("/account/reauth/", {"password": TEST_PASSWORD, "next": "/agency/tokens/add/"})

    assert right.status_code == 302 and right["Location"] == "/agency/tokens/add/"
    assert client.get("/agency/tokens/add/").status_code == 200


def test_the_agency_form_needs_a_fresh_sign_in(agency, admin):
    client = sign_in(admin)
    shift(client, auth_time=settings.QGOV_REAUTH_SECONDS + 1)

    assert client.get(f"/agencies/{agency.pk}/edit/")["Location"] == (
        f"/account/reauth/?next=%2Fagencies%2F{agency.pk}%2Fedit%2F")


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_reauthentication_returns_only_to_this_site(admin, next_url):
    client = sign_in(admin)

    response = client.post("/account/reauth/", {"password": TEST_PASSWORD, "next": next_url})

    assert response["Location"] == "/"


def test_a_provider_can_take_over_reauthentication(admin, monkeypatch):
    """The extension point for provider users: their method redirects instead of asking for a password."""
    from django.http import HttpResponseRedirect

    class ProviderReauth(reauth.ReauthMethod):
        def start(self, request, next_url):
            return HttpResponseRedirect(f"https://idp.example/authorize?max_age=0&next={next_url}")

    monkeypatch.setattr(reauth, "_choosers", [lambda user: ProviderReauth() if user == admin else None])
    client = sign_in(admin)

    assert client.get("/account/reauth/?next=/agency/tokens/add/")["Location"] == (
        "https://idp.example/authorize?max_age=0&next=/agency/tokens/add/")
    assert reauth.reauth_method_for(UserFactory()) is reauth.PASSWORD


# --- cookies --------------------------------------------------------------------------------


@override_settings(SESSION_COOKIE_NAME="__Host-sessionid", CSRF_COOKIE_NAME="__Host-csrftoken",
                   SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True)
def test_cookies_are_host_only_secure_httponly_and_lax_over_https(admin):
    client = Client(HTTP_USER_AGENT="Firefox/140.0")
    client.get("/login/", secure=True)
    response = client.post("/login/", {"username": admin.username, "password": TEST_PASSWORD}, secure=True)

    session_cookie = response.cookies["__Host-sessionid"]
    csrf_cookie = client.cookies["__Host-csrftoken"]
    assert (session_cookie["secure"], session_cookie["httponly"], session_cookie["samesite"],
            session_cookie["path"], session_cookie["domain"]) == (True, True, "Lax", "/", "")
    assert (csrf_cookie["secure"], csrf_cookie["samesite"], csrf_cookie["path"], csrf_cookie["domain"]) == (
        True, "Lax", "/", "")
    assert client.get("/", secure=True).status_code == 200


def test_production_settings_name_the_cookies_with_the_host_prefix():
    env = {**os.environ, "DJANGO_DEBUG": "0", "DJANGO_HTTPS": "1"}
    code = ("from django.conf import settings as s; print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, "
            "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, "
            "s.CSRF_COOKIE_SAMESITE, s.SESSION_COOKIE_PATH, s.SESSION_COOKIE_DOMAIN, s.CSRF_COOKIE_DOMAIN)")
    result = subprocess.run([sys.executable, str(settings.BASE_DIR / "manage.py"), "shell", "-c", code], env=env,
                            cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120, check=False)

    assert result.stdout.strip().splitlines()[-1].split() == [
        "__Host-sessionid", "__Host-csrftoken", "True", "True", "True", "Lax", "Lax", "/", "None", "None",
    ], result.stderr


def test_a_copy_of_the_session_table_signs_nobody_in(admin):
    client = sign_in(admin)
    stored_key = Session.objects.get().session_key

    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = stored_key

    assert thief.get("/").status_code == 302
    assert client.get("/").status_code == 200


def test_the_decorator_guards_function_views_alike(admin, rf):
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponse

    from qgov.identity.store import SessionStore

    view = reauth.fresh_authentication_required(lambda request: HttpResponse("issued"))
    request = rf.get("/issue/")
    request.user, request.session = admin, SessionStore()
    request.session[reauth.AUTH_TIME_KEY] = int(time.time()) - settings.QGOV_REAUTH_SECONDS

    assert view(request)["Location"] == "/account/reauth/?next=%2Fissue%2F"
    reauth.mark_authenticated(request)
    assert view(request).content == b"issued"
    request.user = AnonymousUser()
    assert view(request)["Location"] == "/login/?next=/issue/"


def test_signing_in_over_another_users_session_gives_the_new_user_a_working_recorded_session(agency, client, member_of):
    # Django flushes a session that held someone else's sign-in: the new one must still be recorded
    # (it had no key yet when the sign-in signal ran, and the middleware then ended it at once).
    first, second = member_of(agency, RoleChoices.ADMIN), member_of(agency, RoleChoices.EDITOR)
    client.force_login(first)
    assert client.get("/").status_code == 200
    client.force_login(second)
    assert client.get("/").status_code == 200
    assert UserSession.objects.open().filter(user=second).count() == 1


def test_granting_a_role_needs_a_fresh_sign_in_in_the_browser_and_the_api(agency, admin, member_of):
    member = member_of(agency, RoleChoices.VIEWER)
    membership = member.memberships.get()
    client = sign_in(admin)
    shift(client, auth_time=settings.QGOV_REAUTH_SECONDS + 1)
    for path in (f"/members/{membership.pk}/edit/", "/agency/invite/"):
        assert client.get(path)["Location"] == f"/account/reauth/?next={path.replace('/', '%2F')}"

    api = APIClient()
    api.cookies = client.cookies  # the same browser session, stale
    refused = api.patch(f"/api/memberships/{membership.pk}/", {"role": "editor"}, format="json")
    assert refused.status_code == 403 and "recent sign-in" in refused.json()["detail"]
    membership.refresh_from_db()
    assert membership.role == RoleChoices.VIEWER

    client.post("/account/reauth/", {"password": TEST_PASSWORD, "next": "/"})
    assert api.patch(f"/api/memberships/{membership.pk}/", {"role": "editor"}, format="json").status_code == 200
    membership.refresh_from_db()
    assert membership.role == RoleChoices.EDITOR


def test_changing_an_identity_provider_needs_a_fresh_sign_in(agency, admin):
    from tests.core.test_identity_providers import make_provider

    provider = make_provider(agency)
    client = sign_in(admin)
    shift(client, auth_time=settings.QGOV_REAUTH_SECONDS + 1)
    path = f"/agency/identity-providers/{provider.pk}/edit/"
    assert client.get(path)["Location"] == f"/account/reauth/?next={path.replace('/', '%2F')}"
    api = APIClient()
    api.cookies = client.cookies
    refused = api.patch(f"/api/identity-providers/{provider.pk}/", {"is_active": False}, format="json")
    assert refused.status_code == 403 and "recent sign-in" in refused.json()["detail"]
    provider.refresh_from_db()
    assert provider.is_active


# --- closing the records of sessions nobody came back to ---------------------------------------


def test_the_beat_task_closes_sessions_past_their_limits_and_deletes_them(admin, agency):
    """Frozen time: sign-ins at 08:00, then the clock moves on; the task run by beat closes what is past
    its idle or absolute limit, with the reason and the moment it was reached, and nothing else."""
    import datetime as dt

    import time_machine

    from qgov.choices import AuditSourceChoices
    from qgov.tasks import end_expired_user_sessions as run_beat_task
    from qgov.testing import events_for

    assert settings.CELERY_BEAT_SCHEDULE["end-expired-user-sessions"]["task"] == run_beat_task.name
    morning = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
    with time_machine.travel(morning, tick=False) as clock:
        left = sign_in(admin, browser="Left/1.0")  # never comes back
        busy = sign_in(admin, browser="Busy/1.0")  # a page every 50 minutes, all day
        deleted = sign_in(admin, browser="Deleted/1.0")  # its stored session goes by other means
        Session.objects.filter(session_key=record_of(deleted).key_hash).delete()
        anonymous = Client()
        anonymous.get("/login/")
        anonymous.session.save()
        records = {name: record_of(client) for name, client in (("left", left), ("busy", busy))}
        records["deleted"] = UserSession.objects.get(user_agent="Deleted/1.0")

        clock.shift(timedelta(minutes=59))
        assert run_beat_task() == 0  # within every limit: nothing is closed
        assert UserSession.objects.open().count() == 3
        busy.get("/")

        clock.shift(timedelta(minutes=2))  # 09:01: the left and the deleted ones are an hour idle
        assert run_beat_task() == 2
        for minutes in range(50, 12 * 60, 50):  # busy until 19:40: within the idle limit each time
            clock.move_to(morning + timedelta(minutes=minutes))
            assert busy.get("/").status_code == 200
        clock.move_to(morning + timedelta(hours=12, minutes=1))
        assert run_beat_task() == 1  # 12 hours after signing in, however active

    closed = {name: UserSession.objects.get(pk=record.pk) for name, record in records.items()}
    assert {name: (r.end_reason, r.ended_at) for name, r in closed.items()} == {
        "left": ("idle", morning + timedelta(hours=1)),
        "deleted": ("idle", morning + timedelta(hours=1)),
        "busy": ("absolute", morning + timedelta(hours=12)),
    }
    assert Session.objects.count() == 0  # theirs, and the anonymous visitor's that expired too
    ended = [events_for(UserSession, record.pk).order_by("seq").last() for record in records.values()]
    assert [(e.action, e.changed_fields, e.source, e.actor) for e in ended] == [
        (AuditActionChoices.UPDATE, ["end_reason", "ended_at"], AuditSourceChoices.TASK, None)] * 3
    assert busy.get("/").status_code == 302  # the cookie no longer signs anyone in


def test_a_password_change_keeps_the_session_listed_under_its_new_key(admin):
    """Changing the password gives the session a new key (update_session_auth_hash): its record
    follows it, so the session stays on "Your sessions" and can be ended there."""
    client = sign_in(admin)
    record = record_of(client)
    old_key = cookie_key(client)
    changed = client.post("/password/change/", {"old_password": TEST_PASSWORD,
                                                 "new_password1": "a long new passphrase of words",
                                                 "new_password2": "a long new passphrase of words"})
    assert changed.status_code == 302, changed.content
    assert cookie_key(client) != old_key
    moved = record_of(client)
    assert (moved.pk, moved.ended_at) == (record.pk, None)
    assert not UserSession.objects.filter(key_hash=hash_session_key(old_key)).exists()
    assert client.get("/account/sessions/").status_code == 200
