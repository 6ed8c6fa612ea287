"""The supplier portal: the reviewer sends a draft review (UI and API), the contact answers through
the one-time link without an account, saves and comes back, uploads evidence and submits once; every
portal action is audited with the contact as the actor."""

import re
import zoneinfo

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from procurement import services
from procurement.models import DueDiligenceAnswer, DueDiligenceReview, PortalLink
from qgov.choices import AuditSourceChoices, RoleChoices
from qgov.models import AuditEvent, CustodyEvent, EvidenceFile

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

LABEL = "Dana Vogt <dana@photonica.example> (supplier portal)"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def portal_url(token):
    return f"/portal/{token}/"


def answer_data(review, **answers):
    """The portal form's POST data: every question unknown unless given as Q1=("evidenced", "comment")."""
    data = {}
    for code in review.questionnaire.question_codes():
        answer, comment = answers.get(code, ("unknown", ""))
        data[f"answer_{code}"], data[f"comment_{code}"] = answer, comment
    return data


def answers_of(review):
    return dict(DueDiligenceAnswer.objects.filter(review=review).values_list("question", "answer"))


# --- sending ---------------------------------------------------------------------------------------

def test_send_form_is_prefilled_with_the_suppliers_contact(client, review, reviewer):
    client.force_login(reviewer)
    response = client.get(f"/procurement/reviews/{review.pk}/send/")
    content = response.content.decode()
    assert response.status_code == 200
    assert 'value="Dana Vogt"' in content and 'value="dana@photonica.example"' in content
    assert "Send to supplier" in content


def test_sending_in_the_ui_shows_the_link_once_and_emails_the_contact(client, review, reviewer, agency):
    client.force_login(reviewer)
    response = client.post(f"/procurement/reviews/{review.pk}/send/",
                           {"contact_name": "Dana Vogt", "contact_email": "dana@photonica.example", "days": "10"})
    content = response.content.decode()
    assert response.status_code == 200
    url = re.search(r'id="portal-url" readonly value="([^"]+)"', content)[1]
    token = url.rsplit("/", 2)[-2]
    assert url == f"http://testserver/portal/{token}/"
    link = PortalLink.objects.get()
    assert link.token_hash == services.portal_token_hash(token)  # only the hash is kept
    assert token not in str(PortalLink.objects.values_list().get())
    review.refresh_from_db()
    assert review.status == "sent"
    assert round((link.expires_at - link.created).total_seconds() / 86400) == 10
    [message] = mail.outbox
    assert message.to == ["dana@photonica.example"]
    assert agency.name in message.subject and agency.name in message.body
    assert "Photonica AG" in message.body and url in message.body
    due = timezone.localtime(link.expires_at, zoneinfo.ZoneInfo(agency.time_zone)).date().isoformat()
    assert f"until {due}" in message.body and due in message.subject
    # Shown once: the page opened again has no link.
    again = client.get(f"/procurement/reviews/{review.pk}/send/").content.decode()
    assert token not in again and "only a draft review can be sent" in again


@pytest.mark.parametrize("data, field", [
    ({"contact_name": "", "contact_email": "dana@photonica.example", "days": "14"}, "contact_name"),
    ({"contact_name": "Dana", "contact_email": "not-an-address", "days": "14"}, "contact_email"),
    ({"contact_name": "Dana", "contact_email": "dana@photonica.example", "days": "61"}, "days"),
    ({"contact_name": "Dana", "contact_email": "dana@photonica.example", "days": "0"}, "days"),
])
def test_sending_with_bad_input_shows_the_form_again_and_writes_nothing(client, review, reviewer, data, field):
    client.force_login(reviewer)
    response = client.post(f"/procurement/reviews/{review.pk}/send/", data)
    assert response.status_code == 400
    assert response.context["send_form"].errors[field]
    assert not PortalLink.objects.exists() and not mail.outbox
    review.refresh_from_db()
    assert review.status == "draft"


def test_a_viewer_may_not_send(client, review, agency, member_of):
    client.force_login(member_of(agency, RoleChoices.VIEWER))
    response = client.post(f"/procurement/reviews/{review.pk}/send/",
                           {"contact_name": "Dana", "contact_email": "dana@photonica.example", "days": "14"})
    assert response.status_code == 403
    assert not PortalLink.objects.exists()


def test_another_agencys_review_cannot_be_sent(client, review, other_agency, member_of):
    client.force_login(member_of(other_agency, RoleChoices.ADMIN))
    assert client.get(f"/procurement/reviews/{review.pk}/send/").status_code == 404


