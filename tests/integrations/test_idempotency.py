"""Idempotency-Key on API writes (docs/integrating.md, "Idempotent writes"): a retried write answers
the first answer and writes nothing more; another request under the key is a 422; the key of
another caller is another key; errors are not kept; keys expire."""

import json
import threading
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient, force_authenticate

from qgov import services
from qgov.api.core import AgencyViewSet
from qgov.api.urls import router
from qgov.choices import RoleChoices
from qgov.integrations.idempotency.api import IdempotentWritesMixin, lock_id
from qgov.integrations.idempotency.services import idempotency_keys_purge
from qgov.integrations.idempotency.tasks import idempotency_keys_purge_expired
from qgov.models import Agency, AuditEvent, IdempotencyKey, ImportRun, Membership
from risks.models import Risk
from risks.services import risk_matrix_ensure
from tests.risks.factories import RiskFactory

ON_POSTGRESQL = connection.vendor == "postgresql"

REUSED = {"status": 422, "code": "idempotency_key_reused",
          "detail": "This Idempotency-Key was sent with a different request.",
          "errors": {"Idempotency-Key": ["This key was first sent with another method, path, query or body; "
                                         "send a new key for a new request."]}}
IN_USE = {"status": 409, "code": "idempotency_key_in_use",
          "detail": "A request with this Idempotency-Key is still being processed; send it again once that one "
                    "has finished.", "errors": {}}


def new_risk(agency, **fields):
    return {"agency": agency.pk, "title": "Detector blinding", "inherent_likelihood": 3, "inherent_impact": 4,
            **fields}


@pytest.fixture
def editor(agency, member_of):
    risk_matrix_ensure(agency)  # what a new risk is rated on
    return member_of(agency, RoleChoices.EDITOR, username="editor")


