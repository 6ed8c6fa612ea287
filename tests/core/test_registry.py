"""Apps register themselves: the core reads each app's declaration (qgov.registry) and names no
domain app. A throwaway app declared in a test is picked up by the navigation, the routes, the
dashboard, the beat schedule, the role table, the loaders and the agency setup."""

import importlib
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import clear_url_caches

from qgov import registry, roles
from qgov.celery import app as celery_app
from qgov.choices import RoleChoices
from qgov.models import Agency
from qgov.services import object_create, user_can
from risks.models import RiskMatrix
from tests.sandbox import app as sandbox

QGOV = Path(settings.BASE_DIR) / "qgov"


def _reload_urls():
    import qgov.api.urls
    import qgov.urls

    importlib.reload(qgov.api.urls)
    importlib.reload(qgov.urls)
    clear_url_caches()


@pytest.fixture
def sandbox_app():
    sandbox.calls.clear()
    registry.register(sandbox.APP)
    _reload_urls()
    yield sandbox.APP
    registry.unregister(sandbox.APP.label)
    _reload_urls()


def test_no_qgov_file_names_a_domain_app():
    labels = [app.label for app in registry.apps()]
    assert labels == ["risks", "certification", "procurement", "incidents"]
    named = re.compile(rf"\b({'|'.join(labels)})\b")
    offenders = []
    for path in sorted(QGOV.rglob("*")):
        if "migrations" in path.parts or path.suffix not in {".py", ".html", ".txt", ".md"}:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            # Listing the app in INSTALLED_APPS is the one mention allowed.
            installed = path.name == "settings.py" and line.strip() in {f'"{label}",' for label in labels}
            # OSCAL's POA&M model has a field of that name (the plan's risk list), not our app.
            oscal_term = path.name == "oscal.py" and set(named.findall(line)) == {"risks"}
            if named.search(line) and not installed and not oscal_term:
                offenders.append(f"{path.relative_to(QGOV.parent)}:{number}: {line.strip()}")
    assert offenders == []


def test_risks_beat_entry_is_scheduled_from_its_declaration():
    importlib.import_module("qgov.tasks")  # as the worker's autodiscovery does
    assert "lapse-risk-acceptances-daily" not in settings.CELERY_BEAT_SCHEDULE
    schedule = celery_app.conf.beat_schedule
    assert sorted(schedule) == ["end-expired-user-sessions", "expire-certifications-daily",
                                "lapse-risk-acceptances-daily",
                                "purge-expired-idempotency-keys-hourly", "purge-expired-login-attempts-hourly",
                                "requeue-lost-report-runs",
                                "run-due-report-schedules", "send-due-date-reminders-daily", "send-due-webhooks",
                                "send-hour-reminders-every-5-minutes", "verify-audit-chain-nightly",
                                "write-audit-checkpoints-daily"]
    assert schedule["lapse-risk-acceptances-daily"]["task"] == "risks.tasks.lapse_risk_acceptances"
    assert (schedule["send-due-webhooks"]["task"], schedule["send-due-webhooks"]["schedule"]) == (
        "qgov.integrations.webhooks.tasks.webhooks_send_due", 5.0)
    assert "qgov.integrations.webhooks.tasks.webhooks_send_due" in celery_app.tasks
    assert schedule["send-hour-reminders-every-5-minutes"]["task"] == "qgov.tasks.send_hour_reminders"
    assert str(schedule["send-hour-reminders-every-5-minutes"]["schedule"]) == (
        "<crontab: */5 * * * * (m/h/dM/MY/d)>")
    assert "qgov.tasks.send_hour_reminders" in celery_app.tasks
    assert str(schedule["lapse-risk-acceptances-daily"]["schedule"]) == "<crontab: 0 2 * * * (m/h/dM/MY/d)>"
    assert "risks.tasks.lapse_risk_acceptances" in celery_app.tasks


def test_risks_section_navigation(client, agency, member_of):
    client.force_login(member_of(agency, RoleChoices.ADMIN))  # an admin is offered every entry
    page = client.get("/risks/assets/")
    assert [(i["label"], i["url"], i["active"]) for i in page.context["navigation"]] == [
        ("Dashboard", "/", False), ("Due soon", "/due/", False), ("Risks", "/risks/register/", True),
        ("Certification", "/certification/compliance/", False),
        ("Procurement", "/procurement/suppliers/", False), ("Incidents", "/incidents/board/", False),
        ("Reports", "/reports/", False), ("Audit", "/audit/", False), ("Agency admin", "/agency/", False)]
    assert [(i["label"], i["url"], i["active"]) for i in page.context["section_navigation"]] == [
        ("Register", "/risks/register/", False), ("Assets", "/risks/assets/", True),
        ("Controls", "/risks/controls/", False), ("Acceptances", "/risks/acceptances/", False),
        ("Threat catalog", "/risks/threat-vectors/", False), ("Matrix", "/risks/matrices/", False)]


def test_a_new_app_appears_in_the_navigation_in_its_declared_place(sandbox_app, client, agency, member_of):
    client.force_login(member_of(agency, RoleChoices.ADMIN))  # an admin is offered every entry
    page = client.get("/sandbox/things/other/")
    assert page.status_code == 200
    assert [(i["label"], i["url"], i["active"]) for i in page.context["navigation"]] == [
        ("Dashboard", "/", False), ("Due soon", "/due/", False), ("Risks", "/risks/register/", False),
        ("Certification", "/certification/compliance/", False),
        ("Procurement", "/procurement/suppliers/", False), ("Incidents", "/incidents/board/", False),
        ("Sandbox", "/sandbox/things/", True),
        ("Reports", "/reports/", False), ("Audit", "/audit/", False), ("Agency admin", "/agency/", False)]
    assert [(i["label"], i["url"], i["active"]) for i in page.context["section_navigation"]] == [
        ("Things", "/sandbox/things/", False), ("Other things", "/sandbox/things/other/", True)]


