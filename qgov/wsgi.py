import os

from django.core.wsgi import get_wsgi_application

from qgov.stack import call_in_large_stack_chunk

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qgov.settings")

django_application = get_wsgi_application()


def application(environ, start_response):
    # Each request's frames in one large data-stack chunk: CPython 3.11 otherwise maps and unmaps a
    # chunk wherever a page's calls cross a chunk boundary (qgov/stack.py), up to 20 ms a page.
    return call_in_large_stack_chunk(django_application, environ, start_response)
