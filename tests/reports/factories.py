"""Report runs and schedules for tests: rows as the service leaves them, without building a report."""

import hashlib

from django.core.files.base import ContentFile
from django.utils import timezone

from qgov.reports.models import ReportFile, ReportRun, ReportSchedule


def make_run(agency, *, user=None, kind="compliance", status="queued", files=None, **fields) -> ReportRun:
    """A run of `agency`; `files` ({format: bytes}) are stored as a succeeded run's are."""
    now = timezone.now()
    run = ReportRun.objects.create(agency=agency, kind=kind, as_of=now, requested_by=user, status=status,
                                   finished=now if status in ("succeeded", "failed") else None, **fields)
    for report_format, content in (files or {}).items():
        add_file(run, report_format, content)
    return run


def add_file(run, report_format: str, content: bytes) -> ReportFile:
    name = ReportFile(run=run, format=report_format).filename
    return ReportFile.objects.create(run=run, format=report_format, file=ContentFile(content, name=name),
                                     sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                                     pages=3 if report_format == "pdf" else None)


def make_schedule(agency, **fields) -> ReportSchedule:
    fields = {"kind": "compliance", "frequency": "monthly", "next_run_at": timezone.now(), **fields}
    return ReportSchedule.objects.create(agency=agency, **fields)
