"""The PDF of a report: WeasyPrint, PDF/A-3b, with the run's CSV and JSON attached.

The HTML comes from `templates/reports/` (Django templates, autoescaped); its stylesheets from
`static/reports/`. WeasyPrint fetches through `ReportUrlFetcher`, which serves only files of that
directory and refuses every other URL: http(s), ftp, `file:` outside the directory and `data:` alike
(nothing of ours needs `data:`, and refusing it leaves one rule to reason about). A title such as
`<img src="http://...">` is escaped text to begin with; the fetcher is the second wall, for whatever
markup we pass as is (a chart's SVG).

Bounded memory: WeasyPrint keeps the layout of every page until it writes the file (about 170 KB per
8-column table row measured: 1.85 GB for 10,000 rows in one document). So the body is laid out in
volumes of about `VOLUME_ROWS` table rows, each written and let go before the next; the cover and
contents come after (their page numbers read from the volumes' anchors), then a "running" document
whose pages carry the header and footer ("Page n of N" needs N); qgov.reports.pdf_assembly lays them
together. Tables are fixed-layout, with widths measured from the rows as they are read (once).
"""

import contextlib
import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Iterator, Mapping
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
VOLUME_ROWS = 1000  # table rows laid out at once: bounds memory (benchmarks/RESULTS-reports.md)
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
LINE_CHARACTERS = 118  # about how many 7.5 pt characters a table line holds (A4 and Letter alike)
LONGEST_UNBROKEN = 24  # a longer word may break anywhere rather than widen its column further
BOLD_KINDS = {"band"}


class _WidthMeter:
    """Column widths from the data itself, measured while the rows are written (they are read once).

    Each column first gets its longest word (capped, headings included), so words do not break;
    what is left of the line goes to the columns whose values are longer than that, in proportion."""

    def __init__(self, columns: list[Column]):
        self.columns = columns
        self.total = [0] * len(columns)
        self.longest_word = [max((len(word) for word in column.label.split()), default=1) for column in columns]
        self.longest = [0] * len(columns)
        self.rows = 0

    def add(self, texts: list[str]) -> None:
        self.rows += 1
        for index, text in enumerate(texts):
            length = len(text)
            self.total[index] += min(length, 80)
            if length > self.longest_word[index]:
                if self.columns[index].kind in ("date", "number"):  # kept on one line
                    self.longest_word[index] = length
                else:
                    self.longest_word[index] = max(self.longest_word[index],
                                                   max(len(word) for word in text.split()) if text.strip() else 0)
            self.longest[index] = max(self.longest[index], length)

    def percentages(self) -> list[float]:
        minimum, wanted = [], []
        for index, column in enumerate(self.columns):
            factor = 1.15 if column.kind in BOLD_KINDS else 1.0
            floor = (min(self.longest_word[index], LONGEST_UNBROKEN) * 1.05 + 2.5) * factor
            average = self.total[index] / self.rows if self.rows else 0
            minimum.append(floor)
            wanted.append(max(0.0, min(max(average * 1.3, self.longest[index] * 0.6), 80) * factor - floor))
        spare = max(0.0, LINE_CHARACTERS - sum(minimum))
        extra = sum(wanted) or 1.0
        widths = [floor + spare * want / extra for floor, want in zip(minimum, wanted, strict=True)]
        total = sum(widths) or 1.0
        return [round(100 * width / total, 2) for width in widths]


def _row_html(texts: list[str], classes: list[str]) -> str:
    cells = "".join(f'<td class="{cls}">{escape(text)}</td>' for cls, text in zip(classes, texts, strict=True))
    return f"<tr>{cells}</tr>"


