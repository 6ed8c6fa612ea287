from django.db import models
from django.utils.translation import gettext_lazy as _


class UserSessionEndReasonChoices(models.TextChoices):
    SIGNED_OUT = "signed_out", _("signed out")
    IDLE = "idle", _("idle too long")
    ABSOLUTE = "absolute", _("reached its time limit")
    ENDED_BY_USER = "ended_by_user", _("ended from the sessions page")
    DEPROVISIONED = "deprovisioned", _("account deactivated by the identity provider")
