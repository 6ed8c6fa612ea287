import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from qgov.stack import call_in_large_stack_chunk

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qgov.settings")

django_application = get_wsgi_application()

# The URLconf imported at start-up rather than by each worker's first request, which it made take
# over a second (the SAML views build pysaml2's XML schemas on import).
import_module(settings.ROOT_URLCONF)
# What start-up built lives as long as the process: frozen, the collector's full collections no
# longer walk its ~200,000 objects, each time about 15 requests' worth of work (4 % of an API
# page's instructions, benchmarks/README.md).
gc.freeze()


def application(environ, start_response):
    # Each request's frames in one large data-stack chunk: CPython 3.11 otherwise maps and unmaps a
    # chunk wherever a page's calls cross a chunk boundary (qgov/stack.py), up to 20 ms a page.
    return call_in_large_stack_chunk(django_application, environ, start_response)
