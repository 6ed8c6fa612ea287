"""The WSGI module (what gunicorn loads) imports the URLconf at start-up, not on each worker's first
request, then freezes what start-up built out of the collector's way."""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings


def test_the_wsgi_module_loads_the_urlconf_and_freezes_start_up():
    probe = ("import gc, json, sys; import qgov.wsgi; print(json.dumps({"
             f"'urlconf': {settings.ROOT_URLCONF!r} in sys.modules, 'frozen': gc.get_freeze_count()}}))")
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "qgov.settings", "DJANGO_DEBUG": "1"}
    output = subprocess.run([sys.executable, "-W", "ignore", "-c", probe], cwd=Path(settings.BASE_DIR),
                            env=environment, capture_output=True, text=True, check=True).stdout
    started = json.loads(output.strip().splitlines()[-1])
    assert started["urlconf"] is True
    assert started["frozen"] > 50_000  # Django, the apps and the URLconf's views: about 200,000 objects
