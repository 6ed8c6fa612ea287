"""The per-call work of an API list (issue #7): serializer fields built once per class and copied per
serializer, without one request's context reaching another's fields; a page's many-to-many
relations read as values, the same JSON as the records' own detail; token authentication in one
query that still refuses a revoked token at once; no filterset built when no filter is sent."""

import threading

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIClient

from qgov import services
from qgov.api.filters import QgovFilterBackend
from qgov.api.serializers import PortableModelSerializer
from qgov.choices import RoleChoices
from risks.api import RiskSerializer
from risks.models import Risk
from tests.risks.factories import AssetFactory, ControlFactory, RiskFactory, ThreatVectorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def any_host(settings):
    settings.ALLOWED_HOSTS = ["*"]


def drf_request(host, user=None):
    request = Request(RequestFactory().get("/api/risks/", HTTP_HOST=host))
    request.user = user
    return request


@pytest.fixture
def risks(agency):
    # Related records created in an order their own ordering (code, name, title) does not follow.
    vectors = [ThreatVectorFactory(code=code, title=f"Vector {code}") for code in ("ZZZ-09", "AAA-01", "MMM-05")]
    assets = [AssetFactory(agency=agency, name=name) for name in ("Zulu", "Alpha")]
    controls = [ControlFactory(agency=agency, title=title) for title in ("Yankee", "Bravo", "Mike")]
    made = []
    for index in range(4):
        risk = RiskFactory(agency=agency)
        risk.threat_vectors.set(vectors[: index + 1] if index < 3 else [])
        risk.assets.set(assets[index % 2:])
        risk.controls.set(controls[::-1] if index % 2 else controls[:1])
        made.append(risk)
    return made


@pytest.fixture
def editor(agency, member_of):
    return member_of(agency, RoleChoices.EDITOR)


def token_client(user, **token_fields):
    token, key = services.token_issue(user=user, name="test", **token_fields)
    return token, APIClient(HTTP_AUTHORIZATION=f"Token {key}")


def test_fields_are_built_once_per_class_and_bound_per_serializer(risks):
    first = RiskSerializer(risks[0], context={"request": drf_request("one.example")})
    second = RiskSerializer(risks[0], context={"request": drf_request("two.example")})
    assert first.fields["assets"] is not second.fields["assets"]
    assert first.fields["assets"].child_relation is not second.fields["assets"].child_relation
    assert first.fields["assets"].child_relation.parent is first.fields["assets"]
    # The class's templates are never bound to a serializer, so they hold no request.
    templates = PortableModelSerializer._field_templates[RiskSerializer]
    assert all(field.parent is None for field in templates.values())
    assert templates["assets"].child_relation.parent is templates["assets"]
    # Each serializer reads its own request, whichever is read first.
    assert second.data["url"].startswith("http://two.example/")
    assert first.data["url"].startswith("http://one.example/")
    assert {asset["url"].split("/")[2] for asset in first.data["assets"]} == {"one.example"}
    assert {asset["url"].split("/")[2] for asset in second.data["assets"]} == {"two.example"}


def test_a_field_made_read_only_for_one_serializer_stays_writable_for_the_next(risks):
    updating = RiskSerializer(risks[0], context={"request": drf_request("one.example")})
    assert updating.fields["agency"].read_only  # create-only: read-only once the record exists
    creating = RiskSerializer(data={}, context={"request": drf_request("one.example")})
    assert not creating.fields["agency"].read_only


def test_serializers_in_threads_keep_their_own_requests(risks):
    results, errors = {}, []

    def serialise(host):
        try:
            for _ in range(20):
                data = RiskSerializer(risks, many=True, context={"request": drf_request(host)}).data
                hosts = {row["url"].split("/")[2] for row in data}
                hosts |= {related["url"].split("/")[2] for row in data for name in ("threat_vectors", "controls")
                          for related in row[name]}
                results.setdefault(host, set()).update(hosts)
        except Exception as error:  # noqa: BLE001 - reported below, from the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=serialise, args=(f"host{n}.example",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert results == {f"host{n}.example": {f"host{n}.example"} for n in range(4)}


def test_a_list_reads_relations_as_the_detail_does(risks, editor, api_as):
    client = api_as(editor)
    listed = {row["id"]: row for row in client.get("/api/risks/", {"limit": 50}).json()["results"]}
    assert set(listed) == {risk.pk for risk in risks}
    for risk in risks:
        detail = client.get(f"/api/risks/{risk.pk}/").json()
        for name in ("threat_vectors", "assets", "controls", "agency", "owner"):
            assert listed[risk.pk][name] == detail[name], name
    # In the related model's order (code, name, title), not the order they were linked in.
    assert [v["display"] for v in listed[risks[2].pk]["threat_vectors"]] == [
        "AAA-01 Vector AAA-01", "MMM-05 Vector MMM-05", "ZZZ-09 Vector ZZZ-09"]
    assert listed[risks[3].pk]["threat_vectors"] == []
    assert [c["display"] for c in listed[risks[1].pk]["controls"]] == ["Bravo", "Mike", "Yankee"]
    assert listed[risks[0].pk]["assets"][0] == {
        "id": risks[0].assets.get(name="Alpha").pk, "display": "Alpha",
        "url": f"http://testserver/api/assets/{risks[0].assets.get(name='Alpha').pk}/"}


