from rest_framework import permissions

from qgov.permissions import user_can
from qgov.roles import Action

METHOD_ACTIONS = {"PUT": Action.CHANGE, "PATCH": Action.CHANGE, "DELETE": Action.DELETE}


class RolePermission(permissions.BasePermission):
    """Authenticated callers only; writes on an object need the role for that action in the
    object's agency. Reads are already scoped by the viewset's restricted queryset, and
    creates are checked by the create service once the agency is known."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj):
        action = METHOD_ACTIONS.get(request.method)
        if action is None:
            return True
        if getattr(obj, "qgov_may_write", None) is not None:  # the same rule, answered by restrict()
            return obj.qgov_may_write
        return user_can(request.user, obj.owning_agency_id, action, type(obj))


class IsPlatformAdminOrReadOnly(permissions.BasePermission):
    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        # Accounts belong to no agency: changing them is a platform-level change.
        return request.method in permissions.SAFE_METHODS or user_can(request.user, None, Action.CHANGE)

    def has_object_permission(self, request, view, obj):
        return self.has_permission(request, view)
