"""Model fields every domain app uses."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class LongTextField(models.TextField):
    """Free text with a cap (10,000 characters unless told) that every write path enforces: the
    model's full_clean (write services, imports), forms (maxlength) and DRF serializers. Django
    checks max_length of CharFields only; an unbounded description overflows pages and exports."""

    def __init__(self, *args, max_length=10_000, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)
        self.validators.append(MaxLengthValidator(self.max_length))


class MemberField(models.ForeignKey):
    """A person named on an agency's record (owner, reviewer…): a user who is a member of the
    record's agency, or a platform admin. Checked by full_clean, so every write service refuses
    anyone else; forms and filters offer only members (`members_of`)."""

    default_error_messages = {"not_member": _("Choose a member of the agency.")}

    def __init__(self, to=settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, **kwargs):
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("related_name", "+")
        super().__init__(to, on_delete, **kwargs)

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        agency_id = getattr(model_instance, "owning_agency_id", None)
        if value is None or agency_id is None:
            return
        users = self.remote_field.model._base_manager.filter(pk=value)
        if not users.filter(Q(is_superuser=True) | Q(memberships__agency_id=agency_id)).exists():
            raise ValidationError(self.error_messages["not_member"], code="not_member")


def members_of(user, agency=None):
    """The people a user may name on records: the members of `agency` when given, otherwise of
    every agency the user belongs to (everyone, for a platform admin)."""
    from qgov.models import Membership

    users = get_user_model().objects.order_by("username")
    if agency is not None:
        return users.filter(pk__in=Membership.objects.filter(agency=agency).values("user_id"))
    from qgov.permissions import agency_ids_where
    from qgov.roles import Action

    if user is not None and user.is_authenticated and user.is_superuser:
        return users
    agencies = agency_ids_where(user, Action.VIEW)
    return users.filter(pk__in=Membership.objects.filter(agency_id__in=agencies).values("user_id"))
