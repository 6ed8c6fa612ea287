"""The PDF of a report: WeasyPrint, PDF/A-3b, with the run's CSV and JSON attached.

The HTML comes from `templates/reports/` (Django templates, autoescaped); its stylesheet from
`static/reports/`. WeasyPrint fetches through `ReportUrlFetcher`, which serves only files of that
directory and refuses every other URL: http(s), ftp, `file:` outside the directory and `data:` alike
(nothing of ours needs `data:`, and refusing it leaves one rule to reason about). A title such as
`<img src="http://...">` is escaped text to begin with; the fetcher is the second wall, for whatever
markup we pass as is (a chart's SVG).

Long tables are written as consecutive tables of `TABLE_CHUNK_ROWS` rows with the same header and
column widths, laid out with `table-layout: fixed`: WeasyPrint's automatic table layout measures
every cell of a table and its pagination re-lays a broken table's rows, so one 10,000-row table costs
far more than fifty 200-row ones (benchmarks/report_pdf.py, benchmarks/RESULTS-reports.md).
"""

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from qgov.reports.choices import PageSizeChoices
from qgov.reports.document import Column, ReportDocument, ReportTable, SectionData

logger = logging.getLogger(__name__)

# The only files WeasyPrint may read: the report's stylesheet (and any picture it names).
REPORT_ASSETS_DIR = Path(settings.BASE_DIR) / "static" / "reports"
ASSET_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}
TABLE_CHUNK_ROWS = 200
PDF_VARIANT = "pdf/a-3b"
PAGE_SIZES = {PageSizeChoices.A4: "A4", PageSizeChoices.LETTER: "letter"}
NONE_TEXT = "—"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str
    description: str = ""
    # How the file relates to the PDF (PDF/A-3 AFRelationship): the run's CSV and JSON are its data.
    relationship: str = "Data"


@dataclass(frozen=True)
class RenderedPdf:
    data: bytes
    pages: int


# --- The URL fetcher ----------------------------------------------------------------------------


class RefusedUrl(ValueError):
    """A URL the report may not load (anything but its own static files)."""


def _url_fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class ReportUrlFetcher(URLFetcher):
        """Serves files under `root` (by `file:` URL) and refuses every other URL, recording it.

        WeasyPrint catches the refusal, logs it and renders without the resource, so a crafted
        value costs a missing picture, never a request."""

        def __init__(self, root: Path = REPORT_ASSETS_DIR):
            super().__init__(allowed_protocols={"file"}, allow_redirects=False, fail_on_errors=False)
            self.root = Path(root).resolve()
            self.refused: list[str] = []
            self.served: list[str] = []

        def local_path(self, url: str) -> Path:
            parts = urlsplit(url)
            if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost") or parts.query:
                raise RefusedUrl(f"not a report asset: {url[:200]}")
            path = Path(url2pathname(unquote(parts.path))).resolve()
            if not path.is_relative_to(self.root) or path.suffix not in ASSET_TYPES or not path.is_file():
                raise RefusedUrl(f"not a report asset: {url[:200]}")
            return path

        def fetch(self, url, headers=None):
            try:
                path = self.local_path(url)
            except RefusedUrl:
                self.refused.append(url)
                logger.warning("Report rendering refused to load %s", url[:200])
                raise
            self.served.append(url)
            return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": ASSET_TYPES[path.suffix]})

    return ReportUrlFetcher


def report_url_fetcher(root: Path = REPORT_ASSETS_DIR):
    """A fresh locked-down fetcher (it records what it served and refused)."""
    return _url_fetcher_class()(root)


# --- Cells --------------------------------------------------------------------------------------


