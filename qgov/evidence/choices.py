from django.db import models
from django.utils.translation import gettext_lazy as _


class CustodyEventActionChoices(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    DOWNLOADED = "downloaded", _("Downloaded")
    HANDED_OVER = "handed_over", _("Handed over")
    VERIFIED_MATCH = "verified_match", _("Verified: hash matches")
    VERIFIED_MISMATCH = "verified_mismatch", _("Verified: hash does NOT match")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPORTED = "exported", _("Custody log exported")
