from django import forms
from django.utils.translation import gettext_lazy as _

from qgov.forms import QgovModelForm
from qgov.identity.providers.models import IdentityProvider


class LinesField(forms.CharField):
    """A list typed one item per line (commas also separate, when `commas`)."""

    widget = forms.Textarea(attrs={"rows": 4})

    def __init__(self, *args, commas=False, **kwargs):
        self.commas = commas
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value

    def to_python(self, value):
        text = super().to_python(value) or ""
        if self.commas:
            text = text.replace(",", "\n")
        return [line.strip() for line in text.splitlines() if line.strip()]


class RoleMappingsField(LinesField):
    """Mappings typed "group = role", one per line; the group may itself hold "=" (an LDAP DN), the role
    is after the last one. The model validates the values (never admin)."""

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(f"{m.get('claim_value')} = {m.get('role')}" for m in value if isinstance(m, dict))
        return value

    def to_python(self, value):
        mappings = []
        for line in super().to_python(value):
            claim_value, equals, role = line.rpartition("=")
            if not equals or not claim_value.strip():
                raise forms.ValidationError(
                    _("“%(line)s”: write one mapping per line as group = role, e.g. qkd-editors = editor."),
                    params={"line": line}, code="invalid")
            mappings.append({"claim_value": claim_value.strip(), "role": role.strip().lower()})
        return mappings


class IdentityProviderForm(QgovModelForm):
    client_secret = forms.CharField(
        label=_("Client secret"), required=False, max_length=500, strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("The secret the provider issued for qgov. It is stored sealed and never shown again; leave "
                    "empty to keep the current one."))
    email_domains = LinesField(
        label=_("E-mail domains"), required=False, commas=True, max_length=5000,
        help_text=IdentityProvider._meta.get_field("email_domains").help_text)
    role_mappings = RoleMappingsField(
        label=_("Role mappings"), required=False, max_length=50_000,
        help_text=_("One per line: group = role, e.g. qkd-editors = editor. Roles: viewer, auditor, editor — never "
                    "admin. Unmapped groups give nothing; with several matches the strongest role wins."))

    class Meta:
        model = IdentityProvider
        fields = ["name", "protocol", "issuer", "client_id", "saml_metadata", "saml_sso_url", "saml_certificate",
                  "saml_subject_attribute", "groups_claim", "jit_provisioning", "required_acr", "max_auth_age",
                  "email_domains", "role_mappings", "is_active"]
        widgets = {"saml_metadata": forms.Textarea(attrs={"rows": 4}),
                   "saml_certificate": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client_secret"].widget.attrs["class"] = "form-control"
        if self.instance.pk is None:
            self.fields["client_secret"].help_text = _("The secret the provider issued for qgov. It is stored "
                                                       "sealed and never shown again.")
        # The form lists the secret after the client ID.
        order = list(self.fields)
        order.remove("client_secret")
        order.insert(order.index("client_id") + 1, "client_secret")
        self.order_fields(order)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("client_secret"):  # the model's own checks (OpenID Connect: a secret is required) see it
            self.instance.client_secret = cleaned["client_secret"]
        return cleaned

    def service_data(self) -> dict:
        data = super().service_data()
        if self.cleaned_data.get("client_secret"):  # empty: the stored one stays
            data["client_secret"] = self.cleaned_data["client_secret"]
        return data
