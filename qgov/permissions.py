"""The one answer to "may this user do this action here?".

Every door asks it: `user_can` for one agency (views, API permission classes, services, admin,
tasks) and `restrict_queryset` for many records at once (`RestrictedQuerySet.restrict`). Both
read the rule from `_requirement`, so they cannot disagree.

Reads within a request use the user's memberships loaded once per request (one query, however
many buttons a page asks about); writes ask again inside their transaction (`fresh=True`), so a
membership revoked a moment ago stops the write.
"""

import contextlib
import contextvars

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _

from qgov.roles import roles_for

PLATFORM_ONLY = None  # an action_map value: only platform admins (superusers) may do this

# What `_requirement` answers besides a list of roles.
EVERYONE = "everyone"  # platform admins, and signed-in users reading a shared catalog
NOBODY = "nobody"

_request_memberships: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "qgov_request_memberships", default=None)


@contextlib.contextmanager
def request_scope():
    """Cache each user's memberships for the duration of one request (the middleware opens it)."""
    token = _request_memberships.set({})
    try:
        yield
    finally:
        _request_memberships.reset(token)


def _requirement(user, action: str, model=None):
    """EVERYONE, NOBODY, or the roles that grant `action` (as `model` maps it) in an agency."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOBODY
    if user.is_superuser:
        return EVERYONE
    return _member_requirement(action, model)


def _member_requirement(action: str, model=None):
    """The rule for an active member who is not a platform admin."""
    required = model.permission_action(action) if model is not None else action
    if required is PLATFORM_ONLY:
        return NOBODY
    if model is not None and model.agency_lookup is None:
        return EVERYONE  # a shared catalog: what is not platform-only is open to every signed-in user
    return roles_for(required)


def memberships_of(user) -> dict[int, str]:
    """{agency id: role} of the user; cached per request while a request scope is open."""
    from qgov.models import Membership

    cache = _request_memberships.get()
    if cache is not None and user.pk in cache:
        return cache[user.pk]
    roles = dict(Membership.objects.filter(user_id=user.pk).values_list("agency_id", "role"))
    if cache is not None:
        cache[user.pk] = roles
    return roles


# What a signed-in user may do with the shared rows of a model that mixes them with agency rows.
SHARED_ROW_ACTIONS = frozenset({"view", "export"})


def _reads_shared_rows(model, action: str) -> bool:
    return model is not None and getattr(model, "shared_without_agency", False) and action in SHARED_ROW_ACTIONS


def user_can(user, agency_id, action: str, model=None, *, fresh: bool = False) -> bool:
    """May `user` perform `action` (on `model` records, which may map it) in agency `agency_id`?"""
    requirement = _requirement(user, action, model)
    if requirement == EVERYONE:
        return True
    if agency_id is None and requirement != NOBODY and _reads_shared_rows(model, action):
        return True
    if requirement == NOBODY or agency_id is None:
        return False
    if fresh:
        from qgov.models import Membership

        return Membership.objects.filter(user_id=user.pk, agency_id=agency_id, role__in=requirement).exists()
    return memberships_of(user).get(agency_id) in requirement


def require(user, agency_id, action: str, model=None) -> None:
    """`user_can`, asked afresh (inside the caller's transaction), raising PermissionDenied."""
    if not user_can(user, agency_id, action, model, fresh=True):
        raise PermissionDenied(_("You do not have permission to do this."))


def restrict_queryset(queryset, user, action: str):
    """The records of `queryset` on which `user` may perform `action`: the queryset form of user_can."""
    from qgov.models import Membership

    model = queryset.model
    requirement = _requirement(user, action, model)
    if requirement == EVERYONE:
        return queryset
    if requirement == NOBODY:
        return queryset.none()
    agencies = Membership.objects.filter(user_id=user.pk, role__in=requirement).values("agency_id")
    if _reads_shared_rows(model, action):
        lookup = model.agency_lookup
        return queryset.filter(Q(**{f"{lookup}__in": agencies}) | Q(**{f"{lookup}__isnull": True}))
    return queryset.filter(**{f"{model.agency_lookup}__in": agencies})


def agency_ids_where(user, action: str, model=None):
    """The ids of the agencies where `user` may perform `action`, as a subquery (all agencies
    for platform admins)."""
    from qgov.models import Agency, Membership

    requirement = _requirement(user, action, model)
    if requirement == EVERYONE:
        return Agency.objects.values("pk")
    if requirement == NOBODY:
        return Agency.objects.none().values("pk")
    return Membership.objects.filter(user_id=user.pk, role__in=requirement).values("agency_id")


def users_who_can(agency_id, action: str, model=None):
    """The active members of an agency whose role grants `action` (e.g. who to ask for an approval)."""
    from django.contrib.auth import get_user_model

    from qgov.models import Membership

    requirement = _member_requirement(action, model)
    if requirement == NOBODY:
        return get_user_model().objects.none()
    holders = Membership.objects.filter(agency_id=agency_id)
    if requirement != EVERYONE:
        holders = holders.filter(role__in=requirement)
    return get_user_model().objects.filter(pk__in=holders.values("user_id"), is_active=True).order_by("username")
