"""Pages that fit each role: the navigation offers what the role may use, refusals and missing
pages are styled pages that say why and link back, editors read the history of what they edit,
history and the audit trail speak in labels and names, the favicon, the admin's name."""

import pytest
from django.test import Client
from django.urls import reverse

from qgov import services
from qgov.choices import RoleChoices
from qgov.models import AuditEvent
from tests.factories import MembershipFactory, UserFactory
from tests.risks.factories import ControlFactory, RiskAcceptanceFactory, RiskFactory

ROLES = [RoleChoices.VIEWER, RoleChoices.EDITOR, RoleChoices.AUDITOR, RoleChoices.ADMIN]


def navigation_labels(response):
    return [str(item["label"]) for item in response.context["navigation"]]


# --- navigation by role ---------------------------------------------------------------------


@pytest.mark.parametrize(("role", "expected"), [
    (RoleChoices.VIEWER, ["Dashboard", "Due soon", "Risks", "Certification", "Procurement", "Incidents", "Reports"]),
    (RoleChoices.EDITOR, ["Dashboard", "Due soon", "Risks", "Certification", "Procurement", "Incidents", "Reports"]),
    (RoleChoices.AUDITOR, ["Dashboard", "Due soon", "Risks", "Certification", "Procurement", "Incidents", "Reports",
                           "Audit"]),
    (RoleChoices.ADMIN, ["Dashboard", "Due soon", "Risks", "Certification", "Procurement", "Incidents", "Reports",
                         "Audit", "Agency admin"]),
])
def test_navigation_offers_only_what_the_role_may_open(role, expected, client, agency, member_of):
    client.force_login(member_of(agency, role))
    response = client.get("/")
    assert navigation_labels(response) == expected
    html = response.content.decode()
    assert ('href="/audit/"' in html) == ("Audit" in expected)
    # Every entry offered opens for this role.
    for item in response.context["navigation"]:
        assert client.get(item["url"], follow=True).status_code == 200, item["url"]


@pytest.mark.parametrize("role", ROLES)
def test_section_navigation_offers_only_pages_the_role_may_open(role, client, agency, member_of):
    client.force_login(member_of(agency, role))
    response = client.get(reverse("risks:risk_list"))
    assert response.status_code == 200
    links = response.context["section_navigation"]
    assert links
    for link in links:
        assert client.get(link["url"]).status_code == 200, link["url"]


def test_superuser_without_membership_sees_the_whole_navigation(client, superuser):
    client.force_login(superuser)
    assert "Audit" in navigation_labels(client.get("/"))


@pytest.mark.parametrize("role", ROLES)
def test_history_tab_is_offered_only_where_it_opens(role, client, agency, member_of):
    risk = RiskFactory(agency=agency)
    client.force_login(member_of(agency, role))
    detail = client.get(risk.get_absolute_url())
    history_url = reverse("risks:risk_history", args=[risk.pk])
    offered = f'href="{history_url}"' in detail.content.decode()
    assert offered == (role != RoleChoices.VIEWER)
    assert client.get(history_url).status_code == (200 if offered else 403)


# --- error pages (tests run with DEBUG off, so these are the real handlers) -----------------


