"""What the supplier portal refuses: another review through a link, expired, revoked, used and unknown
links, tampered or foreign signatures, questions not in the questionnaire, requests without the CSRF
token, too many requests; and that the page names nothing of the agency but itself, the supplier and
the questionnaire."""

import datetime
import re
import secrets

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from procurement import services
from procurement.models import DueDiligenceAnswer, PortalLink
from qgov.choices import RoleChoices
from qgov.models import AuditEvent
from tests.procurement.factories import DueDiligenceReviewFactory, SupplierFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


@pytest.fixture
def reviewer(agency, member_of):
    return member_of(agency, RoleChoices.EDITOR, username="rita.reviewer")


def make_sent_review(agency, user, supplier_name):
    supplier = SupplierFactory(agency=agency, name=supplier_name)
    review = DueDiligenceReviewFactory(agency=agency, supplier=supplier, reviewer=user)
    link, token = services.review_send(review=review, user=user, contact_name=f"Contact of {supplier_name}",
                                       contact_email="contact@supplier.example")
    return review, link, token


@pytest.fixture
def review_a(agency, reviewer):
    return make_sent_review(agency, reviewer, "Alpha Photonics")


@pytest.fixture
def review_b(agency, reviewer):
    return make_sent_review(agency, reviewer, "Bravo Quantum")


def url(token):
    return f"/portal/{token}/"


def form_data(of_review, answer="evidenced", **extra):
    data = {"action": "save"}
    for code in of_review.questionnaire.question_codes():
        data[f"answer_{code}"], data[f"comment_{code}"] = answer, f"{answer} comment"
    return {**data, **extra}


def answers(review):
    return sorted(DueDiligenceAnswer.objects.filter(review=review).values_list("question", "answer", "comment"))


def snapshot_of_writes():
    return (sorted(DueDiligenceAnswer.objects.values_list("pk", "answer", "comment", "version")),
            sorted(PortalLink.objects.values_list("pk", "status", "last_used_at")), AuditEvent.objects.count())


def test_a_link_reads_and_writes_its_own_review_only(review_a, review_b):
    (a, _link_a, token_a), (b, _link_b, _token_b) = review_a, review_b
    before_b = answers(b)
    page = Client().get(url(token_a)).content.decode()
    assert "Alpha Photonics" in page and "Bravo Quantum" not in page
    # Naming the other review in the form changes nothing there.
    response = Client().post(url(token_a), form_data(a, review=str(b.pk), review_id=str(b.pk)))
    assert response.status_code == 302
    assert answers(b) == before_b
    assert {answer for _code, answer, _comment in answers(a)} == {"evidenced"}


def test_the_page_names_no_other_record_of_the_agency(review_a, review_b, agency, other_agency, reviewer):
    _a, _link, token = review_a[0], review_a[1], review_a[2]
    SupplierFactory(agency=other_agency, name="Charlie Optics")
    content = Client().get(url(token)).content.decode()
    for other in ("Bravo Quantum", "Charlie Optics", other_agency.name, reviewer.username, agency.code):
        assert other not in content
    assert agency.name in content


@pytest.mark.parametrize("token", ["x" * 43, "short", "A" * 44, "%20" * 15, f"1.{'x' * 22}.{'y' * 43}",
                                   f"0.{'x' * 22}.{'y' * 43}", f"1.{'x' * 22}.{'y' * 43}\n"])
def test_an_unknown_link_is_a_404_and_writes_nothing(review_a, token):
    before = snapshot_of_writes()
    response = Client().get(f"/portal/{token}/")
    assert response.status_code == 404
    assert "Link not found" in response.content.decode()
    assert Client().post(f"/portal/{token}/", {"action": "save"}).status_code == 404
    assert snapshot_of_writes() == before


# --- the signed token -----------------------------------------------------------------------------

OLD_KEY, NEW_KEY = "an-earlier-secret-key-" + "o" * 40, "the-secret-key-now-" + "n" * 40


def test_a_token_is_signed_names_its_review_and_fits_in_an_email(review_a):
    review, link, token = review_a
    review_id, random_part, signature = token.split(".")
    assert int(review_id) == review.pk and (len(random_part), len(signature)) == (22, 43)  # 128 bits, HMAC-SHA256
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", token)  # nothing to escape in a URL or an e-mail
    # Even with a 19-digit review id, a link on an ordinary host stays short enough for one e-mail line.
    assert len(f"https://qgov.example.gov/portal/{'9' * 19}.{random_part}.{signature}/") <= 120
    assert link.token_hash == services.portal_token_hash(token)