def table_context(table: ReportTable, number: str, *, chunk_rows: int = TABLE_CHUNK_ROWS) -> dict:
    """A table ready for the template: its rows as escaped HTML in chunks of `chunk_rows`, the column
    widths measured from them. Rows are read once, from `table.iter_rows()`. Columns not `in_pdf` are
    named in the table's note: they are in the attached CSV and JSON."""
    columns = [column for column in table.columns if column.in_pdf]
    left_out = [str(column.label) for column in table.columns if not column.in_pdf]
    classes = [f"kind-{column.kind}" + (" num" if column.kind in NUMERIC_KINDS else "") for column in columns]
    meter = _WidthMeter(columns)
    parts: list[SafeString] = []
    part_rows: list[int] = []
    chunk: list[str] = []
    for row in table.iter_rows():
        texts = [cell_text(row.get(column.key), column.kind) for column in columns]
        meter.add(texts)
        chunk.append(_row_html(texts, classes))
        if len(chunk) == chunk_rows:
            parts.append(mark_safe("".join(chunk)))  # noqa: S308 — every cell is escaped in _row_html
            part_rows.append(len(chunk))
            chunk = []
    if chunk:
        parts.append(mark_safe("".join(chunk)))  # noqa: S308 — as above
        part_rows.append(len(chunk))
    widths = meter.percentages()
    return {"key": table.key, "number": number, "anchor": f"table-{number.replace('.', '-')}", "title": table.title,
            "note": " ".join(filter(None, [str(table.note), _("Also in the attached CSV and JSON: %(columns)s.") % {
                "columns": ", ".join(left_out)} if left_out else ""])),
            "empty_text": table.empty_text, "row_count": meter.rows, "parts": parts,
            "part_rows": part_rows,
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


# --- Pieces and volumes -------------------------------------------------------------------------


def body_pieces(sections: list[dict]) -> Iterator[dict]:
    """The body as a flat sequence: each section's head, its tables' chunks (or empty text), its evidence."""
    for section in sections:
        yield {"kind": "section", "section": section, "rows": 0}
        for table in section["tables"]:
            if not table["parts"]:
                yield {"kind": "empty", "section": section, "table": table, "rows": 0}
            for index, (part, rows) in enumerate(zip(table["parts"], table["part_rows"], strict=True)):
                yield {"kind": "chunk", "section": section, "table": table, "part": part, "first": index == 0,
                       "rows": rows}
        yield {"kind": "evidence", "section": section, "rows": 0}


def volumes(pieces: Iterable[dict], *, volume_rows: int) -> Iterator[list[dict]]:
    """The pieces cut into volumes of about `volume_rows` table rows, each laid out on its own (so memory
    holds one volume's boxes, not the whole report's). A cut falls before a section or between two chunks
    of a table, where the next volume repeats the table's title "(continued)" and its header."""
    current: list[dict] = []
    rows = 0
    for piece in pieces:
        cut_here = piece["kind"] == "section" or (piece["kind"] == "chunk" and not piece["first"])
        if current and rows >= volume_rows and cut_here:
            yield current
            current, rows = [], 0
            if piece["kind"] == "chunk":
                current.append({"kind": "continued", "section": piece["section"], "table": piece["table"], "rows": 0})
        current.append(piece)
        rows += piece["rows"]
    if current:
        yield current


def merged_chunks(pieces: list[dict]) -> list[dict]:
    """A volume's consecutive chunks of one table as one HTML table (one header, repeated by WeasyPrint
    only where the table continues on a new page)."""
    merged: list[dict] = []
    for piece in pieces:
        previous = merged[-1] if merged else None
        same_table = previous is not None and previous["kind"] == "chunk" and previous["table"] is piece.get("table")
        if piece["kind"] == "chunk" and same_table:
            merged[-1] = {**previous, "part": mark_safe(previous["part"] + piece["part"]),  # noqa: S308 - escaped
                          "rows": previous["rows"] + piece["rows"]}
        else:
            merged.append(piece)
    return merged


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


def css_string(text: str) -> str:
    """`text` as a CSS string literal, every character escaped: nothing in it can end the string."""
    return '"' + "".join(f"\\{ord(character):06x}" for character in text) + '"'


def running_strings_css(document: ReportDocument) -> str:
    """The running header and footer's texts, as named strings of the running document."""
    strings = {"marking": document.marking, "agency": f"{document.agency_code} · {document.agency_name}",
               "kind": f"{document.kind_label} · {document.period}",
               "run": _("Run #%(run)s · %(generated)s") % {"run": document.run_id,
                                                           "generated": format_datetime(document.generated_at)}}
    return "html { string-set: " + ", ".join(f"{name} {css_string(text)}" for name, text in strings.items()) + "; }"


class _Renderer:
    """WeasyPrint with the report's fetcher, base URL and page size."""

    def __init__(self, document: ReportDocument, fetcher):
        import weasyprint

        self.weasyprint = weasyprint
        self.fetcher = fetcher
        self.page_css = weasyprint.CSS(string=_page_css(document.page_size), url_fetcher=fetcher)

    def render(self, template: str, context: dict, *, css: str = ""):
        html = self.weasyprint.HTML(string=render_to_string(template, context),
                                    base_url=REPORT_ASSETS_DIR.as_uri() + "/", url_fetcher=self.fetcher)
        extra = [self.weasyprint.CSS(string=css, url_fetcher=self.fetcher)] if css else []
        return html.render(stylesheets=[self.page_css, *extra], pdf_variant=PDF_VARIANT)


def render_pdf(document: ReportDocument, *, attachments: list[Attachment], time_zone: str = "UTC",
               chunk_rows: int = TABLE_CHUNK_ROWS, volume_rows: int = VOLUME_ROWS, processes: int | None = None,
               url_fetcher=None) -> RenderedPdf:
    """The report as a PDF/A-3b file with `attachments` embedded as associated files; times are shown in
    `time_zone` (an IANA name, e.g. the agency's), with the zone's abbreviation."""
    import zoneinfo

    with timezone.override(zoneinfo.ZoneInfo(time_zone)):
        return _render_pdf(document, attachments=attachments, chunk_rows=chunk_rows, volume_rows=volume_rows,
                           processes=processes or settings.QGOV_REPORT_PDF_PROCESSES, url_fetcher=url_fetcher)


# What forked volume renderers read: set before the pool forks, so nothing but an index is pickled.
_volume_work: tuple | None = None


def _render_volume(index: int) -> tuple[bytes, int, dict[str, int]]:
    renderer, common, all_pieces = _volume_work
    rendered = renderer.render("reports/body.html", {**common, "pieces": merged_chunks(all_pieces[index])})
    anchors: dict[str, int] = {}
    for number, page in enumerate(rendered.pages):
        for anchor in page.anchors:
            anchors.setdefault(anchor, number)
    return rendered.write_pdf(pdf_variant=PDF_VARIANT), len(rendered.pages), anchors


@contextlib.contextmanager
def _children_allowed():
    """A Celery prefork worker runs tasks in daemonic processes, which multiprocessing forbids to start
    children (lest they outlive it). The volume processes live only inside the `with` block that waits
    for them, and exit when their pipe to this process closes, so the flag is lifted for that block."""
    import multiprocessing

    config = multiprocessing.current_process()._config  # noqa: SLF001 - no public switch exists
    daemon = config.get("daemon")
    config["daemon"] = False
    try:
        yield
    finally:
        if daemon is None:
            config.pop("daemon", None)
        else:
            config["daemon"] = daemon


def _render_volumes(renderer, common: dict, all_pieces: list[list[dict]], processes: int):
    """Each volume's (PDF, pages, anchors), in order: here, or in `processes` forked processes (volumes
    are independent; each process holds one volume's layout at a time)."""
    global _volume_work
    _volume_work = (renderer, common, all_pieces)
    try:
        if processes <= 1 or len(all_pieces) <= 1:
            yield from map(_render_volume, range(len(all_pieces)))
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with _children_allowed(), ProcessPoolExecutor(
                max_workers=processes, mp_context=multiprocessing.get_context("fork")) as pool:
            yield from pool.map(_render_volume, range(len(all_pieces)))
    finally:
        _volume_work = None


def _render_pdf(document: ReportDocument, *, attachments: list[Attachment], chunk_rows: int, volume_rows: int,
                processes: int, url_fetcher) -> RenderedPdf:
    """Three kinds of WeasyPrint documents make it: the body in volumes of about `volume_rows` table rows
    (each laid out, written and let go before the next), then the cover and contents (their page
    numbers known from the volumes' anchors), then the running header and footer of every page
    ("Page n of N" needs N). qgov.reports.pdf_assembly puts them together with pypdf."""
    from qgov.reports.pdf_assembly import assemble

    renderer = _Renderer(document, url_fetcher or report_url_fetcher())
    common = {"document": document, "generated_at": format_datetime(document.generated_at),
              "as_of": format_datetime(document.as_of),
              "created_iso": document.generated_at.astimezone(dt.UTC).isoformat()}
    sections = [section_context(section, number, chunk_rows=chunk_rows)
                for number, section in enumerate(document.sections, start=1)]
    body, anchors, body_pages = [], {}, 0
    for pdf, pages, volume_anchors in _render_volumes(
            renderer, common, list(volumes(body_pieces(sections), volume_rows=volume_rows)), processes):
        anchors.update({anchor: body_pages + page for anchor, page in volume_anchors.items() if anchor not in anchors})
        body_pages += pages
        body.append(pdf)
    front_pages, front = 2, None
    for _attempt in range(3):  # the contents' length decides the offset it prints; settle it
        outline = [{"title": section["title"], "number": section["number"],
                    "page": front_pages + anchors.get(section["anchor"], 0) + 1,
                    "tables": [{"title": table["title"], "number": table["number"],
                                "page": front_pages + anchors.get(table["anchor"], 0) + 1}
                               for table in section["tables"]]} for section in sections]
        front = renderer.render("reports/front.html", {**common, "outline": outline, "parameters": [
            (str(key), parameter_text(value)) for key, value in (document.parameters or {}).items()]})
        if len(front.pages) == front_pages:
            break
        front_pages = len(front.pages)
    stamp = document.generated_at.astimezone(dt.UTC).replace(tzinfo=None)
    front_pdf = front.write_pdf(
        pdf_variant=PDF_VARIANT, finisher=_attachment_types(attachments),
        attachments=[renderer.weasyprint.Attachment(
            string=item.content, name=item.filename, description=item.description or None, created=stamp,
            modified=stamp, relationship=item.relationship, url_fetcher=renderer.fetcher) for item in attachments])
    total = front_pages + body_pages
    running = renderer.render("reports/running.html", {**common, "sheets": range(total)},
                              css=running_strings_css(document)).write_pdf(pdf_variant=PDF_VARIANT)
    return RenderedPdf(data=assemble(front_pdf, body, running, outline), pages=total)
