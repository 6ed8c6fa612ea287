"""The PDF of a report (WeasyPrint, PDF/A-3b, with the run's CSV and JSON attached). Being written."""

from dataclasses import dataclass

from qgov.reports.document import ReportDocument


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str
    description: str = ""


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int


def render_pdf(document: ReportDocument, *, attachments: list[Attachment]) -> RenderedPdf:
    raise NotImplementedError