def format_datetime(value: dt.datetime) -> str:
    """In the active time zone (the report service activates the agency's), with its abbreviation."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, "DATETIME_FORMAT")


def cell_text(value: Any, kind: str = "text") -> str:
    """A value as the PDF shows it. Numbers are not grouped: a year (2033) or a sequence is a number too."""
    if value is None or value == "":
        return NONE_TEXT
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dt.datetime):
        return format_datetime(value) if kind != "date" else date_format(
            timezone.localtime(value).date() if timezone.is_aware(value) else value.date(), "DATE_FORMAT")
    if isinstance(value, dt.date):
        return date_format(value, "DATE_FORMAT")
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, Decimal):
        return format(value, "f")
    if hasattr(value, "label") and hasattr(value, "value"):  # a choice
        return str(value.label)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(cell_text(item) for item in value) or NONE_TEXT
    return str(value)


NUMERIC_KINDS = {"number"}
# Shares of the line a column gets, by kind; text columns also grow with their measured length.
FIXED_WIDTHS = {"number": 6.0, "date": 11.0, "datetime": 19.0, "band": 9.0}


class _WidthMeter:
    """Column widths from the data itself, measured while the rows are written (they are read once)."""

    def __init__(self, columns: list[Column]):
        self.columns = columns
        self.total = [0] * len(columns)
        self.longest_word = [max((len(word) for word in column.label.split()), default=1) for column in columns]
        self.rows = 0

    def add(self, texts: list[str]) -> None:
        self.rows += 1
        for index, text in enumerate(texts):
            self.total[index] += min(len(text), 80)

    def percentages(self) -> list[float]:
        weights = []
        for index, column in enumerate(self.columns):
            average = self.total[index] / self.rows if self.rows else 0
            if column.kind in FIXED_WIDTHS:
                weight = max(FIXED_WIDTHS[column.kind], self.longest_word[index] * 0.8)
            else:  # text: its average length, within bounds, and never narrower than its heading's longest word
                weight = max(min(max(average, 6.0), 40.0), self.longest_word[index] * 0.9)
            weights.append(weight)
        total = sum(weights) or 1.0
        return [round(100 * weight / total, 2) for weight in weights]


def _row_html(texts: list[str], classes: list[str]) -> str:
    cells = "".join(f'<td class="{cls}">{escape(text)}</td>' for cls, text in zip(classes, texts, strict=True))
    return f"<tr>{cells}</tr>"


def table_context(table: ReportTable, number: str, *, chunk_rows: int = TABLE_CHUNK_ROWS) -> dict:
    """A table ready for the template: its rows as escaped HTML in chunks of `chunk_rows`, the column
    widths measured from them. Rows are read once, from `table.iter_rows()`."""
    columns = table.columns
    classes = [f"kind-{column.kind}" + (" num" if column.kind in NUMERIC_KINDS else "") for column in columns]
    meter = _WidthMeter(columns)
    parts: list[SafeString] = []
    chunk: list[str] = []
    for row in table.iter_rows():
        texts = [cell_text(row.get(column.key), column.kind) for column in columns]
        meter.add(texts)
        chunk.append(_row_html(texts, classes))
        if len(chunk) == chunk_rows:
            parts.append(mark_safe("".join(chunk)))  # noqa: S308 — every cell is escaped in _row_html
            chunk = []
    if chunk:
        parts.append(mark_safe("".join(chunk)))  # noqa: S308 — as above
    widths = meter.percentages()
    return {"key": table.key, "number": number, "title": table.title, "note": table.note,
            "empty_text": table.empty_text, "row_count": meter.rows, "parts": parts,
            "columns": [{"label": column.label, "kind": column.kind, "cls": cls, "width": width}
                        for column, cls, width in zip(columns, classes, widths, strict=True)]}


def figure_text(value: Any) -> str:
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return cell_text(value, "number")
    return cell_text(value)


def section_context(section: SectionData, number: int, *, chunk_rows: int = TABLE_CHUNK_ROWS) -> dict:
    return {
        "anchor": f"section-{number}", "number": number, "key": section.key, "title": section.title,
        "intro": section.intro,
        "figures": [{"label": figure.label, "value": figure_text(figure.value), "note": figure.note,
                     "long": len(figure_text(figure.value)) > 18} for figure in section.figures],
        # A chart is our own server-side SVG, embedded as is; the fetcher refuses anything it might load.
        "charts": [{"title": chart.title, "svg": mark_safe(chart.svg)} for chart in section.charts],  # noqa: S308
        "tables": [table_context(table, f"{number}.{index}", chunk_rows=chunk_rows)
                   for index, table in enumerate(section.tables, start=1)],
        "evidence": [{"name": item.name, "record": item.record, "sha256": item.sha256,
                      "uploaded": format_datetime(item.uploaded) if item.uploaded else NONE_TEXT}
                     for item in section.evidence],
    }


def parameter_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return "; ".join(f"{key}: {parameter_text(item)}" for key, item in value.items())
    return cell_text(value)


def report_html(document: ReportDocument, *, chunk_rows: int = TABLE_CHUNK_ROWS) -> str:
    """The report's HTML (the template with every table's rows written out)."""
    context = {
        "document": document,
        "generated_at": format_datetime(document.generated_at),
        "as_of": format_datetime(document.as_of),
        "created_iso": document.generated_at.astimezone(dt.UTC).isoformat(),
        "parameters": [(str(key), parameter_text(value)) for key, value in (document.parameters or {}).items()],
        "sections": [section_context(section, number, chunk_rows=chunk_rows)
                     for number, section in enumerate(document.sections, start=1)],
    }
    return render_to_string("reports/report.html", context)


# --- The PDF ------------------------------------------------------------------------------------


def _page_css(page_size: str) -> str:
    try:
        size = PAGE_SIZES[PageSizeChoices(page_size)]
    except ValueError:
        raise ValueError(f"Unknown page size {page_size!r}: A4 or Letter.") from None
    return f"@page {{ size: {size}; }}"


def _attachment_types(attachments: Iterable[Attachment]):
    """A finisher that gives each embedded file the MIME type we declared (WeasyPrint guesses it from
    the name)."""
    types = {f"<{hashlib.md5(item.content, usedforsecurity=False).hexdigest()}>": item.mime_type
             for item in attachments}

    def finish(_document, pdf):
        for pdf_object in pdf.objects:
            extra = getattr(pdf_object, "extra", None)
            if not extra or extra.get("Type") != "/EmbeddedFile":
                continue
            mime_type = types.get(extra["Params"]["CheckSum"])
            if mime_type:
                extra["Subtype"] = "/" + mime_type.replace("/", "#2f")

    return finish


def render_pdf(document: ReportDocument, *, attachments: list[Attachment],
               chunk_rows: int = TABLE_CHUNK_ROWS, url_fetcher=None) -> RenderedPdf:
    """The report as a PDF/A-3b file with `attachments` embedded as associated files."""
    import weasyprint

    fetcher = url_fetcher or report_url_fetcher()
    html = weasyprint.HTML(string=report_html(document, chunk_rows=chunk_rows),
                           base_url=REPORT_ASSETS_DIR.as_uri() + "/", url_fetcher=fetcher)
    stamp = document.generated_at.astimezone(dt.UTC).replace(tzinfo=None)
    embedded = [weasyprint.Attachment(string=item.content, name=item.filename, description=item.description or None,
                                      created=stamp, modified=stamp, relationship=item.relationship,
                                      url_fetcher=fetcher)
                for item in attachments]
    rendered = html.render(stylesheets=[weasyprint.CSS(string=_page_css(document.page_size), url_fetcher=fetcher)],
                           pdf_variant=PDF_VARIANT)
    data = rendered.write_pdf(attachments=embedded, pdf_variant=PDF_VARIANT,
                              finisher=_attachment_types(attachments))
    return RenderedPdf(data=data, pages=len(rendered.pages))
