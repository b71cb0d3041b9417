from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from rarebridge.core.permissions import Role
from rarebridge.network.models import CrisisResource, Site
from rarebridge.network.phones import phone_normalise

ROLE_LABELS = {
    Role.PATIENT: _("Patient"),
    Role.COUNSELLOR: _("Peer counsellor"),
    Role.SUPERVISOR: _("Supervisor"),
    Role.SITE_COORDINATOR: _("Site coordinator"),
    Role.TRIAL_MANAGER: _("Trial manager"),
    Role.CARE_COORDINATOR: _("Care coordinator"),
    Role.PROGRAM_ADMIN: _("Program admin"),
}


class AuditFilterForm(forms.Form):
    person = forms.CharField(label=_("Person"), required=False)
    action = forms.CharField(label=_("Action starts with"), required=False)
    object_type = forms.CharField(label=_("Object type"), required=False)
    object_id = forms.CharField(label=_("Object id"), required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class InvitationForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"))
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none(), required=False)
    language = forms.ChoiceField(label=_("Language of the invitation"), choices=settings.LANGUAGES)

    def __init__(self, *args, roles, sites, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["role"]).choices = [
            (r.value, ROLE_LABELS[r]) for r in Role if r in roles
        ]
        cast(forms.ModelChoiceField, self.fields["site"]).queryset = sites


class CrisisResourceForm(forms.ModelForm):
    """One crisis line: the number is checked for the line's country (the instance's), the
    description and opening hours are one field per language."""

    # A crisis line's site typed without a scheme ("telefonseelsorge.de") is reached over https.
    website = forms.URLField(
        label=_("website"), max_length=200, required=False, assume_scheme="https"
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages spoken"),
        choices=settings.LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = CrisisResource
        fields = [
            "kind",
            "name",
            "phone",
            "text_number",
            "website",
            "languages",
            "hours",
            "cost",
            "position",
            "last_checked",
            "is_active",
        ]
        widgets = {
            "last_checked": forms.DateInput(attrs={"type": "date"}),
            "hours": forms.RadioSelect,
            "cost": forms.RadioSelect,
        }
        help_texts = {
            "phone": _(
                "As people in the country dial it, e.g. 0800 111 0 111, or a short number such as 112 or 116 123."
            ),
        }

    PER_LANGUAGE = {
        "descriptions": ("description", _("Description ({language})")),
        "hours_texts": ("hours_text", _("Opening hours ({language})")),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for attribute, (prefix, label) in self.PER_LANGUAGE.items():
            texts = getattr(self.instance, attribute) or {}
            for code, name in settings.LANGUAGES:
                self.fields[f"{prefix}_{code}"] = forms.CharField(
                    label=format_lazy(label, language=name),
                    required=False,
                    max_length=500,
                    initial=texts.get(code, ""),
                    widget=forms.Textarea(attrs={"rows": 2}) if prefix == "description" else None,
                )

    def clean_phone(self):
        return phone_normalise(self.cleaned_data["phone"], country_code=self.instance.country_id)

    def clean_text_number(self):
        return phone_normalise(
            self.cleaned_data["text_number"], country_code=self.instance.country_id
        )

    def clean(self):
        cleaned = super().clean() or self.cleaned_data
        for attribute, (prefix, _label) in self.PER_LANGUAGE.items():
            texts = {
                code: cleaned.get(f"{prefix}_{code}", "").strip()
                for code, _name in settings.LANGUAGES
            }
            cleaned[attribute] = {code: text for code, text in texts.items() if text}
            # The model's own check (limited hours need a text) sees the texts typed here.
            setattr(self.instance, attribute, cleaned[attribute])
        return cleaned

    def changes(self) -> dict:
        """The model's fields as typed, for the service."""
        names = [*self.Meta.fields, *self.PER_LANGUAGE]
        return {name: self.cleaned_data[name] for name in names}
