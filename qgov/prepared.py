"""Queries compiled once and run many times: for the few queries every request runs with the same
shape (the API token lookup), Django's SQL compilation cost more than the database's answer.

    token_rows = PreparedQuery(
        lambda key_hash: ApiToken.objects.filter(key_hash=key_hash).select_related("user"),
        key_hash="\\x00sentinel\\x00")
    rows = token_rows(key_hash=digest)  # model instances, as list(queryset) gives them

The queryset is built once per thread and database with a sentinel for each value and compiled; the
sentinels' places among the compiled parameters are where each call's values go. Only a value that
reaches the SQL as exactly one parameter (an equality filter) can be prepared; anything that changes
the SQL's shape (a list of varying length, None) cannot, and compiling refuses a sentinel it does not
find exactly once.
"""

import threading
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import router
from django.db.models.query import get_related_populators


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
        with compiled.compiler.connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        if compiled.converters:
            rows = list(compiled.compiler.apply_converters(rows, compiled.converters))
        return [self._instance(compiled, row) for row in rows]

    def _instance(self, compiled: _Compiled, row):
        # As Django's ModelIterable builds each row's instance.
        instance = compiled.model.from_db(compiled.compiler.using, compiled.init_list, row[compiled.model_slice])
        for populator in compiled.related_populators:
            populator.populate(row, instance)
        for name, position in compiled.annotation_col_map.items():
            setattr(instance, name, row[position])
        return instance

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
        select, klass_info = compiler.select, compiler.klass_info
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        return _Compiled(
            sql=sql, params=tuple(params), places=places, compiler=compiler,
            converters=compiler.get_converters([column[0] for column in select[:compiler.col_count]]),
            model=klass_info["model"], model_slice=slice(start, end),
            init_list=[column[0].target.attname for column in select[start:end]],
            related_populators=get_related_populators(klass_info, select, using),
            annotation_col_map=dict(compiler.annotation_col_map or {}),
        )
