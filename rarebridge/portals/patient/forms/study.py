"""The participant's study pages: status, consent, questionnaires, withdrawal."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy


class EmailCorrectionForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Your e-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "invalid": gettext_lazy("Please enter an e-mail address like name@example.org.")
        },
    )
