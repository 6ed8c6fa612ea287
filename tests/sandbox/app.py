"""A throwaway domain app, declared the way a real one is, for the registry tests. It is
registered by the `sandbox_app` fixture only, never installed."""

from celery.schedules import crontab
from django.template import Template
from rest_framework import permissions, viewsets
from rest_framework.response import Response

from qgov.dashboard import Panel
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

APP = QgovApp(
    label="sandbox",
    nav_label="Sandbox",
    nav_order=50,
    nav=[("Things", "sandbox:thing_list"), ("Other things", "sandbox:other_list")],
    urls="tests.sandbox.urls",
    api_routes=[("sandboxes", SandboxViewSet, "sandbox")],
    beat_schedule={"sandbox-nightly": {"task": "tests.sandbox.tidy", "schedule": crontab(hour=3, minute=0)}},
    panels=[PANEL],
    actions=[AppAction("release_sandbox", "Release sandboxes", frozenset({"editor", "admin"}))],
    agency_setup=[setup_agency],
    catalog_loader=load_catalog,
    demo_loader=load_demo,
)
