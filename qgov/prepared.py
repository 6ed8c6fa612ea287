"""Queries compiled once and run many times: for the queries every request runs with the same
shape (the API token lookup, a list's page and count), Django's SQL compilation cost more than the
database's answer.

    token_rows = PreparedQuery(
        lambda key_hash: ApiToken.objects.filter(key_hash=key_hash).select_related("user"),
        key_hash="\\x00sentinel\\x00")
    rows = token_rows(key_hash=digest)  # model instances, as list(queryset) gives them

The queryset is built once per thread and database with a sentinel for each value and compiled; the
sentinels' places among the compiled parameters are where each call's values go. Only a value that
reaches the SQL as exactly one parameter (an equality filter) can be prepared; anything that changes
the SQL's shape (a list of varying length, None) cannot, and compiling refuses a sentinel it does not
find exactly once.

`read_rows(queryset)` and `count_rows_of(queryset)` do the same for any plain model queryset without
sentinels (the API lists' pages and counts): its SQL is compiled once per shape (ShapeKey) and reused
while only its WHERE values change.
"""

import functools
import threading
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet, FullResultSet, ImproperlyConfigured
from django.db import connections, router
from django.db.models import Model, signals
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import ModelIterable, get_related_populators, prefetch_related_objects
from django.db.models.sql import Query
from django.db.models.sql.datastructures import BaseTable, Join


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple
    places: dict  # value name: its index in params
    compiler: object
    converters: dict
    model: type
    model_slice: slice
    init_list: list
    related_populators: list
    annotation_col_map: dict


class PreparedQuery:
    def __init__(self, build, **sentinels):
        self._build = build
        self._sentinels = sentinels
        # Per thread: a compiler holds its thread's connection, which converters may read.
        self._local = threading.local()

    def __call__(self, using: str | None = None, **values) -> list:
        if values.keys() != self._sentinels.keys():
            raise TypeError(f"expected the values {sorted(self._sentinels)}, got {sorted(values)}")
        compiled = self._compiled(using)
        params = list(compiled.params)
        for name, place in compiled.places.items():
            params[place] = values[name]
        return _instances(compiled, params)

    def _compiled(self, using) -> _Compiled:
        # Keyed by alias: a thread keeps its connection object (DatabaseWrapper) for its life, closing
        # and reopening the database connection inside it.
        cache = self._local.__dict__.setdefault("compiled", {})
        compiled = cache.get(using)
        if compiled is None:
            queryset = self._build(**self._sentinels)
            alias = using or router.db_for_read(queryset.model)
            compiled = cache[using] = self._compile(queryset.using(alias), alias)
        return compiled

    def _compile(self, queryset, using) -> _Compiled:
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        places = {}
        for name, sentinel in self._sentinels.items():
            found = [index for index, param in enumerate(params) if type(param) is type(sentinel) and param == sentinel]
            if len(found) != 1:
                raise ImproperlyConfigured(f"PreparedQuery: the value {name!r} is not one parameter of the SQL")
            places[name] = found[0]
        return _compiled_reading(compiler, sql, params, places)


def _compiled_reading(compiler, sql, params, places) -> _Compiled:
    """What building instances from the rows of `compiler`'s SQL (compiled) needs, as ModelIterable has it."""
    select, klass_info = compiler.select, compiler.klass_info
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    return _Compiled(
        sql=sql, params=tuple(params), places=places, compiler=compiler,
        converters=compiler.get_converters([column[0] for column in select[:compiler.col_count]]),
        model=klass_info["model"], model_slice=slice(start, end),
        init_list=[column[0].target.attname for column in select[start:end]],
        related_populators=get_related_populators(klass_info, select, compiler.using),
        annotation_col_map=dict(compiler.annotation_col_map or {}),
    )


def _instances(compiled: _Compiled, params) -> list:
    with compiled.compiler.connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        rows = cursor.fetchall()
    if compiled.converters:
        rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
    # As Django's ModelIterable builds each row's instance.
    model, using, init_list = compiled.model, compiled.compiler.using, compiled.init_list
    instances = []
    for row in rows:
        instance = instance_from_db(model, using, init_list, row[compiled.model_slice])
        for populator in compiled.related_populators:
            _populate(populator, row, instance)
        for name, position in compiled.annotation_col_map.items():
            setattr(instance, name, row[position])
        instances.append(instance)
    return instances


