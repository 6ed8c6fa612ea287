"""The generic model test suite. A model's tests are one subclass that declares how to make a
record and what valid input looks like; the suite then checks, through the API and the UI,
every role against the role table, isolation from other agencies (404, nothing changed),
audit events for each change, ETag / If-Match, stale form versions, a pinned number of
queries for list pages that does not grow with rows or page size, no filter making a list
`SELECT DISTINCT`, and related records read without fetching deferred columns.

    class TestMembership(ModelTestSuite):
        model = Membership
        api_path = "/api/memberships/"
        list_queries = 3
        ...
"""

import csv
import datetime as dt
import io
import re

import pytest
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django_filters.fields import BaseCSVField
from openpyxl import load_workbook
from rest_framework.test import APIClient

from qgov.choices import AuditActionChoices, RoleChoices
from qgov.exports import FORMULA_STARTS
from qgov.lifecycle import lifecycle_of
from qgov.models import AuditEvent
from qgov.permissions import PLATFORM_ONLY
from qgov.roles import Action, role_allows

ROLES = list(RoleChoices.values)
HTML_TAG = re.compile(r"<[a-z/][^>]*>", re.IGNORECASE)
ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d(?:$|[T ]\d\d:\d\d)")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def role_may(model, role: str, action: str) -> bool:
    required = model.permission_action(action)
    return required is not PLATFORM_ONLY and role_allows(role, required)


def events_for(obj_or_model, pk=None):
    content_type = ContentType.objects.get_for_model(obj_or_model)
    object_id = str(pk if pk is not None else obj_or_model.pk)
    return AuditEvent.objects.filter(content_type=content_type, object_id=object_id)


