"""Schemathesis over the published OpenAPI schema: every operation, with generated valid and
invalid input, called in-process on the WSGI application as an agency admin holding a real API
token, with all of schemathesis' checks: no server error, every status and body as documented,
what the schema allows accepted and what it refuses refused."""

import re

import django_filters
import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.config import CoveragePhaseConfig, OperationConfig, PhasesConfig
from schemathesis.filters import FilterSet
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.specs.openapi.checks import positive_data_acceptance

from qgov import services
from qgov.choices import RoleChoices
from qgov.filters import QgovFilterSet
from qgov.integrations.changes import CURSOR_REFUSED
from qgov.models import ApiToken, Membership
from qgov.wsgi import application
from tests.factories import AgencyFactory, MembershipFactory, UserFactory

# Per operation; with the coverage phase's own cases this keeps the whole run around a minute.
MAX_EXAMPLES = 10


# Loaded once, at collection (the schema view needs no database); one test per operation.
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
# Text with NUL characters is refused on purpose (PostgreSQL cannot store them; test_hostile_bodies.py
# pins the 400), and a pattern on every string field to say so would only clutter the schema.
schema.config.generation.update(allow_x00=False)


def paths_with_both_put_and_patch() -> list[str]:
    methods = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        methods.setdefault(operation.path, set()).add(operation.method.upper())
    return sorted(path for path, found in methods.items() if {"PUT", "PATCH"} <= found)


# The coverage phase (a deterministic case per boundary and per invalid value of every parameter and
# body field) is 95% of this file's time. A PATCH body is its PUT's body with every field optional,
# validated by the same serializer (partial=True), so its coverage cases repeat the PUT's one for one
# (about 200 requests per model): the PUT keeps them, the PATCH keeps its fuzzing, examples and
# every check. test_patch_coverage_is_left_to_put_only_where_both_exist pins which operations.
PATCH_PATHS_COVERED_BY_PUT = paths_with_both_put_and_patch()
_patch_filter = FilterSet()
_patch_filter.include(method="PATCH", path=PATCH_PATHS_COVERED_BY_PUT)
schema.config.operations.operations.append(
    OperationConfig(filter_set=_patch_filter, phases=PhasesConfig(coverage=CoveragePhaseConfig(enabled=False))))


@pytest.fixture(autouse=True)
def no_token_rate_limit(settings):
    # The fuzzer sends thousands of requests with one token: what it checks is the schema, and a 429
    # a minute into the run would be the rate limit's answer, not the operation's.
    settings.QGOV_API_TOKEN_RATE_LIMIT = ""


@pytest.fixture(autouse=True)
def keep_the_test_database_connection(db):
    # Called straight through WSGI, Django would close the test's database connection at the end of
    # each request (close_old_connections); Django's own test client unhooks it the same way.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


class Caller:
    """An agency admin with an API token, plus a few records for the generated ids to hit."""

    def __init__(self):
        self.agency = AgencyFactory(name="Department of Quantum Networks", code="DQN")
        self.user = UserFactory(username="fuzz-admin")
        self.membership = MembershipFactory(agency=self.agency, user=self.user, role=RoleChoices.ADMIN)
        for role in (RoleChoices.VIEWER, RoleChoices.EDITOR, RoleChoices.AUDITOR):
            MembershipFactory(agency=self.agency, role=role)
        MembershipFactory(agency=AgencyFactory(name="Ministry of Other Things", code="MOT"), role=RoleChoices.ADMIN)
        self.token, self.key = services.token_issue(user=self.user, name="schema fuzzing")
        services.notify(users=[self.user], agency=self.agency, title="Hello", email=False)

    def restore(self):
        # Generated requests may legitimately revoke this token or change this membership (the
        # caller is an admin); put them back so every case runs with the same rights.
        ApiToken.objects.filter(pk=self.token.pk).update(revoked_at=None)
        Membership.objects.filter(pk=self.membership.pk).update(role=RoleChoices.ADMIN)

    @property
    def headers(self):
        return {"Authorization": f"Token {self.key}"}


@pytest.fixture
def caller(db):
    return Caller()


