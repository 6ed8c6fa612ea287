"""An app's `public_urls`: pages at the site's root, outside its section, that answer visitors
without an account (the app's views decide what they check)."""

import importlib

import pytest
from django.http import HttpResponse
from django.urls import clear_url_caches, path

from qgov import registry
from qgov.registry import QgovApp


def hello(request, token):
    return HttpResponse(f"hello {token}, signed in: {request.user.is_authenticated}")


LINKBOX = QgovApp(label="linkbox", nav_label="Linkbox", nav=[],
                  public_urls=[("linkbox/", ([path("<str:token>/", hello, name="open")], "linkbox"))])


def _reload_urls():
    import qgov.urls

    clear_url_caches()
    importlib.reload(qgov.urls)


@pytest.fixture
def linkbox_app(settings):
    registry.register(LINKBOX)
    _reload_urls()
    yield LINKBOX
    registry.unregister(LINKBOX.label)
    _reload_urls()


def test_public_pages_are_served_at_the_root_without_signing_in(linkbox_app, client, db):
    response = client.get("/linkbox/abc/")
    assert response.status_code == 200
    assert response.content == b"hello abc, signed in: False"


def test_the_supplier_portal_is_declared_this_way():
    declared = [prefix for app in registry.apps() for prefix, _module in app.public_urls]
    assert "portal/" in declared
