"""Lists count exactly up to QGOV_EXACT_COUNT_LIMIT and estimate past it (PostgreSQL); `?cursor=`
walks a whole list by key; API URLs are built from a template and read as reverse() gives them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from qgov.api.fields import api_url
from qgov.api.pagination import encode_cursor
from qgov.choices import RoleChoices
from risks.models import Risk
from risks.services import risk_matrix_ensure
from tests.risks.factories import AssetFactory, RiskFactory, ThreatVectorFactory

ON_POSTGRESQL = connection.vendor == "postgresql"


@pytest.fixture
def risks(agency, other_agency):
    risk_matrix_ensure(agency)
    risk_matrix_ensure(other_agency)
    RiskFactory(agency=other_agency)  # never seen, never counted
    return [RiskFactory(agency=agency) for _ in range(5)]


@pytest.fixture
def client(agency, member_of, api_as):
    return api_as(member_of(agency, RoleChoices.VIEWER))


def ids(response):
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_small_lists_are_counted_exactly(risks, client):
    body = client.get("/api/risks/", {"limit": 2}).json()
    assert (body["count"], body["count_exact"]) == (5, True)
    assert "offset=2" in body["next"]


def test_past_the_limit_the_count_is_an_estimate_on_postgresql(risks, client, settings):
    settings.QGOV_EXACT_COUNT_LIMIT = 2
    body = client.get("/api/risks/", {"limit": 2}).json()
    if ON_POSTGRESQL:
        assert body["count_exact"] is False
        assert body["count"] >= 3  # more than the limit for sure; the rest is the planner's guess
    else:  # SQLite counts exactly: no planner estimate to use
        assert (body["count"], body["count_exact"]) == (5, True)
    # The pages and their links hold whatever the count is.
    seen, url = [], "/api/risks/?limit=2"
    while url:
        response = client.get(url)
        seen += ids(response)
        url = response.json()["next"]
    assert seen == [risk.pk for risk in risks]
    exact = client.get("/api/risks/", {"limit": 2, "count": "exact"}).json()
    assert (exact["count"], exact["count_exact"]) == (5, True)


def test_count_takes_only_exact(risks, client):
    response = client.get("/api/risks/", {"count": "estimate"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"count": ["Send count=exact, or leave it out."]}


def test_the_count_reads_no_more_rows_than_the_limit_on_postgresql(risks, client, settings):
    if not ON_POSTGRESQL:
        pytest.skip("SQLite counts exactly")
    settings.QGOV_EXACT_COUNT_LIMIT = 2
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/risks/", {"limit": 2})
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and "LIMIT 3" in counts[0], counts


def test_a_cursor_walks_the_whole_list_in_id_order(risks, client):
    seen, pages = [], 0
    response = client.get("/api/risks/", {"limit": 2, "cursor": ""})
    while True:
        body = response.json()
        assert response.status_code == 200, body
        assert body["previous"] is None
        assert body["count"] == 5
        seen += [row["id"] for row in body["results"]]
        pages += 1
        if body["next"] is None:
            break
        assert "offset" not in body["next"]
        response = client.get(body["next"])
    assert seen == sorted(risk.pk for risk in risks)
    assert pages == 3


def test_a_cursor_page_reads_by_key_not_offset(risks, client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/risks/", {"limit": 2, "cursor": encode_cursor(risks[1].pk)})
    assert ids(response) == [risks[2].pk, risks[3].pk]
    page = next(q["sql"] for q in queries.captured_queries if "risks_risk" in q["sql"] and "LIMIT 3" in q["sql"])
    assert "OFFSET" not in page.upper()


def test_a_cursor_follows_the_filters(risks, client):
    closed = risks[1]
    Risk._base_manager.filter(pk=closed.pk).update(status="closed")
    assert ids(client.get("/api/risks/", {"cursor": "", "status": "closed"})) == [closed.pk]


def test_a_cursor_keeps_to_the_callers_agencies(risks, client):
    theirs = Risk._base_manager.exclude(pk__in=[risk.pk for risk in risks]).get()
    shown = ids(client.get("/api/risks/", {"cursor": encode_cursor(theirs.pk - 1)}))
    assert theirs.pk not in shown


@pytest.mark.parametrize(("params", "field"), [
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"cursor": encode_cursor("1")}, "cursor"),
    ({"cursor": ["", ""]}, "cursor"),
    ({"cursor": "", "ordering": "title"}, "ordering"),
    ({"cursor": "", "offset": "2"}, "offset"),
], ids=["garbage", "not-an-id", "twice", "with-ordering", "with-offset"])
def test_bad_cursor_requests_are_400_naming_the_field(risks, client, params, field):
    response = client.get("/api/risks/", params)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_lists_without_cursor_pagination_refuse_a_cursor(client, agency):
    response = client.get("/api/due-dates/", {"cursor": ""})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["cursor"]


def test_the_schema_declares_count_exact_and_the_cursor(superuser, api_as):
    schema = api_as(superuser).get("/api/schema/", {"format": "json"}).json()
    page = schema["components"]["schemas"]["PaginatedRiskList"]
    assert page["properties"]["count_exact"]["type"] == "boolean"
    assert "count_exact" in page["required"]
    parameters = {p["name"] for p in schema["paths"]["/api/risks/"]["get"]["parameters"]}
    assert {"cursor", "count", "limit", "offset"} <= parameters
    due = {p["name"] for p in schema["paths"]["/api/due-dates/"]["get"]["parameters"]}
    assert "cursor" not in due


def test_category_filter_is_an_exists_subquery_and_lists_each_risk_once(risks, client):
    first, second = ThreatVectorFactory(code="CRY-01", category="cryptanalytic"), ThreatVectorFactory(
        code="CRY-02", category="cryptanalytic")
    risks[0].threat_vectors.set([first, second])
    risks[2].threat_vectors.set([second])
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/risks/", {"category": "cryptanalytic"})
    assert ids(response) == [risks[0].pk, risks[2].pk]
    assert response.json()["count"] == 2
    # The queries of the list itself (its count, if it needs one, and its page), not the prefetch.
    listing = [q["sql"] for q in queries.captured_queries if 'FROM "risks_risk"' in q["sql"]]
    assert listing and all("DISTINCT" not in sql.upper() and "EXISTS" in sql.upper() for sql in listing), listing
    assert ids(client.get("/api/risks/", {"threat_vector": [first.pk, second.pk]})) == [risks[0].pk, risks[2].pk]


def test_api_urls_are_those_reverse_gives(risks, client, rf, settings):
    settings.ALLOWED_HOSTS = ["qgov.example.gov", "testserver"]
    request = rf.get("/api/risks/", HTTP_HOST="qgov.example.gov:8443", secure=True)
    risk = risks[0]
    expected = request.build_absolute_uri(reverse("api:risk-detail", args=[risk.pk]))
    assert api_url(risk, request) == expected == f"https://qgov.example.gov:8443/api/risks/{risk.pk}/"
    assert api_url(risk) == f"/api/risks/{risk.pk}/"
    assert client.get(f"/api/risks/{risk.pk}/").json()["url"] == f"http://testserver/api/risks/{risk.pk}/"


def test_the_browser_list_says_about_past_the_limit_on_postgresql(agency, other_agency, member_of, settings,
                                                                  django_client):
    AssetFactory.create_batch(5, agency=agency)
    AssetFactory.create_batch(2, agency=other_agency)
    settings.QGOV_EXACT_COUNT_LIMIT = 2
    django_client.force_login(member_of(agency, RoleChoices.VIEWER))
    page = django_client.get(reverse("risks:asset_list")).content.decode()
    if ON_POSTGRESQL:
        assert "about " in page
    else:
        assert "5 records" in page


def test_the_register_counts_exactly_past_the_limit_from_its_heat_maps(risks, agency, member_of, settings,
                                                                        django_client):
    """The register's heat-map query groups every listed risk, so its total is an exact count that
    costs nothing more: no estimate there, on any database."""
    settings.QGOV_EXACT_COUNT_LIMIT = 2
    django_client.force_login(member_of(agency, RoleChoices.VIEWER))
    page = django_client.get(reverse("risks:risk_list")).content.decode()
    assert "5 records" in page and "about " not in page


@pytest.fixture
def django_client():
    from django.test import Client

    return Client()
