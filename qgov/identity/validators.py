from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as _

# Shorter than this, a session ends while someone is still reading a page.
MIN_SESSION_MINUTES = 5


@deconstructible
class StricterThanPlatform:
    """An agency's session limit (minutes) may only be stricter than the platform's (the setting
    `setting_name`, in seconds), never looser."""

    def __init__(self, setting_name: str):
        self.setting_name = setting_name

    def __call__(self, minutes):
        platform_minutes = getattr(settings, self.setting_name) // 60
        if minutes is None:
            return
        if minutes < MIN_SESSION_MINUTES:
            raise ValidationError(_("At least %(minimum)d minutes."), code="min_value",
                                  params={"minimum": MIN_SESSION_MINUTES})
        if minutes > platform_minutes:
            raise ValidationError(
                _("At most %(limit)d minutes: the platform's limit. An agency may make sessions shorter, not longer."),
                code="looser_than_platform", params={"limit": platform_minutes})

    def __eq__(self, other):
        return isinstance(other, StricterThanPlatform) and other.setting_name == self.setting_name
