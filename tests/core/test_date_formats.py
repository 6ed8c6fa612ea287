"""One date format for every list and page: ISO 8601 dates, and times in the agency's time zone."""

import datetime
import hashlib
import re
from zoneinfo import ZoneInfo

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from qgov.choices import RoleChoices
from qgov.models import ImportRun
from risks.models import Risk
from tests.certification.factories import DeviceCertificationFactory
from tests.risks.factories import ControlFactory, RiskAcceptanceFactory, RiskFactory

US_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b")
WORDY_DATE = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}\b")


def test_lists_and_pages_show_iso_dates_and_local_times(client, agency, member_of):
    agency.time_zone = "Europe/Brussels"
    agency.save()
    risk = RiskFactory(agency=agency, title="Dated", review_date=datetime.date(2026, 12, 22))
    ControlFactory(agency=agency, title="Due", due_date=datetime.date(2027, 1, 21))
    RiskAcceptanceFactory(agency=agency, risk=risk, valid_until=datetime.date(2027, 2, 3))
    DeviceCertificationFactory(agency=agency, issued=datetime.date(2025, 3, 4), expires=datetime.date(2028, 5, 6))
    user = member_of(agency, RoleChoices.ADMIN)  # the members list is for admins
    client.force_login(user)
    expected = {
        "/risks/register/": "2026-12-22",
        "/risks/controls/": "2027-01-21",
        "/risks/acceptances/": "2027-02-03",
        "/certification/certifications/": "2028-05-06",
        risk.get_absolute_url(): "2026-12-22",
        "/": None,  # the dashboard's panels
        "/due/": None,  # the due-date list
    }
    for url, date in expected.items():
        html = client.get(url).content.decode()
        assert date is None or date in html, url
        assert not US_DATE.search(html), (url, US_DATE.search(html).group(0))
        assert not WORDY_DATE.search(html), (url, WORDY_DATE.search(html).group(0))
    # A time column (the members list's "created") reads in the agency's zone, with its abbreviation.
    joined = timezone.localtime(user.memberships.get().created, ZoneInfo("Europe/Brussels"))
    html = client.get("/members/").content.decode()
    assert joined.strftime("%Y-%m-%d %H:%M %Z") in html
    assert joined.strftime("%Z") in ("CET", "CEST")
    assert not US_DATE.search(html)


def test_times_of_import_runs_carry_the_agency_zone(client, agency, member_of, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    agency.time_zone = "Europe/Brussels"
    agency.save()
    editor = member_of(agency, RoleChoices.EDITOR)
    content = b"title\nOne\n"
    run = ImportRun(agency=agency, content_type=ContentType.objects.get_for_model(Risk), requested_by=editor,
                    file=SimpleUploadedFile("register.csv", content), file_name="register.csv",
                    sha256=hashlib.sha256(content).hexdigest(), size=len(content), format="csv")
    run.save()
    client.force_login(editor)
    html = client.get("/risks/register/import/").content.decode()
    assert timezone.localtime(run.created, ZoneInfo("Europe/Brussels")).strftime("%Y-%m-%d %H:%M %Z") in html
