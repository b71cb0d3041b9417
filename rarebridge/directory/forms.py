"""The directory entry forms, shared by the public suggestion page and the staff editor.

Forms validate and turn what was typed into ``EntryData``; they never save. The service
cleans and checks everything again (URL format, duplicates), and its ``ValidationError``s are
put back on the form by ``add_service_errors``.
"""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from rarebridge.conditions.models import Condition
from rarebridge.directory.models import DirectoryEntry
from rarebridge.directory.selectors import country_choices
from rarebridge.directory.services import NAME_MAX, TEXT_MAX, EntryData


class EntryForm(forms.Form):
    name = forms.CharField(label=_("Name of the organisation or group"), max_length=NAME_MAX)
    kind = forms.ChoiceField(
        label=_("What kind of organisation or group is it?"),
        choices=DirectoryEntry.Kind.choices,
        widget=forms.RadioSelect,
    )
    description = forms.CharField(
        label=_("What does it offer?"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    how_to_join = forms.CharField(
        label=_("How to join"),
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    conditions_text = forms.CharField(
        label=_("Which conditions is it for?"),
        help_text=_("Names or ORPHAcodes, separated by commas."),
        max_length=1000,
        required=False,
    )
    all_conditions = forms.BooleanField(
        label=_("For people with any rare condition"), required=False
    )
    countries = forms.MultipleChoiceField(
        label=_("Countries it serves"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    international = forms.BooleanField(label=_("Open to people in every country"), required=False)
    languages = forms.MultipleChoiceField(
        label=_("Languages it works in"),
        choices=settings.LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
    )
    website = forms.CharField(
        label=_("Website"),
        max_length=300,
        required=False,
        help_text=_("For example https://example.org"),
        widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "url"}),
    )
    contact_email = forms.EmailField(label=_("Contact e-mail address"), required=False)
    contact_phone = forms.CharField(
        label=_("Contact phone number"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )

    def __init__(self, *args, language: str = "en", **kwargs):
        super().__init__(*args, **kwargs)
        self.language = language
        countries = self.fields["countries"]
        assert isinstance(countries, forms.MultipleChoiceField)
        countries.choices = country_choices(language)

    def clean(self):
        data = super().clean() or {}
        if not data.get("international") and not data.get("countries"):
            self.add_error(
                "countries",
                _("Choose the countries it serves, or tick “Open to people in every country”."),
            )
        if not data.get("all_conditions") and not (data.get("conditions_text") or "").strip():
            self.add_error(
                "conditions_text",
                _("Name at least one condition, or tick “For people with any rare condition”."),
            )
        return data

    def to_data(self, conditions: list[Condition] | None = None) -> EntryData:
        data = self.cleaned_data
        return EntryData(
            name=data["name"],
            kind=data["kind"],
            descriptions={self.language: data.get("description", "")},
            how_to_join={self.language: data.get("how_to_join", "")},
            conditions=conditions or [],
            conditions_note=data.get("conditions_text", ""),
            all_conditions=data.get("all_conditions", False),
            countries=data.get("countries", []),
            international=data.get("international", False),
            languages=data.get("languages", []),
            contact_email=data.get("contact_email", ""),
            contact_phone=data.get("contact_phone", ""),
            website=data.get("website", ""),
        )

    def add_service_errors(self, error: ValidationError) -> None:
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)


class SuggestForm(EntryForm):
    suggester_email = forms.EmailField(
        label=_("Your e-mail address (optional)"),
        required=False,
        help_text=_("Only if we may ask you about this suggestion. It is never published."),
    )


class EntryEditForm(EntryForm):
    """For program admins: conditions by ORPHAcode, texts in a chosen language."""

    orphacodes = forms.CharField(
        label=_("ORPHAcodes of the conditions or groups"),
        help_text=_("Separated by commas, for example 171, 186."),
        required=False,
        max_length=500,
    )
    text_language = forms.ChoiceField(
        label=_("Language of the description and how to join"), choices=settings.LANGUAGES
    )

    field_order = ["name", "kind", "orphacodes", "conditions_text", "all_conditions"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["conditions_text"].label = _("Conditions, as suggested")
        self.fields["conditions_text"].help_text = ""
        self.conditions: list[Condition] = []

    def clean_orphacodes(self):
        text = (self.cleaned_data or {}).get("orphacodes", "")
        codes = [int(c) for c in re.findall(r"\d+", text)]
        found = {c.orphacode: c for c in Condition.objects.filter(orphacode__in=codes)}
        unknown = [str(c) for c in codes if c not in found]
        if unknown:
            raise ValidationError(
                _("Not in the catalogue: %(codes)s.") % {"codes": ", ".join(unknown)}
            )
        self.conditions = [found[c] for c in codes]
        return text

    def clean(self):
        data = forms.Form.clean(self) or {}
        if not data.get("international") and not data.get("countries"):
            self.add_error(
                "countries",
                _("Choose the countries it serves, or tick “Open to people in every country”."),
            )
        return data

    def to_data(self, conditions: list[Condition] | None = None) -> EntryData:
        self.language = self.cleaned_data.get("text_language") or self.language
        return super().to_data(conditions=self.conditions)

    @classmethod
    def initial_for(cls, entry: DirectoryEntry, language: str) -> dict:
        return {
            "name": entry.name,
            "kind": entry.kind,
            "description": entry.descriptions.get(language, ""),
            "how_to_join": entry.how_to_join.get(language, ""),
            "orphacodes": ", ".join(str(c.orphacode) for c in entry.conditions.all()),
            "conditions_text": entry.conditions_note,
            "all_conditions": entry.all_conditions,
            "countries": [c.code for c in entry.countries.all()],
            "international": entry.international,
            "languages": [lang.code for lang in entry.languages.all()],
            "website": entry.website,
            "contact_email": entry.contact_email,
            "contact_phone": entry.contact_phone,
            "text_language": language,
        }
