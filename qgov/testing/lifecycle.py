"""The generic model suite: the checks of models that declare a lifecycle (qgov.testing)."""


import pytest
from django.db import models

from qgov.lifecycle import lifecycle_of
from qgov.testing.base import SuiteBase


class LifecycleChecks(SuiteBase):
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

