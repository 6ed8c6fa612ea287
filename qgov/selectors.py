"""Reads of the core that more than one interface needs."""

from qgov.models import Agency, Notification


def agencies_of(user):
    """The agencies a user works in: all of them for platform admins, else their memberships."""
    if not user.is_authenticated:
        return Agency.objects.none()
    if user.is_superuser:
        return Agency.objects.all()
    return Agency.objects.filter(qgov_membership_set__user=user).order_by("name")


def unread_notification_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
