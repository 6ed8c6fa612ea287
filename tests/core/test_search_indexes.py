"""`?q=` search is served by trigram indexes on PostgreSQL (qgov.migrations_ops.AddSearchIndex)
and stays an `icontains` everywhere: the same records on SQLite and PostgreSQL."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from qgov.filters import QgovFilterSet
from qgov.migrations_ops import AddSearchIndex
from risks.filters import RiskFilterSet
from risks.models import Risk
from tests.factories import AgencyFactory
from tests.risks.factories import RiskFactory, ThreatVectorFactory

APPS = ("qgov", "risks", "certification", "procurement")


def filtersets():
    for app in APPS:
        importlib.import_module(f"{app}.filters")
    pending, seen = list(QgovFilterSet.__subclasses__()), []
    while pending:
        filterset = pending.pop()
        seen.append(filterset)
        pending.extend(filterset.__subclasses__())
    return [filterset for filterset in seen if filterset._meta.model is not None]


def searched_own_fields():
    """{model label: own (not across a relation) fields some filterset searches}."""
    fields = {}
    for filterset in filtersets():
        own = {path for path in filterset.search_fields if "__" not in path}
        if own:
            fields.setdefault(filterset._meta.model._meta.label_lower, set()).update(own)
    return fields


def declared_search_indexes():
    """{model label: fields} of every AddSearchIndex in the migrations."""
    declared = {}
    for (app_label, _name), migration in MigrationLoader(None, ignore_no_migrations=True).disk_migrations.items():
        for operation in migration.operations:
            if isinstance(operation, AddSearchIndex):
                label = operation.model_name.lower() if "." in operation.model_name else \
                    f"{app_label}.{operation.model_name.lower()}"
                declared.setdefault(label, set()).update(operation.fields)
    return declared


def test_every_searched_own_field_has_a_search_index_migration():
    searched, declared = searched_own_fields(), declared_search_indexes()
    assert "risks.risk" in searched  # the walk found the apps' filtersets
    missing = {label: sorted(fields - declared.get(label, set())) for label, fields in searched.items()
               if fields - declared.get(label, set())}
    assert missing == {}, f"add AddSearchIndex(...) to a migration of these apps: {missing}"


@pytest.mark.django_db
def test_the_search_indexes_exist_on_postgresql_and_nowhere_else():
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            tables = connection.introspection.table_names(cursor)
            trgm = [index for table in tables
                    for index in connection.introspection.get_constraints(cursor, table) if index.endswith("_trgm")]
            assert trgm == []  # the migrations were no-ops
            return
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexdef LIKE '%%gin_trgm_ops%%'")
        definitions = [row[0] for row in cursor.fetchall()]
    for label, fields in searched_own_fields().items():
        model = apps.get_model(label)
        for field in fields:
            column = model._meta.get_field(field).column
            assert any(f"ON public.{model._meta.db_table} USING gin (upper(" in definition
                       and (f"upper(({column})::text)" in definition or f"upper({column})" in definition)
                       for definition in definitions), (label, field)


@pytest.mark.django_db
def test_search_finds_a_part_of_a_word_case_insensitively_on_own_fields_and_threat_vectors():
    agency = AgencyFactory()
    hndl = RiskFactory(agency=agency, reference="RISK-HNDL-1", title="Archive", description="")
    described = RiskFactory(agency=agency, title="Other", description="traffic recorded now, decrypted later")
    vector = ThreatVectorFactory(title="Detector blinding")
    linked = RiskFactory(agency=agency, title="Linked", description="")
    linked.threat_vectors.add(vector)
    RiskFactory(agency=agency, title="Unrelated", description="nothing")

    def found(value):
        return set(RiskFilterSet({"q": value}, queryset=Risk.objects.all()).qs)

    assert found("hndl") == {hndl}
    assert found("DECRYPTED") == {described}
    assert found("blind") == {linked}  # through the threat vector's title
    assert found("zzz-no-such-text") == set()


@pytest.mark.django_db
def test_a_search_matching_no_threat_vector_leaves_the_link_table_out(django_assert_num_queries):
    ThreatVectorFactory(title="Detector blinding")
    with django_assert_num_queries(1):  # the vectors, resolved first
        sql = str(RiskFilterSet({"q": "archive"}, queryset=Risk.objects.all()).qs.query)
    assert "threat_vectors" not in sql and "DISTINCT" not in sql.upper()
    sql = str(RiskFilterSet({"q": "blinding"}, queryset=Risk.objects.all()).qs.query)
    assert "risks_risk_threat_vectors" in sql and "DISTINCT" not in sql.upper()
