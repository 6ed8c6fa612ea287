"""A blank Accept header is no Accept header: JSON, not 406 (the schema fuzzer's find: some HTTP
libraries send `Accept:` empty when a caller clears it). A media type the API does not write is
still refused."""

import pytest

from tests.risks.factories import RiskFactory


@pytest.mark.parametrize("accept", ["", " ", ",", " , "])
def test_a_blank_accept_header_reads_as_none(api_as, agency, member_of, accept):
    client = api_as(member_of(agency))
    risk = RiskFactory(agency=agency, title="Blank accept")
    listed = client.get("/api/risks/", HTTP_ACCEPT=accept)
    assert listed.status_code == 200 and listed["Content-Type"] == "application/json"
    assert [row["title"] for row in listed.json()["results"]] == ["Blank accept"]
    read = client.get(f"/api/risks/{risk.pk}/", HTTP_ACCEPT=accept)
    assert read.status_code == 200 and read.json()["id"] == risk.pk


def test_a_blank_accept_header_on_a_write_is_answered_as_json(api_as, agency, member_of):
    from qgov.choices import RoleChoices

    client = api_as(member_of(agency, RoleChoices.EDITOR))
    risk = RiskFactory(agency=agency)
    response = client.patch(f"/api/risks/{risk.pk}/", {"title": "Renamed"}, format="json", HTTP_ACCEPT="")
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Renamed"


def test_a_media_type_the_api_does_not_write_is_still_refused(api_as, agency, member_of):
    response = api_as(member_of(agency)).get("/api/risks/", HTTP_ACCEPT="text/csv")
    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"