def changed(part: str) -> str:
    return ("B" if part[0] == "A" else "A") + part[1:]


@pytest.mark.parametrize("part", ["review", "random part", "signature"])
def test_a_tampered_token_is_refused_on_its_signature_before_any_query(review_a, part, django_assert_num_queries):
    review, _link, token = review_a
    review_id, random_part, signature = token.split(".")
    tampered = {"review": f"{review.pk + 1}.{random_part}.{signature}",
                "random part": f"{review_id}.{changed(random_part)}.{signature}",
                "signature": f"{review_id}.{random_part}.{changed(signature)}"}[part]
    with django_assert_num_queries(0), pytest.raises(services.PortalRefused) as refused:
        services.portal_link_find(tampered)
    assert refused.value.status == 404
    before = snapshot_of_writes()
    response = Client().get(url(tampered))
    assert response.status_code == 404 and "Link not found" in response.content.decode()
    assert Client().post(url(tampered), form_data(review)).status_code == 404
    assert snapshot_of_writes() == before
    assert Client().get(url(token)).status_code == 200  # the real link still works


def test_a_token_signed_with_another_secret_key_is_refused(agency, reviewer, settings, django_assert_num_queries):
    settings.SECRET_KEY = OLD_KEY
    _review, link, token = make_sent_review(agency, reviewer, "Alpha Photonics")
    settings.SECRET_KEY = NEW_KEY
    # Its hash is stored and its link active: the signature alone refuses it.
    assert PortalLink.objects.filter(pk=link.pk, token_hash=services.portal_token_hash(token),
                                     status="active").exists()
    with django_assert_num_queries(0), pytest.raises(services.PortalRefused):
        services.portal_link_find(token)
    before = snapshot_of_writes()
    assert Client().get(url(token)).status_code == 404
    assert snapshot_of_writes() == before


def test_links_issued_before_a_key_rotation_work_while_the_old_key_is_a_fallback(agency, reviewer, settings):
    settings.SECRET_KEY = OLD_KEY
    _review, _link, token = make_sent_review(agency, reviewer, "Alpha Photonics")
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, [OLD_KEY]
    assert Client().get(url(token)).status_code == 200
    _review, _link, new_token = make_sent_review(agency, reviewer, "Bravo Quantum")
    settings.SECRET_KEY_FALLBACKS = []  # the old key retired: its links stop, the new ones work
    assert Client().get(url(token)).status_code == 404
    assert Client().get(url(new_token)).status_code == 200


@pytest.mark.parametrize("case", ["never issued", "link deleted"])
def test_a_well_signed_token_whose_hash_is_not_stored_is_refused(review_a, case):
    review, link, token = review_a
    if case == "never issued":  # signed with our key (as if the key had leaked), but no row has its hash
        token = services.portal_signer().sign(f"{review.pk}.{secrets.token_urlsafe(16)}")
    else:
        PortalLink.objects.filter(pk=link.pk).delete()
    assert services.portal_token_review_id(token) == review.pk  # the signature is good
    before = snapshot_of_writes()
    response = Client().get(url(token))
    assert response.status_code == 404 and "Link not found" in response.content.decode()
    assert snapshot_of_writes() == before


def test_a_token_opens_only_the_review_it_names(review_a, review_b):
    (_a, link_a, token_a), (b, _link_b, _token_b) = review_a, review_b
    PortalLink.objects.filter(pk=link_a.pk).update(review=b)  # the row no longer agrees with the token
    before = snapshot_of_writes()
    assert Client().get(url(token_a)).status_code == 404
    assert snapshot_of_writes() == before


def test_an_expired_link_refuses_and_is_marked_expired(review_a):
    review, link, token = review_a
    PortalLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    before = answers(review)
    response = Client().post(url(token), form_data(review))
    assert response.status_code == 410
    assert "Link expired" in response.content.decode()
    assert answers(review) == before
    link.refresh_from_db()
    assert link.status == "expired" and link.closed_at is not None
    assert Client().get(url(token)).status_code == 410


