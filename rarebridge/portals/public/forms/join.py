"""Joining a study without an account: the public self-referral and eligibility checklist."""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

CRITERIA_LABELS = {
    "adult": _("I am 18 years or older."),
    "wants_support": _("I would like psychosocial support."),
    "life_threatening": _("My health is in a life-threatening state at the moment."),
    "acute_suicidality": _("I am having thoughts of ending my life at the moment."),
    "ongoing_psychotherapy": _("I am currently in psychotherapy."),
    "insufficient_language": _(
        "I cannot read and talk comfortably in any of the languages offered."
    ),
    "cognitive_impairment": _(
        "I have a severe difficulty with memory or thinking that a doctor has diagnosed."
    ),
}


class SelfReferralForm(forms.Form):
    site = forms.ChoiceField(label=_("Where would you take part?"))
    diagnosis = forms.ChoiceField(label=_("Which diagnosis has a doctor confirmed?"))
    adult = forms.BooleanField(label=CRITERIA_LABELS["adult"], required=False)
    wants_support = forms.BooleanField(label=CRITERIA_LABELS["wants_support"], required=False)
    life_threatening = forms.BooleanField(label=CRITERIA_LABELS["life_threatening"], required=False)
    acute_suicidality = forms.BooleanField(
        label=CRITERIA_LABELS["acute_suicidality"], required=False
    )
    ongoing_psychotherapy = forms.BooleanField(
        label=CRITERIA_LABELS["ongoing_psychotherapy"], required=False
    )
    insufficient_language = forms.BooleanField(
        label=CRITERIA_LABELS["insufficient_language"], required=False
    )
    cognitive_impairment = forms.BooleanField(
        label=CRITERIA_LABELS["cognitive_impairment"], required=False
    )
    full_name = forms.CharField(label=_("Full name"), max_length=200, required=False)
    email = forms.EmailField(label=_("E-mail address"), required=False)
    password = forms.CharField(
        label=_("Choose a password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        required=False,
    )
    language = forms.ChoiceField(label=_("Language for the study"), choices=settings.LANGUAGES)

    def __init__(self, *args, study, **kwargs):
        super().__init__(*args, **kwargs)
        language = get_language()
        self.study_sites = {
            str(s.site_id): s for s in study.study_sites.select_related("site__country")
        }
        cast(forms.ChoiceField, self.fields["site"]).choices = [("", "—")] + [
            (key, s.site.name) for key, s in self.study_sites.items()
        ]
        cast(forms.ChoiceField, self.fields["diagnosis"]).choices = (
            [("", "—")]
            + [
                (d["code"], d["title"].get(language) or d["title"]["en"])
                for d in study.definition["diagnoses"]
            ]
            + [("other", _("Another diagnosis, or none confirmed yet"))]
        )
        self.fields["language"].initial = language
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["full_name"].widget.attrs["autocomplete"] = "name"
