"""Password rules beyond Django's validators (settings.AUTH_PASSWORD_VALIDATORS): a password built
from the service's or an agency's name is as guessable as a common one, so those words do not
count towards its length. No composition rules (NIST SP 800-63B)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


class ContextWordsValidator:
    """Refuses a password that, without the words of this service (QGOV_PASSWORD_CONTEXT_WORDS)
    and the agencies' names and codes (case-insensitive), is shorter than `min_length`: such words
    do not count towards the length."""

    def __init__(self, min_length: int = 15):
        self.min_length = min_length

    @staticmethod
    def words() -> list[str]:
        from qgov.models import Agency

        words = {word.casefold() for word in settings.QGOV_PASSWORD_CONTEXT_WORDS if len(word) >= 3}
        for name, code in Agency.objects.values_list("name", "code"):
            words.update(part.casefold() for part in (name, code) if len(part) >= 3)
        return sorted(words, key=len, reverse=True)  # longest first: a name before its words

    def validate(self, password, user=None):
        folded = password.casefold()
        rest = folded
        for word in self.words():
            rest = rest.replace(word, "")
        if rest != folded and len(rest) < self.min_length:
            raise ValidationError(
                ngettext(
                    "This password is built from the name of this service or of an agency. Without those "
                    "words it must still have at least %(min_length)d character.",
                    "This password is built from the name of this service or of an agency. Without those "
                    "words it must still have at least %(min_length)d characters.",
                    self.min_length,
                ),
                code="password_context_words",
                params={"min_length": self.min_length},
            )

    def get_help_text(self):
        return _("Your password can't be built from the name of this service or of an agency.")