# A schema says which requests are well formed, not which records exist, which password is right or
# which file types an upload takes: a 400 that says only that is the right answer to a well-formed
# request naming a random id or file.
NO_SUCH_THING = {"Unknown agency.", "Choose one of your agencies.", "Unable to sign in with these credentials.",
                 "Upload a .csv or .xlsx file.", "No file was submitted.", "The submitted file is empty.",
                 "Upload a CycloneDX JSON file (.json).", "The file is empty.",  # a schema cannot name a file type
                 # Relative to today, which a schema cannot state.
                 "A new risk's next review cannot be in the past; choose today or a later date.",
                 "A report describes data that exists: the time cannot be in the future.",
                 "The expiry must be in the future.", "A token may be valid for at most 366 days.",
                 # Which cursors the API issued, and that cursor excludes offset and ordering (OpenAPI 3.0
                 # cannot say two parameters exclude each other): docs/api.md.
                 "Not a cursor of this list: send `cursor=` empty to start, then follow each page's `next` link.",
                 "A cursor walks the list in id order: leave out offset.",
                 "A cursor walks the list in id order: leave out ordering.",
                 CURSOR_REFUSED}
# A related id that does not exist, or a question code the review's questionnaire does not have
# (its codes are data, which a schema cannot list), or a report parameter of another kind of report
# (which parameters go with which `kind` is more than OpenAPI 3.0 can say of one object), or a
# register filter the register's list does not have (its filters are the risks app's, not the core's).
NO_SUCH_RECORD = re.compile(r'Invalid pk ".*" - object does not exist\.|.* is not a question of .*\.'
                            r'|Not a parameter of this report: .*\.'
                            r'|“.*” is not a filter of the risk register; filters: .*\.'
                            # Which time zones exist is the server's zone data (they differ between machines),
                            # which the schema gives as a pattern and an example, not as a list.
                            r'|".*" is not a time zone: send an IANA time-zone name, e\.g\. Europe/Brussels or UTC\.'
                            # Which event types exist follows from the installed apps and their lifecycles
                            # (GET /api/webhooks/event-types/ lists them); the schema gives their form.
                            r'|Unknown event types: .*\.',
                            re.S)


# Where a webhook may point is decided by DNS and the operator's allow-list (QGOV_WEBHOOK_ALLOWED_HOSTS)
# when the URL is saved, and Django's URL check is stricter on host names than RFC 3986's `uri` format
# (a name over 253 characters): a schema can say none of that.
WEBHOOK_TARGET_REFUSED = re.compile(r"The host .* cannot be resolved\.|.* resolves to .*, which is not a public "
                                    r"address\.|Webhook URLs must use https\.|Enter a valid URL\.", re.S)


def _messages(errors):
    """Every message of an error tree (a list field's errors are {index: [message]})."""
    if isinstance(errors, dict):
        return [message for value in errors.values() for message in _messages(value)]
    if isinstance(errors, list):
        return [message for value in errors for message in _messages(value)]
    return [errors]


def says_only_no_such_thing(errors) -> bool:
    messages = _messages(errors)
    return bool(messages) and all(message in NO_SUCH_THING or NO_SUCH_RECORD.fullmatch(message) for message in messages)


