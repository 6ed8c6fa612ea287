"""What the section tests share: reading a built section's tables and figures, and counting the
queries a builder costs (its tables' rows included, since those are read lazily)."""

from django.db import connection
from django.test.utils import CaptureQueriesContext


def rows(section, key) -> list[dict]:
    [table] = [table for table in section.tables if table.key == key]
    return [dict(row) for row in table.iter_rows()]


def figures(section) -> dict:
    return {figure.key: figure.value for figure in section.figures}


def queries_of(builder, context) -> int:
    with CaptureQueriesContext(connection) as queries:
        section = builder(context)
        for table in section.tables:
            list(table.iter_rows())
    return len(queries)


def written_section(context, key: str):
    """Section `key` as the core assembles it for `context` (every registered section is built, this
    one kept) and writes it to JSON: (the document, the section's JSON, the JSON text)."""
    import io
    import json

    from qgov.reports.build import report_sections, write_json
    from qgov.reports.document import ReportDocument

    sections = [section for section in report_sections(context) if section.key == key]
    document = ReportDocument(
        run_id=1, kind=context.kind, kind_label="", title="", agency_name=context.agency.name,
        agency_code=context.agency.code, period="", as_of=context.as_of, generated_at=context.as_of,
        generator_version="test", marking="OFFICIAL", page_size="A4", parameters={}, sections=sections)
    stream = io.StringIO()
    write_json(document, stream)
    [section] = json.loads(stream.getvalue())["sections"]
    return document, section, stream.getvalue()
