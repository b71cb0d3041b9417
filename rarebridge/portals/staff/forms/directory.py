"""Directory verification and the peer-finder report queue, mounted at /staff/directory/.

Program admins (``DIRECTORY_VERIFY``) check suggested and stale entries, edit, verify or
reject them; moderators (``PEER_MODERATE``) acknowledge and close reports. Thin: a selector
checks access, a service makes the change.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from rarebridge.directory.models import PeerReport

PAGE_SIZE = 50


class RejectForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Why is it rejected?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CloseReportForm(forms.Form):
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"), choices=PeerReport.Outcome.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=gettext_lazy("What was done"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
