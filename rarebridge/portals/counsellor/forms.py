from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from rarebridge.conditions.selectors import conditions_named
from rarebridge.counselling.models import CallNote, CounsellorProfile

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class RuleForm(forms.Form):
    weekday = forms.TypedChoiceField(label=_("Weekday"), choices=WEEKDAYS, coerce=int)
    start = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label=_("Until"), widget=forms.TimeInput(attrs={"type": "time"}))

    def clean(self):
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] >= data["end"]:
            raise forms.ValidationError(_("The start time must be before the end time."))
        return data


class ExceptionForm(forms.Form):
    day = forms.DateField(label=_("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(
        label=_("From (leave empty for the whole day)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    end = forms.TimeField(
        label=_("Until"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    reason = forms.CharField(
        label=_("Reason (only you and your supervisor see it)"), required=False, max_length=200
    )


class NoteForm(forms.Form):
    held = forms.TypedChoiceField(
        label=_("Did the call take place?"),
        choices=[("yes", _("Yes")), ("no", _("No"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    missed_code = forms.ChoiceField(
        label=_("If not, why?"),
        choices=[("", "—"), *CallNote.MissedReason.choices],
        required=False,
    )
    missed_reason = forms.CharField(
        label=_("More about why (needed for another reason)"), required=False, max_length=300
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration in minutes"), required=False, min_value=0, max_value=180
    )
    topics = forms.MultipleChoiceField(
        label=_("Guideline topics covered"), required=False, widget=forms.CheckboxSelectMultiple
    )
    engagement = forms.TypedChoiceField(
        label=_("The patient's engagement"),
        choices=[("", "—"), *CallNote.Engagement.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    agreed_next = forms.CharField(
        label=_("Agreed for next week"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    risk = forms.ChoiceField(
        label=_("Risk question: any sign of risk to the patient's life or safety?"),
        choices=CallNote.Risk.choices,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 6}), max_length=5000
    )

    def __init__(self, *args, checklist=(), **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["topics"]).choices = [
            (item["id"], item["label"]) for item in checklist
        ]


class AmendForm(forms.Form):
    text = forms.CharField(
        label=_("Amendment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=3000
    )


class ProfileForm(forms.Form):
    languages = forms.MultipleChoiceField(
        label=_("Languages you can hold calls in"),
        choices=settings.LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
    )
    conditions = forms.CharField(
        label=_("Conditions you live with, as ORPHAcodes (one per line, e.g. ORPHA:171; optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1000,
    )
    gender = forms.ChoiceField(label=_("Gender"), choices=CounsellorProfile.Gender.choices)
    age_band = forms.ChoiceField(
        label=_("Age"), choices=[("", "—"), *CounsellorProfile.AgeBand.choices], required=False
    )
    capacity = forms.IntegerField(label=_("Most patients at once"), min_value=0, max_value=30)
    introduction = forms.CharField(
        label=_("A short introduction your patients see"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=1500,
    )

    def clean_conditions(self):
        """The catalogue conditions the lines name (an ORPHAcode or a name in any language)."""
        found, unknown = conditions_named(self.cleaned_data["conditions"].splitlines())
        if unknown:
            raise forms.ValidationError(
                _("Not found in the catalogue: %(lines)s. Use the ORPHAcode, e.g. ORPHA:171.")
                % {"lines": ", ".join(unknown)}
            )
        return found
