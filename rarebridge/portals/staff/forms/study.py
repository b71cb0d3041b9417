"""The study team's pages: recruitment, participants, screening, consent, randomisation,
data entry and export. Views fetch through the trials selectors and call one service."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

YES_NO = [("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No"))]


def _yes_no(label) -> forms.TypedChoiceField:
    """An explicit answer: no default, so an empty submit records nothing."""
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Please answer yes or no.")},
    )


class ReferralForm(forms.Form):
    """What a coordinator records at screening. Every field must be answered: nothing defaults
    to a value that would create data (no preselected site, no pre-answered criterion)."""

    CRITERIA = (
        "adult",
        "wants_support",
        "life_threatening",
        "acute_suicidality",
        "ongoing_psychotherapy",
        "insufficient_language",
        "cognitive_impairment",
    )

    site = forms.ChoiceField(label=gettext_lazy("Site"))
    diagnosis = forms.ChoiceField(label=gettext_lazy("Confirmed diagnosis"))
    adult = _yes_no(gettext_lazy("18 years or older"))
    wants_support = _yes_no(gettext_lazy("Wishes psychosocial support"))
    life_threatening = _yes_no(gettext_lazy("Life-threatening health status"))
    acute_suicidality = _yes_no(gettext_lazy("Acute suicidality"))
    ongoing_psychotherapy = _yes_no(gettext_lazy("Ongoing psychotherapy"))
    insufficient_language = _yes_no(gettext_lazy("Too little command of every offered language"))
    cognitive_impairment = _yes_no(gettext_lazy("Severe cognitive impairment"))
    full_name = forms.CharField(label=gettext_lazy("Full name"), max_length=200, required=False)
    email = forms.EmailField(label=gettext_lazy("E-mail address"), required=False)
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False)

    def __init__(self, *args, study, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.sites = {str(s.site_id): s.site for s in sites}
        choose = [("", _("Choose…"))]
        self._choice("site").choices = choose + [(k, s.name) for k, s in self.sites.items()]
        self._choice("diagnosis").choices = (
            choose
            + [
                (d["code"], d["title"].get(get_language()) or d["title"]["en"])
                for d in study.definition["diagnoses"]
            ]
            + [("other", _("Other or not confirmed"))]
        )
        self._choice("language").choices = choose + list(settings.LANGUAGES)

    def _choice(self, name: str) -> forms.ChoiceField:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        return field

    def clean(self):
        data = super().clean() or {}
        if data.get("full_name") or data.get("email"):
            for name in ("full_name", "email", "language"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("Needed to contact an eligible person."))
        return data

    def answers(self) -> dict:
        data = self.cleaned_data
        answers = {k: data[k] for k in self.CRITERIA}
        answers["diagnosis"] = data["diagnosis"]
        return answers


class AllocationTableForm(forms.Form):
    table = forms.FileField(label=gettext_lazy("Allocation table (CSV, REDCap layout)"))