def test_api_send_returns_the_link_once(api_as, review, reviewer):
    response = api_as(reviewer).post(f"/api/due-diligence-reviews/{review.pk}/send/", {"days": 30}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["review"]["status"] == "sent"
    assert body["contact_email"] == "dana@photonica.example"  # the supplier's contact by default
    token = body["portal_url"].rsplit("/", 2)[-2]
    assert body["portal_url"] == f"http://testserver/portal/{token}/"
    assert PortalLink.objects.get(pk=body["link"]).token_hash == services.portal_token_hash(token)
    assert len(mail.outbox) == 1
    assert token not in str(api_as(reviewer).get(f"/api/due-diligence-reviews/{review.pk}/").json())


@pytest.mark.parametrize("data, field", [
    ({"days": 61}, "days"), ({"days": 0}, "days"), ({"contact_email": "nope"}, "contact_email"),
    ({"colour": "blue"}, "colour"),
])
def test_api_send_with_bad_input_is_a_400_with_field_messages(api_as, review, reviewer, data, field):
    response = api_as(reviewer).post(f"/api/due-diligence-reviews/{review.pk}/send/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not PortalLink.objects.exists()


def test_api_send_of_a_review_that_is_not_a_draft_is_a_409(api_as, review, reviewer, sent):
    response = api_as(reviewer).post(f"/api/due-diligence-reviews/{review.pk}/send/", {}, format="json")
    assert response.status_code == 409
    assert PortalLink.objects.count() == 1


def test_api_send_is_in_the_schema(api_as, reviewer):
    schema = api_as(reviewer).get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/due-diligence-reviews/{id}/send/"]["post"]
    assert set(operation["responses"]) >= {"201", "400", "409"}


# --- the contact's page ----------------------------------------------------------------------------

def test_portal_shows_the_questionnaire_without_an_account(review, sent, agency):
    _link, token = sent
    response = Client().get(portal_url(token))
    content = response.content.decode()
    assert response.status_code == 200
    assert agency.name in content and "Photonica AG" in content
    assert review.questionnaire.questions[0]["text"] in content
    for label in ("Unknown", "Partial", "Evidenced"):
        assert label in content
    assert "0 of 18 answered" in content
    assert "csrfmiddlewaretoken" in content
    # Its own plain layout: no navigation, no link into the application.
    assert "navbar" not in content
    assert all(href.startswith("/static/") for href in re.findall(r'(?:href|src|action)="([^"]*)"', content))
    assert "Sign out" not in content and "/audit/" not in content


def test_save_and_come_back_keeps_the_answers(review, sent):
    _link, token = sent
    browser = Client()
    data = answer_data(review, Q1=("evidenced", "Register extract attached"), Q2=("partial", ""))
    response = browser.post(portal_url(token), {**data, "action": "save"})
    assert response.status_code == 302 and response["Location"] == portal_url(token)
    assert answers_of(review)["Q1"] == "evidenced" and answers_of(review)["Q2"] == "partial"
    page = browser.get(portal_url(token)).content.decode()
    assert "Your answers are saved" in page
    assert "2 of 18 answered" in page
    assert "Register extract attached" in page
    assert re.search(r'name="answer_Q1" id="[^"]+" value="evidenced" checked', page)
    review.refresh_from_db()
    assert review.status == "sent"


def test_evidence_uploaded_per_answer_through_the_evidence_service(review, sent, reviewer):
    link, token = sent
    data = answer_data(review, Q1=("evidenced", ""))
    response = Client().post(portal_url(token), {**data, "action": "save",
                                                 "file_Q1": SimpleUploadedFile("register.pdf", PDF)})
    assert response.status_code == 302
    evidence = EvidenceFile.objects.get()
    answer = DueDiligenceAnswer.objects.get(review=review, question="Q1")
    assert evidence.record == answer
    assert evidence.uploaded_by is None and evidence.uploader_name == LABEL
    assert evidence.custodian == reviewer  # the agency's reviewer holds it from then on
    custody = CustodyEvent.objects.get()
    assert custody.actor is None and custody.actor_name == LABEL and custody.action == "uploaded"
    assert "register.pdf" in Client().get(portal_url(token)).content.decode()


def test_a_bad_upload_saves_nothing(review, sent):
    _link, token = sent
    data = answer_data(review, Q1=("evidenced", "see file"))
    response = Client().post(portal_url(token), {**data, "action": "save",
                                                 "file_Q1": SimpleUploadedFile("register.pdf", b"not a pdf")})
    assert response.status_code == 400
    assert "is not a PDF file" in response.content.decode()
    assert answers_of(review)["Q1"] == "unknown"
    assert not EvidenceFile.objects.exists()


def test_submit_needs_the_confirmation(review, sent):
    _link, token = sent
    response = Client().post(portal_url(token), {**answer_data(review), "action": "submit"})
    assert response.status_code == 400
    assert "Tick the box" in response.content.decode()
    review.refresh_from_db()
    assert review.status == "sent"


def test_submit_once_moves_the_review_to_answered_and_uses_the_link(review, sent):
    link, token = sent
    browser = Client()
    response = browser.post(portal_url(token), {**answer_data(review, Q1=("evidenced", "")), "action": "submit",
                                                "confirm": "on"})
    assert response.status_code == 200
    assert "your answers are submitted" in response.content.decode()
    review.refresh_from_db()
    link.refresh_from_db()
    assert review.status == "answered" and link.status == "submitted" and link.closed_at
    assert answers_of(review)["Q1"] == "evidenced"
    # Any later use: "already submitted", and nothing written.
    again = browser.get(portal_url(token))
    assert again.status_code == 410 and "Already submitted" in again.content.decode()
    resubmit = browser.post(portal_url(token), {**answer_data(review, Q1=("unknown", "")), "action": "save"})
    assert resubmit.status_code == 410
    assert answers_of(review)["Q1"] == "evidenced"


def test_the_reviewer_scores_the_answered_review(review, sent, reviewer, api_as):
    _link, token = sent
    Client().post(portal_url(token), {**answer_data(review, **dict.fromkeys(("Q1", "Q2"), ("evidenced", ""))),
                                      "action": "submit", "confirm": "on"})
    response = api_as(reviewer).post(f"/api/due-diligence-reviews/{review.pk}/submit/", {}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "submitted"
    assert response.json()["score"] == "14.0"  # Q1 (8) and Q2 (6) evidenced


# --- audit: the contact is the actor ---------------------------------------------------------------

def test_every_portal_action_is_audited_with_the_contact_as_actor(review, sent, reviewer, client, member_of):
    link, token = sent
    browser = Client()
    # The reviewer's own signed-in browser opening the link is still the contact's action.
    client.force_login(reviewer)
    client.get(portal_url(token))
    browser.post(portal_url(token), {**answer_data(review, Q1=("partial", "in part")), "action": "save",
                                     "file_Q1": SimpleUploadedFile("note.txt", b"hello")})
    browser.post(portal_url(token), {**answer_data(review, Q1=("partial", "in part")), "action": "submit",
                                     "confirm": "on"})
    events = AuditEvent.objects.filter(source=AuditSourceChoices.PORTAL).order_by("seq")
    assert events.exists()
    assert {e.actor_repr for e in events} == {LABEL}
    assert all(e.actor_id is None for e in events)
    kinds = {(e.content_type.model, e.action) for e in events}
    assert ("portallink", "update") in kinds  # opened (last used)
    assert ("duediligenceanswer", "update") in kinds  # saved
    assert ("evidencefile", "create") in kinds and ("custodyevent", "create") in kinds  # uploaded
    assert ("duediligencereview", "transition") in kinds  # submitted
    transition = events.get(content_type__model="duediligencereview", action="transition")
    assert transition.detail["transition"] == "supplier_submit"
    # And it reads back in the audit trail the agency's auditors see, and in the review's history.
    client.force_login(member_of(review.agency, RoleChoices.AUDITOR))
    trail = client.get("/audit/", {"source": "portal"})
    assert trail.status_code == 200
    assert "Dana Vogt &lt;dana@photonica.example&gt; (supplier portal)" in trail.content.decode()
    client.force_login(reviewer)
    history = client.get(f"/procurement/reviews/{review.pk}/history/")
    assert history.status_code == 200
    assert "Dana Vogt &lt;dana@photonica.example&gt; (supplier portal)" in history.content.decode()


def test_the_audit_chain_still_verifies_after_portal_actions(review, sent):
    from qgov.audit_verify import verify_chain

    _link, token = sent
    Client().post(portal_url(token), {**answer_data(review, Q1=("partial", "")), "action": "save"})
    assert AuditEvent.objects.filter(source=AuditSourceChoices.PORTAL).exists()
    assert verify_chain(chain=f"agency:{review.agency_id}") is None


# --- revoking --------------------------------------------------------------------------------------

def test_revoking_the_link_recalls_the_review_and_the_link_stops_working(client, review, sent, reviewer):
    link, token = sent
    client.force_login(reviewer)
    response = client.post(f"/procurement/portal-links/{link.pk}/revoke/", {"reason": "Wrong address"})
    assert response.status_code == 302
    link.refresh_from_db()
    review.refresh_from_db()
    assert link.status == "revoked" and review.status == "draft" and review.status_note == "Wrong address"
    refused = Client().get(portal_url(token))
    assert refused.status_code == 410 and "Link withdrawn" in refused.content.decode()


def test_recall_transition_revokes_the_link(review, sent, reviewer, api_as):
    link, token = sent
    response = api_as(reviewer).post(f"/api/due-diligence-reviews/{review.pk}/recall/", {"reason": "Not yet"},
                                     format="json")
    assert response.status_code == 200
    link.refresh_from_db()
    assert link.status == "revoked"
    assert Client().get(portal_url(token)).status_code == 410


def test_a_viewer_may_not_revoke(client, review, sent, agency, member_of):
    link, _token = sent
    client.force_login(member_of(agency, RoleChoices.VIEWER))
    assert client.post(f"/procurement/portal-links/{link.pk}/revoke/").status_code == 403
    link.refresh_from_db()
    assert link.status == "active"


def test_sending_again_closes_the_earlier_link(review, sent, reviewer, api_as):
    first, first_token = sent
    api_as(reviewer).post(f"/api/due-diligence-reviews/{review.pk}/recall/", {"reason": "Other contact"},
                          format="json")
    review.refresh_from_db()
    _second, second_token = services.review_send(review=review, user=reviewer, contact_name="Eve",
                                                 contact_email="eve@photonica.example")
    assert Client().get(portal_url(first_token)).status_code == 410
    assert Client().get(portal_url(second_token)).status_code == 200
    assert DueDiligenceReview.objects.get(pk=review.pk).status == "sent"


# --- query counts ----------------------------------------------------------------------------------

def test_the_portal_page_costs_the_same_queries_however_many_files(review, sent):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _link, token = sent
    browser = Client()
    browser.get(portal_url(token))  # content types and the like cached
    with CaptureQueriesContext(connection) as without_files:
        assert browser.get(portal_url(token)).status_code == 200
    uploads = {f"file_Q{n}": SimpleUploadedFile(f"q{n}.txt", b"evidence") for n in range(1, 7)}
    browser.post(portal_url(token), {**answer_data(review), "action": "save", **uploads})
    with CaptureQueriesContext(connection) as with_files:
        page = browser.get(portal_url(token))
    assert page.content.decode().count(".txt") == 6
    assert len(with_files) == len(without_files)
    # The link (found, then locked and re-read for its audit snapshot), its last use and audit
    # event (savepoint, head, event, the agency's webhook endpoints, head), the answers, the files.
    assert len(with_files) == 12, [q["sql"][:90] for q in with_files.captured_queries]


def test_the_send_page_costs_the_same_queries_however_many_links(client, review, reviewer, api_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(reviewer)
    services.review_send(review=review, user=reviewer, contact_name="A", contact_email="a@photonica.example")
    client.get(f"/procurement/reviews/{review.pk}/send/")
    with CaptureQueriesContext(connection) as one_link:
        client.get(f"/procurement/reviews/{review.pk}/send/")
    for n in range(3):
        api_as(reviewer).post(f"/api/due-diligence-reviews/{review.pk}/recall/", {"reason": "again"}, format="json")
        review.refresh_from_db()
        services.review_send(review=review, user=reviewer, contact_name=f"B{n}", contact_email="b@photonica.example")
    with CaptureQueriesContext(connection) as four_links:
        page = client.get(f"/procurement/reviews/{review.pk}/send/")
    assert page.content.decode().count("Revoke link") == 1  # only the active one can be revoked
    assert len(four_links) == len(one_link)


def test_sending_a_review_that_is_no_longer_a_draft_says_so(client, review, reviewer, sent):
    client.force_login(reviewer)
    response = client.post(f"/procurement/reviews/{review.pk}/send/",
                           {"contact_name": "Dana", "contact_email": "dana@photonica.example", "days": "14"})
    assert response.status_code == 409
    assert "is only possible when it is" in response.content.decode()
    assert PortalLink.objects.count() == 1 and not mail.outbox


def test_api_send_needs_the_transition_permission_and_the_agency(api_as, review, agency, other_agency, member_of):
    viewer = api_as(member_of(agency, RoleChoices.VIEWER))
    assert viewer.post(f"/api/due-diligence-reviews/{review.pk}/send/", {}, format="json").status_code == 403
    outsider = api_as(member_of(other_agency, RoleChoices.ADMIN))
    assert outsider.post(f"/api/due-diligence-reviews/{review.pk}/send/", {}, format="json").status_code == 404
    assert not PortalLink.objects.exists() and not mail.outbox
    review.refresh_from_db()
    assert review.status == "draft"


def test_a_supplier_without_a_contact_email_needs_one_given(api_as, review, reviewer):
    review.supplier.contact_email = ""
    review.supplier.save()
    response = api_as(reviewer).post(f"/api/due-diligence-reviews/{review.pk}/send/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"contact_email": ["Give the contact's e-mail address."]}


def test_several_files_for_one_answer_at_once(review, sent):
    _link, token = sent
    files = [SimpleUploadedFile("a.txt", b"first"), SimpleUploadedFile("b.txt", b"second")]
    response = Client().post(portal_url(token), {**answer_data(review), "action": "save", "file_Q3": files})
    assert response.status_code == 302
    answer = DueDiligenceAnswer.objects.get(review=review, question="Q3")
    assert sorted(EvidenceFile.objects.for_record(answer).values_list("file_name", flat=True)) == ["a.txt", "b.txt"]
