"""The generic model suite: the browser pages' checks (qgov.testing)."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from qgov.choices import AuditActionChoices, RoleChoices
from qgov.exports import FORMULA_STARTS
from qgov.roles import Action
from qgov.testing.base import HTML_TAG, ISO_DATE, NUMBER, ROLES, SuiteBase, events_for, role_may


class UiChecks(SuiteBase):
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