def test_forbidden_page_is_styled_says_why_and_links_back(client, agency, member_of):
    client.force_login(member_of(agency, RoleChoices.VIEWER))
    response = client.get("/audit/", HTTP_REFERER="http://testserver/risks/register/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "<title>Not allowed · qgov</title>" in html
    assert "Your role does not include this list." in html
    assert 'class="navbar' in html  # inside the layout, with the navigation
    assert 'href="/risks/register/"' in html  # back where the user came from
    assert 'href="/"' in html  # and to the dashboard


def test_forbidden_page_never_links_back_off_site(client, agency, member_of):
    client.force_login(member_of(agency, RoleChoices.VIEWER))
    html = client.get("/audit/", HTTP_REFERER="https://evil.example/phish").content.decode()
    assert "evil.example" not in html


def test_forbidden_page_without_a_reason_says_so_in_general_terms(client, agency, member_of):
    client.force_login(member_of(agency, RoleChoices.VIEWER))
    response = client.post("/agency/invite/", {})
    assert response.status_code == 403
    assert "Only agency admins manage members and tokens." in response.content.decode()


def test_not_found_page_is_styled_and_links_back(client, agency, member_of):
    client.force_login(member_of(agency, RoleChoices.VIEWER))
    response = client.get("/risks/register/999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<title>Page not found · qgov</title>" in html
    assert "or it belongs to another agency" in html
    assert 'class="navbar' in html
    assert 'href="/"' in html


def test_not_found_page_for_anonymous_visitors(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_server_error_page_renders_without_a_request_context(rf):
    """A bare request (no user, session or agency) and no database: pytest-django refuses every query
    in a test without the db fixture, so this also proves the page reads nothing from it."""
    from qgov.urls import handler500
    from qgov.views.core import server_error

    assert handler500 == "qgov.views.core.server_error"
    response = server_error(rf.get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "<title>Server error · qgov</title>" in html
    assert "qgov/qgov.css" in html  # the layout's styles
    assert 'href="/"' in html


def test_server_error_is_the_styled_page_through_the_handler(agency, member_of, settings):
    """A view that raises answers the styled 500 page (DEBUG is off in tests)."""
    from django.urls import path

    from qgov import urls

    def broken(request):
        raise RuntimeError("boom")

    settings.ROOT_URLCONF = type("Urls", (), {
        "urlpatterns": [path("broken/", broken), *urls.urlpatterns],
        "handler500": urls.handler500, "handler403": urls.handler403, "handler404": urls.handler404,
    })
    client = Client(raise_request_exception=False)
    client.force_login(member_of(agency, RoleChoices.ADMIN))
    response = client.get("/broken/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert "boom" not in html


# --- editors read the history of what they edit ---------------------------------------------


def test_editor_reads_the_history_of_a_record_but_not_the_audit_trail(client, agency, member_of):
    risk = RiskFactory(agency=agency)
    editor = member_of(agency, RoleChoices.EDITOR)
    services.object_update(instance=risk, user=editor, data={"title": "Renamed"})
    client.force_login(editor)
    history = client.get(reverse("risks:risk_history", args=[risk.pk]))
    assert history.status_code == 200
    assert [e.action for e in history.context["events"]] == ["update", "create"]
    assert "Renamed" in history.content.decode()
    # The agency-wide trail and a single event's page stay the auditors'.
    assert client.get("/audit/").status_code == 403
    event = history.context["events"][0]
    assert client.get(reverse("qgov:auditevent_detail", args=[event.pk])).status_code == 404
    assert reverse("qgov:auditevent_detail", args=[event.pk]) not in history.content.decode()


def test_viewer_may_not_read_history(client, agency, member_of):
    risk = RiskFactory(agency=agency)
    client.force_login(member_of(agency, RoleChoices.VIEWER))
    response = client.get(reverse("risks:risk_history", args=[risk.pk]))
    assert response.status_code == 403
    assert "Your role does not include the history of this record." in response.content.decode()


def test_editor_of_one_agency_reads_no_history_in_another(client, agency, other_agency, member_of):
    risk = RiskFactory(agency=other_agency)
    client.force_login(member_of(agency, RoleChoices.EDITOR))
    assert client.get(reverse("risks:risk_history", args=[risk.pk])).status_code == 404


# --- history and the audit trail in labels and names -----------------------------------------


@pytest.fixture
def changed_risk(agency, member_of):
    admin = member_of(agency, RoleChoices.ADMIN)
    owner = UserFactory(username="olga", first_name="Olga", last_name="Owner")
    MembershipFactory(agency=agency, user=owner, role=RoleChoices.EDITOR)
    first = ControlFactory(agency=agency, title="Fibre tap detection")
    second = ControlFactory(agency=agency, title="Key rotation")
    risk = RiskFactory(agency=agency)
    services.object_update(instance=risk, user=admin, data={"owner": owner, "controls": [first, second]})
    return risk, admin, owner


def test_history_shows_field_labels_and_related_names(client, changed_risk):
    risk, admin, owner = changed_risk
    client.force_login(admin)
    html = client.get(reverse("risks:risk_history", args=[risk.pk])).content.decode()
    assert "owner_id" not in html
    assert "Owner" in html and str(owner) in html
    assert "Controls" in html and "Fibre tap detection, Key rotation" in html
    assert "[]" not in html


def test_history_resolves_names_in_one_query_per_related_model(client, agency, changed_risk):
    """More events naming more owners and controls cost no more queries."""
    risk, admin, owner = changed_risk
    client.force_login(admin)
    url = reverse("risks:risk_history", args=[risk.pk])
    client.get(url)  # warm the per-process caches (content types)
    baseline = _count_queries(client, url)
    for n in range(6):
        control = ControlFactory(agency=agency, title=f"Control {n}")
        services.object_update(instance=risk, user=admin,
                               data={"owner": admin if n % 2 == 0 else owner, "controls": [control]})
        risk.refresh_from_db()
    response = client.get(url)
    assert len(response.context["events"]) == 8
    assert "Control 4" in response.content.decode()
    assert _count_queries(client, url) == baseline


def _count_queries(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_event_page_shows_labels_and_names(client, changed_risk):
    risk, admin, owner = changed_risk
    client.force_login(admin)
    event = AuditEvent.objects.for_object(risk).order_by("-id").first()
    html = client.get(reverse("qgov:auditevent_detail", args=[event.pk])).content.decode()
    assert "owner_id" not in html
    assert "Fibre tap detection, Key rotation" in html
    assert str(owner) in html
    assert "Risk #" in html


def test_audit_list_names_types_and_fields(client, agency, member_of):
    admin = member_of(agency, RoleChoices.ADMIN)
    acceptance = RiskAcceptanceFactory(agency=agency)
    services.object_update(instance=acceptance.risk, user=admin, data={"owner": admin})
    client.force_login(admin)
    html = client.get("/audit/").content.decode()
    assert "Risk acceptance" in html
    assert ">riskacceptance<" not in html
    assert "owner_id" not in html


# --- favicon and the admin's name ------------------------------------------------------------


def test_favicon_is_served(client, db):
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/static/qgov/favicon.ico"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file


def test_layout_links_the_favicon(client, agency, member_of):
    client.force_login(member_of(agency))
    html = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/qgov/favicon.svg" type="image/svg+xml">' in html


def test_admin_carries_the_product_name(client, superuser):
    client.force_login(superuser)
    html = client.get("/admin/").content.decode()
    assert "<title>Platform administration | qgov administration</title>" in html
    assert '<a href="/admin/">qgov administration</a>' in html
    assert "Django administration" not in html


def test_edit_conflict_names_fields_and_records(client, agency, member_of):
    """The stale-form notice (what someone else changed meanwhile) speaks like the history."""
    editor = member_of(agency, RoleChoices.EDITOR)
    other = member_of(agency, RoleChoices.EDITOR, username="olga")
    risk = RiskFactory(agency=agency)
    opened_at = risk.version
    services.object_update(instance=risk, user=other, data={"owner": other})
    client.force_login(editor)
    response = client.post(reverse("risks:risk_edit", args=[risk.pk]), {
        "title": "Mine", "inherent_likelihood": 3, "inherent_impact": 4, "treatment": "mitigate",
        "version": opened_at})
    html = response.content.decode()
    assert "Changed by someone else" in html
    assert [(c.label, c.before, c.after) for c in response.context["changes"]] == [("Owner", None, "olga")]
    assert "owner_id" not in html
