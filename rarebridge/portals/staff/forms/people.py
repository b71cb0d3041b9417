from __future__ import annotations

from typing import cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from rarebridge.core.permissions import Role
from rarebridge.network.models import CrisisResource, Site

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
    # A crisis line's site typed without a scheme ("telefonseelsorge.de") is reached over https.
    website = forms.URLField(
        label=_("website"), max_length=200, required=False, assume_scheme="https"
    )

    class Meta:
        model = CrisisResource
        fields = [
            "kind",
            "name",
            "phone",
            "text_number",
            "website",
            "hours",
            "free_of_charge",
            "position",
            "last_checked",
            "is_active",
        ]
        widgets = {"last_checked": forms.DateInput(attrs={"type": "date"})}
