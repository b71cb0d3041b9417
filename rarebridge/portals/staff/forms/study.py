"""The study team's pages: recruitment, participants, screening, consent, randomisation,
data entry and export. Views fetch through the trials selectors and call one service."""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _


class ReferralForm(forms.Form):
    site = forms.ChoiceField(label=gettext_lazy("Site"))
    diagnosis = forms.ChoiceField(label=gettext_lazy("Confirmed diagnosis"))
    adult = forms.BooleanField(label=gettext_lazy("18 years or older"), required=False)
    wants_support = forms.BooleanField(
        label=gettext_lazy("Wishes psychosocial support"), required=False
    )
    life_threatening = forms.BooleanField(
        label=gettext_lazy("Life-threatening health status"), required=False
    )
    acute_suicidality = forms.BooleanField(label=gettext_lazy("Acute suicidality"), required=False)
    ongoing_psychotherapy = forms.BooleanField(
        label=gettext_lazy("Ongoing psychotherapy"), required=False
    )
    insufficient_language = forms.BooleanField(
        label=gettext_lazy("Too little command of every offered language"), required=False
    )
    cognitive_impairment = forms.BooleanField(
        label=gettext_lazy("Severe cognitive impairment"), required=False
    )
    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=200, required=False)
    email = forms.EmailField(label=gettext_lazy("E-mail address"), required=False)
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=settings.LANGUAGES)

    def __init__(self, *args, study, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.sites = {str(s.site_id): s.site for s in sites}
        cast(forms.ChoiceField, self.fields["site"]).choices = [
            (k, s.name) for k, s in self.sites.items()
        ]
        cast(forms.ChoiceField, self.fields["diagnosis"]).choices = [
            (d["code"], d["title"].get(get_language()) or d["title"]["en"])
            for d in study.definition["diagnoses"]
        ] + [("other", _("Other or not confirmed"))]


class AllocationTableForm(forms.Form):
    table = forms.FileField(label=gettext_lazy("Allocation table (CSV, REDCap layout)"))
