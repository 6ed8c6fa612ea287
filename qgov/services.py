"""Write workflows of the core. Every UI view, API viewset, admin action and task
that changes a record calls one of these: permission re-checked inside the
transaction, stale versions refused, model validation before save."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError, QuerySet, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from qgov import tokens
from qgov.audit import mark_transition, one_change, snapshot
from qgov.choices import RoleChoices
from qgov.lifecycle import TransitionRefused, lifecycle_of, owned_fields_of
from qgov.models import AgencyScopedModel, ApiToken, Membership, Notification
from qgov.permissions import agency_ids_where, require, user_can
from qgov.roles import Action
from qgov.writing import carry_caches, forward_relations, m2m_write, validation_exclude


class VersionConflict(Exception):
    """The record changed since the caller read it."""

    def __init__(self, current, expected_version):
        self.current = current
        self.expected_version = expected_version
        super().__init__(
            _("This record was changed by someone else (now version %(now)s, you edited version %(yours)s).")
            % {"now": current.version, "yours": expected_version}
        )


def _split_m2m(model, data: dict) -> tuple[dict, dict]:
    m2m_names = {field.name for field in model._meta.many_to_many}
    fields = {key: value for key, value in data.items() if key not in m2m_names}
    m2m = {key: value for key, value in data.items() if key in m2m_names}
    return fields, m2m


def _assert_same_agency(instance, fields: dict, m2m: dict) -> None:
    """Relations of an agency's record may only point at the same agency's records (or at catalogs)."""
    agency_id = instance.owning_agency_id
    if agency_id is None:
        return
    errors = {}
    for name, value in [*fields.items(), *m2m.items()]:
        if isinstance(value, QuerySet):  # from a form's multiple choice or the API: iterated once
            related = value
        elif hasattr(value, "all"):
            related = value.all()
        elif isinstance(value, (list, tuple, set)):
            related = value
        else:
            related = [value]
        for obj in related:
            if isinstance(obj, AgencyScopedModel) and obj.agency_id != agency_id and name != "agency":
                errors[name] = [_("Choose a record of the same agency.")]
                break
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def object_create(*, model, user, data: dict):
    fields, m2m = _split_m2m(model, data)
    _refuse_owned_fields(model, fields, m2m)
    if model.creator_field and model.creator_field not in fields:
        fields[model.creator_field] = user
    instance = model(**fields)
    require(user, instance.owning_agency_id, Action.ADD, model)
    _assert_same_agency(instance, fields, m2m)
    instance.full_clean()
    with one_change() as change:  # one "create" event, its many-to-many ids included
        instance.save()
        for name, ids in m2m_write(instance, m2m, current={name: [] for name in m2m}).items():
            change.m2m_set(instance, name, ids)
        if hasattr(instance, "after_create"):
            instance.after_create(user=user)
    return instance


def _lock(instance, user, action):
    model = type(instance)
    # Re-read the row under lock through the user's restriction: a membership revoked a moment
    # ago, or a record moved out of reach, stops the write here rather than at the view.
    locked = (model.objects.restrict(user, action).select_related(*forward_relations(model))
              .select_for_update(of=("self",)).filter(pk=instance.pk).first())
    if locked is None:
        raise PermissionDenied(_("You do not have permission to do this."))
    return locked


def _refuse_owned_fields(model, fields: dict, m2m: dict) -> None:
    owned = owned_fields_of(model) & {*fields, *m2m}
    if owned:
        raise ValidationError({name: _("Set by the record's lifecycle; use its actions to change it.")
                               for name in sorted(owned)})


def _refuse_create_only_changes(instance, fields: dict) -> None:
    errors = {}
    for name in getattr(type(instance), "create_only_fields", ()):
        if name in fields and _pk(fields[name]) != _pk(getattr(instance, name)):
            errors[name] = (_("A record cannot be moved to another agency.") if name == "agency"
                            else _("Set when the record was created; it cannot be changed."))
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def object_update(*, instance, user, data: dict, expected_version: int | None = None):
    model = type(instance)
    lifecycle = lifecycle_of(model)
    locked = _lock(instance, user, Action.CHANGE)
    if expected_version is not None and locked.version != expected_version:
        raise VersionConflict(locked, expected_version)
    if lifecycle is not None and lifecycle.is_frozen(locked):
        raise ValidationError(lifecycle.frozen_message(locked))
    fields, m2m = _split_m2m(model, data)
    _refuse_owned_fields(model, fields, m2m)
    _refuse_create_only_changes(locked, fields)
    if hasattr(locked, "clean_update"):  # the model's own refusal of an edit by hand (services write directly)
        locked.clean_update(fields)
    _assert_same_agency(locked, fields, m2m)
    on_edit = lifecycle.on_edit.get(lifecycle.state_of(locked)) if lifecycle is not None else None
    # The caller's copy of this same version already holds the relations it prefetched.
    same_version = locked.version == getattr(instance, "version", None)
    prefetched = getattr(instance, "_prefetched_objects_cache", {}) if same_version else {}
    known = {name: sorted(obj.pk for obj in objs) for name, objs in prefetched.items() if name not in m2m}
    with one_change() as change:  # one "update" event for fields, many-to-many and the state an edit costs
        before = change.remember(locked, before=snapshot(locked, m2m=known))
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.full_clean(exclude=validation_exclude(model, {*fields, *m2m}))
        transition = reason = None
        if on_edit:
            will_be = snapshot(locked, m2m={**{n: before[n] for n in before if n not in fields},
                                            **{n: sorted(_pk(v) for v in _values(vs)) for n, vs in m2m.items()}})
            changed = {key for key in will_be if before.get(key) != will_be.get(key)} - {"version"}
            transition = _edit_transition(lifecycle, on_edit, changed)
        if transition is not None:
            reason = _("Edited: %(fields)s.") % {"fields": ", ".join(sorted(_field_label(model, name)
                                                                           for name in changed))}
            mark_transition(locked, transition.name, reason, explicit=False)
            _apply_transition(locked, lifecycle, transition, user=user, reason=reason)
        locked.save()
        for name, ids in m2m_write(locked, m2m, current={n: before[n] for n in m2m if n in before}).items():
            change.m2m_set(locked, name, ids)
        if same_version:
            carry_caches(instance, locked, skip=m2m)
        if transition is not None:
            lifecycle.run_after(locked, transition, user=user, reason=reason)
        if hasattr(locked, "after_update"):  # the model's follow-up work, in the same change
            locked.after_update(user=user, before=before)
    return locked


def _field_label(model, attname: str) -> str:
    for field in model._meta.get_fields():
        if getattr(field, "attname", None) == attname or field.name == attname:
            return str(getattr(field, "verbose_name", attname))
    return attname


def _values(values):
    return values.all() if hasattr(values, "all") else values


def _pk(value):
    return value.pk if hasattr(value, "pk") else value


def _edit_transition(lifecycle, on_edit, changed):
    """The transition an edit triggers: on_edit names it alone (any change) or with the fields
    whose change triggers it."""
    name, fields = (on_edit, None) if isinstance(on_edit, str) else on_edit
    if not changed or (fields is not None and not changed & set(fields)):
        return None
    return lifecycle.get(name)


def _apply_transition(instance, lifecycle, transition, *, user, reason: str) -> None:
    setattr(instance, lifecycle.field, transition.target)
    if lifecycle.note_field and reason:
        setattr(instance, lifecycle.note_field, reason)
    if transition.effect is not None:
        transition.effect(instance, user=user, reason=reason)


@transaction.atomic
def object_transition(*, instance, name: str, user=None, reason: str = "", expected_version: int | None = None,
                      system: bool = False):
    """Move a record through one transition of its lifecycle. `system=True` is for the core's own
    callers (tasks, other transitions): no permission check, and system transitions allowed."""
    model = type(instance)
    lifecycle = lifecycle_of(model)
    if lifecycle is None:
        raise ImproperlyConfigured(f"{model.__name__} has no lifecycle")
    try:
        transition = lifecycle.get(name)
    except LookupError:
        raise TransitionRefused(_("Unknown action “%(name)s”.") % {"name": name}) from None
    if system:
        locked = model._base_manager.select_for_update().get(pk=instance.pk)
    else:
        if transition.system:
            raise TransitionRefused(_("“%(label)s” is done by the system, not by hand.") % {"label": transition.label})
        locked = _lock(instance, user, Action.VIEW)
        # Asked again here, inside the transaction: a role taken away a moment ago stops it.
        require(user, locked.owning_agency_id, transition.permission, model)
    if expected_version is not None and locked.version != expected_version:
        raise VersionConflict(locked, expected_version)
    reason = (reason or "").strip()
    state = lifecycle.state_of(locked)
    if state not in transition.source:
        state_names = dict(model._meta.get_field(lifecycle.field).flatchoices)
        allowed = _(" or ").join(f"“{str(state_names.get(s, s)).lower()}”" for s in transition.source)
        raise TransitionRefused(
            _("This %(model)s is “%(state)s”; “%(label)s” is only possible when it is %(allowed)s.") % {
                "model": model._meta.verbose_name, "state": lifecycle.state_label(locked).lower(),
                "label": transition.label, "allowed": allowed},
            {lifecycle.field: [_("Currently %(state)s.") % {"state": lifecycle.state_label(locked).lower()}]})
    if transition.reason_required and not reason:
        raise ValidationError({"reason": _("Give a reason for “%(label)s”.") % {"label": transition.label}})
    missing = [message for guard in transition.guards for message in (guard(locked, user) or [])]
    if missing:
        raise TransitionRefused(
            _("“%(label)s” is not possible yet.") % {"label": transition.label}, {"non_field_errors": missing})
    with one_change() as change:  # the transition, and what its `after` does to related records
        change.remember(locked, before=snapshot(locked))
        mark_transition(locked, transition.name, reason)
        _apply_transition(locked, lifecycle, transition, user=user, reason=reason)
        locked.full_clean()
        locked.save()
        lifecycle.run_after(locked, transition, user=user, reason=reason)
    return locked


@transaction.atomic
def object_delete(*, instance, user, expected_version: int | None = None) -> None:
    locked = _lock(instance, user, Action.DELETE)
    if expected_version is not None and locked.version != expected_version:
        raise VersionConflict(locked, expected_version)
    lifecycle = lifecycle_of(type(locked))
    if lifecycle is not None and not lifecycle.may_delete(locked):
        raise ValidationError(_("This %(model)s is “%(state)s” and is kept as a record; it cannot be deleted.") % {
            "model": locked._meta.verbose_name, "state": lifecycle.state_label(locked).lower()})
    if hasattr(locked, "clean_delete"):
        locked.clean_delete()
    with one_change():
        try:
            locked.delete()
        except (ProtectedError, RestrictedError) as error:
            # Raised while Django collects what the delete would touch, before any row changes.
            raise ValidationError(_still_referred_to(locked, error)) from None
        if hasattr(locked, "after_delete"):
            locked.after_delete(user=user)


def _still_referred_to(instance, error) -> str:
    """“Alex Meyer” is still referred to by 2 personnel accreditations: …"""
    held = getattr(error, "protected_objects", None) or getattr(error, "restricted_objects", None) or ()
    counts = {}
    for record in held:
        meta = record._meta
        counts.setdefault((meta.verbose_name, meta.verbose_name_plural), 0)
        counts[(meta.verbose_name, meta.verbose_name_plural)] += 1
    what = ", ".join(f"{count} {singular if count == 1 else plural}"
                     for (singular, plural), count in sorted(counts.items()))
    return _("“%(record)s” is still referred to by %(what)s; delete or change those first.") % {
        "record": instance, "what": what}


# --- memberships ----------------------------------------------------------------------------


@transaction.atomic
def member_invite(*, agency, username: str, email: str, role: str, invited_by, site_url: str = ""):
    """Add a user to an agency, creating the account (without a usable password) if it is new;
    a new account gets a link to choose its password. Returns (membership, created_user)."""
    require(invited_by, agency.pk, Action.ADD, Membership)
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    created_user = user is None
    if created_user:
        user = user_model(username=username, email=email)
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
    membership = object_create(model=Membership, user=invited_by, data={"agency": agency, "user": user, "role": role})
    if created_user:
        body, url = _("Choose your password to sign in to qgov."), site_url.rstrip("/") + password_setup_path(user)
    else:
        body, url = _("Sign in to qgov to work on the agency's records."), site_url or "/"
    notify(
        users=[user],
        agency=agency,
        title=_("You were added to %(agency)s as %(role)s")
        % {"agency": agency.name, "role": membership.get_role_display()},
        body=body,
        url=url,
    )
    return membership, created_user


def password_setup_path(user) -> str:
    from django.contrib.auth.tokens import default_token_generator
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("password_reset_confirm", args=[uid, default_token_generator.make_token(user)])


# --- API tokens -----------------------------------------------------------------------------


@transaction.atomic
def token_issue(*, user, name: str, created_by=None, agencies=(), scopes=("read", "write"), allowed_ips=(),
                expires=None, ttl: timedelta | None = None):
    """Create a token; returns (token, key). The key is not stored and cannot be shown again.
    `expires` (or `ttl` from now, by default QGOV_API_TOKEN_TTL) is at most 366 days away."""
    key = ApiToken.generate_key()
    token = ApiToken(
        user=user,
        name=name,
        created_by=created_by or user,
        scopes=list(scopes),
        allowed_ips=list(allowed_ips),
        expires=expires or timezone.now() + (ttl or settings.QGOV_API_TOKEN_TTL),
    )
    token.set_key(key)
    token.full_clean()
    with one_change():  # one audit event, agencies included, in the first agency's chain
        token.save()
        token.agencies.set(agencies)
    return token, key


def system_token_role(scopes) -> str:
    """The role of a system token's account in each of its agencies: editor when a scope writes,
    else viewer. The scopes narrow it further; actions only admins or auditors hold (members,
    the audit trail, report schedules) stay out of reach of system tokens."""
    if tokens.MANAGE_WEBHOOKS in scopes:
        return RoleChoices.ADMIN  # only admins manage webhooks; clean_scopes keeps such a token to named areas
    return RoleChoices.EDITOR if tokens.writes(scopes) else RoleChoices.VIEWER


@transaction.atomic
def system_token_create(*, agencies, name: str, scopes, created_by, allowed_ips=(), expires=None,
                        ttl: timedelta | None = None):
    """Issue a token to an agency system: a service account with a membership in each of the
    token's agencies (all of them agencies the issuer administers), so that tokens are scoped and
    audited exactly like people. Returns (token, key)."""
    agencies = sorted(agencies, key=lambda agency: agency.code)
    if not agencies:
        raise ValidationError({"agencies": _("Choose at least one agency.")})
    for agency in agencies:
        require(created_by, agency.pk, Action.ADD, Membership)
    user_model = get_user_model()
    base = f"system-{agencies[0].code.lower()}-{name.lower().replace(' ', '-')}"[:140]
    username, counter = base, 1
    while user_model.objects.filter(username=username).exists():
        counter += 1
        username = f"{base}-{counter}"
    account = user_model(username=username, first_name=name[:150])
    account.set_unusable_password()
    account.save()
    role = system_token_role(scopes)
    for agency in agencies:
        object_create(model=Membership, user=created_by, data={"agency": agency, "user": account, "role": role})
    return token_issue(user=account, name=name, created_by=created_by, agencies=agencies, scopes=scopes,
                       allowed_ips=allowed_ips, expires=expires, ttl=ttl)


def token_agency_ids_managed_by(user):
    """The ids of the agencies whose system tokens `user` lists and revokes (where they manage members)."""
    return agency_ids_where(user, Action.MANAGE_MEMBERS)


@transaction.atomic
def token_revoke(*, token, user) -> None:
    """Revoke a token: its own user, or an admin of any of its agencies (revoking is the safe side)."""
    # Platform admins (the check's EVERYONE) revoke any token, personal ones included.
    managed = user_can(user, None, Action.MANAGE_MEMBERS, Membership, fresh=True) or token.agencies.filter(
        pk__in=token_agency_ids_managed_by(user)).exists()
    if token.user_id != user.pk and not managed:
        raise PermissionDenied(_("You do not have permission to do this."))
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])


# --- notifications --------------------------------------------------------------------------


def notify(*, users, title: str, body: str = "", url: str = "", agency=None, email: bool = True):
    """Tell users something: an in-app notification each, and an email sent by a task after commit."""
    from qgov.tasks import send_notification_emails

    notifications = Notification.objects.bulk_create(
        [Notification(user=user, agency=agency, title=title[:200], body=body, url=url) for user in users]
    )
    ids = [n.pk for n in notifications if n.user.email]
    if email and ids:
        transaction.on_commit(lambda: send_notification_emails.delay(ids))
    return notifications


def notifications_mark_read(*, user, ids=None) -> int:
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


def notification_emails_send(*, ids) -> int:
    """Send the emails of the given notifications that were not sent yet; idempotent."""
    from django.core.mail import send_mail

    sent = 0
    pending = Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).select_related("user")
    for notification in pending:
        if not notification.user.email:
            continue
        send_mail(
            subject=f"[qgov] {notification.title}",
            message=f"{notification.body}\n\n{notification.url}".strip(),
            from_email=None,
            recipient_list=[notification.user.email],
        )
        Notification.objects.filter(pk=notification.pk).update(emailed_at=timezone.now())
        sent += 1
    return sent
