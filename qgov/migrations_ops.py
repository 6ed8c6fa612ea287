"""Migration operations of the core.

`AddSearchIndex` gives the text columns a filterset searches (`search_fields`) a trigram index on
PostgreSQL, so `?q=` (`icontains`) reads an index instead of every row of a national register.
On other databases (the embedded SQLite default) it does nothing, and it never changes the
model state, so `makemigrations` neither needs nor produces anything for it.

An app declares, in one migration (its tests check that every searched own field is covered):

    operations = [TrigramExtension(), AddSearchIndex("risk", ["reference", "title", "description"])]

`AddLinkIndex` indexes a many-to-many link table from the other side, for searches and filters
that start from a few related records (a plain index on every database).
"""

from django.contrib.postgres import operations as postgres_operations
from django.db.migrations.operations.base import Operation

SEARCH_INDEX_SUFFIX = "_trgm"


def search_index_sql(schema_editor, table: str, column: str) -> tuple[str, str]:
    """The index's name and its CREATE statement. The expression is the one Django's `icontains`
    emits on PostgreSQL, `UPPER(column::text) LIKE UPPER(%s)`, so the planner can use it."""
    name = schema_editor._create_index_name(table, [column], suffix=SEARCH_INDEX_SUFFIX)
    quote = schema_editor.quote_name
    return name, (f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote(table)} "
                  f"USING gin ((UPPER({quote(column)}::text)) gin_trgm_ops)")


class DatabaseIndexOperation(Operation):
    """An operation that creates indexes in the database and leaves the model state alone:
    `_indexes()` gives (name, CREATE statement) of each for the state and database at hand."""

    reversible = True
    reduces_to_sql = True

    def state_forwards(self, app_label, state):
        pass  # a database-only index: the models do not change

    def _indexes(self, app_label, schema_editor, state) -> list[tuple[str, str]]:
        raise NotImplementedError

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        for _name, sql in self._indexes(app_label, schema_editor, to_state):
            schema_editor.execute(sql)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        for name, _sql in self._indexes(app_label, schema_editor, from_state):
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class AddSearchIndex(DatabaseIndexOperation):
    """A pg_trgm GIN index per field on `UPPER(field::text)`; PostgreSQL only (needs
    `TrigramExtension()` earlier in the migration). `model_name` may be "app_label.model" for a
    model of another app (auth's user)."""

    def __init__(self, model_name: str, fields: list[str]):
        self.model_name = model_name
        self.fields = list(fields)

    def deconstruct(self):
        return self.__class__.__qualname__, [self.model_name, self.fields], {}

    def _model(self, app_label, state):
        label, _dot, name = self.model_name.rpartition(".")
        return state.apps.get_model(label or app_label, name)

    def _indexes(self, app_label, schema_editor, state):
        if schema_editor.connection.vendor != "postgresql":
            return []
        model = self._model(app_label, state)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return []
        table = model._meta.db_table
        return [search_index_sql(schema_editor, table, model._meta.get_field(field).column) for field in self.fields]

    def describe(self):
        return f"Add trigram search indexes on {self.model_name} ({', '.join(self.fields)}), PostgreSQL only"

    @property
    def migration_name_fragment(self):
        return f"{self.model_name.rpartition('.')[2].lower()}_search_indexes"


class TrigramExtension(postgres_operations.TrigramExtension):
    """pg_trgm, for the search indexes. Several apps' migrations declare it and any of them may be
    migrated back while the others' indexes still use it, so going backwards never drops the
    extension (PostgreSQL would refuse: the indexes depend on its operator class). Django's own
    operation also asks `pg_extension` going backwards, which fails on SQLite."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass


class AddLinkIndex(DatabaseIndexOperation):
    """An index on a many-to-many link table led by the other side's column: (threatvector_id,
    risk_id) for `Risk.threat_vectors`. Django's link table has (risk_id, threatvector_id) unique
    and the other column alone; a search or filter that starts from a few related records reads
    their linked ids from this index alone. A plain index on every database; like AddSearchIndex
    it leaves the model state alone (auto-created link tables declare no indexes)."""

    def __init__(self, model_name: str, field_name: str):
        self.model_name = model_name
        self.field_name = field_name

    def deconstruct(self):
        return self.__class__.__qualname__, [self.model_name, self.field_name], {}

    def _indexes(self, app_label, schema_editor, state):
        model = state.apps.get_model(app_label, self.model_name)
        field = model._meta.get_field(self.field_name)
        through = field.remote_field.through
        if not self.allow_migrate_model(schema_editor.connection.alias, through):
            return []
        table = through._meta.db_table
        columns = [through._meta.get_field(field.m2m_reverse_field_name()).column,
                   through._meta.get_field(field.m2m_field_name()).column]
        name = schema_editor._create_index_name(table, columns, suffix="_link")
        quote = schema_editor.quote_name
        return [(name, f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote(table)} "
                       f"({', '.join(quote(column) for column in columns)})")]

    def describe(self):
        return f"Add an index on the link table of {self.model_name}.{self.field_name}, led by the other side"

    @property
    def migration_name_fragment(self):
        return f"{self.model_name.lower()}_{self.field_name}_link_index"


def analyze_after_migrate(sender, using, plan=None, **kwargs):
    """SQLite plans with the statistics ANALYZE last gathered, and has none for an index created
    after it: with the (agency, id) index unknown to it, a 10-row risk page read and sorted the
    agency's 10,000 rows (3 ms) instead of walking the index (0.03 ms). So when a migration ran,
    the statistics are gathered again (a few seconds at a million rows). PostgreSQL's autovacuum
    keeps its own; it is left alone."""
    from django.db import connections

    connection = connections[using]
    if sender.label != "qgov" or not plan or connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
