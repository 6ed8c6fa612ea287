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
