"""Django's SQLite backend, converting each distinct SQL text's `%s` placeholders to SQLite's `?`
once rather than on every execution.

Django rewrites the SQL of every query with parameters by a regular expression. A list's queries
name every column, so on a 10-row API page that rewrite was 4 % of the request's instructions, for
the same few texts each time. DATABASE_URL's `sqlite://` selects this backend (qgov/settings.py).
"""

import functools

from django.db.backends.sqlite3 import base


@functools.lru_cache(maxsize=1024)
def qmark_sql(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query, *, param_names=None):
        if param_names is None:
            return qmark_sql(query)
        return super().convert_query(query, param_names=param_names)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLiteCursorWrapper)