def test_a_new_app_gets_its_api_routes_and_dashboard_panel(sandbox_app, client, agency, member_of, api_as):
    user = member_of(agency)
    assert api_as(user).get("/api/sandboxes/").json() == {"sandboxes": 3}
    client.force_login(user)
    dashboard = client.get("/")
    assert [panel.title for panel, _ctx in dashboard.context["panels"]] == [
        "Agency", "Due soon", "Quantum-exposed assets (Mosca)", "Risk register", "Certification compliance",
        "Procurement", "Sandboxes"]
    assert "<p>3 sandboxes in DQN</p>" in dashboard.content.decode()


def test_a_new_app_adds_its_beat_entries_and_removes_them_when_unregistered(sandbox_app):
    schedule = celery_app.conf.beat_schedule
    assert sorted(schedule) == ["end-expired-user-sessions", "expire-certifications-daily",
                                "lapse-risk-acceptances-daily",
                                "purge-expired-idempotency-keys-hourly", "purge-expired-login-attempts-hourly",
                                "requeue-lost-report-runs", "run-due-report-schedules", "sandbox-nightly",
                                "send-due-date-reminders-daily", "send-due-webhooks",
                                "send-hour-reminders-every-5-minutes", "verify-audit-chain-nightly",
                                "write-audit-checkpoints-daily"]
    assert schedule["sandbox-nightly"]["task"] == "tests.sandbox.tidy"
    with pytest.raises(ValueError, match="already registered"):
        registry.register(sandbox.APP)
    registry.unregister(sandbox.APP.label)
    assert sorted(celery_app.conf.beat_schedule) == [
        "end-expired-user-sessions", "expire-certifications-daily", "lapse-risk-acceptances-daily",
        "purge-expired-idempotency-keys-hourly",
        "purge-expired-login-attempts-hourly", "requeue-lost-report-runs", "run-due-report-schedules",
        "send-due-date-reminders-daily", "send-due-webhooks", "send-hour-reminders-every-5-minutes",
        "verify-audit-chain-nightly", "write-audit-checkpoints-daily"]
    registry.register(sandbox.APP)  # for the fixture to remove


# The whole table once the sandbox registers its action: written out, not derived from the code.
EXPECTED_WITH_SANDBOX = {
    "viewer": {"view"},
    "editor": {"view", "add", "change", "export", "transition", "release_sandbox"},
    "auditor": {"view", "export", "request_report", "view_audit"},
    "admin": {"view", "add", "change", "delete", "export", "request_report", "view_audit", "manage_members",
              "manage_webhooks", "manage_identity", "transition", "approve", "manage_requirements",
              "manage_crypto_policy", "manage_playbooks", "manage_regimes", "release_sandbox"},
}


def test_a_new_app_adds_its_actions_to_the_one_role_table(sandbox_app, agency, other_agency, member_of):
    assert roles.all_actions() == ["view", "add", "change", "delete", "export", "request_report", "view_audit",
                                   "manage_members", "manage_webhooks", "manage_identity", "transition", "approve",
                                   "manage_requirements",
                                   "manage_crypto_policy", "manage_playbooks", "manage_regimes", "release_sandbox"]
    assert {role: set(actions) for role, actions in roles.ROLE_ACTIONS.items()} == EXPECTED_WITH_SANDBOX
    for role, granted in EXPECTED_WITH_SANDBOX.items():
        user = member_of(agency, role)
        for action in roles.all_actions():
            assert roles.role_allows(role, action) is (action in granted), (role, action)
            assert user_can(user, agency.pk, action) is (action in granted), (role, action)
            assert user_can(user, other_agency.pk, action) is False
    assert sorted(roles.roles_for("release_sandbox")) == ["admin", "editor"]
    with pytest.raises(ValueError, match="already in the role table"):
        roles.register_action("view", "View again", {"viewer"})


def test_unregistering_takes_the_action_out_of_the_table(sandbox_app):
    registry.unregister(sandbox.APP.label)
    assert "release_sandbox" not in roles.all_actions()
    assert all("release_sandbox" not in actions for actions in roles.ROLE_ACTIONS.values())
    with pytest.raises(ValueError):
        roles.roles_for("release_sandbox")
    registry.register(sandbox.APP)


def test_a_new_agency_runs_every_app_setup(sandbox_app, superuser):
    agency = object_create(model=Agency, user=superuser, data={
        "name": "Office of Sandboxes", "code": "SBX", "sector": "digital", "time_zone": "UTC"})
    assert sandbox.calls == [("agency_setup", "SBX")]
    assert RiskMatrix.objects.filter(agency=agency).count() == 1


def test_load_catalogs_and_load_demo_call_every_app_loader(sandbox_app, db):
    out = io.StringIO()
    call_command("load_catalogs", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["risks", "certification", "procurement", "incidents", "sandbox"]
    assert lines[4] == "sandbox: 3 sandboxes"
    call_command("load_demo", password="demo-password-for-tests", stdout=io.StringIO())
    assert sandbox.calls == [("catalog",), ("agency_setup", "DEMO"), ("demo", "DEMO", sorted(RoleChoices.values))]
