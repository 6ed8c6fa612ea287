from django import forms
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from qgov.forms import style_form


class ReauthForm(forms.Form):
    password = forms.CharField(label=gettext_lazy("Password"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password",
                                                                 "autofocus": True}))

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        style_form(self)

    def clean_password(self):
        password = self.cleaned_data["password"]
        user = self.request.user
        # Through the authentication backends, so failed attempts count towards the login lockout.
        if authenticate(self.request, username=user.get_username(), password=password) != user:
            raise forms.ValidationError(_("That is not your password."), code="wrong_password")
        return password
