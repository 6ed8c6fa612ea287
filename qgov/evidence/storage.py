import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.utils.functional import cached_property


class EvidenceStorage(FileSystemStorage):
    """Evidence on the local disk, under MEDIA_ROOT/private/evidence/ unless a location is given.
    It has no URL on purpose: files are read only through the permission-checked download."""

    def __init__(self, location=None, **kwargs):
        kwargs.pop("base_url", None)
        super().__init__(location=location, base_url=None, **kwargs)

    @cached_property
    def base_location(self):
        # Read from MEDIA_ROOT when first needed (and again when a test changes it).
        return self._value_or_setting(self._location, os.path.join(settings.MEDIA_ROOT, "private", "evidence"))

    def url(self, name):
        raise ValueError("Evidence files have no URL; they are downloaded through the permission-checked view.")


def evidence_storage():
    """The storage of evidence files: STORAGES["evidence"] (a callable, so that settings decide)."""
    return storages["evidence"]