def _populate(populator, row, from_record) -> None:
    """Django's RelatedPopulator.populate (a select_related record of a row), its record built by
    instance_from_db."""
    values = populator.reorder_for_init(row) if populator.reorder_for_init else row[
        populator.cols_start:populator.cols_end]
    record = None
    if values[populator.pk_idx] is not None:
        record = instance_from_db(populator.model_cls, populator.db, populator.init_list, values)
        for inner in populator.related_populators:
            _populate(inner, row, record)
    populator.local_setter(from_record, record)
    if record is not None:
        populator.remote_setter(record, from_record)


@functools.cache
def _built_without_init(model) -> bool:
    """Whether a `model` record read from the database is exactly its loaded values in its __dict__,
    signals aside: no __init__ or from_db of its own, and no column attribute that does more on
    assignment than store the value (a foreign key's only clears a cached record, which a new
    instance has not got)."""
    if model.__init__ is not Model.__init__ or model.from_db.__func__ is not Model.from_db.__func__:
        return False
    for field in model._meta.concrete_fields:
        descriptor = getattr(model, field.attname, None)
        if hasattr(descriptor, "__set__") and type(descriptor) is not ForeignKeyDeferredAttribute:
            return False
    return True


def instance_from_db(model, db, attnames, values):
    """model.from_db(db, attnames, values): the record Django builds from a row's columns, without
    running Model.__init__ (its per-field assignments: a third of the cost of building a small
    page's records) where that gives the same record: `_built_without_init`, and no pre_init or
    post_init receiver (asked each time: one may be connected at any moment). A column left out is
    deferred: it loads on access, as with from_db."""
    if not _built_without_init(model) or ((signals.pre_init.receivers or signals.post_init.receivers) and (
            signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model))):
        return model.from_db(db, attnames, values)
    record = model.__new__(model)
    record.__dict__.update(zip(attnames, values, strict=True))
    record._state = state = ModelState()
    state.adding, state.db = False, db
    return record


# The instance attributes a Query may hold for its SQL to be known from its shape (shape_key) and the
# SQL of its WHERE: the first set enters the key; the second must be empty (or the default); the third
# only track what the WHERE and the joins record already. Any other attribute (values(), annotations,
# extra(), grouping, locking, set operations...) leaves the query to Django.
_SHAPE_ATTRIBUTES = frozenset({
    "model", "select_related", "max_depth", "deferred_loading", "order_by", "default_ordering",
    "standard_ordering", "low_mark", "high_mark", "distinct", "alias_map", "alias_refcount", "alias_cols"})
_EMPTY_ATTRIBUTES = frozenset({
    "annotations", "extra", "extra_order_by", "_filtered_relations", "_annotation_select_cache",
    "_extra_select_cache", "filter_is_sticky", "external_aliases"})
_BOOKKEEPING_ATTRIBUTES = frozenset({
    "where", "table_map", "used_aliases", "subq_aliases", "alias_prefix", "_lookup_joins",
    "base_table"})  # base_table: a cached_property, the first alias of alias_map
SHAPES_PER_THREAD = 512  # a process keeps at most this many lists' SQL per thread; past it, starts again


def _frozen(value):
    if isinstance(value, dict):
        return tuple(sorted((name, _frozen(inner)) for name, inner in value.items()))
    return value


def shape_key(queryset) -> tuple | None:
    """What a plain model queryset's SQL depends on besides its WHERE clause: its model, database,
    joins, columns (select_related, defer), order and slice. None for anything else, which Django
    compiles each time."""
    query = queryset.query
    if (type(query) is not Query or queryset._iterable_class is not ModelIterable or queryset._fields is not None
            or queryset._known_related_objects or queryset._result_cache is not None):
        return None
    state = query.__dict__
    for name, value in state.items():
        if name in _EMPTY_ATTRIBUTES:
            if value:
                return None
        elif name not in _SHAPE_ATTRIBUTES and name not in _BOOKKEEPING_ATTRIBUTES:
            return None
    if not all(isinstance(term, str) for term in query.order_by):
        return None
    joins = []
    for alias, join in query.alias_map.items():
        if type(join) is BaseTable:
            joins.append((alias, join.table_name, query.alias_refcount.get(alias, 0) > 0))
        elif type(join) is Join and join.filtered_relation is None:
            joins.append((alias, join.table_name, join.parent_alias, join.join_field, join.join_type,
                          join.nullable, query.alias_refcount.get(alias, 0) > 0))
        else:
            return None
    return (query.model, queryset.db, _frozen(query.select_related), query.max_depth, query.deferred_loading,
            query.order_by, query.default_ordering, query.standard_ordering, query.low_mark, query.high_mark,
            query.distinct, query.alias_cols, tuple(joins))


