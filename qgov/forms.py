"""The base model form every qgov form declares on, and the core's forms."""

from collections import namedtuple
from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from qgov import tokens
from qgov.autocomplete import pick_widget, scoped_choices
from qgov.choices import RoleChoices
from qgov.lifecycle import owned_fields_of
from qgov.models import Agency, Membership
from qgov.permissions import agency_ids_where
from qgov.roles import Action


def style_form(form):
    """Bootstrap classes on every widget, so templates can render fields plainly."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, (forms.CheckboxSelectMultiple, forms.RadioSelect)):
            continue  # styled by the template's option markup
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
            css = "form-select"
            if widget.allow_multiple_selected:  # searchable, keyboard-friendly (static/qgov/multiselect.js)
                widget.attrs.setdefault("data-multiselect", "")
                widget.attrs.setdefault("data-placeholder", _("Type to search…"))
                widget.attrs.setdefault("data-remove-label", _("Remove"))
        else:
            css = "form-control"
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()
    return form


class QgovModelForm(forms.ModelForm):
    """Related choices limited to what the user may see in the active agency; a hidden `version`
    lets the edit view refuse a save on top of a colleague's newer change."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user=None, agency=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.agency = user, agency
        model = self._meta.model
        for name in owned_fields_of(model):
            self.fields.pop(name, None)  # written only by the lifecycle's transitions
        if self.instance.pk is not None:
            for name in getattr(model, "create_only_fields", ()):
                if name in self.fields:
                    self.fields[name].disabled = True
        if self.instance.pk is not None:
            self.fields["version"].initial = self.instance.version
        for field in self.fields.values():
            if isinstance(field, forms.DateField):
                field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
            queryset = getattr(field, "queryset", None)
            if queryset is None:
                continue
            # People named on an agency's records are its members; records, those the user may view.
            scoped = scoped_choices(queryset, user, agency)
            if scoped is not None:
                field.queryset = scoped
            # Hundreds of records are picked by typing, not from a select of them all.
            if isinstance(field, forms.ModelChoiceField) and not field.disabled:
                pick_widget(field)
        style_form(self)

    def service_data(self) -> dict:
        """The cleaned values the create/update services apply (model fields only)."""
        return {name: self.cleaned_data[name] for name in self._meta.fields
                if name in self.cleaned_data and not self.fields[name].disabled}


class TransitionForm(forms.Form):
    """Confirms one lifecycle transition; the reason is required where the transition says so."""

    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), required=False,
                             max_length=4000)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, transition, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = transition.reason_required
        self.fields["reason"].help_text = _("Kept with the record's history and shown to the people told.")
        style_form(self)


class DayCountsField(forms.CharField):
    """A list of day counts typed as "90, 30, 7"; the model validates the values."""

    def prepare_value(self, value):
        if isinstance(value, (list, tuple)):
            return ", ".join(str(days) for days in value)
        return value

    def to_python(self, value):
        text = super().to_python(value)
        if not text:
            return []
        try:
            return [int(part) for part in text.replace(";", ",").split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError(_("Give whole numbers of days separated by commas, e.g. 90, 30, 7."),
                                        code="invalid") from None


class AgencyForm(QgovModelForm):
    reminder_thresholds = DayCountsField(
        label=Agency._meta.get_field("reminder_thresholds").verbose_name.capitalize(),
        help_text=Agency._meta.get_field("reminder_thresholds").help_text, max_length=60, required=False)

    class Meta:
        model = Agency
        fields = ["name", "code", "sector", "parent", "time_zone", "jurisdiction", "reminder_thresholds",
                  "session_idle_minutes", "session_absolute_minutes", "phishing_resistant_required", "totp_allowed",
                  "description"]


class MembershipForm(QgovModelForm):
    class Meta:
        model = Membership
        fields = ["role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kept_by = self.instance.kept_by() if self.instance.pk else ""
        if kept_by:  # said before the edit, not only as the refusal after it
            self.fields["role"].help_text = kept_by


class InviteMemberForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    email = forms.EmailField(label=_("Email"), help_text=_("New accounts receive their sign-in instructions here."))
    role = forms.ChoiceField(label=_("Role"), choices=RoleChoices.choices, initial=RoleChoices.VIEWER)

    def __init__(self, *args, agency=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency = agency
        style_form(self)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        field = get_user_model()._meta.get_field("username")
        for validator in field.validators:
            validator(username)
        if self.agency and Membership.objects.filter(agency=self.agency, user__username=username).exists():
            raise forms.ValidationError(_("This user is already a member of the agency."))
        return username


class InlineGroupsCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes of grouped choices, each group on one line (qgov/_form.html renders them)."""

    inline_groups = True

    @property
    def optgroups_for_template(self):
        return [(group, [Option(value, label) for value, label in options], index)
                for index, (group, options) in enumerate(self.choices)]


Option = namedtuple("Option", "value label")


def scope_choice_groups() -> list:
    """The token scopes a person picks from, by area: read and write everywhere, then read and write
    of each area (manage for webhooks, whose write is managing them). The API takes every spelling."""
    groups = [(_("Everywhere"), [(tokens.READ, _("read")), (tokens.WRITE, _("write (includes read)"))])]
    for area in tokens.scope_areas():
        levels = ("read", "manage") if area == "webhooks" else ("read", "write")
        groups.append((area.capitalize(), [(f"{area}:{level}", level) for level in levels]))
    return groups


class SystemTokenForm(forms.Form):
    name = forms.CharField(label=_("System name"), max_length=100, help_text=_("e.g. CMDB, SOC, purchasing"))
    agencies = forms.ModelMultipleChoiceField(
        label=_("Agencies"), queryset=Agency.objects.none(), help_text=_("The token acts in these agencies only."))
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), widget=InlineGroupsCheckboxes,
        help_text=_("read or write (which includes read) everywhere, or per area."))
    allowed_ips = forms.CharField(
        label=_("Allowed addresses"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One network in CIDR notation per line (e.g. 192.0.2.0/24); empty: any address."))
    valid_days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=tokens.MAX_LIFETIME_DAYS,
                                    initial=365)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agencies"].queryset = Agency.objects.filter(
            pk__in=agency_ids_where(user, Action.MANAGE_MEMBERS)).order_by("name")
        self.fields["scopes"].choices = scope_choice_groups()
        style_form(self)

    def clean_allowed_ips(self):
        try:
            return tokens.clean_networks(self.cleaned_data["allowed_ips"].split())
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None

    @property
    def ttl(self):
        return timedelta(days=self.cleaned_data["valid_days"])
