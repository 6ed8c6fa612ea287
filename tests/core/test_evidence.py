"""Evidence files: upload (UI and API), hash and size, type and size limits, private storage and
permission-checked downloads, verify, custody log, handover, withdrawal, audit, query budgets,
and the orphan sweep (rolled-back transactions: test_evidence_rollback.py)."""

import hashlib
import io
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qgov.choices import AuditActionChoices, RoleChoices
from qgov.evidence import services
from qgov.evidence.choices import CustodyEventActionChoices as Custody
from qgov.models import CustodyEvent, EvidenceFile
from qgov.testing import events_for
from tests.risks.factories import AssetFactory, ControlFactory, RiskFactory

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PDF_SHA256 = hashlib.sha256(PDF).hexdigest()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media_root) -> list[Path]:
    return sorted(path for path in Path(media_root).rglob("*") if path.is_file())


def upload(name="report.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def custody(evidence):
    return [(e.action, e.actor_name, e.from_user_id, e.to_user_id, e.note, e.observed_sha256)
            for e in CustodyEvent.objects.filter(evidence=evidence).order_by("at", "pk")]


@pytest.fixture
def risk(agency):
    return RiskFactory(agency=agency)


@pytest.fixture
def editor(agency, member_of):
    return member_of(agency, RoleChoices.EDITOR, username="erin")


@pytest.fixture
def attached(risk, editor):
    return services.evidence_attach(record=risk, upload=upload(), user=editor, description="Pen-test report")


# --- upload --------------------------------------------------------------------------------------


def test_api_upload_records_hash_size_type_and_custody(api_as, risk, editor, media_root):
    response = api_as(editor).post(f"/api/risks/{risk.pk}/evidence/",
                                   {"file": upload(), "description": " Pen-test report "}, format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    evidence = EvidenceFile.objects.get()
    assert response["Location"] == f"http://testserver/api/evidence-files/{evidence.pk}/"
    assert {key: body[key] for key in ("record_type", "record_id", "file_name", "description", "sha256", "size",
                                       "media_type", "uploader_name", "withdrawn_at")} == {
        "record_type": "risks.risk", "record_id": risk.pk, "file_name": "report.pdf",
        "description": "Pen-test report", "sha256": PDF_SHA256, "size": len(PDF), "media_type": "application/pdf",
        "uploader_name": "erin", "withdrawn_at": None}
    assert body["custodian"]["id"] == editor.pk
    assert body["download"] == f"http://testserver/api/evidence-files/{evidence.pk}/download/"
    assert (evidence.agency_id, evidence.uploaded_by, evidence.custodian) == (risk.agency_id, editor, editor)
    # Stored privately, under a random name that says nothing about the upload.
    [path] = stored_files(media_root)
    assert path.parent == Path(media_root) / "private" / "evidence"
    assert path.name == evidence.file.name and path.name != "report.pdf" and path.suffix == ".pdf"
    assert path.read_bytes() == PDF
    assert custody(evidence) == [(Custody.UPLOADED, "erin", None, editor.pk, "", "")]


def test_upload_is_audited(api_as, risk, editor):
    response = api_as(editor).post(f"/api/risks/{risk.pk}/evidence/", {"file": upload()}, format="multipart")
    evidence = EvidenceFile.objects.get(pk=response.json()["id"])
    [created] = events_for(evidence)
    assert (created.action, created.actor, created.agency_id) == (AuditActionChoices.CREATE, editor, risk.agency_id)
    assert created.after["sha256"] == PDF_SHA256 and created.after["object_id"] == risk.pk
    [entry] = events_for(CustodyEvent.objects.get())
    assert (entry.action, entry.actor, entry.source, entry.after["action"]) == (
        AuditActionChoices.CREATE, editor, "api", "uploaded")
    assert entry.chain == created.chain == f"agency:{risk.agency_id}"


def test_ui_upload_from_the_card(client, risk, editor):
    client.force_login(editor)
    page = client.get(risk.get_absolute_url())
    assert page.status_code == 200
    add_url = reverse("qgov:evidencefile_add", args=[page.context["upload_url"].split("/")[3], risk.pk])
    assert page.context["upload_url"] == add_url
    response = client.post(add_url, {"file": upload(), "description": "Pen-test report"})
    assert response.status_code == 302
    assert response["Location"] == f"{risk.get_absolute_url()}#evidence"
    evidence = EvidenceFile.objects.get()
    page = client.get(risk.get_absolute_url())
    html = page.content.decode()
    assert [str(m) for m in page.context["messages"]] == [f"Added “report.pdf” (SHA-256 {PDF_SHA256})."]
    assert f'<code title="{PDF_SHA256}">{PDF_SHA256[:12]}…</code>' in html
    assert reverse("qgov:evidencefile_download", args=[evidence.pk]) in html
    assert reverse("qgov:evidencefile_handover", args=[evidence.pk]) in html


def test_control_accepts_evidence_and_asset_does_not(api_as, agency, editor):
    control = ControlFactory(agency=agency)
    client = api_as(editor)
    response = client.post(f"/api/controls/{control.pk}/evidence/", {"file": upload()}, format="multipart")
    assert response.status_code == 201
    asset = AssetFactory(agency=agency)
    assert client.post(f"/api/assets/{asset.pk}/evidence/", {"file": upload()}, format="multipart").status_code == 404
    with pytest.raises(Exception) as refused:
        services.evidence_attach(record=asset, upload=upload(), user=editor)
    assert refused.value.message_dict == {"file": ["Assets do not take evidence files."]}


@pytest.mark.parametrize("role", [RoleChoices.VIEWER, RoleChoices.AUDITOR])
def test_upload_refused_without_change_permission(role, api_as, client, risk, member_of, media_root):
    user = member_of(risk.agency, role)
    response = api_as(user).post(f"/api/risks/{risk.pk}/evidence/", {"file": upload()}, format="multipart")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    client.force_login(user)
    add_url = reverse("qgov:evidencefile_add", args=[_risk_type_id(), risk.pk])
    assert client.post(add_url, {"file": upload()}).status_code == 403
    assert "evidence-card" in client.get(risk.get_absolute_url()).content.decode()
    assert client.get(risk.get_absolute_url()).context["upload_form"] is None
    assert EvidenceFile.objects.count() == 0
    assert stored_files(media_root) == []


def test_upload_to_another_agencys_record_is_404(api_as, client, other_agency, editor, media_root):
    theirs = RiskFactory(agency=other_agency)
    response = api_as(editor).post(f"/api/risks/{theirs.pk}/evidence/", {"file": upload()}, format="multipart")
    assert response.status_code == 404
    client.force_login(editor)
    assert client.post(reverse("qgov:evidencefile_add", args=[_risk_type_id(), theirs.pk]),
                       {"file": upload()}).status_code == 404
    assert stored_files(media_root) == []


def _risk_type_id():
    from django.contrib.contenttypes.models import ContentType

    from risks.models import Risk

    return ContentType.objects.get_for_model(Risk).pk


REFUSED = [
    ("tool.exe", b"MZ\x90\x00", "“tool.exe” is not an allowed type of evidence file; allowed: "
                                "csv, docx, jpeg, jpg, json, pdf, png, txt, xlsx, xml, zip."),
    ("noextension", b"hello", "“noextension” is not an allowed type of evidence file; allowed: "
                              "csv, docx, jpeg, jpg, json, pdf, png, txt, xlsx, xml, zip."),
    ("fake.pdf", b"just some text", "“fake.pdf” is not a PDF file: its content does not start as a PDF file does."),
    ("fake.png", PDF, "“fake.png” is not a PNG file: its content does not start as a PNG file does."),
    ("photo.jpg", b"GIF89a....", "“photo.jpg” is not a JPEG file: its content does not start as a JPEG file does."),
    ("minutes.docx", PDF, "“minutes.docx” is not a DOCX file: it is not a readable package of that type."),
    ("sheet.xlsx", docx_bytes(), "“sheet.xlsx” is not a XLSX file: it is not a readable package of that type."),
    ("archive.zip", b"PK\x03\x04 truncated", "“archive.zip” is not a ZIP file: it is not a readable package of "
                                             "that type."),
    ("log.csv", "naïve".encode("latin-1"), "“log.csv” is not UTF-8 text, as a .csv file must be."),
    ("empty.txt", b"", "The file is empty."),
]


@pytest.mark.parametrize(("name", "content", "message"), REFUSED, ids=[case[0] for case in REFUSED])
def test_bad_files_are_refused_with_a_clear_message_and_nothing_written(name, content, message, api_as, risk,
                                                                         editor, media_root):
    response = api_as(editor).post(f"/api/risks/{risk.pk}/evidence/",
                                   {"file": SimpleUploadedFile(name, content)}, format="multipart")
    assert response.status_code == 400
    if name == "empty.txt":  # DRF's own check of an empty upload answers first
        assert response.json()["errors"] == {"file": ["The submitted file is empty."]}
        with pytest.raises(Exception) as refused:
            services.evidence_attach(record=risk, upload=SimpleUploadedFile(name, content), user=editor)
        assert refused.value.message_dict == {"file": [message]}
    else:
        assert response.json() == {"status": 400, "code": "invalid", "detail": "Invalid input.",
                                   "errors": {"file": [message]}}
    assert EvidenceFile.objects.count() == CustodyEvent.objects.count() == 0
    assert stored_files(media_root) == []


def test_good_files_of_each_checked_kind_are_accepted(risk, editor):
    for name, content, media_type in [
        ("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "image/png"),
        ("b.jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
        ("c.docx", docx_bytes(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("d.csv", "name,note\nQKD link,naïve\n".encode(), "text/csv"),
    ]:
        evidence = services.evidence_attach(record=risk, upload=SimpleUploadedFile(name, content), user=editor)
        assert (evidence.media_type, evidence.size, evidence.sha256) == (
            media_type, len(content), hashlib.sha256(content).hexdigest())


def test_too_large_is_refused_in_ui_and_api(settings, api_as, client, risk, editor, media_root):
    settings.QGOV_EVIDENCE_MAX_BYTES = len(PDF) - 1
    response = api_as(editor).post(f"/api/risks/{risk.pk}/evidence/", {"file": upload()}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"] == {"file": [
        f"The file is {len(PDF)}\xa0bytes; evidence files may be at most {len(PDF) - 1}\xa0bytes."]}
    client.force_login(editor)
    page = client.post(reverse("qgov:evidencefile_add", args=[_risk_type_id(), risk.pk]), {"file": upload()})
    assert page.status_code == 200
    assert page.context["form"].errors == {"file": [
        f"The file is {len(PDF)}\xa0bytes; evidence files may be at most {len(PDF) - 1}\xa0bytes."]}
    assert stored_files(media_root) == []
    settings.QGOV_EVIDENCE_MAX_BYTES = len(PDF)
    assert services.evidence_attach(record=risk, upload=upload(), user=editor).size == len(PDF)


def test_allowed_types_are_a_setting(settings, risk, editor):
    settings.QGOV_EVIDENCE_ALLOWED_TYPES = ["pcap"]
    evidence = services.evidence_attach(record=risk, upload=SimpleUploadedFile("capture.pcap", b"\xd4\xc3\xb2\xa1"),
                                        user=editor)
    assert evidence.media_type == "application/octet-stream"
    with pytest.raises(Exception) as refused:
        services.evidence_attach(record=risk, upload=upload(), user=editor)
    assert refused.value.message_dict == {"file": [
        "“report.pdf” is not an allowed type of evidence file; allowed: pcap."]}


# --- download --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(RoleChoices.values))
def test_download_by_any_role_of_the_agency(role, client, api_as, attached, member_of):
    user = member_of(attached.agency, role, username=f"reader-{role}")
    client.force_login(user)
    response = client.get(reverse("qgov:evidencefile_download", args=[attached.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    api = api_as(user).get(f"/api/evidence-files/{attached.pk}/download/")
    assert api.status_code == 200
    assert b"".join(api.streaming_content) == PDF
    assert api["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert [row[:2] for row in custody(attached)] == [
        (Custody.UPLOADED, "erin"), (Custody.DOWNLOADED, user.username), (Custody.DOWNLOADED, user.username)]
    downloads = [e for e in _custody_audit(attached) if e.after["action"] == "downloaded"]
    assert [(e.actor, e.source) for e in downloads] == [(user, "ui"), (user, "api")]


def _custody_audit(evidence):
    from django.contrib.contenttypes.models import ContentType

    from qgov.models import AuditEvent

    ids = [str(pk) for pk in CustodyEvent.objects.filter(evidence=evidence).values_list("pk", flat=True)]
    return list(AuditEvent.objects.filter(content_type=ContentType.objects.get_for_model(CustodyEvent),
                                          object_id__in=ids).order_by("seq"))


def test_download_of_another_agencys_file_is_404(client, api_as, attached, other_agency, member_of):
    outsider = member_of(other_agency, RoleChoices.ADMIN)
    client.force_login(outsider)
    for name in ("detail", "download", "handover"):
        assert client.get(reverse(f"qgov:evidencefile_{name}", args=[attached.pk])).status_code == 404
    assert client.post(reverse("qgov:evidencefile_verify", args=[attached.pk])).status_code == 404
    api = api_as(outsider)
    assert api.get(f"/api/evidence-files/{attached.pk}/download/").status_code == 404
    assert api.get(f"/api/evidence-files/{attached.pk}/").status_code == 404
    assert api.post(f"/api/evidence-files/{attached.pk}/verify/").status_code == 404
    assert api.get("/api/evidence-files/").json()["count"] == 0
    assert [row[0] for row in custody(attached)] == [Custody.UPLOADED]


def test_anonymous_download_is_refused(client, api_client, attached):
    url = reverse("qgov:evidencefile_download", args=[attached.pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={url}"
    assert api_client.get(f"/api/evidence-files/{attached.pk}/download/").status_code == 401
    assert [row[0] for row in custody(attached)] == [Custody.UPLOADED]


def test_evidence_has_no_public_url(attached):
    with pytest.raises(ValueError):
        attached.file.url  # noqa: B018


# --- verify --------------------------------------------------------------------------------------


def test_verify_match_then_tampered_file_is_a_mismatch(client, api_as, attached, member_of, media_root):
    viewer = member_of(attached.agency, RoleChoices.VIEWER, username="vera")
    assert services.evidence_verify(evidence=attached, user=viewer) is True
    response = api_as(viewer).post(f"/api/evidence-files/{attached.pk}/verify/")
    assert response.status_code == 200
    body = response.json()
    event = CustodyEvent.objects.get(evidence=attached, sequence=3)
    assert body == {"match": True, "expected": PDF_SHA256, "actual": PDF_SHA256, "verified_at": body["verified_at"],
                    "chain": {"ok": True, "entries": 2, "broken_sequence": None, "reason": "",
                              "head_hash": CustodyEvent.objects.get(evidence=attached, sequence=2).entry_hash,
                              "checked_at": body["chain"]["checked_at"]}}
    assert datetime.fromisoformat(body["verified_at"]) == event.at
    assert (event.action, event.chain_intact) == (Custody.VERIFIED_MATCH, True)
    tampered = PDF.replace(b"Catalog", b"Katalog")
    (Path(media_root) / "private" / "evidence" / attached.file.name).write_bytes(tampered)
    tampered_sha256 = hashlib.sha256(tampered).hexdigest()
    assert services.evidence_verify(evidence=attached, user=viewer) is False
    client.force_login(viewer)
    page = client.post(reverse("qgov:evidencefile_verify", args=[attached.pk]), follow=True)
    assert [str(m) for m in page.context["messages"]] == [
        "Mismatch: the stored file is not the file that was uploaded. "
        f"Expected {PDF_SHA256}, actual {tampered_sha256}.", "Custody chain intact: 4 entries checked."]
    assert custody(attached) == [
        (Custody.UPLOADED, "erin", None, attached.uploaded_by_id, "", ""),
        (Custody.VERIFIED_MATCH, "vera", None, None, "", PDF_SHA256),
        (Custody.VERIFIED_MATCH, "vera", None, None, "", PDF_SHA256),
        (Custody.VERIFIED_MISMATCH, "vera", None, None, "", tampered_sha256),
        (Custody.VERIFIED_MISMATCH, "vera", None, None, "", tampered_sha256),
    ]
    assert "Verified: hash does NOT match" in page.content.decode()


def test_verify_match_message_in_the_ui(client, attached):
    client.force_login(attached.uploaded_by)
    page = client.post(reverse("qgov:evidencefile_verify", args=[attached.pk]), follow=True)
    assert [str(m) for m in page.context["messages"]] == [
        "Match: the stored file has the SHA-256 recorded at upload. "
        f"Expected {PDF_SHA256}, actual {PDF_SHA256}.", "Custody chain intact: 1 entry checked."]
    assert client.get(reverse("qgov:evidencefile_verify", args=[attached.pk])).status_code == 405


def test_verify_of_a_missing_file_is_a_mismatch(attached, media_root):
    (Path(media_root) / "private" / "evidence" / attached.file.name).unlink()
    result = services.evidence_verification(evidence=attached, user=attached.uploaded_by)
    assert (result.match, result.expected, result.actual) == (False, PDF_SHA256, "")
    assert custody(attached)[-1] == (Custody.VERIFIED_MISMATCH, "erin", None, None, "The stored file is missing.", "")


# --- handover and withdrawal --------------------------------------------------------------------------


def test_handover_to_a_member(api_as, client, attached, editor, member_of):
    colleague = member_of(attached.agency, RoleChoices.VIEWER, username="carl")
    response = api_as(editor).post(f"/api/evidence-files/{attached.pk}/handover/",
                                   {"to_user": colleague.pk, "reason": "Lab analysis", "location": "Lab 2",
                                    "note": "For the lab"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["action"] == "handed_over"
    attached.refresh_from_db()
    assert attached.custodian == colleague
    assert custody(attached)[-1] == (Custody.HANDED_OVER, "erin", editor.pk, colleague.pk, "For the lab", "")
    assert CustodyEvent.objects.values_list("sequence", "reason", "location").last() == (2, "Lab analysis", "Lab 2")
    event = events_for(attached).order_by("seq").last()
    assert (event.action, event.actor, event.changed_fields, event.detail) == (
        AuditActionChoices.TRANSITION, editor, ["custodian_id", "version"],
        {"transition": "handover", "reason": "Lab analysis"})
    assert (event.before["custodian_id"], event.after["custodian_id"]) == (editor.pk, colleague.pk)
    # Back again, through the page.
    client.force_login(editor)
    page = client.post(reverse("qgov:evidencefile_handover", args=[attached.pk]),
                       {"to_user": editor.pk, "reason": "Back from the lab", "note": ""})
    assert page.status_code == 302
    attached.refresh_from_db()
    assert attached.custodian == editor


def test_handover_to_a_non_member_is_refused(api_as, client, attached, editor, other_agency, member_of):
    stranger = member_of(other_agency, RoleChoices.ADMIN, username="stranger")
    response = api_as(editor).post(f"/api/evidence-files/{attached.pk}/handover/",
                                   {"to_user": stranger.pk, "reason": "Audit"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"to_user": ["Choose a member of the agency who may view the record."]}
    client.force_login(editor)
    page = client.post(reverse("qgov:evidencefile_handover", args=[attached.pk]),
                       {"to_user": stranger.pk, "reason": "Audit"})
    assert page.status_code == 200
    assert list(page.context["form"].errors) == ["to_user"]
    already = api_as(editor).post(f"/api/evidence-files/{attached.pk}/handover/",
                                  {"to_user": editor.pk, "reason": "Audit"}, format="json")
    assert already.json()["errors"] == {"to_user": ["erin is already the custodian."]}
    attached.refresh_from_db()
    assert attached.custodian == editor and attached.version == 1
    assert [row[0] for row in custody(attached)] == [Custody.UPLOADED]


def test_handover_needs_change_permission(api_as, client, attached, member_of):
    viewer = member_of(attached.agency, RoleChoices.VIEWER)
    response = api_as(viewer).post(f"/api/evidence-files/{attached.pk}/handover/", {"to_user": viewer.pk},
                                   format="json")
    assert response.status_code == 403
    client.force_login(viewer)
    assert client.get(reverse("qgov:evidencefile_handover", args=[attached.pk])).status_code == 403
    page = client.get(reverse("qgov:evidencefile_detail", args=[attached.pk]))
    assert page.status_code == 200 and page.context["can_change"] is False
    attached.refresh_from_db()
    assert attached.custodian == attached.uploaded_by


def test_withdraw_keeps_the_file_and_says_why(api_as, attached, editor, media_root):
    client = api_as(editor)
    missing = client.post(f"/api/evidence-files/{attached.pk}/withdraw/", {"reason": " "}, format="json")
    assert missing.status_code == 400
    response = client.post(f"/api/evidence-files/{attached.pk}/withdraw/", {"reason": "Wrong report"}, format="json")
    assert response.status_code == 200
    assert (response.json()["withdrawn_reason"], response.json()["withdrawn_by"]["id"]) == ("Wrong report", editor.pk)
    assert custody(attached)[-1] == (Custody.WITHDRAWN, "erin", None, None, "", "")
    assert CustodyEvent.objects.values_list("sequence", "reason").last() == (2, "Wrong report")
    assert events_for(attached).order_by("seq").last().detail == {"transition": "withdraw", "reason": "Wrong report"}
    again = client.post(f"/api/evidence-files/{attached.pk}/withdraw/", {"reason": "Again"}, format="json")
    assert again.json()["errors"] == {"reason": ["This file was already withdrawn."]}
    # Never deleted through the API.
    assert client.delete(f"/api/evidence-files/{attached.pk}/").status_code == 405
    assert len(stored_files(media_root)) == 1


# --- reading ------------------------------------------------------------------------------------------


def test_api_lists_filter_and_retrieve_with_custody_log(api_as, risk, attached, editor):
    control = ControlFactory(agency=risk.agency)
    services.evidence_attach(record=control, upload=upload("control.pdf"), user=editor)
    client = api_as(editor)
    assert [r["file_name"] for r in client.get("/api/evidence-files/", {"record_type": "risks.risk",
                                                                          "object_id": risk.pk}).json()["results"]] \
        == ["report.pdf"]
    assert [r["file_name"] for r in client.get(f"/api/controls/{control.pk}/evidence/").json()] == ["control.pdf"]
    detail = client.get(f"/api/evidence-files/{attached.pk}/").json()
    assert [(e["action"], e["actor_name"], e["to_user"]["id"]) for e in detail["custody_events"]] == [
        ("uploaded", "erin", editor.pk)]


def test_evidence_page_shows_custody_log(client, attached, editor):
    client.force_login(editor)
    page = client.get(reverse("qgov:evidencefile_detail", args=[attached.pk]))
    assert page.status_code == 200
    assert page.context["record"] == attached.record
    assert [e.action for e in page.context["custody_events"]] == [Custody.UPLOADED]
    assert f'<code class="text-break" data-testid="evidence-sha256">{PDF_SHA256}</code>' in page.content.decode()


def test_query_counts_do_not_grow_with_files(client, api_as, risk, editor):
    client.force_login(editor)
    api = api_as(editor)
    counts = {"card": [], "list": [], "record": []}
    for _round in range(2):
        for _ in range(3):
            services.evidence_attach(record=risk, upload=upload(), user=editor)
        fetches = (("card", lambda: client.get(risk.get_absolute_url())),
                   ("list", lambda: api.get("/api/evidence-files/")),
                   ("record", lambda: api.get(f"/api/risks/{risk.pk}/evidence/")))
        for _key, fetch in fetches:  # per-process caches (content types) warm, as in a running server
            fetch()
        for key, fetch in fetches:
            with CaptureQueriesContext(connection) as queries:
                assert fetch().status_code == 200
            counts[key].append(len(queries))
    assert counts == {"card": [CARD_QUERIES] * 2, "list": [LIST_QUERIES] * 2, "record": [RECORD_QUERIES] * 2}, counts


# The whole risk page, evidence card included (the card's own share is one query), with the
# panels other apps add to it (procurement's components and incidents: one query each while there
# are none).
CARD_QUERIES = 13
LIST_QUERIES = 2  # count and page
RECORD_QUERIES = 5


def test_orphans_left_by_a_dead_process_are_found_and_removed(attached, media_root):
    import os
    import time

    from django.core.management import call_command

    folder = Path(media_root) / "private" / "evidence"
    (folder / "0123abcd.pdf").write_bytes(PDF)
    (folder / "fresh.pdf").write_bytes(PDF)
    hour_ago = time.time() - 2 * 3600
    os.utime(folder / "0123abcd.pdf", (hour_ago, hour_ago))
    os.utime(folder / attached.file.name, (hour_ago, hour_ago))
    out = io.StringIO()
    call_command("evidence_orphans", stdout=out)
    assert out.getvalue() == "orphan: 0123abcd.pdf\n1 orphaned evidence files.\n"
    assert len(stored_files(media_root)) == 3
    call_command("evidence_orphans", "--delete", stdout=io.StringIO())
    assert sorted(path.name for path in stored_files(media_root)) == sorted([attached.file.name, "fresh.pdf"])


def test_the_card_costs_one_query(rf, risk, attached, editor):
    from django.template import Context, Template

    from qgov.permissions import request_scope

    request = rf.get("/")
    request.user = editor
    template = Template("{% load evidence %}{% evidence_card record %}")
    with request_scope():  # as in a request: the memberships are read once
        template.render(Context({"request": request, "record": risk}))
        with CaptureQueriesContext(connection) as queries:
            html = template.render(Context({"request": request, "record": risk}))
    assert len(queries) == 1  # the files, their uploader and custodian
    assert html.count('data-testid="evidence-row"') == 1


def test_the_schema_documents_the_evidence_endpoints(api_as, superuser):
    paths = api_as(superuser).get("/api/schema/", {"format": "json"}).json()["paths"]
    assert set(paths["/api/risks/{id}/evidence/"]) == {"get", "post"}
    assert set(paths["/api/controls/{id}/evidence/"]) == {"get", "post"}
    assert "/api/assets/{id}/evidence/" not in paths
    for action in ("download", "verify", "handover", "withdraw", "custody", "custody/csv", "custody/verify"):
        assert f"/api/evidence-files/{{id}}/{action}/" in paths
    post = paths["/api/risks/{id}/evidence/"]["post"]
    assert list(post["requestBody"]["content"]) == ["multipart/form-data"]


def test_handover_form_offers_only_members_who_may_view(client, attached, editor, member_of, other_agency):
    colleague = member_of(attached.agency, RoleChoices.AUDITOR, username="audrey")
    member_of(other_agency, RoleChoices.ADMIN, username="stranger")
    client.force_login(editor)
    form = client.get(reverse("qgov:evidencefile_handover", args=[attached.pk])).context["form"]
    assert [user.username for user in form.fields["to_user"].queryset] == ["audrey", "erin"]
    response = client.post(reverse("qgov:evidencefile_handover", args=[attached.pk]),
                           {"to_user": colleague.pk, "reason": "Annual audit", "note": "For the audit"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Handed over to audrey."]
    assert custody(attached)[-1] == (Custody.HANDED_OVER, "erin", editor.pk, colleague.pk, "For the audit", "")


def test_withdraw_page(client, attached, editor, member_of):
    client.force_login(editor)
    url = reverse("qgov:evidencefile_withdraw", args=[attached.pk])
    page = client.post(url, {"reason": ""})
    assert page.status_code == 200 and list(page.context["form"].errors) == ["reason"]
    response = client.post(url, {"reason": "Superseded by the 2027 report"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["Withdrawn; the file and its custody log are kept."]
    attached.refresh_from_db()
    assert (attached.withdrawn_by, attached.withdrawn_reason) == (editor, "Superseded by the 2027 report")
    viewer = member_of(attached.agency, RoleChoices.VIEWER)
    client.force_login(viewer)
    assert client.post(url, {"reason": "x"}).status_code == 403
