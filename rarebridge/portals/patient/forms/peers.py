"""The peer finder for patients, mounted at /me/peers/: my condition, joining and leaving,
how many peers there are (never who), contact requests with double opt-in, messages inside
RareBridge, blocking and reporting; and, from week 6, the organisations and groups that fit.

Thin: a selector reads what belongs to the signed-in patient, one service writes.
"""

from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.utils.translation import get_language, gettext_lazy

from rarebridge.directory.models import PeerProfile, PeerReport
from rarebridge.directory.services import (
    ALIAS_MAX,
    MESSAGE_MAX,
    NOTE_MAX,
)


class JoinForm(forms.Form):
    condition = forms.TypedChoiceField(
        label=gettext_lazy("Find me as someone with"), coerce=int, widget=forms.RadioSelect
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Who may find me"),
        choices=PeerProfile.Scope.choices,
        widget=forms.RadioSelect,
        initial=PeerProfile.Scope.CONDITION,
    )
    languages = forms.MultipleChoiceField(
        label=gettext_lazy("Languages I can write in"),
        choices=settings.LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
    )
    alias = forms.CharField(
        label=gettext_lazy("Name shown to peers"),
        max_length=ALIAS_MAX,
        help_text=gettext_lazy(
            "Shown only to people you have both agreed to be in touch with. It does not need to be your real name."
        ),
    )
    consent = forms.BooleanField(
        label=gettext_lazy("I have read what is shared and agree to be findable by peers.")
    )

    def __init__(self, *args, conditions, **kwargs):
        super().__init__(*args, **kwargs)
        language = get_language()
        cast(forms.ChoiceField, self.fields["condition"]).choices = [
            (c.pk, c.name_in(language)) for c in conditions
        ]
        self.conditions = {c.pk: c for c in conditions}


class RequestForm(forms.Form):
    scope = forms.ChoiceField(
        label=gettext_lazy("Who would you like to meet?"),
        choices=[
            (PeerProfile.Scope.CONDITION, gettext_lazy("Someone with exactly my condition")),
            (
                PeerProfile.Scope.GROUP,
                gettext_lazy("Someone with my condition or a related one in the same group"),
            ),
        ],
        widget=forms.RadioSelect,
        initial=PeerProfile.Scope.CONDITION,
    )
    note = forms.CharField(
        label=gettext_lazy("A few words about yourself (optional)"),
        max_length=NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "The other person reads this before deciding. Please leave out your name, e-mail address, phone number and links."
        ),
    )


class MessageForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Your message"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
    )


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label=gettext_lazy("What happened?"),
        choices=PeerReport.Reason.choices,
        widget=forms.RadioSelect,
    )
    details = forms.CharField(
        label=gettext_lazy("Anything the moderators should know (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
