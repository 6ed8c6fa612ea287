"""The generic model suite: the API checks (qgov.testing)."""

import datetime as dt

import pytest
from django import forms
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import resolve
from django_filters.fields import BaseCSVField

from qgov.choices import AuditActionChoices, RoleChoices
from qgov.roles import Action
from qgov.testing.base import ROLES, SuiteBase, events_for, role_may


class ApiChecks(SuiteBase):
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
        # A service's direct write through the model's queryset (a status, a count) changes it too.
        self.model.objects.filter(pk=record.pk).update(version=models.F("version"))
        written = client.get(self.api_path, HTTP_IF_NONE_MATCH=changed["ETag"])
        assert written.status_code == 200 and written["ETag"] != changed["ETag"]

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
        """Related records are loaded with only what {id, display, url} needs (`brief_fields`, a
        user's username); their `str()` must not fetch a deferred column, one query per row."""
        from qgov.api.viewsets import brief_relations, declared_brief_fields, deferred_for_brief

        self.make_record(agency)
        view = resolve(self.api_path).func.cls
        checked = 0
        for _name, related_model in brief_relations(view.serializer_class, self.model):
            if declared_brief_fields(related_model) is None:
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
