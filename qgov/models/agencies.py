"""Agencies and their members (memberships and roles)."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from qgov.choices import (
    AgencySectorChoices,
    MembershipSourceChoices,
    RoleChoices,
)
from qgov.fields import LongTextField
from qgov.identity.validators import StricterThanPlatform
from qgov.models.base import AgencyScopedModel, QgovModel
from qgov.permissions import PLATFORM_ONLY
from qgov.roles import Action

DEFAULT_REMINDER_THRESHOLDS = (90, 30, 7)


def default_reminder_thresholds():
    return list(DEFAULT_REMINDER_THRESHOLDS)


def validate_reminder_thresholds(value):
    if not isinstance(value, list) or not 1 <= len(value) <= 6:
        raise ValidationError(_("Give from 1 to 6 numbers of days, e.g. 90, 30, 7."), code="count")
    if any(isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650 for days in value):
        raise ValidationError(_("Each threshold is a whole number of days from 1 to 3650."), code="range")
    if len(set(value)) != len(value):
        raise ValidationError(_("Give each number of days once."), code="duplicate")


def _timezone_choices():
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class Agency(QgovModel):
    # Every API token reads the agencies it is limited to, whatever its scopes: a write names one.
    readable_by_every_token = True

    name = models.CharField(_("name"), max_length=200, unique=True)
    code = models.CharField(
        _("code"),
        max_length=20,
        unique=True,
        validators=[RegexValidator(r"^[A-Z0-9][A-Z0-9-]*$", _("Use capital letters, digits and hyphens."))],
        help_text=_("Short unique code, e.g. DQN or MOD-CYBER."),
    )
    sector = models.CharField(_("sector"), max_length=30, choices=AgencySectorChoices.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent agency"),
    )
    time_zone = models.CharField(_("time zone"), max_length=64, choices=_timezone_choices, default="UTC")
    description = LongTextField(_("description"), blank=True)
    reminder_thresholds = models.JSONField(
        _("reminder thresholds (days)"), default=default_reminder_thresholds, blank=True,
        validators=[validate_reminder_thresholds],
        help_text=_("Days before a due date when the owner and the agency admins are reminded, e.g. 90, 30, 7 "
                    "(left empty: those); the largest is the warning window of lists and dashboards."))
    jurisdiction = models.CharField(
        _("jurisdiction"), max_length=2, blank=True,
        validators=[RegexValidator(r"^[A-Z]{2}$", _("Use the two capital letters of the ISO 3166-1 country code."))],
        help_text=_("ISO 3166-1 alpha-2 country code, e.g. DE: decides which certificate recognition "
                    "arrangements apply."))
    # Session policy (qgov.identity.sessions): stricter than the platform's limits only; the strictest
    # of a user's agencies applies to them. Empty: the platform's.
    session_idle_minutes = models.PositiveIntegerField(
        _("session idle limit (minutes)"), null=True, blank=True,
        validators=[StricterThanPlatform("QGOV_SESSION_IDLE_SECONDS")],
        help_text=_("Members are signed out after this many minutes without activity. Empty: the platform's limit; "
                    "it can only be made shorter."))
    session_absolute_minutes = models.PositiveIntegerField(
        _("session time limit (minutes)"), null=True, blank=True,
        validators=[StricterThanPlatform("QGOV_SESSION_ABSOLUTE_SECONDS")],
        help_text=_("Members are signed out this many minutes after signing in, active or not. Empty: the "
                    "platform's limit; it can only be made shorter."))
    # MFA policy (qgov.identity.mfa.policy): platform admins always need MFA, whatever these say.
    phishing_resistant_required = models.BooleanField(
        _("require phishing-resistant MFA"), default=False,
        help_text=_("Members must sign in with a passkey, or through an identity provider that reports "
                    "phishing-resistant MFA."))
    totp_allowed = models.BooleanField(
        _("allow authenticator apps (TOTP)"), default=True,
        help_text=_("Members may use a one-time code app as their second factor (never where phishing-resistant "
                    "MFA is required)."))

    agency_lookup = "pk"
    scope_area = "agencies"
    action_map = {Action.ADD: PLATFORM_ONLY, Action.DELETE: PLATFORM_ONLY, Action.CHANGE: Action.MANAGE_MEMBERS}

    class Meta:
        ordering = ["name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    brief_fields = ("name", "code")  # what __str__ reads: all a brief reference loads

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def owning_agency_id(self):
        return self.pk

    def get_absolute_url(self):
        return reverse("qgov:agency_detail", args=[self.pk])

    def after_create(self, *, user):
        from qgov.registry import agency_setup

        agency_setup(self)

    @property
    def warning_window_days(self) -> int:
        return max(self.reminder_thresholds or DEFAULT_REMINDER_THRESHOLDS)

    @property
    def last_threshold_days(self) -> int:
        return min(self.reminder_thresholds or DEFAULT_REMINDER_THRESHOLDS)

    def clean(self):
        if self.reminder_thresholds in (None, "", []):
            self.reminder_thresholds = default_reminder_thresholds()
        elif isinstance(self.reminder_thresholds, list) and all(
                isinstance(days, int) for days in self.reminder_thresholds):
            self.reminder_thresholds = sorted(self.reminder_thresholds, reverse=True)
        # Walk up the parents: an agency may not end up as its own ancestor.
        seen, parent = {self.pk}, self.parent
        while parent is not None:
            if parent.pk in seen:
                raise ValidationError({"parent": _("An agency cannot be its own parent or ancestor.")})
            seen.add(parent.pk)
            parent = parent.parent


class Membership(AgencyScopedModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    role = models.CharField(_("role"), max_length=20, choices=RoleChoices.choices, default=RoleChoices.VIEWER)
    # Identity (qgov.identity): who keeps this membership. A sign-in recomputes only its provider's own.
    source = models.CharField(_("source"), max_length=10, choices=MembershipSourceChoices.choices,
                              default=MembershipSourceChoices.MANUAL, editable=False)
    provider = models.ForeignKey("qgov.IdentityProvider", on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="memberships", editable=False, verbose_name=_("identity provider"))

    action_map = dict.fromkeys((Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE), Action.MANAGE_MEMBERS)
    scope_area = "members"
    create_only_fields = ("agency", "user")
    shown_read_only_fields = ("source", "provider")  # on its page, never in a form

    class Meta:
        ordering = ["agency__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "agency"], name="membership_unique_user_agency"),
            # A provider's memberships name it; no other does.
            models.CheckConstraint(
                condition=models.Q(source=MembershipSourceChoices.PROVIDER, provider__isnull=False)
                | (~models.Q(source=MembershipSourceChoices.PROVIDER) & models.Q(provider__isnull=True)),
                name="membership_provider_iff_provider_source"),
        ]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} — {self.agency.code}"

    def get_absolute_url(self):
        return reverse("qgov:membership_detail", args=[self.pk])

    def _assert_agency_keeps_an_admin(self):
        # Without an admin nobody but a platform admin could manage the agency again.
        others = Membership.objects.filter(agency_id=self.agency_id, role=RoleChoices.ADMIN).exclude(pk=self.pk)
        if not others.exists():
            raise ValidationError({"role": _("An agency must keep at least one admin.")})

    def clean(self):
        if self.provider_id is not None and self.provider.agency_id != self.agency_id:
            # A provider grants roles in its own agency only.
            raise ValidationError({"agency": _("An identity provider grants memberships of its own agency only.")})
        if self.pk is not None and self.role != RoleChoices.ADMIN:
            stored_role = Membership.objects.filter(pk=self.pk).values_list("role", flat=True).first()
            if stored_role == RoleChoices.ADMIN:
                self._assert_agency_keeps_an_admin()

    def kept_by(self) -> str:
        """Who keeps this membership's role, when not an admin by hand: empty for a manual membership."""
        if self.source == MembershipSourceChoices.PROVIDER:
            return _("Kept by the identity provider “%(provider)s”: the role comes from the person's groups there "
                     "through its role mappings, and is set again at each sign-in. To change it, change the "
                     "provider's role mappings or the person's groups at the provider.") % {"provider": self.provider}
        if self.source == MembershipSourceChoices.SCIM:
            from qgov.identity.scim.models import ScimUser

            names = sorted({str(scim_user.provider) for scim_user in ScimUser.objects.filter(
                identity__user_id=self.user_id, provider__agency_id=self.agency_id).select_related("provider")})
            return _("Kept by SCIM of the identity provider “%(provider)s”: the role comes from the person's groups "
                     "there through its role mappings, and is set again whenever they change. To change it, change "
                     "the provider's role mappings or the person's groups at the provider.") % {
                "provider": "”, “".join(names)}
        return ""

    def clean_update(self, changes: dict):
        """An edit by hand (form or API) may not change the role of a membership a provider keeps: its next
        sign-in or SCIM update would set it back without a word. The services that keep it save directly."""
        if "role" in changes and changes["role"] != self.role and self.source != MembershipSourceChoices.MANUAL:
            raise ValidationError({"role": self.kept_by()}, code="kept_by_provider")

    def clean_delete(self):
        if self.role == RoleChoices.ADMIN:
            self._assert_agency_keeps_an_admin()
