"""Safety pages: raise a concern, the alert list, an alert, supervision meetings.

Thin: a selector checks access, a service makes the change, the page renders or redirects.
The forms live here, beside the only views that use them.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rarebridge.accounts.models import User
from rarebridge.safety.models import Alert, Level, SupervisionMeeting
from rarebridge.safety.services import (
    OBSERVED_MAX_LENGTH,
)

PAGE_SIZE = 50


class ConcernForm(forms.Form):
    level = forms.ChoiceField(
        label=gettext_lazy("How urgent is it?"),
        choices=Level.choices,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Immediate danger: the person may harm themselves or others now. Call the emergency number as well."
        ),
    )
    observed = forms.CharField(
        label=gettext_lazy("What did you observe?"),
        max_length=OBSERVED_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("What the person said or did, and when. Plain text."),
    )


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"), choices=Alert.Outcome.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=gettext_lazy("What was done"),
        max_length=OBSERVED_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class SupervisionMeetingForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind of meeting"),
        choices=SupervisionMeeting.Kind.choices,
        widget=forms.RadioSelect,
    )
    held_at = forms.DateTimeField(
        label=gettext_lazy("Held on"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    topic = forms.CharField(label=gettext_lazy("Topic"), max_length=200)
    participants = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Who the meeting was for"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    present = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Who attended"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )

    def __init__(self, *args, counsellors, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("participants", "present"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelMultipleChoiceField)
            field.queryset = counsellors


class OnDutyForm(forms.Form):
    user = forms.ModelChoiceField(
        label=gettext_lazy("Supervisor on duty"), queryset=User.objects.none()
    )
    country: forms.ModelChoiceField = forms.ModelChoiceField(
        label=gettext_lazy("Country"), queryset=None
    )
    starts_at = forms.DateTimeField(
        label=gettext_lazy("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(self, *args, people, countries, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["user"]).queryset = people
        cast(forms.ModelChoiceField, self.fields["country"]).queryset = countries

    def clean(self):
        data = super().clean() or {}
        if data.get("starts_at") and data.get("ends_at") and data["starts_at"] >= data["ends_at"]:
            raise ValidationError(_("The end must be after the start."))
        return data