def test_a_revoked_link_refuses(review_a, reviewer):
    review, link, token = review_a
    services.portal_link_revoke(link=link, user=reviewer, reason="Sent to the wrong person")
    before = snapshot_of_writes()
    response = Client().post(url(token), form_data(review))
    assert response.status_code == 410 and "Link withdrawn" in response.content.decode()
    assert snapshot_of_writes() == before


def test_a_used_link_refuses(review_a):
    review, _link, token = review_a
    assert Client().post(url(token), form_data(review, action="submit", confirm="on")).status_code == 200
    before = snapshot_of_writes()
    response = Client().post(url(token), form_data(review, answer="unknown", action="submit", confirm="on"))
    assert response.status_code == 410 and "Already submitted" in response.content.decode()
    assert snapshot_of_writes() == before


def test_answers_to_questions_not_in_the_questionnaire_are_refused(review_a):
    review, _link, token = review_a
    before = snapshot_of_writes()
    response = Client().post(url(token), form_data(review, answer_Q99="evidenced", comment_Q99="extra"))
    assert response.status_code == 400
    assert "Not questions of this questionnaire: Q99." in response.content.decode()
    assert snapshot_of_writes() == before


def test_the_service_refuses_unknown_questions_too(review_a):
    from django.core.exceptions import ValidationError

    _review, link, _token = review_a
    with pytest.raises(ValidationError, match="Q99"):
        services.portal_answers_save(link=link, answers={"Q99": {"answer": "evidenced", "comment": ""}})
    assert not DueDiligenceAnswer.objects.filter(question="Q99").exists()


def test_an_answer_outside_the_choices_is_refused(review_a):
    review, _link, token = review_a
    before = snapshot_of_writes()
    response = Client().post(url(token), form_data(review, answer_Q1="excellent"))
    assert response.status_code == 400
    assert snapshot_of_writes() == before


def test_posts_without_the_csrf_token_are_refused(review_a):
    review, _link, token = review_a
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(url(token)).content.decode()
    before = snapshot_of_writes()
    assert browser.post(url(token), form_data(review)).status_code == 403
    assert snapshot_of_writes() == before
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    assert browser.post(url(token), form_data(review, csrfmiddlewaretoken=csrf)).status_code == 302


def test_too_many_requests_for_one_link_are_a_429(review_a, settings):
    settings.QGOV_LINK_REQUESTS_PER_TOKEN = 3
    review, _link, token = review_a
    for _ in range(3):
        assert Client().get(url(token)).status_code == 200
    before = snapshot_of_writes()
    response = Client().post(url(token), form_data(review))
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert int(response["Retry-After"]) == settings.QGOV_LINK_RATE_WINDOW_SECONDS
    assert snapshot_of_writes() == before


def test_guessing_links_from_one_address_is_limited_across_links(review_a, settings):
    settings.QGOV_LINK_REQUESTS_PER_IP = 5
    _review, _link, token = review_a
    for n in range(5):
        assert Client().get(f"/portal/{'g' * 42}{n}/").status_code == 404
    # The address has used its requests: the right link is refused too, from there.
    assert Client().get(url(token)).status_code == 429
    assert Client(REMOTE_ADDR="198.51.100.7").get(url(token)).status_code == 200


def test_counters_start_again_after_the_window(review_a, settings):
    settings.QGOV_LINK_REQUESTS_PER_TOKEN = 1
    _review, _link, token = review_a
    assert Client().get(url(token)).status_code == 200
    assert Client().get(url(token)).status_code == 429
    cache.clear()  # what the cache does when the window's counters time out
    assert Client().get(url(token)).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_refused_file_rolls_back_the_good_ones_and_leaves_no_file_behind(agency, reviewer, settings):
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    from qgov.models import EvidenceFile

    review, _link, token = make_sent_review(agency, reviewer, "Alpha Photonics")
    before = answers(review)
    response = Client().post(url(token), form_data(review, file_Q1=SimpleUploadedFile("good.txt", b"fine"),
                                                    file_Q2=SimpleUploadedFile("bad.pdf", b"not a pdf")))
    assert response.status_code == 400
    assert "is not a PDF file" in response.content.decode()
    assert answers(review) == before and not EvidenceFile.objects.exists()
    assert [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()] == []