def token_client(user, name="CMDB") -> APIClient:
    _token, key = services.token_issue(user=user, name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def post(client, path, data, key, **extra):
    return client.post(path, data, format=extra.pop("format", "json"), HTTP_IDEMPOTENCY_KEY=key, **extra)


def test_a_retried_create_answers_the_first_answer_and_writes_once(agency, editor):
    client = token_client(editor)
    events = AuditEvent.objects.count()

    first = post(client, "/api/risks/", new_risk(agency), "3f1c-create")
    again = post(client, "/api/risks/", new_risk(agency), "3f1c-create")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert (again["Location"], again["ETag"], again["Content-Type"]) == (
        first["Location"], first["ETag"], "application/json")
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    risk = Risk.objects.get()
    assert first.json()["id"] == risk.pk
    assert AuditEvent.objects.count() == events + 1
    stored = IdempotencyKey.objects.get()
    assert (stored.key, stored.method, stored.path, stored.status) == ("3f1c-create", "POST", "/api/risks/", 201)
    assert stored.scope == f"token:{editor.api_tokens.get().pk}"
    assert bytes(stored.body) == first.content
    assert stored.headers == {"Content-Type": "application/json", "Location": first["Location"],
                              "ETag": first["ETag"]}
    assert stored.expires - stored.created == timedelta(hours=72)


def test_the_same_body_in_another_key_order_or_spacing_is_the_same_request(agency, editor):
    client = token_client(editor)
    body = new_risk(agency)
    post(client, "/api/risks/", body, "order")

    again = client.post("/api/risks/", '{ "inherent_impact": 4, "title": "Detector blinding", "inherent_likelihood": 3,'
                        f' "agency": {agency.pk} }}', content_type="application/json", HTTP_IDEMPOTENCY_KEY="order")

    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert Risk.objects.count() == 1


@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/api/risks/", {"title": "Another title"}),
    ("post", "/api/risks/?dry=1", {}),
    ("post", "/api/assets/", {}),
    ("patch", "/api/risks/{id}/", {}),
], ids=["another-body", "another-query", "another-path", "another-method"])
def test_the_key_with_another_request_is_422_and_writes_nothing(method, path, body, agency, editor):
    client = token_client(editor)
    first = post(client, "/api/risks/", new_risk(agency), "k-1")
    risk = Risk.objects.get()
    events = AuditEvent.objects.count()

    response = getattr(client, method)(path.format(id=risk.pk), {**new_risk(agency), **body}, format="json",
                                       HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 422
    assert response.json() == REUSED
    assert "Idempotent-Replayed" not in response
    assert list(Risk.objects.values_list("pk", "title", "version")) == [(first.json()["id"], "Detector blinding", 1)]
    assert AuditEvent.objects.count() == events
    assert IdempotencyKey.objects.count() == 1


def test_a_key_is_the_callers_own(agency, editor, member_of, api_as):
    colleague = member_of(agency, RoleChoices.EDITOR)
    answers = [
        post(token_client(editor, "CMDB"), "/api/risks/", new_risk(agency), "shared"),
        post(token_client(editor, "SOC"), "/api/risks/", new_risk(agency), "shared"),  # another token of the user
        post(token_client(colleague), "/api/risks/", new_risk(agency), "shared"),
        post(api_as(editor), "/api/risks/", new_risk(agency), "shared"),  # the browser session's user
    ]

    assert [answer.status_code for answer in answers] == [201, 201, 201, 201]
    assert [answer.has_header("Idempotent-Replayed") for answer in answers] == [False] * 4
    assert Risk.objects.count() == 4
    assert sorted(IdempotencyKey.objects.values_list("scope", flat=True)) == sorted(
        [f"token:{pk}" for pk in editor.api_tokens.values_list("pk", flat=True)]
        + [f"token:{colleague.api_tokens.get().pk}", f"user:{editor.pk}"])


@pytest.mark.parametrize("key", ["", " leading", "trailing ", "x" * 256, "caf\u00e9", "tab\there"],
                         ids=["empty", "leading-space", "trailing-space", "256-chars", "not-ascii", "control"])
def test_a_malformed_key_is_400_and_writes_nothing(key, agency, editor):
    response = post(token_client(editor), "/api/risks/", new_risk(agency), key)

    assert response.status_code == 400
    assert response.json() == {"status": 400, "code": "invalid", "detail": "Invalid input.",
                               "errors": {"Idempotency-Key": ["Send 1 to 255 printable ASCII characters, "
                                                              "e.g. a UUID."]}}
    assert not Risk.objects.exists()
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("key", ["x" * 255, "!", '"8e03978e-40d5-43e8-bc93-6894a57f9324"', "a b"])
def test_keys_of_1_to_255_printable_characters_are_taken_as_sent(key, agency, editor):
    response = post(token_client(editor), "/api/risks/", new_risk(agency), key)

    assert response.status_code == 201
    assert IdempotencyKey.objects.get().key == key


def test_a_method_the_operation_does_not_take_is_405_whatever_the_key(agency, editor):
    client = token_client(editor)
    client.post("/api/notifications/mark-read/", {}, format="json", HTTP_IDEMPOTENCY_KEY="used")

    response = client.put("/api/notifications/mark-read/", {}, format="json", HTTP_IDEMPOTENCY_KEY="used")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_a_retried_patch_changes_the_record_once(agency, editor):
    client = token_client(editor)
    risk = RiskFactory(agency=agency)
    events = AuditEvent.objects.count()

    answers = [client.patch(f"/api/risks/{risk.pk}/", {"title": "Renamed"}, format="json", HTTP_IF_MATCH='"1"',
                            HTTP_IDEMPOTENCY_KEY="patch-1") for _ in range(2)]

    assert [answer.status_code for answer in answers] == [200, 200]
    assert answers[1].content == answers[0].content
    assert answers[0]["ETag"] == answers[1]["ETag"] == '"2"'
    assert answers[1]["Idempotent-Replayed"] == "true"
    risk.refresh_from_db()
    assert (risk.title, risk.version) == ("Renamed", 2)
    assert AuditEvent.objects.count() == events + 1


def test_a_retried_transition_is_not_refused_as_already_done(agency, editor):
    client = token_client(editor)
    risk = RiskFactory(agency=agency)
    events = AuditEvent.objects.count()

    first = client.post(f"/api/risks/{risk.pk}/assess/", {}, format="json", HTTP_IDEMPOTENCY_KEY="assess-1")
    again = client.post(f"/api/risks/{risk.pk}/assess/", {}, format="json", HTTP_IDEMPOTENCY_KEY="assess-1")
    without_key = client.post(f"/api/risks/{risk.pk}/assess/", {}, format="json")

    assert (first.status_code, again.status_code, without_key.status_code) == (200, 200, 409)
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["status"] == "assessed"
    risk.refresh_from_db()
    assert (risk.status, risk.version) == ("assessed", 2)
    assert AuditEvent.objects.count() == events + 1


def test_a_retried_delete_answers_its_204_again(agency, member_of):
    admin = member_of(agency, RoleChoices.ADMIN)
    membership = Membership.objects.create(agency=agency, user=member_of(Agency.objects.create(
        name="Elsewhere", code="ELS")), role=RoleChoices.VIEWER)
    client = token_client(admin)

    answers = [client.delete(f"/api/memberships/{membership.pk}/", HTTP_IDEMPOTENCY_KEY="del-1") for _ in range(2)]

    assert [answer.status_code for answer in answers] == [204, 204]
    assert answers[1]["Idempotent-Replayed"] == "true"
    assert answers[1].content == b""
    assert not answers[1].has_header("Content-Type")
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_a_retried_upload_queues_one_import(agency, editor, settings, tmp_path, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    client = token_client(editor)
    content = b"title,inherent_likelihood,inherent_impact\nDetector blinding,3,4\n"

    with django_capture_on_commit_callbacks(execute=True):
        answers = [client.post("/api/risks/import/", {"file": SimpleUploadedFile("register.csv", content)},
                               format="multipart", HTTP_IDEMPOTENCY_KEY="upload-1") for _ in range(2)]
    other_file = client.post("/api/risks/import/", {"file": SimpleUploadedFile("register.csv", content + b"X,1,1\n")},
                             format="multipart", HTTP_IDEMPOTENCY_KEY="upload-1")

    assert [answer.status_code for answer in answers] == [202, 202]
    assert answers[1].content == answers[0].content
    assert answers[1]["Idempotent-Replayed"] == "true"
    assert ImportRun.objects.count() == 1
    assert other_file.status_code == 422


def test_an_error_is_not_kept_and_the_key_can_be_sent_again(agency, editor):
    client = token_client(editor)

    refused = post(client, "/api/risks/", new_risk(agency, inherent_likelihood=9), "fix-me")
    fixed = post(client, "/api/risks/", new_risk(agency), "fix-me")

    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["inherent_likelihood"]
    assert fixed.status_code == 201
    assert "Idempotent-Replayed" not in fixed
    assert Risk.objects.count() == 1
    assert IdempotencyKey.objects.get().status == 201


class AgencyViewSetThatFailsAfterWriting(AgencyViewSet):
    """A write that fails once its record is saved: a crash, or a 5xx answered by the view."""

    answer = "raise"

    def perform_create(self, serializer):
        super().perform_create(serializer)
        if self.answer == "raise":
            raise RuntimeError("the disk is full")

    def create(self, request, *args, **kwargs):
        response = super().create(request, *args, **kwargs)
        return Response({"detail": "unavailable"}, status=503) if self.answer == "503" else response


@pytest.mark.parametrize("answer", ["raise", "503"])
def test_a_failed_keyed_write_leaves_nothing_behind(answer, superuser):
    view = AgencyViewSetThatFailsAfterWriting.as_view({"post": "create"}, answer=answer)
    agencies, events = Agency.objects.count(), AuditEvent.objects.count()

    def send():
        request = RequestFactory().post("/api/agencies/", {"name": "Half-written", "code": "HW", "sector": "finance"},
                                        content_type="application/json", HTTP_IDEMPOTENCY_KEY="boom")
        force_authenticate(request, superuser)
        return view(request)

    if answer == "raise":
        with pytest.raises(RuntimeError):
            send()
    else:
        response = send()
        assert response.status_code == 503, response.render().content
    assert (Agency.objects.count(), AuditEvent.objects.count()) == (agencies, events)
    assert not IdempotencyKey.objects.exists()


class AgencyViewSetRacedByAnotherRequest(AgencyViewSet):
    """While this write runs, another request with its key commits first: what the unique constraint
    catches where no advisory lock keeps the two apart (SQLite)."""

    def perform_create(self, serializer):
        super().perform_create(serializer)
        IdempotencyKey.objects.create(scope=f"user:{self.request.user.pk}", key="raced", fingerprint="0" * 64,
                                      method="POST", path="/api/agencies/", status=201, body=b"{}",
                                      expires=timezone.now() + timedelta(hours=1))


def test_the_loser_of_a_race_for_a_key_is_409_and_writes_nothing(superuser):
    request = RequestFactory().post("/api/agencies/", {"name": "Raced", "code": "RC", "sector": "finance"},
                                    content_type="application/json", HTTP_IDEMPOTENCY_KEY="raced")
    force_authenticate(request, superuser)
    agencies, events = Agency.objects.count(), AuditEvent.objects.count()

    response = AgencyViewSetRacedByAnotherRequest.as_view({"post": "create"})(request)

    assert response.status_code == 409
    assert response["Retry-After"] == "2"
    assert response.render().data == IN_USE
    assert (Agency.objects.count(), AuditEvent.objects.count()) == (agencies, events)
    assert not IdempotencyKey.objects.exists()  # the winner's row was this test's stand-in, rolled back too


def test_a_key_past_its_retention_is_purged_and_may_be_used_again(agency, editor, settings):
    client = token_client(editor)
    post(client, "/api/risks/", new_risk(agency), "old")
    post(client, "/api/risks/", new_risk(agency), "recent")
    IdempotencyKey.objects.filter(key="old").update(expires=timezone.now() - timedelta(seconds=1))

    reused = post(client, "/api/risks/", new_risk(agency, title="A new request"), "old")

    assert reused.status_code == 201
    assert "Idempotent-Replayed" not in reused
    assert Risk.objects.count() == 3
    IdempotencyKey.objects.filter(key="old").update(expires=timezone.now() - timedelta(seconds=1))
    assert idempotency_keys_purge_expired.delay().get() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["recent"]
    assert idempotency_keys_purge(now=timezone.now() + timedelta(hours=72, seconds=5)) == 1
    assert not IdempotencyKey.objects.exists()


def test_the_retention_follows_its_setting(agency, editor, settings):
    settings.QGOV_IDEMPOTENCY_KEY_HOURS = 1
    post(token_client(editor), "/api/risks/", new_risk(agency), "short")

    stored = IdempotencyKey.objects.get()
    assert stored.expires - stored.created == timedelta(hours=1)


def test_every_api_write_takes_the_key():
    # A viewset that writes without the mixin would be a door where a retry makes a second record.
    unsafe = {"create", "update", "partial_update", "destroy"}
    for prefix, viewset, _basename in router.registry:
        writes = any(hasattr(viewset, name) for name in unsafe) or any(
            set(extra.mapping) - {"get", "head", "options"} for extra in viewset.get_extra_actions())
        if writes:
            assert issubclass(viewset, IdempotentWritesMixin), prefix


def test_the_schema_documents_the_key_on_writes_only(client):
    schema = client.get("/api/schema/?format=json").json()
    create = schema["paths"]["/api/risks/"]["post"]
    header = next(parameter for parameter in create["parameters"] if parameter["name"] == "Idempotency-Key")

    assert header["in"] == "header" and header["required"] is False
    assert header["schema"] == {"type": "string", "minLength": 1, "maxLength": 255,
                                "pattern": "^[\\x21-\\x7e](?:[\\x20-\\x7e]{0,253}[\\x21-\\x7e])?$"}
    assert list(create["responses"]["201"]["headers"]) == ["Idempotent-Replayed"]
    assert list(create["responses"]["409"]["headers"]) == ["Retry-After"]
    assert create["responses"]["422"]["description"] == (
        "The Idempotency-Key was sent before with a different request (method, path, query or body).")
    for path, method in [("/api/risks/{id}/", "patch"), ("/api/risks/{id}/", "put"), ("/api/risks/{id}/", "delete"),
                         ("/api/risks/{id}/assess/", "post"), ("/api/notifications/mark-read/", "post")]:
        assert "Idempotency-Key" in [p["name"] for p in schema["paths"][path][method]["parameters"]], (path, method)
    for path, method in [("/api/risks/", "get"), ("/api/risks/{id}/", "get"), ("/api/auth/token/", "post")]:
        assert "Idempotency-Key" not in [p["name"] for p in schema["paths"][path][method].get("parameters", [])]


# --- PostgreSQL: requests with one key at the same time -----------------------------------------------


def _in_a_thread(target, *args):
    result = {}

    def run():
        try:
            result["value"] = target(*args)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the advisory lock is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_a_request_while_the_first_with_its_key_runs_is_409(agency, editor):
    client = token_client(editor)
    scope = f"token:{editor.api_tokens.get().pk}"
    held, release = threading.Event(), threading.Event()

    def hold_the_key():
        # What the first request holds while it runs: the key's lock, in an open transaction.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id(scope, "busy")])
            held.set()
            release.wait(10)

    thread, _result = _in_a_thread(hold_the_key)
    assert held.wait(10)
    try:
        busy = post(client, "/api/risks/", new_risk(agency), "busy")
    finally:
        release.set()
        thread.join(10)
    after = post(client, "/api/risks/", new_risk(agency), "busy")

    assert busy.status_code == 409
    assert busy.json() == IN_USE
    assert busy["Retry-After"] == "2"
    assert after.status_code == 201
    assert Risk.objects.count() == 1


@pytest.mark.skipif(not ON_POSTGRESQL, reason="the advisory lock is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_two_requests_with_one_key_at_once_make_one_record(agency, editor):
    _token, key = services.token_issue(user=editor, name="CMDB")
    events = AuditEvent.objects.count()
    start = threading.Barrier(4)

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        start.wait(10)
        response = post(client, "/api/risks/", new_risk(agency), "at-once")
        return response.status_code, response.has_header("Idempotent-Replayed"), response.content

    threads = [_in_a_thread(send) for _ in range(4)]
    for thread, _result in threads:
        thread.join(30)
    answers = [result["value"] for _thread, result in threads]

    created = [content for status, replayed, content in answers if status == 201 and not replayed]
    assert len(created) == 1
    for status, replayed, content in answers:
        if status == 409:  # sent while the first still ran
            assert (replayed, json.loads(content)) == (False, IN_USE)
        else:  # the first, or sent after it had committed: its answer again
            assert (status, content) == (201, created[0])
    assert sorted(replayed for status, replayed, _content in answers if status == 201) == [False] + [True] * (
        sum(status == 201 for status, _replayed, _content in answers) - 1)
    assert Risk.objects.count() == 1
    assert AuditEvent.objects.count() == events + 1
    assert IdempotencyKey.objects.count() == 1


def test_the_purge_runs_hourly_from_the_beat_schedule():
    from qgov.celery import app

    entry = app.conf.beat_schedule["purge-expired-idempotency-keys-hourly"]

    assert entry["task"] == "qgov.integrations.idempotency.tasks.idempotency_keys_purge_expired"
    assert entry["task"] in app.tasks
    assert (entry["schedule"].minute, entry["schedule"].hour) == ({20}, set(range(24)))
