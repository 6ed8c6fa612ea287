"""Someone without an account (a supplier contact with a one-time link) as an actor: audit events
name them through `actor_without_account`, never the browser's signed-in user, under the audit
source "portal"; evidence uploads take `user=None` with their name."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory

from qgov.audit import actor_without_account, audit_context
from qgov.choices import AuditSourceChoices, RoleChoices
from qgov.evidence import services
from qgov.models import CustodyEvent, EvidenceFile
from qgov.testing import events_for
from tests.risks.factories import AssetFactory, RiskFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
LABEL = "Dana Vogt <dana@photonica.example> (one-time link)"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_events_name_the_label_and_no_user(agency):
    with actor_without_account(label=LABEL):
        asset = AssetFactory(agency=agency)
    [event] = events_for(asset)
    assert (event.actor_id, event.actor_repr, event.source) == (None, LABEL, AuditSourceChoices.PORTAL)


def test_a_signed_in_browser_is_not_taken_for_the_actor(agency, member_of):
    request = RequestFactory().get("/")
    request.user, request.id = member_of(agency, RoleChoices.ADMIN, username="rita"), "req-12345678"
    # Inside the request middleware's context (which names the signed-in user), the one-time link's
    # names the contact, keeping the request id.
    with (audit_context(source=AuditSourceChoices.UI, request=request, request_id=request.id),
          actor_without_account(label=LABEL, request=request)):
        asset = AssetFactory(agency=agency)
    [event] = events_for(asset)
    assert (event.actor_id, event.actor_repr, event.request_id) == (None, LABEL, "req-12345678")


def test_an_actor_without_a_name_is_refused():
    with pytest.raises(ValueError), actor_without_account(label="  "):
        pass


def test_evidence_upload_without_a_user(agency, member_of):
    custodian = member_of(agency, RoleChoices.EDITOR, username="rita")
    risk = RiskFactory(agency=agency)
    with actor_without_account(label=LABEL):
        evidence = services.evidence_attach(record=risk, upload=SimpleUploadedFile("r.pdf", PDF), user=None,
                                            actor_name=LABEL, custodian=custodian)
    assert (evidence.uploaded_by, evidence.uploader_name, evidence.custodian) == (None, LABEL, custodian)
    entry = CustodyEvent.objects.get(evidence=evidence)
    assert (entry.actor, entry.actor_name, entry.to_user, entry.action) == (None, LABEL, custodian, "uploaded")
    assert {e.actor_repr for e in [*events_for(evidence), *events_for(entry)]} == {LABEL}


def test_evidence_upload_without_a_user_must_name_the_uploader(agency):
    risk = RiskFactory(agency=agency)
    with pytest.raises(ValueError):
        services.evidence_attach(record=risk, upload=SimpleUploadedFile("r.pdf", PDF), user=None)
    assert not EvidenceFile.objects.exists()


def test_evidence_upload_with_a_user_still_asks_permission(agency, member_of):
    from django.core.exceptions import PermissionDenied

    risk = RiskFactory(agency=agency)
    viewer = member_of(agency, RoleChoices.VIEWER)
    with pytest.raises(PermissionDenied):
        services.evidence_attach(record=risk, upload=SimpleUploadedFile("r.pdf", PDF), user=viewer,
                                 actor_name="someone else")
    assert not EvidenceFile.objects.exists()