class ModelTestSuite:
    """Subclass, set the attributes, implement the hooks. Needs the fixtures of tests/conftest.py."""

    model = None
    api_path: str = None  # "/api/memberships/"
    list_queries: int = None  # queries of one API list request, pinned
    ui_list_queries: int = None  # queries of one UI list page, pinned
    filter_values: dict = {}  # a valid API value for filters the suite cannot make one for
    api_delete = True
    ui_create = True
    ui_delete = True
    scoped = True  # False for shared catalogs, which every agency reads

    def skip_unless_scoped(self):
        if not self.scoped:
            pytest.skip("a shared catalog belongs to no agency")

    # --- hooks -------------------------------------------------------------------------------

    def make_record(self, agency):
        """A saved record that belongs to `agency`."""
        raise NotImplementedError

    def create_payload(self, agency) -> dict:
        """A valid API POST body for a new record in `agency`."""
        raise NotImplementedError

    def update_payload(self, record) -> dict:
        """A valid API PATCH body that changes `record`."""
        raise NotImplementedError

    def form_data(self, agency, record=None) -> dict:
        """Valid UI form data (create when record is None)."""
        raise NotImplementedError

    # --- helpers -----------------------------------------------------------------------------

    def detail_path(self, record):
        return f"{self.api_path}{record.pk}/"

    def client_for(self, user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    def reload(self, record):
        return type(record)._base_manager.get(pk=record.pk)

    def snapshot(self, record):
        from qgov.audit import snapshot

        return snapshot(self.reload(record))

    def ui_url(self, view, *args):
        meta = self.model._meta
        return reverse(f"{meta.app_label}:{meta.model_name}_{view}", args=args)

    def login(self, client, user):
        client.force_login(user)
        return client

    # --- API ---------------------------------------------------------------------------------

    @pytest.mark.parametrize("role", ROLES)
    def test_api_list_shows_only_own_agency(self, role, agency, other_agency, member_of):
        mine = self.make_record(agency)
        theirs = self.make_record(other_agency)
        user = member_of(agency, role)
        response = self.client_for(user).get(self.api_path, {"limit": 1000})
        assert response.status_code == 200
        ids = {row["id"] for row in response.json()["results"]}
        assert (theirs.pk in ids) is not self.scoped
        assert (mine.pk in ids) == role_may(self.model, role, Action.VIEW)

    @pytest.mark.parametrize("role", ROLES)
    def test_api_retrieve_other_agency_is_404(self, role, agency, other_agency, member_of):
        self.skip_unless_scoped()
        theirs = self.make_record(other_agency)
        user = member_of(agency, role)
        response = self.client_for(user).get(self.detail_path(theirs))
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"

    def test_api_retrieve_sends_etag(self, agency, superuser):
        record = self.make_record(agency)
        response = self.client_for(superuser).get(self.detail_path(record))
        assert response.status_code == 200
        assert response["ETag"] == f'"{record.version}"'
        assert response.json()["display"] == str(record)

    @pytest.mark.parametrize("role", ROLES)
    def test_api_create_by_role(self, role, agency, member_of):
        user = member_of(agency, role)
        payload = self.create_payload(agency)
        before = self.model.objects.count()
        response = self.client_for(user).post(self.api_path, payload, format="json")
        if role_may(self.model, role, Action.ADD):
            assert response.status_code == 201, response.json()
            created = self.model.objects.get(pk=response.json()["id"])
            assert self.model.objects.count() == before + 1
            assert events_for(created).filter(action=AuditActionChoices.CREATE, actor=user).count() == 1
        else:
            assert response.status_code == 403, response.json()
            assert self.model.objects.count() == before

    def test_api_create_in_other_agency_is_refused(self, agency, other_agency, member_of):
        if "agency" not in self.create_payload(agency):
            pytest.skip("records of this model are not created inside an agency")
        user = member_of(agency, RoleChoices.ADMIN)
        before = self.model.objects.count()
        response = self.client_for(user).post(self.api_path, self.create_payload(other_agency), format="json")
        assert response.status_code == 400
        assert "agency" in response.json()["errors"]
        assert self.model.objects.count() == before

    def test_api_unknown_field_is_400(self, agency, superuser):
        payload = {**self.create_payload(agency), "no_such_field": 1}
        before = self.model.objects.count()
        response = self.client_for(superuser).post(self.api_path, payload, format="json")
        assert response.status_code == 400
        assert response.json()["errors"] == {"no_such_field": ["Unknown field."]}
        assert self.model.objects.count() == before

    @pytest.mark.parametrize("role", ROLES)
    def test_api_update_by_role(self, role, agency, member_of):
        record = self.make_record(agency)
        user = member_of(agency, role)
        before = self.snapshot(record)
        response = self.client_for(user).patch(self.detail_path(record), self.update_payload(record), format="json")
        if role_may(self.model, role, Action.CHANGE):
            assert response.status_code == 200, response.json()
            assert self.reload(record).version == record.version + 1
            assert response["ETag"] == f'"{record.version + 1}"'
            event = events_for(record).filter(action=AuditActionChoices.UPDATE).latest("seq")
            assert event.actor == user
            assert event.before == before
        else:
            expected = 403 if role_may(self.model, role, Action.VIEW) else 404
            assert response.status_code == expected
            assert self.snapshot(record) == before

    def test_api_update_other_agency_is_404(self, agency, other_agency, member_of):
        self.skip_unless_scoped()
        theirs = self.make_record(other_agency)
        user = member_of(agency, RoleChoices.ADMIN)
        before = self.snapshot(theirs)
        response = self.client_for(user).patch(self.detail_path(theirs), self.update_payload(theirs), format="json")
        assert response.status_code == 404
        assert self.snapshot(theirs) == before

    def test_api_stale_if_match_is_412(self, agency, superuser):
        record = self.make_record(agency)
        client = self.client_for(superuser)
        etag = client.get(self.detail_path(record))["ETag"]
        fresh = client.patch(self.detail_path(record), self.update_payload(record), format="json", HTTP_IF_MATCH=etag)
        assert fresh.status_code == 200
        before = self.snapshot(record)
        stale = client.patch(self.detail_path(record), self.update_payload(record), format="json", HTTP_IF_MATCH=etag)
        assert stale.status_code == 412
        assert stale.json()["code"] == "stale_version"
        assert stale["ETag"] == f'"{record.version + 1}"'
        assert self.snapshot(record) == before

    @pytest.mark.parametrize("role", ROLES)
    def test_api_delete_by_role(self, role, agency, member_of):
        record = self.make_record(agency)
        user = member_of(agency, role)
        response = self.client_for(user).delete(self.detail_path(record))
        if not self.api_delete:
            assert response.status_code == 405
            assert self.model.objects.filter(pk=record.pk).exists()
        elif role_may(self.model, role, Action.DELETE):
            assert response.status_code == 204
            assert not self.model.objects.filter(pk=record.pk).exists()
            # The record is gone; its history is not.
            actions = list(events_for(self.model, record.pk).order_by("seq").values_list("action", flat=True))
            assert actions[0] == AuditActionChoices.CREATE
            assert actions[-1] == AuditActionChoices.DELETE
        else:
            assert response.status_code == (403 if role_may(self.model, role, Action.VIEW) else 404)
            assert self.model.objects.filter(pk=record.pk).exists()

    def test_api_delete_other_agency_is_404(self, agency, other_agency, member_of):
        self.skip_unless_scoped()
        theirs = self.make_record(other_agency)
        user = member_of(agency, RoleChoices.ADMIN)
        response = self.client_for(user).delete(self.detail_path(theirs))
        assert response.status_code in ((404,) if self.api_delete else (405,))
        assert self.model.objects.filter(pk=theirs.pk).exists()

    def test_api_list_query_count_is_pinned(self, agency, member_of, superuser):
        user = member_of(agency, RoleChoices.ADMIN)
        client = self.client_for(user)
        counts = []
        for _ in range(2):
            for _ in range(3):
                self.make_record(agency)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(self.api_path)
            assert response.status_code == 200
            counts.append(len(queries))
        assert counts == [self.list_queries] * 2, (counts, [q["sql"][:160] for q in queries.captured_queries])

    def test_api_list_query_count_does_not_grow_with_page_size(self, agency, member_of):
        client = self.client_for(member_of(agency, RoleChoices.ADMIN))
        for _ in range(3):
            self.make_record(agency)
        counts = []
        # Both pages short of the whole list, so that both count it (a page that ends the list may
        # count itself, qgov.api.pagination): one more row must cost no more queries.
        for limit in (1, 2):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(self.api_path, {"limit": limit})
            assert response.status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1], counts

    def test_api_updated_after_and_before(self, agency, member_of):
        """Every list filters on when records last changed (incremental sync): `updated_after` at or
        after the instant, `updated_before` strictly before it."""
        record = self.make_record(agency)
        stamp = self.model._base_manager.get(pk=record.pk).last_updated
        client = self.client_for(member_of(agency, RoleChoices.ADMIN))

        def listed(**params):
            response = client.get(self.api_path, {**params, "limit": 1000})
            assert response.status_code == 200, response.json()
            return record.pk in {row["id"] for row in response.json()["results"]}

        later = stamp + dt.timedelta(microseconds=1)
        assert [listed(updated_after=stamp.isoformat()), listed(updated_after=later.isoformat())] == [True, False]
        assert [listed(updated_before=later.isoformat()), listed(updated_before=stamp.isoformat())] == [True, False]

    def test_api_list_etag_and_304(self, agency, member_of):
        """Every list answers a weak ETag; the same tag in If-None-Match is a 304 without a body,
        in no more queries than the list itself; a change to a listed record changes the tag."""
        record = self.make_record(agency)
        client = self.client_for(member_of(agency, RoleChoices.ADMIN))
        first = client.get(self.api_path)
        tag = first["ETag"]
        assert tag.startswith('W/"') and len(tag) == 36
        with CaptureQueriesContext(connection) as queries:
            again = client.get(self.api_path, HTTP_IF_NONE_MATCH=tag)
        assert (again.status_code, again.content, again["ETag"]) == (304, b"", tag)
        assert len(queries) <= self.list_queries, [q["sql"][:160] for q in queries.captured_queries]
        self.model._base_manager.filter(pk=record.pk).update(version=models.F("version") + 1)
        changed = client.get(self.api_path, HTTP_IF_NONE_MATCH=tag)
        assert changed.status_code == 200 and changed["ETag"] != tag

    def api_filterset(self):
        view = resolve(self.api_path).func.cls()
        from qgov.api.filters import QgovFilterBackend

        filterset_class = QgovFilterBackend().get_filterset_class(view, view.queryset)
        return filterset_class(data=None, queryset=self.model._base_manager.none(), unknown_ids_match_nothing=True)

    def filter_value(self, name, field, record):
        """A valid API value for one filter, from its form field."""
        if name in self.filter_values:
            return self.filter_values[name]
        if isinstance(field, BaseCSVField):
            return str(record.pk)
        if isinstance(field, forms.NullBooleanField | forms.BooleanField):
            return "true"
        if isinstance(field, forms.ModelChoiceField):  # and multiple
            first = field.queryset.order_by("pk").first()
            return str(first.pk) if first is not None else "1"
        if isinstance(field, forms.ChoiceField):  # and multiple
            return next(str(value) for value, _label in field.choices if value not in ("", None)
                        and not isinstance(_label, list | tuple))
        if isinstance(field, forms.DateTimeField):
            return "2030-01-02T03:04:05Z"
        if isinstance(field, forms.DateField):
            return "2030-01-02"
        if isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
            return "1"
        if type(field) is forms.CharField:
            return "a"
        pytest.fail(f"no value for filter {name!r} ({type(field).__name__}): declare it in filter_values")

    def test_api_filters_add_no_distinct(self, agency, member_of):
        """Every filter of the model's list, with a valid value: no `SELECT DISTINCT` (a sort of the
        whole result), and no record twice."""
        record = self.make_record(agency)
        client = self.client_for(member_of(agency, RoleChoices.ADMIN))
        filterset = self.api_filterset()
        assert filterset.filters
        for name, filter_ in filterset.filters.items():
            value = self.filter_value(name, filter_.field, record)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(self.api_path, {name: value, "limit": 1000})
            assert response.status_code == 200, (name, value, response.json())
            distinct = [q["sql"] for q in queries.captured_queries if "SELECT DISTINCT" in q["sql"].upper()]
            assert not distinct, (name, distinct)
            ids = [row["id"] for row in response.json()["results"]]
            assert len(ids) == len(set(ids)), name

    def test_brief_relations_read_their_display_without_more_queries(self, agency, member_of):
        """Related records are loaded with only what {id, display, url} needs (`brief_fields`); their
        `str()` must not fetch a deferred column, one query per row."""
        from qgov.api.viewsets import brief_relations, deferred_for_brief

        self.make_record(agency)
        view = resolve(self.api_path).func.cls
        checked = 0
        for _name, related_model in brief_relations(view.serializer_class, self.model):
            if getattr(related_model, "brief_fields", None) is None:
                continue  # loaded whole
            related = related_model._default_manager.defer(*deferred_for_brief(related_model)).order_by("pk").first()
            if related is None:
                continue
            with CaptureQueriesContext(connection) as queries:
                str(related)
            assert len(queries) == 0, (related_model.__name__, [q["sql"] for q in queries.captured_queries])
            checked += 1
        if not checked:
            pytest.skip("no related record of a model declaring brief_fields to read")

    # --- UI ----------------------------------------------------------------------------------

    @pytest.mark.parametrize("role", ROLES)
    def test_ui_list_and_detail_by_role(self, role, client, agency, other_agency, member_of):
        mine = self.make_record(agency)
        theirs = self.make_record(other_agency)
        self.login(client, member_of(agency, role))
        may_view = role_may(self.model, role, Action.VIEW)
        assert client.get(self.ui_url("list")).status_code == (200 if may_view else 403)
        assert client.get(self.ui_url("detail", mine.pk)).status_code == (200 if may_view else 404)
        assert client.get(self.ui_url("detail", theirs.pk)).status_code == (404 if self.scoped else 200)

    def test_ui_list_export_csv(self, client, agency, member_of):
        self.make_record(agency)
        self.login(client, member_of(agency, RoleChoices.ADMIN))
        shown = client.get(self.ui_url("list")).context["table"].paginator.count
        response = client.get(self.ui_url("list"), {"export": "csv"})
        assert response.status_code == 200
        assert response.streaming
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert shown >= 1
        assert len(rows) == 1 + shown
        assert len({len(row) for row in rows}) == 1
        # Data, not the page: no markup, no "—" placeholders, nothing a spreadsheet would run.
        cells = [cell for row in rows[1:] for cell in row]
        assert not [cell for cell in cells if HTML_TAG.search(cell) or cell == "—"]
        assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)
                    and not cell.startswith("'") and not NUMBER.fullmatch(cell)]

    def test_ui_list_export_xlsx(self, client, agency, member_of):
        self.make_record(agency)
        self.login(client, member_of(agency, RoleChoices.ADMIN))
        shown = client.get(self.ui_url("list")).context["table"].paginator.count
        response = client.get(self.ui_url("list"), {"export": "xlsx"})
        assert response.status_code == 200
        assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert response["Content-Disposition"].startswith(f'attachment; filename="{agency.code}-')
        sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
        rows = list(sheet.iter_rows())
        assert len(rows) == 1 + shown
        cells = [cell for row in rows[1:] for cell in row]
        assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
        texts = [cell.value for cell in cells if isinstance(cell.value, str)]
        assert not [text for text in texts if HTML_TAG.search(text) or text == "—"]
        # Dates and times are date cells, numbers are numbers: no ISO date or bare number kept as text.
        assert not [text for text in texts if ISO_DATE.match(text) or NUMBER.fullmatch(text)]

    def test_ui_list_query_count_is_pinned(self, client, agency, member_of):
        self.login(client, member_of(agency, RoleChoices.ADMIN))
        counts = []
        for _ in range(2):
            for _ in range(3):
                self.make_record(agency)
            with CaptureQueriesContext(connection) as queries:
                response = client.get(self.ui_url("list"))
            assert response.status_code == 200
            counts.append(len(queries))
        assert counts == [self.ui_list_queries] * 2, (counts, [q["sql"][:160] for q in queries.captured_queries])

    @pytest.mark.parametrize("role", ROLES)
    def test_ui_create_by_role(self, role, client, agency, member_of):
        if not self.ui_create:
            pytest.skip("records of this model are not created through its add form")
        self.login(client, member_of(agency, role))
        before = self.model.objects.count()
        response = client.post(self.ui_url("add"), self.form_data(agency))
        if role_may(self.model, role, Action.ADD):
            assert response.status_code == 302, response.context["form"].errors if response.context else response
            assert self.model.objects.count() == before + 1
        else:
            assert response.status_code == 403
            assert self.model.objects.count() == before

    @pytest.mark.parametrize("role", ROLES)
    def test_ui_edit_by_role(self, role, client, agency, member_of):
        record = self.make_record(agency)
        user = member_of(agency, role)
        self.login(client, user)
        before = self.snapshot(record)
        data = {**self.form_data(agency, record), "version": record.version}
        response = client.post(self.ui_url("edit", record.pk), data)
        if role_may(self.model, role, Action.CHANGE):
            assert response.status_code == 302, response.context["form"].errors if response.context else response
            assert self.reload(record).version == record.version + 1
            assert events_for(record).filter(action=AuditActionChoices.UPDATE, actor=user).count() == 1
        else:
            assert response.status_code == (403 if role_may(self.model, role, Action.VIEW) else 404)
            assert self.snapshot(record) == before

    def test_ui_edit_with_stale_version_shows_changes(self, client, agency, superuser):
        record = self.make_record(agency)
        self.login(client, superuser)
        data = {**self.form_data(agency, record), "version": record.version}
        first = client.post(self.ui_url("edit", record.pk), data)
        assert first.status_code == 302
        before = self.snapshot(record)
        stale = client.post(self.ui_url("edit", record.pk), data)
        assert stale.status_code == 200
        assert "changed by someone else" in stale.content.decode()
        assert stale.context["changes"], "the page lists what changed in the meantime"
        assert self.snapshot(record) == before

    @pytest.mark.parametrize("role", ROLES)
    def test_ui_delete_by_role(self, role, client, agency, member_of):
        if not self.ui_delete:
            pytest.skip("records of this model are not deleted through the UI")
        record = self.make_record(agency)
        self.login(client, member_of(agency, role))
        response = client.post(self.ui_url("delete", record.pk), {"version": record.version})
        if role_may(self.model, role, Action.DELETE):
            assert response.status_code == 302
            assert not self.model.objects.filter(pk=record.pk).exists()
        else:
            assert response.status_code == (403 if role_may(self.model, role, Action.VIEW) else 404)
            assert self.model.objects.filter(pk=record.pk).exists()

    def test_ui_history_lists_changes(self, client, agency, member_of, superuser):
        record = self.make_record(agency)
        # An agency's auditors read its records' history; catalogs' history is the platform admins'.
        self.login(client, member_of(agency, RoleChoices.ADMIN) if self.scoped else superuser)
        response = client.get(self.ui_url("history", record.pk))
        assert response.status_code == 200
        assert [e.action for e in response.context["events"]][-1] == AuditActionChoices.CREATE

    # --- lifecycle (models that declare one) ---------------------------------------------------

    def lifecycle_or_skip(self):
        lifecycle = lifecycle_of(self.model)
        if lifecycle is None:
            pytest.skip("the model has no lifecycle")
        return lifecycle

    def other_value(self, record, name, superuser):
        """A well-formed API value for field `name` that differs from the record's."""
        field = self.model._meta.get_field(name)
        current = getattr(record, field.attname)
        if field.choices:
            return next(value for value, _label in field.flatchoices if value != current)
        if field.is_relation:
            return superuser.pk
        if isinstance(field, models.DateTimeField):
            return "2031-01-02T03:04:05Z"
        if isinstance(field, models.DateField):
            return "2031-01-02"
        if isinstance(field, models.IntegerField):
            return (current or 0) + 7
        return f"{current or ''} changed by hand"

    def put_payload(self, record) -> dict:
        """A full valid PUT body for `record` (its create payload, changed as the update payload says)."""
        return {**self.create_payload(record.agency), **self.update_payload(record)}

    def force_state(self, record, state):
        lifecycle = lifecycle_of(self.model)
        self.model._base_manager.filter(pk=record.pk).update(**{lifecycle.field: state})
        return self.reload(record)

    @pytest.mark.parametrize("method", ["patch", "put"])
    def test_lifecycle_owned_fields_cannot_be_written_through_the_api(self, method, agency, superuser):
        lifecycle = self.lifecycle_or_skip()
        record = self.make_record(agency)
        client = self.client_for(superuser)
        for name in sorted(lifecycle.owned_fields):
            before = self.snapshot(record)
            value = self.other_value(record, name, superuser)
            body = {name: value} if method == "patch" else {**self.put_payload(record), name: value}
            response = getattr(client, method)(self.detail_path(record), body, format="json")
            assert response.status_code == 400, (name, response.json())
            assert name in response.json()["errors"], (name, response.json())
            assert self.snapshot(record) == before, name

    def test_lifecycle_owned_fields_cannot_be_set_on_create(self, agency, superuser):
        lifecycle = self.lifecycle_or_skip()
        before = self.model.objects.count()
        record = self.make_record(agency)
        for name in sorted(lifecycle.owned_fields):
            body = {**self.create_payload(agency), name: self.other_value(record, name, superuser)}
            response = self.client_for(superuser).post(self.api_path, body, format="json")
            assert response.status_code == 400, (name, response.json())
            assert name in response.json()["errors"]
        assert self.model.objects.count() == before + 1

    def test_lifecycle_owned_fields_are_not_in_the_form(self, client, agency, superuser):
        lifecycle = self.lifecycle_or_skip()
        record = self.make_record(agency)
        self.login(client, superuser)
        form = client.get(self.ui_url("edit", record.pk)).context["form"]
        assert not lifecycle.owned_fields & set(form.fields)
        # A posted value for an owned field is not a way around the lifecycle either.
        data = {**self.form_data(agency, record), "version": record.version}
        data.update({name: self.other_value(record, name, superuser) for name in lifecycle.owned_fields})
        response = client.post(self.ui_url("edit", record.pk), data)
        assert response.status_code == 302, response.context["form"].errors if response.context else response
        reloaded = self.reload(record)
        for name in lifecycle.owned_fields:
            field = self.model._meta.get_field(name)
            assert getattr(reloaded, field.attname) == getattr(record, field.attname), name

    def test_lifecycle_frozen_states_refuse_edits(self, client, agency, superuser):
        lifecycle = self.lifecycle_or_skip()
        if not lifecycle.frozen_states:
            pytest.skip("no state of this lifecycle is frozen")
        for state in sorted(lifecycle.frozen_states):
            record = self.force_state(self.make_record(agency), state)
            before = self.snapshot(record)
            response = self.client_for(superuser).patch(self.detail_path(record), self.update_payload(record),
                                                        format="json")
            assert response.status_code == 400, state
            assert response.json()["errors"] == {"non_field_errors": [lifecycle.frozen_message(record)]}
            self.login(client, superuser)
            page = client.post(self.ui_url("edit", record.pk), {**self.form_data(agency, record),
                                                               "version": record.version})
            assert page.status_code == 200
            assert page.context["form"].non_field_errors() == [lifecycle.frozen_message(record)]
            deleted = self.client_for(superuser).delete(self.detail_path(record))
            assert deleted.status_code == (204 if lifecycle.may_delete(record) else 400), state
            if deleted.status_code == 400:
                assert self.snapshot(record) == before

    def test_lifecycle_transitions_are_api_actions_in_the_schema(self, superuser):
        lifecycle = self.lifecycle_or_skip()
        paths = self.client_for(superuser).get("/api/schema/", {"format": "json"}).json()["paths"]
        for transition in lifecycle.transitions:
            path = f"{self.api_path}{{id}}/{transition.url_segment}/"
            if not transition.system:
                assert path in paths, path
            elif path in paths:
                # A system transition is never the generic transition action; the app may route a
                # service of its own there, which asks its own permission (a review's send/).
                from django.urls import resolve

                view = resolve(path.replace("{id}", "1"))
                assert view.func.actions.get("post") != f"transition_{transition.name}", path

    def test_lifecycle_illegal_transition_is_409_and_changes_nothing(self, agency, superuser):
        lifecycle = self.lifecycle_or_skip()
        record = self.make_record(agency)
        state = lifecycle.state_of(record)
        illegal = [t for t in lifecycle.public_transitions if state not in t.source]
        if not illegal:
            pytest.skip("every public transition may leave the initial state")
        before = self.snapshot(record)
        for transition in illegal:
            response = self.client_for(superuser).post(
                f"{self.detail_path(record)}{transition.url_segment}/", {"reason": "test"}, format="json")
            assert response.status_code == 409, transition.name
            state_label = lifecycle.state_label(record).lower()
            assert response.json()["errors"] == {lifecycle.field: [f"Currently {state_label}."]}
        assert self.snapshot(record) == before

    def test_lifecycle_owned_fields_cannot_be_imported(self, agency, superuser, settings, tmp_path,
                                                       django_capture_on_commit_callbacks):
        from django.core.files.uploadedfile import SimpleUploadedFile

        from qgov.imports.spec import spec_for

        lifecycle = self.lifecycle_or_skip()
        spec = spec_for(self.model)
        if spec is None:
            pytest.skip("the model has no import")
        settings.MEDIA_ROOT = tmp_path
        required = [column.name for column in spec.columns.values() if column.required]
        client = self.client_for(superuser)
        before = self.model.objects.count()
        for name in sorted(lifecycle.owned_fields):
            content = ",".join([*required, name]).encode() + b"\n" + b",".join([b"x"] * (len(required) + 1))
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(f"{self.api_path}import/", {
                    "file": SimpleUploadedFile("records.csv", content), "agency": agency.pk}, format="multipart")
            assert response.status_code == 202, response.json()
            run = client.get(response["Location"]).json()
            assert run["status"] == "failed", name
            assert {"row": 1, "field": name,
                    "message": "This field is set by the record's workflow and cannot be imported."} in run["errors"]
        assert self.model.objects.count() == before