def test_a_token_list_costs_the_same_queries_whatever_the_page_size(risks, editor):
    _token, client = token_client(editor)
    client.get("/api/risks/")  # the token's last use is written at most once a minute: not below
    counts = []
    for limit in (1, 2, 50):
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/api/risks/", {"limit": limit})
        assert response.status_code == 200
        counts.append(len(queries))
    # The token with its user and agencies, the count, the page, and one query per relation. On
    # PostgreSQL a full page (limit 1 and 2 of 3 risks) first reads the memberships (the scope as
    # constants) and asks the planner before counting; a page that ends the list counts itself.
    expected = [8, 8, 6] if connection.vendor == "postgresql" else [6, 6, 6]
    assert counts == expected, (counts, [q["sql"][:120] for q in queries.captured_queries])


def test_token_authentication_is_one_query(editor):
    _token, client = token_client(editor)
    client.get("/api/agencies/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/agencies/")
    token_queries = [q["sql"] for q in queries.captured_queries if "qgov_apitoken" in q["sql"]]
    assert len(token_queries) == 1, token_queries


def test_a_revoked_token_is_refused_on_its_next_request(editor, risks):
    token, client = token_client(editor)
    assert client.get("/api/risks/").status_code == 200
    services.token_revoke(token=token, user=editor)
    assert client.get("/api/risks/").status_code == 401


def test_an_expired_token_is_refused(editor, risks):
    token, client = token_client(editor)
    assert client.get("/api/risks/").status_code == 200
    type(token).objects.filter(pk=token.pk).update(expires=timezone.now())
    assert client.get("/api/risks/").status_code == 401


def test_a_token_limited_to_agencies_sees_only_theirs(agency, other_agency, member_of, risks):
    user = member_of(agency, RoleChoices.EDITOR)
    member_of_other = RiskFactory(agency=other_agency)
    from qgov.models import Membership

    Membership.objects.create(user=user, agency=other_agency, role=RoleChoices.EDITOR)
    _token, everywhere = token_client(user)
    _token, limited = token_client(user, agencies=[agency])
    everywhere_ids = {row["id"] for row in everywhere.get("/api/risks/").json()["results"]}
    limited_ids = {row["id"] for row in limited.get("/api/risks/").json()["results"]}
    assert member_of_other.pk in everywhere_ids
    assert limited_ids == {risk.pk for risk in risks}


def test_every_api_list_is_unchanged_by_its_filterset_when_no_filter_is_sent(editor):
    """The filter backend builds no filterset when no filter parameter is sent; that is right only
    while every filter given no value changes nothing, which this checks for every API list."""
    from qgov.api.urls import router

    get_resolver()  # every app's API registered
    checked = []
    for prefix, viewset, _basename in router.registry:
        if getattr(viewset, "queryset", None) is None:
            continue
        view = viewset(request=drf_request("testserver", editor), action="list", format_kwarg=None, kwargs={})
        queryset = viewset.queryset.all()
        filterset_class = QgovFilterBackend().get_filterset_class(view, queryset)
        if filterset_class is None:
            continue
        filterset = filterset_class(**QgovFilterBackend().get_filterset_kwargs(view.request, queryset, view))
        assert filterset.is_valid(), (prefix, filterset.errors)
        if queryset.query.is_empty():  # the model only, for the schema; get_queryset() scopes the real one
            assert filterset.qs.query.is_empty(), prefix
        else:
            assert str(filterset.qs.query) == str(queryset.query), prefix
        checked.append(prefix)
    assert len(checked) > 10, checked


def test_the_filter_backend_builds_no_filterset_without_a_filter(editor, risks):
    from risks.api import RiskViewSet

    view = RiskViewSet(request=drf_request("testserver", editor), action="list", format_kwarg=None, kwargs={})
    queryset = Risk.objects.all()
    # Paging and ordering parameters are no filters: the queryset comes back as it was (a filterset
    # would answer a copy of it).
    request = Request(RequestFactory().get("/api/risks/", {"limit": 5, "ordering": "title"}))
    assert QgovFilterBackend().filter_queryset(request, queryset, view) is queryset
    sent = Request(RequestFactory().get("/api/risks/", {"limit": 5, "q": "x", "status": "draft"}))
    assert QgovFilterBackend().filter_queryset(sent, queryset, view) is not queryset


def test_the_api_router_resolves_every_path_as_a_plain_resolver_does():
    """FirstSegmentResolver (qgov.routing) tries only the patterns of a path's first segment: the
    same view, arguments, name and route as trying them all, for every route of the router and the
    paths near them."""
    from django.urls import Resolver404, URLResolver
    from django.urls.resolvers import RoutePattern

    from qgov.api import urls
    from qgov.routing import FirstSegmentResolver

    narrowed = next(pattern for pattern in urls.urlpatterns if isinstance(pattern, FirstSegmentResolver))
    every = URLResolver(RoutePattern("", is_endpoint=False), urls.router.urls)
    paths = ["", ".json", "risks", "riskss/", "risks-/", "x/", "../risks/", "risks/%0A/", "risks//", "RISKS/"]
    for pattern in urls.router.urls:
        route = str(pattern.pattern).lstrip("^").rstrip("$")
        for pk in ("7", "abc"):
            path = route.replace("(?P<pk>[^/.]+)", pk).replace(r"\.(?P<format>[a-z0-9]+)/?", ".json")
            paths += [path, path + "x/", path.replace("/", ".", 1)]

    def resolved(resolver, path):
        try:
            match = resolver.resolve(path)
        except Resolver404:
            return None
        return (match.func, match.args, match.kwargs, match.url_name, match.route, match.app_names)

    assert len(paths) > 1000
    for path in paths:
        assert resolved(narrowed, path) == resolved(every, path), path
    assert resolved(narrowed, "risks/7/")[3] == "risk-detail"