def positive_data_acceptance_of_unknown_references(ctx, response, case):
    """schemathesis' positive_data_acceptance, but for a 400 that only says a referenced record does
    not exist (ids in bodies and in the few non-filter parameters), or that a sign-in failed, and
    for a 422 that says an Idempotency-Key was sent before with another request."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except RejectedPositiveData:
        # Which Idempotency-Keys were used before, and with which request, is data a schema cannot
        # state: the fuzzer sends the same few keys with different requests (docs/integrating.md).
        if response.status_code == 422 and response.json()["code"] == "idempotency_key_reused":
            return None
        if response.status_code == 400:
            errors = dict(response.json()["errors"])
            body = case.body if isinstance(case.body, dict) else {}
            # Text is trimmed before it is checked (DRF's trim_whitespace), so a value of only
            # whitespace (e.g. "\u001e", which str.strip() removes) is blank: a 400 the schema's
            # minLength cannot express without a pattern on every text field.
            for name, value in body.items():
                if (isinstance(value, str) and value and not value.strip()
                        and errors.get(name) == ["This field may not be blank."]):
                    del errors[name]
            if all(WEBHOOK_TARGET_REFUSED.fullmatch(message) for message in _messages(errors.get("target_url", ["-"]))):
                del errors["target_url"]
            if not errors or says_only_no_such_thing(errors):
                return None
        raise


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_does_what_its_schema_says(case, caller):
    caller.restore()
    case.call_and_validate(headers=caller.headers, excluded_checks=[positive_data_acceptance],
                           additional_checks=[positive_data_acceptance_of_unknown_references])


def test_patch_coverage_is_left_to_put_only_where_both_exist():
    patches = {result.ok().path for result in schema.get_all_operations() if result.ok().method.upper() == "PATCH"}
    assert set(PATCH_PATHS_COVERED_BY_PUT) == patches  # every PATCH in this API has its PUT
    for result in schema.get_all_operations():
        operation = result.ok()
        enabled = schema.config.phases_for(operation=operation).coverage.enabled
        assert enabled is (operation.method.upper() != "PATCH"), operation.label


CORE_PREFIXES = ("/api/agencies/", "/api/audit-events/", "/api/auth/", "/api/import-runs/", "/api/memberships/",
                 "/api/notifications/", "/api/tokens/", "/api/users/")


def test_the_schema_lists_every_core_operation():
    # Domain apps add their own operations; the fuzzing above covers those too.
    operations = sorted(
        f"{result.ok().method.upper()} {result.ok().path}"
        for result in schema.get_all_operations()
        if result.ok().path.startswith(CORE_PREFIXES)
    )
    assert operations == [
        "DELETE /api/memberships/{id}/",
        "DELETE /api/tokens/{id}/",
        "GET /api/agencies/",
        "GET /api/agencies/{id}/",
        "GET /api/audit-events/",
        "GET /api/audit-events/{id}/",
        "GET /api/import-runs/",
        "GET /api/import-runs/{id}/",
        "GET /api/memberships/",
        "GET /api/memberships/{id}/",
        "GET /api/notifications/",
        "GET /api/notifications/{id}/",
        "GET /api/tokens/",
        "GET /api/tokens/{id}/",
        "GET /api/users/",
        "GET /api/users/{id}/",
        "PATCH /api/agencies/{id}/",
        "PATCH /api/memberships/{id}/",
        "PATCH /api/users/{id}/",
        "POST /api/agencies/",
        "POST /api/auth/token/",
        "POST /api/memberships/",
        "POST /api/notifications/mark-read/",
        "POST /api/tokens/",
        "POST /api/users/",
        "PUT /api/agencies/{id}/",
        "PUT /api/memberships/{id}/",
        "PUT /api/users/{id}/",
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("['null', 'null']", "Enter a whole number."),
        ("804779522475946254794752,876", "Ensure this value is less than or equal to 9223372036854775807."),
        ("0", "Ensure this value is greater than or equal to 1."),
    ],
    ids=["not-a-number", "beyond-64-bits", "zero"],
)
@pytest.mark.parametrize("path", ["/api/agencies/", "/api/memberships/", "/api/audit-events/", "/api/users/"])
def test_id_filters_answer_400_to_what_the_fuzzer_found(caller, path, value, message):
    # These answered 500 (ValueError, OverflowError) before the id filter validated its values.
    response = Client().get(path, {"id": value}, HTTP_AUTHORIZATION=caller.headers["Authorization"])

    assert response.status_code == 400
    assert response.json() == {
        "status": 400, "code": "invalid", "detail": "Invalid input.", "errors": {"id": [message]}
    }


def test_id_filter_selects_the_listed_records(caller):
    ids = f"{caller.membership.pk},999999"
    response = Client().get("/api/memberships/", {"id": ids}, HTTP_AUTHORIZATION=caller.headers["Authorization"])

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [caller.membership.pk]


class MembershipByUserFilterSet(QgovFilterSet):
    users = django_filters.ModelMultipleChoiceFilter(field_name="user", queryset=get_user_model().objects.all())

    class Meta:
        model = Membership
        fields = []


def test_multiple_choice_filters_refuse_ids_beyond_64_bits(caller):
    # SQLite raised OverflowError (a 500) on such ids in the IN (...) lookup that checks choices.
    too_big = 2**70
    filterset = MembershipByUserFilterSet({"users": [str(caller.user.pk), str(too_big)]}, Membership.objects.all())

    assert filterset.is_valid() is False
    assert filterset.errors == {"users": [f"“{too_big}” is not a valid value."]}

    filterset = MembershipByUserFilterSet({"users": [str(caller.user.pk)]}, Membership.objects.all())

    assert filterset.is_valid() is True
    assert list(filterset.qs) == [caller.membership]


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/memberships/", {"user": "6.73401940414646e+25"}, "user"),
        ("/api/risks/", {"inherent_likelihood": "1e30"}, "inherent_likelihood"),
        ("/api/risks/", {"owner": str(2**70)}, "owner"),
    ],
    ids=["number-filter", "generated-number-filter", "single-choice"],
)
def test_numbers_beyond_64_bits_are_400(caller, path, params, field):
    # The fuzzer found the first as a 500 (OverflowError in SQLite); the others share its cause.
    response = Client().get(path, params, HTTP_AUTHORIZATION=caller.headers["Authorization"])

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
