"""Names are an interface: every model of a domain app has its full set of classes and routes."""

from importlib import import_module

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db.models import TextField
from django.urls import reverse

from qgov import registry
from qgov.models import QgovModel

REQUIRED = {
    "filters": ["{Model}FilterSet"],
    "forms": ["{Model}Form"],
    "tables": ["{Model}Table"],
    "api": ["{Model}Serializer", "{Model}ViewSet"],
    "views": ["{Model}ListView", "{Model}DetailView", "{Model}EditView", "{Model}DeleteView", "{Model}HistoryView"],
}


def domain_models():
    for app in registry.apps():
        for model in apps.get_app_config(app.label).get_models():
            if issubclass(model, QgovModel):
                yield app.label, model


@pytest.mark.parametrize(("app_label", "model"), list(domain_models()))
def test_domain_model_has_its_classes_and_routes(app_label, model):
    name = model.__name__
    for module_name, patterns in REQUIRED.items():
        module = import_module(f"{app_label}.{module_name}")
        for pattern in patterns:
            expected = pattern.format(Model=name)
            assert hasattr(module, expected), f"{app_label}.{module_name} lacks {expected}"
    for view in ["list", "add"]:
        reverse(f"{app_label}:{model._meta.model_name}_{view}")
    for view in ["detail", "edit", "delete", "history"]:
        reverse(f"{app_label}:{model._meta.model_name}_{view}", args=[1])
    reverse(f"api:{model._meta.model_name}-list")


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("qgov.filters", ["AgencyFilterSet", "MembershipFilterSet", "AuditEventFilterSet", "UserFilterSet"]),
        ("qgov.forms", ["AgencyForm", "MembershipForm"]),
        ("qgov.tables", ["AgencyTable", "MembershipTable", "AuditEventTable"]),
        ("qgov.api.core", ["AgencySerializer", "AgencyViewSet", "MembershipSerializer", "MembershipViewSet",
                           "AuditEventSerializer", "AuditEventViewSet", "UserSerializer", "UserViewSet"]),
        ("qgov.views.core", ["AgencyListView", "AgencyDetailView", "AgencyEditView", "AgencyHistoryView",
                             "MembershipListView", "MembershipDetailView", "MembershipEditView",
                             "MembershipDeleteView", "MembershipHistoryView", "AuditEventListView",
                             "AuditEventDetailView"]),
    ],
)
def test_core_classes_follow_the_naming_convention(module, names):
    loaded = import_module(module)
    assert [name for name in names if not hasattr(loaded, name)] == []


def test_every_api_list_route_is_plural_kebab_case():
    from qgov.api.urls import router

    uncountable = {"compliance", "personnel"}  # plural already: /api/compliance/, /api/personnel/
    for prefix, _viewset, _basename in router.registry:
        assert prefix == prefix.lower() and "_" not in prefix, prefix
        assert prefix.endswith("s") or prefix.rsplit("-", 1)[-1] in uncountable, prefix


def _declaring_models():
    from qgov.duedates import declaring_models

    return declaring_models()


@pytest.mark.parametrize("model", _declaring_models(), ids=lambda model: model._meta.label)
def test_due_date_declarations_name_a_real_date_field_and_owner(model):
    """Each DueDate names a date field of the model and an owner path ending at the user model."""
    from qgov.duedates import declaration_problems

    assert declaration_problems(model) == []


def _project_text_fields():
    """Every editable TextField of the project's own apps (the core and each domain app)."""
    for config in apps.get_app_configs():
        if not config.name.startswith(("qgov", *(app.label for app in registry.apps()))):
            continue
        for model in config.get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, TextField) and field.editable:
                    yield f"{model._meta.label}.{field.name}", field


@pytest.mark.parametrize(("name", "field"), list(_project_text_fields()))
def test_free_text_is_capped_everywhere_it_is_written(name, field):
    """An unbounded TextField let a 1,000,000-character description through and it overflowed the
    page: each one has a max_length, and the model enforces it too (imports and services run
    full_clean, which checks max_length of CharFields only)."""
    assert field.max_length, f"{name} has no max_length"
    with pytest.raises(ValidationError):
        field.run_validators("x" * (field.max_length + 1))
