"""The one answer to "may this user do this action here?".

Every door asks it: `user_can` for one agency (views, API permission classes, services, admin,
tasks) and `restrict_queryset` for many records at once (`RestrictedQuerySet.restrict`). Both
read the rule from `_requirement`, so they cannot disagree.

Reads within a request use the user's memberships loaded once per request (one query, however
many buttons a page asks about); writes ask again inside their transaction (`fresh=True`), so a
membership revoked a moment ago stops the write.

A request authenticated by an API token is further limited by the token's grant (its agencies and
scopes), which the authentication activates for the request: the same functions read it, so every
door, and every service called from one, applies it.
"""

import contextlib
import contextvars
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet, PermissionDenied
from django.db.models import Expression, Q
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from qgov.roles import Action, roles_for

PLATFORM_ONLY = None  # an action_map value: only platform admins (superusers) may do this

# What `_requirement` answers besides a list of roles.
EVERYONE = "everyone"  # platform admins, and signed-in users reading a shared catalog
NOBODY = "nobody"

_request_memberships: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "qgov_request_memberships", default=None)


# --- API tokens' grants ----------------------------------------------------------------------

# The actions a read scope grants (as the caller names them, before a model maps them); every other
# action writes. Apps' own actions are writes.
READ_ACTIONS = frozenset({Action.VIEW, Action.EXPORT, Action.VIEW_AUDIT})
READ, WRITE, MANAGE = "read", "write", "manage"
# Per-area levels; `manage` is `write` under the name areas of configuration use (`webhooks:manage`).
AREA_LEVELS = (READ, WRITE, MANAGE)


def scope_area(model) -> str:
    """The area of a model's records in token scopes (`<area>:read`): its `scope_area`, else its app label."""
    return getattr(model, "scope_area", None) or model._meta.app_label


@dataclass(frozen=True)
class TokenGrant:
    """What one API token allows its user, on top of the user's roles."""

    user_id: int
    agency_ids: frozenset[int] | None  # None: every agency of the user
    scopes: frozenset[str]

    def allows(self, action: str, model=None) -> bool:
        writes = action not in READ_ACTIONS
        if WRITE in self.scopes or (not writes and READ in self.scopes):
            return True
        if not writes and getattr(model, "readable_by_every_token", False):
            return True  # the token's own agencies: every write names one
        if model is None:  # a check that names no records: only the scopes of every area answer it
            return False
        area = scope_area(model)
        levels = {scope.partition(":")[2] for scope in self.scopes if scope.partition(":")[0] == area}
        return bool(levels & {WRITE, MANAGE}) if writes else bool(levels)


_token_grant: contextvars.ContextVar[TokenGrant | None] = contextvars.ContextVar("qgov_token_grant", default=None)


def activate_token_grant(grant: TokenGrant) -> None:
    """Limit the rest of the request to the token's grant (the request scope ends it)."""
    _token_grant.set(grant)


def _grant_of(user) -> TokenGrant | None:
    grant = _token_grant.get()
    return grant if grant is not None and user is not None and grant.user_id == user.pk else None


def _agency_limit(user) -> frozenset[int] | None:
    grant = _grant_of(user)
    return grant.agency_ids if grant is not None else None


@contextlib.contextmanager
def request_scope():
    """Cache each user's memberships for the duration of one request (the middleware opens it),
    and end any token grant with it."""
    token = _request_memberships.set({})
    grant_token = _token_grant.set(None)
    try:
        yield
    finally:
        _token_grant.reset(grant_token)
        _request_memberships.reset(token)


