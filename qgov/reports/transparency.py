"""What a public transparency summary may carry, declared once.

An agency may publish counts, bands, timelines and milestones of its quantum programme, never names,
identifiers or supplier details. Section builders of the transparency kind are written to give only
aggregates; this allow-list is the guard behind them: any figure or table column whose key is not
declared public here is dropped before the report is written (PDF, CSV and JSON alike), and so are
evidence references and free text. docs/reports.md lists the public keys.
"""

from dataclasses import replace

from qgov.reports.document import ReportTable, SectionData

# Table columns and figure keys that may be published. A key says what the value is; a new one is
# added here only if it can never carry a name, identifier or supplier detail.
PUBLIC_KEYS = frozenset({
    # aggregates
    "count", "total", "open", "closed", "share", "percent",
    # groupings
    "band", "level", "status", "category", "kind", "type", "severity", "phase", "scheme", "area",
    # time
    "year", "quarter", "month", "period", "milestone", "target", "due", "reached",
})


def is_public(key: str) -> bool:
    """A key is public when it is declared, or ends in a declared key (`open_count`, `band_high`…)."""
    return key in PUBLIC_KEYS or any(key.endswith(f"_{public}") or key.startswith(f"{public}_")
                                     for public in PUBLIC_KEYS)


def redact(section: SectionData) -> SectionData:
    tables = []
    for table in section.tables:
        columns = [column for column in table.columns if is_public(column.key)]
        if not columns:
            continue
        keys = [column.key for column in columns]
        rows = [{key: row.get(key) for key in keys} for row in table.iter_rows()]
        tables.append(ReportTable(key=table.key, title=table.title, columns=columns, rows=rows, note=table.note,
                                  empty_text=table.empty_text))
    return replace(section, figures=[figure for figure in section.figures if is_public(figure.key)],
                   charts=list(section.charts), tables=tables, evidence=[])
