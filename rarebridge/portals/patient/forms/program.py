from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]
PARTS = [
    ("morning", _("Mornings (8-12)")),
    ("afternoon", _("Afternoons (12-17)")),
    ("evening", _("Evenings (17-20)")),
]
PART_HOURS = {
    "morning": ("08:00", "12:00"),
    "afternoon": ("12:00", "17:00"),
    "evening": ("17:00", "20:00"),
}


class MatchPreferenceForm(forms.Form):
    preferred_gender = forms.ChoiceField(
        label=_("Would you prefer a counsellor of a particular gender?"),
        choices=[("", _("No preference")), ("woman", _("A woman")), ("man", _("A man"))],
        required=False,
    )
    gender_required = forms.BooleanField(
        label=_("This is important to me: only match me with that gender"), required=False
    )
    extra_languages = forms.MultipleChoiceField(
        label=_("Other languages you could talk in"),
        choices=settings.LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    days = forms.TypedMultipleChoiceField(
        label=_("Days that suit you for calls"),
        choices=WEEKDAYS,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    parts = forms.MultipleChoiceField(
        label=_("Times of day that suit you"),
        choices=PARTS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def to_fields(self) -> dict:
        data = self.cleaned_data
        days = data["days"] or list(range(7))
        parts = data["parts"] or list(PART_HOURS)
        windows = [
            {"weekday": d, "start": PART_HOURS[p][0], "end": PART_HOURS[p][1]}
            for d in days
            for p in parts
        ]
        return {
            "preferred_gender": data["preferred_gender"],
            "gender_required": data["gender_required"] and bool(data["preferred_gender"]),
            "extra_languages": data["extra_languages"],
            "call_windows": windows,
        }


def current_preferences_initial(preference) -> dict:
    if preference is None:
        return {}
    windows = preference.call_windows or []
    parts = {
        p for p, (start, _end) in PART_HOURS.items() if any(w["start"] == start for w in windows)
    }
    return {
        "preferred_gender": preference.preferred_gender,
        "gender_required": preference.gender_required,
        "extra_languages": preference.extra_languages,
        "days": sorted({w["weekday"] for w in windows}),
        "parts": sorted(parts),
    }
