"""Demo reports: the agency's schedules (a monthly compliance report, a weekly sunset review) and one
compliance report requested by the demo auditor, so the Reports page has something to open."""

import datetime as dt

from django.utils import timezone

from qgov.choices import RoleChoices
from qgov.reports.choices import ReportKindChoices, ScheduleFrequencyChoices
from qgov.reports.models import ReportRun, ReportSchedule


def load(*, agency, users) -> list[str]:
    now = timezone.now()
    for kind, frequency, parameters, first in (
            (ReportKindChoices.COMPLIANCE, ScheduleFrequencyChoices.MONTHLY, {}, dt.timedelta(days=30)),
            (ReportKindChoices.SUNSET_REVIEW, ScheduleFrequencyChoices.WEEKLY, {"horizon_months": 12},
             dt.timedelta(days=7))):
        ReportSchedule.objects.get_or_create(agency=agency, kind=kind, defaults={
            "frequency": frequency, "parameters": parameters, "next_run_at": now + first})
    if ReportRun.objects.filter(agency=agency, kind=ReportKindChoices.COMPLIANCE).exists():
        return []
    from qgov.reports.services import report_run_request

    run = report_run_request(user=users[RoleChoices.AUDITOR], agency=agency, kind=ReportKindChoices.COMPLIANCE)
    return [f"A compliance report is being built for the demo agency: {run.get_absolute_url()}"]
