"""The generic model suite's declarations and helpers (qgov.testing)."""

import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from rest_framework.test import APIClient

from qgov.choices import RoleChoices
from qgov.models import AuditEvent
from qgov.permissions import PLATFORM_ONLY
from qgov.roles import role_allows

ROLES = list(RoleChoices.values)
HTML_TAG = re.compile(r"<[a-z/][^>]*>", re.IGNORECASE)
ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d(?:$|[T ]\d\d:\d\d)")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def role_may(model, role: str, action: str) -> bool:
    required = model.permission_action(action)
    return required is not PLATFORM_ONLY and role_allows(role, required)


def events_for(obj_or_model, pk=None):
    content_type = ContentType.objects.get_for_model(obj_or_model)
    object_id = str(pk if pk is not None else obj_or_model.pk)
    return AuditEvent.objects.filter(content_type=content_type, object_id=object_id)



class SuiteBase:
    """What a model's suite declares (the hooks) and the helpers its checks share."""

    """Subclass, set the attributes, implement the hooks. Needs the fixtures of tests/conftest.py."""

    model = None
    api_path: str = None  # "/api/memberships/"
    list_queries: int = None  # queries of one API list request, pinned
    # Queries of one UI list page, pinned. A record filter of the sidebar reads up to 101 ids, and a
    # short one then its records (qgov.autocomplete.short_choices).
    ui_list_queries: int = None
    filter_values: dict = {}  # a valid API value for filters the suite cannot make one for
    api_delete = True
    ui_create = True
    ui_delete = True
    scoped = True  # False for shared catalogs, which every agency reads

    def skip_unless_scoped(self):
        if not self.scoped:
            pytest.skip("a shared catalog belongs to no agency")

    # --- hooks -------------------------------------------------------------------------------

    def make_record(self, agency):
        """A saved record that belongs to `agency`."""
        raise NotImplementedError

    def create_payload(self, agency) -> dict:
        """A valid API POST body for a new record in `agency`."""
        raise NotImplementedError

    def update_payload(self, record) -> dict:
        """A valid API PATCH body that changes `record`."""
        raise NotImplementedError

    def form_data(self, agency, record=None) -> dict:
        """Valid UI form data (create when record is None)."""
        raise NotImplementedError

    # --- helpers -----------------------------------------------------------------------------

    def detail_path(self, record):
        return f"{self.api_path}{record.pk}/"

    def client_for(self, user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    def reload(self, record):
        return type(record)._base_manager.get(pk=record.pk)

    def snapshot(self, record):
        from qgov.audit import snapshot

        return snapshot(self.reload(record))

    def ui_url(self, view, *args):
        meta = self.model._meta
        return reverse(f"{meta.app_label}:{meta.model_name}_{view}", args=args)

    def login(self, client, user):
        client.force_login(user)
        return client
