"""The querysets the reports pages and the API read runs and schedules through (scoped by the views)."""

from django.db.models import Prefetch

from qgov.reports.models import ReportFile, ReportRun, ReportSchedule

# A run's files (and, through them, its kind and agency for their names) in the same few queries
# whatever the number of runs.
RUNS = ReportRun.objects.select_related("agency", "requested_by", "schedule").prefetch_related(
    Prefetch("files", ReportFile.objects.order_by("format")))
SCHEDULES = ReportSchedule.objects.select_related("agency")