def _requirement(user, action: str, model=None):
    """EVERYONE, NOBODY, or the roles that grant `action` (as `model` maps it) in an agency."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOBODY
    grant = _grant_of(user)
    if grant is not None and not grant.allows(action, model):
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
        roles = cache[user.pk]
    else:
        roles = dict(Membership.objects.filter(user_id=user.pk).order_by().values_list("agency_id", "role"))
        if cache is not None:
            cache[user.pk] = roles
    limit = _agency_limit(user)
    return roles if limit is None else {agency: role for agency, role in roles.items() if agency in limit}


# What a signed-in user may do with the shared rows of a model that mixes them with agency rows.
SHARED_ROW_ACTIONS = frozenset({"view", "export"})


def _reads_shared_rows(model, action: str) -> bool:
    return model is not None and getattr(model, "shared_without_agency", False) and action in SHARED_ROW_ACTIONS


def user_can(user, agency_id, action: str, model=None, *, fresh: bool = False) -> bool:
    """May `user` perform `action` (on `model` records, which may map it) in agency `agency_id`?"""
    requirement = _requirement(user, action, model)
    limit = _agency_limit(user)
    if limit is not None and agency_id is not None and agency_id not in limit:
        return False
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

    model = queryset.model
    requirement = _requirement(user, action, model)
    limit = _agency_limit(user)
    if requirement == EVERYONE:
        if limit is None or model.agency_lookup is None:
            return queryset
        agencies = sorted(limit)
    elif requirement == NOBODY:
        return queryset.none()
    elif action in READ_ACTIONS and _request_memberships.get() is not None:
        # A read within a request: the agency ids as constants once this request has read the
        # memberships, else the membership subquery (see MemberAgencyIds). Writes keep the ORM's
        # subquery, read in their transaction.
        agencies = MemberAgencyIds(user.pk, frozenset(requirement), limit)
    else:
        agencies = _member_agencies(user, requirement, limit)
    if _reads_shared_rows(model, action):
        lookup = model.agency_lookup
        return queryset.filter(Q(**{f"{lookup}__in": agencies}) | Q(**{f"{lookup}__isnull": True}))
    return queryset.filter(**{f"{model.agency_lookup}__in": agencies})


class MemberAgencyIds(Expression):
    """The agencies of a user's memberships with one of `roles` (within `limit`, a token's agencies),
    as the right side of `IN`: the constant ids (`agency_id IN (7)`) once the request has read the
    user's memberships (`memberships_of`, cached per request), else the membership subquery.

    The constants matter on PostgreSQL: under a subquery the planner cannot tell which agency, so it
    estimates an average agency and, for a page in id order, read and sorted all 100,000 rows of the
    largest one (130 ms) where an (agency, id) index walk stops after the page (2 ms); its row
    estimate, which counts use, is the agency's own. Whoever reads the memberships first (a page
    whose buttons ask `user_can`, or the API pagination, see `load_scope_memberships`) makes every
    later query of the request use the constants; nothing else queries for them.

    It is an expression of its own, not a Subquery of a Membership queryset: every scoped read of
    every request builds one, and building, resolving and compiling that queryset each time was a
    sixth of a 10-row API page. The subquery's SQL is written here from Membership's metadata."""

    def __init__(self, user_id: int, roles: frozenset, limit: frozenset | None = None):
        super().__init__(output_field=None)
        self.user_id, self.roles, self.limit = user_id, roles, limit

    @cached_property
    def output_field(self):
        from qgov.models import Membership

        return Membership._meta.get_field("agency").target_field

    def resolve_expression(self, *args, **kwargs):
        return self  # nothing to resolve: no column of the query it is put in

    def relabeled_clone(self, change_map):
        return self  # no alias of the enclosing query in it

    def agency_ids(self) -> list[int] | None:
        """The ids, when this request has read the memberships already; None otherwise."""
        cache = _request_memberships.get()
        roles = cache.get(self.user_id) if cache is not None else None
        if roles is None:
            return None
        return sorted(agency for agency, role in roles.items()
                      if role in self.roles and (self.limit is None or agency in self.limit))

    def as_sql(self, compiler, connection):
        ids = self.agency_ids()
        if ids is None:
            return self.subquery_sql(connection)
        if not ids:
            raise EmptyResultSet  # member nowhere with such a role: the condition matches nothing
        return ", ".join(["%s"] * len(ids)), ids  # the IN lookup puts the parentheses around

    def subquery_sql(self, connection) -> tuple[str, list]:
        """SELECT agency FROM membership WHERE role IN (roles) AND user = user_id [AND agency IN (limit)],
        under an alias of its own (no enclosing query's alias can be read in it)."""
        from qgov.models import Membership

        quote, meta = connection.ops.quote_name, Membership._meta
        agency, role, user = (quote(meta.get_field(name).column) for name in ("agency", "role", "user"))
        roles = sorted(self.roles)
        sql = (f"SELECT qgov_scope.{agency} FROM {quote(meta.db_table)} qgov_scope "  # noqa: S608 (names only)
               f"WHERE qgov_scope.{role} IN ({', '.join(['%s'] * len(roles))}) AND qgov_scope.{user} = %s")
        params = [*roles, self.user_id]
        if self.limit is not None:
            if not self.limit:
                raise EmptyResultSet
            limit = sorted(self.limit)
            sql += f" AND qgov_scope.{agency} IN ({', '.join(['%s'] * len(limit))})"
            params += limit
        return sql, params


def lazy_member_scopes(queryset) -> list[MemberAgencyIds]:
    """The MemberAgencyIds of `queryset`'s conditions (not of its subqueries') that still compile to
    a subquery: their memberships are not read yet."""
    found, pending = [], [queryset.query.where]
    while pending:
        node = pending.pop()
        pending.extend(child for child in getattr(node, "children", ()) if hasattr(child, "children"))
        for child in getattr(node, "children", ()):
            rhs = getattr(child, "rhs", None)
            if isinstance(rhs, MemberAgencyIds) and rhs.agency_ids() is None:
                found.append(rhs)
    return found


def load_scope_memberships(queryset, user) -> bool:
    """Read `user`'s memberships now (one query, kept for the request) when `queryset` is scoped by
    them and has not got them yet, so that it compiles to constant agency ids. True when it read them."""
    if not any(scope.user_id == getattr(user, "pk", None) for scope in lazy_member_scopes(queryset)):
        return False
    memberships_of(user)
    return True


def agency_ids_where(user, action: str, model=None):
    """The ids of the agencies where `user` may perform `action`, as a subquery (all agencies
    for platform admins)."""
    from qgov.models import Agency

    requirement = _requirement(user, action, model)
    limit = _agency_limit(user)
    if requirement == EVERYONE:
        agencies = Agency.objects.all() if limit is None else Agency.objects.filter(pk__in=limit)
        return agencies.values("pk")
    if requirement == NOBODY:
        return Agency.objects.none().values("pk")
    return _member_agencies(user, requirement, limit)


def _member_agencies(user, roles, limit):
    """The agency ids of `user`'s memberships with one of `roles` (within `limit`), as the ORM's subquery."""
    from qgov.models import Membership

    # order_by(): the model's ordering (agency name, username) would join both tables into the subquery.
    memberships = Membership.objects.filter(user_id=user.pk, role__in=roles).order_by()
    if limit is not None:
        memberships = memberships.filter(agency_id__in=limit)
    return memberships.values("agency_id")


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
