"""List ETags: computed from the page's (id, version, last updated), the count and the URL, never by
serialising the page; If-None-Match with the current tag is a 304 without a body."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certification.models import Device
from qgov.choices import RoleChoices
from qgov.services import object_delete, object_update
from tests.certification.factories import DeviceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def devices(agency):
    return [DeviceFactory(agency=agency) for _ in range(3)]


@pytest.fixture
def admin(agency, member_of):
    return member_of(agency, RoleChoices.ADMIN)


@pytest.fixture
def client(admin, api_as):
    return api_as(admin)


def get(client, path="/api/devices/", tag=None, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params, **({"HTTP_IF_NONE_MATCH": tag} if tag else {}))
    return response, len(queries)


def test_a_matching_tag_is_a_304_in_fewer_queries_and_a_stale_one_costs_one_more(devices, client):
    listed, plain = get(client)
    tag = listed["ETag"]
    not_modified, fewer = get(client, tag=tag)
    assert (not_modified.status_code, not_modified.content, not_modified["ETag"]) == (304, b"", tag)
    # The count and the page's (id, version, last updated) only: no related records, no prefetch.
    assert (plain, fewer) == (3, 2)  # count, page, assets (prefetch) / count, stamps
    stale, more = get(client, tag='W/"0123456789abcdef0123456789abcdef"')
    assert (stale.status_code, stale["ETag"], more) == (200, tag, plain + 1)
    assert stale.json() == listed.json()
    # A list of tags, strong or weak, and * match as RFC 9110's weak comparison says.
    assert get(client, tag=f'"other", {tag.removeprefix("W/")}')[0].status_code == 304
    assert get(client, tag="*")[0].status_code == 304


def test_a_create_an_update_and_a_delete_each_change_the_tag(devices, client, admin, agency):
    tags = [get(client)[0]["ETag"]]
    object_update(instance=devices[1], user=admin, data={"notes": "moved"})
    tags.append(get(client)[0]["ETag"])
    DeviceFactory(agency=agency)
    tags.append(get(client)[0]["ETag"])
    planned = DeviceFactory(agency=agency, status="planned")
    tags.append(get(client)[0]["ETag"])
    object_delete(instance=Device.objects.get(pk=planned.pk), user=admin)
    tags.append(get(client)[0]["ETag"])
    assert all(before != after for before, after in zip(tags, tags[1:], strict=False))
    assert tags[4] == tags[2]  # the same records at the same versions again: the same list
    # A deletion behind the page changes the count, so the first page's tag too.
    behind = DeviceFactory(agency=agency, status="planned")
    first_page = get(client, limit=1)[0]["ETag"]
    object_delete(instance=Device.objects.get(pk=behind.pk), user=admin)
    assert get(client, limit=1, tag=first_page)[0].status_code == 200


def test_the_tag_differs_per_page_filter_and_cursor(devices, client):
    tags = {get(client, **params)[0]["ETag"] for params in
            ({}, {"limit": 1}, {"limit": 1, "offset": 1}, {"q": devices[0].name}, {"cursor": ""})}
    assert len(tags) == 5
    page = get(client, cursor="", limit=2)[0]
    assert get(client, cursor="", limit=2, tag=page["ETag"])[0].status_code == 304
    following = page.json()["next"]
    second = client.get(following)
    assert second.status_code == 200 and second["ETag"] != page["ETag"]
    assert client.get(following, HTTP_IF_NONE_MATCH=second["ETag"]).status_code == 304


def test_another_callers_tag_for_other_records_does_not_match(devices, client, other_agency, member_of, api_as):
    tag = get(client)[0]["ETag"]
    DeviceFactory(agency=other_agency)
    theirs = api_as(member_of(other_agency, RoleChoices.VIEWER))
    response = theirs.get("/api/devices/", HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 200 and response.json()["count"] == 1
