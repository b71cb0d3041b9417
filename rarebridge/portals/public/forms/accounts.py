from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from rarebridge.accounts.models import User
from rarebridge.accounts.services import normalise_phone
from rarebridge.core.timezones import time_zone_choices


class PreferencesForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)

    class Meta:
        model = User
        fields = [
            "full_name",
            "preferred_name",
            "language",
            "time_zone",
            "phone",
            "text_size",
            "high_contrast",
        ]
        widgets = {"phone": forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"})}

    def clean_phone(self):
        country = None
        if hasattr(self.instance, "patient_profile"):
            country = self.instance.patient_profile.country_id
        return normalise_phone(self.cleaned_data["phone"], country_code=country)


class InvitationAcceptForm(forms.Form):
    password1 = forms.CharField(
        label=_("Choose a password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 10 characters. A few unrelated words make a strong password."),
    )
    password2 = forms.CharField(
        label=_("Type it again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        data = super().clean() or {}
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            raise ValidationError(
                _("The two passwords are not the same."), code="password_mismatch"
            )
        if p1:
            password_validation.validate_password(p1, User(email=self.email))
        return data


class EmailChangeForm(forms.Form):
    email = forms.EmailField(
        label=_("New e-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"invalid": _("Please enter an e-mail address like name@example.org.")},
    )
    password = forms.CharField(
        label=_("Your current password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        strip=False,
    )
