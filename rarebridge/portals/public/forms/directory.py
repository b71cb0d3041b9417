"""The public directory: search by condition, country and language; an entry; a condition;
suggest an entry. No sign-in needed. Thin: selectors read, one service writes."""

from __future__ import annotations

from typing import cast

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rarebridge.directory.models import DirectoryEntry
from rarebridge.directory.selectors import (
    country_choices,
    language_choices,
)

PAGE_SIZE = 20
SUGGESTIONS_PER_HOUR = 10


class SearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Condition"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("A name in any language, an abbreviation or an ORPHAcode."),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    condition = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    country = forms.ChoiceField(label=gettext_lazy("Country"), required=False)
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False)

    def __init__(self, *args, language: str, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["country"]).choices = [
            ("", _("Any country")),
            *country_choices(language),
        ]
        cast(forms.ChoiceField, self.fields["language"]).choices = [
            ("", _("Any language")),
            *language_choices(),
        ]
        cast(forms.ChoiceField, self.fields["kind"]).choices = [
            ("", _("Any kind")),
            *DirectoryEntry.Kind.choices,
        ]
