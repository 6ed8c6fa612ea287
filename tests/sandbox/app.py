"""A throwaway domain app, declared the way a real one is, for the registry tests. It is
registered by the `sandbox_app` fixture only, never installed."""

from celery.schedules import crontab
from django.template import Template
from rest_framework import permissions, viewsets
from rest_framework.response import Response

from qgov.dashboard import Panel
from qgov.detail_panels import DetailPanel
from qgov.registry import AppAction, QgovApp

calls: list = []  # what the core called, in order


class SandboxViewSet(viewsets.ViewSet):
    permission_classes = [permissions.IsAuthenticated]

    def list(self, request):
        return Response({"sandboxes": 3})


def setup_agency(agency):
    calls.append(("agency_setup", agency.code))


def load_catalog():
    calls.append(("catalog",))
    return "3 sandboxes"


def load_demo(*, agency, users):
    calls.append(("demo", agency.code, sorted(users)))


PANEL = Panel(title="Sandboxes", template=Template("<p>{{ ctx.count }} sandboxes in {{ ctx.code }}</p>"),
              context=lambda request, agency: {"count": 3, "code": agency.code}, order=50)

# What the sandbox shows on the register's asset pages (qgov.detail_panels): one panel after the
# others, one before them, and one with nothing for anyone (left out).
DETAIL_PANELS = [
    DetailPanel(model="risks.Asset", title="Sandboxes", order=200, template=Template(
        '<p data-testid="sandbox-panel">{{ ctx.count }} sandboxes beside {{ record.name }}</p>'),
                context=lambda request, record: {"count": 2}),
    DetailPanel(model="risks.Asset", title="Early sandbox", order=10, template=Template("<p>early</p>"),
                context=lambda request, record: {}),
    DetailPanel(model="risks.Asset", title="Never shown", template=Template("<p>never</p>"),
                context=lambda request, record: None),
]

APP = QgovApp(
    label="sandbox",
    nav_label="Sandbox",
    nav_order=50,
    nav=[("Things", "sandbox:thing_list"), ("Other things", "sandbox:other_list")],
    urls="tests.sandbox.urls",
    api_routes=[("sandboxes", SandboxViewSet, "sandbox")],
    beat_schedule={"sandbox-nightly": {"task": "tests.sandbox.tidy", "schedule": crontab(hour=3, minute=0)}},
    panels=[PANEL],
    detail_panels=DETAIL_PANELS,
    actions=[AppAction("release_sandbox", "Release sandboxes", frozenset({"editor", "admin"}))],
    agency_setup=[setup_agency],
    catalog_loader=load_catalog,
    demo_loader=load_demo,
)
