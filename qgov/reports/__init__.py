"""Reports: compliance, sunset-review, register and transparency reports built as background runs.

The core owns the machinery (the run, its files, the PDF, its signature, schedules); each domain app
contributes a section through `QgovApp.report_sections` (qgov.reports.sections.ReportSection), so the
core names no domain app. docs/reports.md describes it for users and operators.
"""

# The report signing key check (qgov.E101) is registered whenever the reports package loads, which
# qgov.models does at start-up.
from qgov.reports import checks  # noqa: E402, F401