def _where(queryset, compiler) -> tuple[str, list] | None:
    """The SQL and values of the queryset's WHERE clause; None when it matches nothing."""
    try:
        sql, params = compiler.compile(queryset.query.where)
    except FullResultSet:
        return "", []
    except EmptyResultSet:
        return None
    return sql, list(params)


class _Shapes(threading.local):
    def __init__(self):
        self.compiled = {}

    def remember(self, key, value):
        if len(self.compiled) >= SHAPES_PER_THREAD:
            self.compiled.clear()
        self.compiled[key] = value


_shapes = _Shapes()
_UNPREPARABLE = object()  # a shape whose SQL carries values besides its WHERE clause's


def read_rows(queryset) -> list:
    """list(queryset), with the SQL of the queryset's shape compiled once per thread: a later queryset
    of the same shape compiles only its WHERE clause (the scope, the filters' values) and reuses the
    rest. The SQL compiled the first time is checked to carry no value but the WHERE clause's, and
    to contain that clause; otherwise, and for any queryset shape_key does not know, it is Django's."""
    key = shape_key(queryset)
    if key is None:
        return list(queryset)
    compiler = queryset.query.get_compiler(using=queryset.db)
    where = _where(queryset, compiler)
    if where is None:
        return list(queryset)
    # The connection object too: a compiler and its converters hold the one they were made with.
    key = ("rows", key, where[0], compiler.connection)
    compiled = _shapes.compiled.get(key)
    if compiled is None:
        sql, params = compiler.as_sql()
        if list(params) != where[1] or where[0] not in sql:
            _shapes.remember(key, _UNPREPARABLE)
            return list(queryset)
        compiled = _compiled_reading(compiler, sql, params, {})
        _shapes.remember(key, compiled)
    elif compiled is _UNPREPARABLE:
        return list(queryset)
    rows = _instances(compiled, where[1])
    if queryset._prefetch_related_lookups:
        prefetch_related_objects(rows, *queryset._prefetch_related_lookups)
    return rows


def count_rows_of(queryset, counts=None) -> int:
    """queryset.count(), its SQL compiled once per shape as read_rows does. `counts`, if given,
    remembers counts while the database is unchanged (qgov.counting.SQLiteCounts): a count it
    recalls runs no query."""
    key = shape_key(queryset)
    if key is None:
        return queryset.count()
    connection = connections[queryset.db]
    where = _where(queryset, queryset.query.get_compiler(using=queryset.db))
    if where is None:
        return queryset.count()
    key = ("count", key, where[0], connection)
    sql = _shapes.compiled.get(key)
    if sql is _UNPREPARABLE:
        return queryset.count()
    # Read before counting: a change committed meanwhile makes the count's state an older one.
    state = counts.state() if counts is not None else None
    if sql is None:
        # Django's count, its one query seen on its way to the database.
        seen = []

        def record(execute, sql, params, many, context):
            seen.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            count = queryset.count()
        preparable = len(seen) == 1 and list(seen[0][1] or ()) == where[1] and where[0] in seen[0][0]
        sql = seen[0][0] if preparable else _UNPREPARABLE
        _shapes.remember(key, sql)
    else:
        count = counts.recall(sql, where[1], state) if counts is not None else None
        if count is not None:
            return count
        with connection.cursor() as cursor:
            cursor.execute(sql, where[1])
            count = int(cursor.fetchone()[0])
    if counts is not None and sql is not _UNPREPARABLE:
        counts.remember(sql, where[1], state, count)
    return count
