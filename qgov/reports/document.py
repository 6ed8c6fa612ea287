"""What a report is made of, independent of how it is written out (PDF, CSV, JSON, OSCAL).

A section builder (one per domain app and report kind) returns a `SectionData`: headline figures,
SVG charts, tables and the evidence files it relied on. Table rows may be a callable returning an
iterator, so a large register is read from the database in batches, once per output file, instead of
being held in memory.
"""

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Rows = Iterable[Mapping[str, Any]] | Callable[[], Iterable[Mapping[str, Any]]]


@dataclass(frozen=True)
class Column:
    key: str  # the field's name in CSV and JSON rows
    label: str  # the heading in the PDF
    # Numbers are right-aligned in the PDF; "date" values are shown as dates.
    kind: str = "text"  # text | number | date | datetime | band
    # False: in the CSV and JSON (and so in the PDF's attachments) but not in the PDF's table, where a
    # national register's every field would not fit the page and would multiply the layout work.
    in_pdf: bool = True


@dataclass
class ReportTable:
    key: str  # stable within its section, e.g. "expiring_next"
    title: str
    columns: list[Column]
    rows: Rows = ()  # dicts keyed by column key; values str, int, float, Decimal, date, datetime or None
    note: str = ""  # one line under the title: how the rows were chosen
    empty_text: str = "None."

    def iter_rows(self) -> Iterable[Mapping[str, Any]]:
        return self.rows() if callable(self.rows) else self.rows


@dataclass(frozen=True)
class Figure:
    """A headline number of a section ("Overdue reviews: 3")."""

    key: str
    label: str
    value: Any  # int, float, str or None (none known)
    note: str = ""


@dataclass(frozen=True)
class Chart:
    """A server-side SVG (the same picture the browser shows), embedded in the PDF as is."""

    key: str
    title: str
    svg: str


@dataclass(frozen=True)
class EvidenceReference:
    """An evidence file the section relies on: the report lists its SHA-256."""

    sha256: str
    name: str
    record: str  # what it is evidence of, e.g. "RSK-0007 Harvest-now-decrypt-later on backbone"
    uploaded: dt.datetime | None = None


@dataclass
class SectionData:
    key: str
    title: str
    intro: str = ""  # a short paragraph: what the section covers and as of when
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[ReportTable] = field(default_factory=list)
    evidence: list[EvidenceReference] = field(default_factory=list)


@dataclass(frozen=True)
class ReportContext:
    """What every section builder is given. `as_of` is the instant the data describes (aware, UTC);
    `horizon_end` the end of a sunset review's window; `parameters` the run's validated parameters
    (e.g. the register's filters, as query-string values)."""

    agency: Any  # qgov.models.Agency
    kind: str  # qgov.reports.choices.ReportKindChoices
    as_of: dt.datetime
    horizon_end: dt.date | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    user: Any = None  # who asked (None for a scheduled run); sections read as the agency, not as them

    @property
    def zone(self) -> dt.tzinfo:
        from qgov.duedates.selectors import agency_zone

        return agency_zone(self.agency)

    @property
    def as_of_date(self) -> dt.date:
        """The as-of day in the agency's time zone (what "overdue" and "expires in" count from)."""
        return self.as_of.astimezone(self.zone).date()

    @property
    def window_end(self) -> dt.date:
        """The last day of a sunset review's window: `horizon_end`, or 12 months on when none was given."""
        from qgov.dates import add_months

        return self.horizon_end if self.horizon_end is not None else add_months(self.as_of_date, 12)


@dataclass
class ReportDocument:
    """A whole report: its identity (what the cover page shows) and its sections, in order."""

    run_id: int
    kind: str
    kind_label: str
    title: str
    agency_name: str
    agency_code: str
    period: str  # e.g. "as of 30 Nov 2026" or "1 Dec 2026 – 30 Nov 2027"
    as_of: dt.datetime
    generated_at: dt.datetime
    generator_version: str
    marking: str  # the handling marking on every page, e.g. "OFFICIAL-SENSITIVE" or "TLP:CLEAR"
    page_size: str  # "A4" or "Letter"
    parameters: Mapping[str, Any]
    sections: list[SectionData]
