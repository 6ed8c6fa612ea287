"""The autocomplete endpoint behind record pickers: scoped like the field's choices (records the
user may view, of the active agency; people are its members), a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qgov.autocomplete import RESULTS_LIMIT
from qgov.choices import RoleChoices
from tests.factories import UserFactory
from tests.risks.factories import AssetFactory, RiskFactory


def texts(response):
    assert response.status_code == 200, response.content
    return [row["text"] for row in response.json()["results"]]


def test_finds_records_of_the_active_agency_only(client, agency, other_agency, member_of):
    AssetFactory(agency=agency, name="Core router Alpha")
    AssetFactory(agency=agency, name="Edge node")
    AssetFactory(agency=other_agency, name="Core router Beta")  # same words, another agency
    user = member_of(agency)
    member_of(other_agency, RoleChoices.ADMIN, username="also-there")
    client.force_login(user)
    assert texts(client.get("/autocomplete/risks/asset/", {"q": "core router"})) == ["Core router Alpha"]
    assert sorted(texts(client.get("/autocomplete/risks/asset/"))) == ["Core router Alpha", "Edge node"]


def test_a_member_of_two_agencies_sees_the_active_one_only(client, agency, other_agency, member_of):
    AssetFactory(agency=agency, name="Ours")
    theirs = AssetFactory(agency=other_agency, name="Theirs")
    user = member_of(agency)
    from tests.factories import MembershipFactory

    MembershipFactory(agency=other_agency, user=user, role=RoleChoices.VIEWER)
    client.force_login(user)
    session = client.session
    session["qgov_active_agency"] = agency.pk
    session.save()
    assert texts(client.get("/autocomplete/risks/asset/")) == ["Ours"]
    assert texts(client.get("/autocomplete/risks/asset/", {"q": str(theirs.pk)})) == []  # not by id either


def test_people_are_the_active_agencys_members(client, agency, other_agency, member_of):
    user = member_of(agency, username="alice")
    member_of(agency, username="albert")
    member_of(other_agency, username="alfred")
    UserFactory(username="alone")  # in no agency
    client.force_login(user)
    assert texts(client.get("/autocomplete/auth/user/", {"q": "al"})) == ["albert", "alice"]


def test_search_by_id_and_by_reference(client, agency, member_of):
    risk = RiskFactory(agency=agency, title="Key exposure", reference="R-777")
    RiskFactory(agency=agency, title="Other")
    client.force_login(member_of(agency))
    assert texts(client.get("/autocomplete/risks/risk/", {"q": "R-777"})) == [str(risk)]
    assert str(risk) in texts(client.get("/autocomplete/risks/risk/", {"q": str(risk.pk)}))


def test_results_are_capped_and_say_there_are_more(client, agency, member_of):
    for n in range(RESULTS_LIMIT + 3):
        AssetFactory(agency=agency, name=f"Link {n:03d}")
    client.force_login(member_of(agency))
    body = client.get("/autocomplete/risks/asset/", {"q": "link"}).json()
    assert len(body["results"]) == RESULTS_LIMIT and body["more"] is True
    assert set(body["results"][0]) == {"id", "text"}  # labels only, nothing else of the record


def test_anonymous_unknown_and_unscoped_models_are_refused(client, agency, member_of):
    AssetFactory(agency=agency, name="Secret link")
    response = client.get("/autocomplete/risks/asset/")
    assert response.status_code == 403 and b"Secret" not in response.content
    client.force_login(member_of(agency))
    assert client.get("/autocomplete/risks/nosuchmodel/").status_code == 404
    assert client.get("/autocomplete/sessions/session/").status_code == 404  # no scoping rule: never listed


def test_a_role_without_the_view_action_gets_nothing(client, agency, member_of):
    """Audit events are read by auditors and admins; a viewer's picker finds none."""
    from qgov.models import AuditEvent

    AssetFactory(agency=agency, name="Audited")  # its creation is an audit event
    assert AuditEvent.objects.filter(agency=agency).exists()
    client.force_login(member_of(agency, RoleChoices.VIEWER))
    assert texts(client.get("/autocomplete/qgov/auditevent/")) == []


@pytest.mark.parametrize("records", [3, 30])
def test_query_count_is_pinned(client, agency, member_of, records):
    for n in range(records):
        AssetFactory(agency=agency, name=f"Asset {n}")
    client.force_login(member_of(agency))
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/autocomplete/risks/asset/", {"q": "asset"})
    assert response.status_code == 200
    # session, user, active agency, the records (restricted by one subquery)
    assert len(queries) == 4, [q["sql"][:120] for q in queries.captured_queries]
