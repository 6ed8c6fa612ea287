"""A report file as a download, shared by the page and the API: streamed from storage under the
name ReportFile.filename, with its SHA-256 in the headers."""

import base64

from django.http import FileResponse, Http404

from qgov.choices import ImportRunStatusChoices as RunStatusChoices
from qgov.reports.choices import ReportFormatChoices

MEDIA_TYPES = {ReportFormatChoices.PDF: "application/pdf", ReportFormatChoices.CSV: "text/csv; charset=utf-8",
               ReportFormatChoices.JSON: "application/json", ReportFormatChoices.OSCAL: "application/json"}


def report_file_response(run, report_format: str) -> FileResponse:
    """The run's file of `report_format`; 404 until the run has succeeded, or when it has no such
    file (OSCAL is the compliance report's only). `run.files` may be prefetched."""
    if run.status != RunStatusChoices.SUCCEEDED:
        raise Http404("The report has not been built (yet).")
    report_file = next((f for f in run.files.all() if f.format == report_format), None)
    if report_file is None:
        raise Http404("The report has no file in this format.")
    response = FileResponse(report_file.file.open("rb"), as_attachment=True, filename=report_file.filename,
                            content_type=MEDIA_TYPES[report_format])
    response["X-Content-SHA256"] = report_file.sha256
    # RFC 9530: the digest of the representation, for clients that check it on their own.
    response["Repr-Digest"] = f"sha-256=:{base64.b64encode(bytes.fromhex(report_file.sha256)).decode()}:"
    response["ETag"] = f'"{report_file.sha256}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-cache"
    return response
