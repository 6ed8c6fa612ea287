import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qgov.settings")

app = Celery("qgov")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def add_beat_entries(entries: dict) -> None:
    """Beat entries of a domain app (qgov.registry.register calls this from the app's ready()),
    added to the core's from settings.CELERY_BEAT_SCHEDULE. Django is set up before beat reads
    its schedule, so `celery beat` runs them like the core's."""
    clashes = sorted(set(entries) & set(app.conf.beat_schedule))
    if clashes:
        raise ValueError(f"Beat entries already scheduled: {', '.join(clashes)}")
    app.conf.beat_schedule = {**app.conf.beat_schedule, **entries}


def remove_beat_entries(entries: dict) -> None:
    app.conf.beat_schedule = {name: entry for name, entry in app.conf.beat_schedule.items() if name not in entries}
