"""The forms of the care coordination pages (``views.care_*``), with what turns a stored
item into a form's initial values and a form's values into a service's arguments."""

from __future__ import annotations

import re
from datetime import time

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.care.content import letter_templates
from rarebridge.care.models import (
    CareNote,
    CareTeamMember,
    ClinicDay,
    ClinicInvitation,
    ClinicProfessional,
    ClinicRoom,
    RequiredAppointment,
    TeamRole,
    TravelCost,
    TravelLeg,
    TravelPlan,
)
from rarebridge.network.models import Site


class TeamMemberForm(forms.Form):
    user: forms.ModelChoiceField = forms.ModelChoiceField(
        label=gettext_lazy("Colleague with an account"),
        queryset=User.objects.none(),
        required=False,
        help_text=gettext_lazy("Their role on the team decides which notes they read."),
    )
    name = forms.CharField(
        label=gettext_lazy("Or a name (a clinician without an account)"),
        max_length=200,
        required=False,
    )
    role = forms.ChoiceField(label=gettext_lazy("Role on the team"), choices=TeamRole.choices)
    specialty = forms.CharField(label=gettext_lazy("Specialty"), max_length=120, required=False)

    def __init__(self, *args, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = staff  # type: ignore[attr-defined]


class GoalForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Goal"), max_length=200)
    owner: forms.ModelChoiceField = forms.ModelChoiceField(
        label=gettext_lazy("Owner"), queryset=CareTeamMember.objects.none(), required=False
    )
    due_on = forms.DateField(
        label=gettext_lazy("Due on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = team  # type: ignore[attr-defined]


class TaskForm(GoalForm):
    title = forms.CharField(label=gettext_lazy("Task"), max_length=200)


class NoteForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Who may read it"),
        choices=CareNote.Kind.choices,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(label=gettext_lazy("Note"), widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, clinical: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not clinical:
            self.fields["kind"].choices = [(CareNote.Kind.TEAM, CareNote.Kind.TEAM.label)]  # type: ignore[attr-defined]


class LetterForm(forms.Form):
    template = forms.ChoiceField(label=gettext_lazy("Letter"), choices=())
    school = forms.CharField(label=gettext_lazy("School"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [(k, k.replace("_", " ")) for k in letter_templates()]  # type: ignore[attr-defined]


class TravelForm(forms.Form):
    stay = forms.ChoiceField(label=gettext_lazy("Stay"), choices=TravelPlan.Stay.choices)
    stay_name = forms.CharField(label=gettext_lazy("Where"), max_length=200, required=False)
    nights = forms.IntegerField(label=gettext_lazy("Nights"), min_value=0, max_value=14)
    assistance = forms.CharField(
        label=gettext_lazy("Assistance needed"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class TravelLegForm(forms.Form):
    mode = forms.ChoiceField(label=gettext_lazy("Mode"), choices=TravelLeg.Mode.choices)
    departs_at = forms.DateTimeField(
        label=gettext_lazy("Departs"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    arrives_at = forms.DateTimeField(
        label=gettext_lazy("Arrives"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    origin = forms.CharField(label=gettext_lazy("From"), max_length=120)
    destination = forms.CharField(label=gettext_lazy("To"), max_length=120)
    paid_by = forms.ChoiceField(label=gettext_lazy("Paid by"), choices=TravelLeg.Payer.choices)
    booked = forms.BooleanField(label=gettext_lazy("Booked"), required=False)


class TravelCostForm(forms.Form):
    what = forms.CharField(label=gettext_lazy("What"), max_length=120)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount"), max_digits=8, decimal_places=2, min_value=0
    )
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3, initial="EUR")
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=TravelCost.Status.choices)


class LateForm(forms.Form):
    professional: forms.ModelChoiceField = forms.ModelChoiceField(
        label=gettext_lazy("Professional"), queryset=ClinicProfessional.objects.none()
    )
    day: forms.ModelChoiceField = forms.ModelChoiceField(
        label=gettext_lazy("Day"), queryset=ClinicDay.objects.none()
    )
    arrives = forms.TimeField(
        label=gettext_lazy("Arrives at (clinic time)"),
        widget=forms.TimeInput(attrs={"type": "time"}),
    )

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["professional"].queryset = clinic.professionals.all()  # type: ignore[attr-defined]
        self.fields["day"].queryset = clinic.days.all()  # type: ignore[attr-defined]


class ClinicForm(forms.Form):
    site = forms.ModelChoiceField(label=gettext_lazy("Site"), queryset=Site.objects.none())
    name = forms.CharField(label=gettext_lazy("Name of the clinic"), max_length=200)
    first_day = forms.DateField(
        label=gettext_lazy("First day"), widget=forms.DateInput(attrs={"type": "date"})
    )
    second_day = forms.DateField(
        label=gettext_lazy("Second day (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    opens = forms.TimeField(
        label=gettext_lazy("Opens"), initial="08:30", widget=forms.TimeInput(attrs={"type": "time"})
    )
    closes = forms.TimeField(
        label=gettext_lazy("Closes"),
        initial="17:00",
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    break_from = forms.TimeField(
        label=gettext_lazy("Team break from (optional)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    break_until = forms.TimeField(
        label=gettext_lazy("Team break until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )

    def __init__(self, *args, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites  # type: ignore[attr-defined]


# A break as typed: 10:30-10:45, with a hyphen or a dash (en or em) between the times.
BREAK = re.compile(r"(\d{1,2}):(\d{2})\s*[-\u2013\u2014]\s*(\d{1,2}):(\d{2})")


class DayForm(forms.Form):
    on = forms.DateField(label=gettext_lazy("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    opens = forms.TimeField(
        label=gettext_lazy("Opens"), initial="08:30", widget=forms.TimeInput(attrs={"type": "time"})
    )
    closes = forms.TimeField(
        label=gettext_lazy("Closes"),
        initial="17:00",
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    breaks = forms.CharField(
        label=gettext_lazy("Team breaks (optional)"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Clinic times from and until, such as 10:30-10:45, 12:30-13:00."),
    )
    fasting_by = forms.TimeField(
        label=gettext_lazy("Fasting tests start by (optional)"),
        required=False,
        help_text=gettext_lazy("Empty: two hours after opening."),
        widget=forms.TimeInput(attrs={"type": "time"}),
    )

    def clean_breaks(self) -> list[tuple[time, time]]:
        found = []
        for part in filter(
            None, (p.strip() for p in re.split(r"[,;]", self.cleaned_data["breaks"]))
        ):
            match = BREAK.fullmatch(part)
            try:
                if match is None:
                    raise ValueError(part)
                starts = time(int(match[1]), int(match[2]))
                ends = time(int(match[3]), int(match[4]))
            except ValueError:
                raise forms.ValidationError(
                    _("Write each break as from and until, such as 10:30-10:45.")
                ) from None
            if starts >= ends:
                raise forms.ValidationError(_("A break must end after it starts."))
            found.append((starts, ends))
        return sorted(found)


def day_initial(day: ClinicDay) -> dict:
    return {
        "on": day.date,
        "opens": day.opens,
        "closes": day.closes,
        "breaks": ", ".join(f"{b.starts:%H:%M}-{b.ends:%H:%M}" for b in day.breaks.all()),
        "fasting_by": day.fasting_by,
    }


class RoomForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Room"), max_length=100)
    kind = forms.CharField(
        label=gettext_lazy("Kind"),
        max_length=60,
        initial="consulting",
        help_text=gettext_lazy("Appointments that need a kind of room (phlebotomy, gym) name it."),
    )
    step_free = forms.BooleanField(label=gettext_lazy("Step-free"), required=False, initial=True)


class ProfessionalForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    discipline = forms.CharField(label=gettext_lazy("Discipline"), max_length=120)
    rooms: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Rooms they can use (none: any)"),
        queryset=ClinicRoom.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    present_from = forms.TimeField(
        label=gettext_lazy("Present from (empty: all opening hours)"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    present_until = forms.TimeField(
        label=gettext_lazy("Present until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
    )
    days: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        label=gettext_lazy("On these days (none: every day)"),
        queryset=ClinicDay.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    HOURS = ("present_from", "present_until", "days")

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rooms"].queryset = clinic.rooms.all()  # type: ignore[attr-defined]
        self.fields["days"].queryset = clinic.days.all()  # type: ignore[attr-defined]

    def clean(self):
        data = super().clean() or {}
        start, end = data.get("present_from"), data.get("present_until")
        if bool(start) != bool(end) or (start and end and start >= end):
            raise forms.ValidationError(_("Give both times, the first before the second."))
        return data


def professional_shifts(clinic, data) -> list:
    """The professional's hours: the same times on each chosen day (all days by default)."""
    if not data["present_from"]:
        if data["days"]:
            return [(d, d.opens, d.closes) for d in data["days"]]
        return []
    days = list(data["days"]) or list(clinic.days.all())
    return [(d, data["present_from"], data["present_until"]) for d in days]


def professional_initial(pro: ClinicProfessional) -> dict:
    """The form's view of their hours: the form gives one time range for the chosen days, so
    hours that differ by day show the first day's; they change only when these fields do."""
    shifts = list(pro.shifts.all())
    initial: dict = {
        "name": pro.name,
        "discipline": pro.discipline,
        "rooms": [r.pk for r in pro.rooms.all()],
        "days": sorted({s.day_id for s in shifts}),
    }
    if shifts and not all((s.starts, s.ends) == (s.day.opens, s.day.closes) for s in shifts):
        initial.update(present_from=shifts[0].starts, present_until=shifts[0].ends)
    return initial


class InviteForm(forms.Form):
    patient: forms.ModelChoiceField = forms.ModelChoiceField(
        label=gettext_lazy("Patient"), queryset=PatientProfile.objects.none()
    )
    days: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Attends on (none: every clinic day)"),
        queryset=ClinicDay.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    step_free = forms.BooleanField(label=gettext_lazy("Needs step-free rooms"), required=False)
    max_hours_a_day = forms.DecimalField(
        label=gettext_lazy("At most this many hours on site a day"),
        required=False,
        max_digits=3,
        decimal_places=1,
        min_value=1,
    )
    family = forms.CharField(
        label=gettext_lazy("Family (same label for brothers and sisters)"),
        max_length=40,
        required=False,
    )
    round_table_minutes = forms.IntegerField(
        label=gettext_lazy("Closing round table, minutes (0: none)"),
        min_value=0,
        max_value=120,
        initial=15,
    )
    round_table_team: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Round table team"),
        queryset=ClinicProfessional.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, clinic, patients=None, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["patient"]  # an invitation stays the same patient's
        else:
            self.fields["patient"].queryset = patients  # type: ignore[attr-defined]
        self.fields["days"].queryset = clinic.days.all()  # type: ignore[attr-defined]
        self.fields["round_table_team"].queryset = clinic.professionals.all()  # type: ignore[attr-defined]


def invitation_initial(invitation: ClinicInvitation) -> dict:
    return {
        "days": [d.pk for d in invitation.days.all()],
        "step_free": invitation.step_free,
        "max_hours_a_day": invitation.max_hours_a_day,
        "family": invitation.family,
        "round_table_minutes": invitation.round_table_minutes,
        "round_table_team": [p.pk for p in invitation.round_table_team.all()],
    }


class InvitationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.patient.user.full_name


class AppointmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.invitation.patient.code}: {obj.label}"


# The name of an appointment for families who read another language than the one staff wrote
# it in; empty, they read the name as written.
OTHER_LANGUAGES = [(code, name) for code, name in settings.LANGUAGES if code != "en"]


class AppointmentForm(forms.Form):
    invitation: forms.ModelChoiceField = InvitationChoiceField(
        label=gettext_lazy("For"), queryset=ClinicInvitation.objects.none()
    )
    label = forms.CharField(label=gettext_lazy("Consultation or test"), max_length=120)
    minutes = forms.IntegerField(label=gettext_lazy("Minutes"), min_value=5, max_value=240)
    professionals: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Seen by one of"),
        queryset=ClinicProfessional.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    room_kind = forms.CharField(
        label=gettext_lazy("Needs a room of kind (optional)"), max_length=60, required=False
    )
    fasting = forms.BooleanField(label=gettext_lazy("Fasting test"), required=False)
    rest_after_minutes = forms.IntegerField(
        label=gettext_lazy("Rest afterwards, minutes"), min_value=0, max_value=120, initial=0
    )
    after: forms.ModelChoiceField = AppointmentChoiceField(
        label=gettext_lazy("Only after (the same patient's)"),
        queryset=RequiredAppointment.objects.none(),
        required=False,
    )
    gap_minutes = forms.IntegerField(
        label=gettext_lazy("At least this many minutes after"),
        min_value=0,
        max_value=480,
        initial=0,
    )

    def __init__(self, *args, clinic, appointment: RequiredAppointment | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        after = RequiredAppointment.objects.filter(invitation__clinic=clinic)
        if appointment is not None:
            del self.fields["invitation"]  # an appointment stays the same patient's
            after = after.filter(invitation=appointment.invitation_id).exclude(pk=appointment.pk)
        else:
            self.fields["invitation"].queryset = clinic.invitations.select_related("patient__user")  # type: ignore[attr-defined]
        self.fields["professionals"].queryset = clinic.professionals.all()  # type: ignore[attr-defined]
        self.fields["after"].queryset = after.select_related("invitation__patient")  # type: ignore[attr-defined]
        for code, name in OTHER_LANGUAGES:
            self.fields[f"label_{code}"] = forms.CharField(
                label=name, max_length=120, required=False
            )

    def language_fields(self) -> list:
        return [self[f"label_{code}"] for code, _name in OTHER_LANGUAGES]

    def main_fields(self) -> list:
        return [f for f in self if not f.name.startswith("label_")]

    def labels(self) -> dict[str, str]:
        return {code: self.cleaned_data[f"label_{code}"] for code, _name in OTHER_LANGUAGES}


def appointment_initial(appointment: RequiredAppointment) -> dict:
    return {
        "label": appointment.label,
        "minutes": appointment.minutes,
        "professionals": [p.pk for p in appointment.professionals.all()],
        "room_kind": appointment.room_kind,
        "fasting": appointment.fasting,
        "rest_after_minutes": appointment.rest_after_minutes,
        "after": appointment.after_id,
        "gap_minutes": appointment.gap_minutes,
        **{
            f"label_{code}": (appointment.labels or {}).get(code, "")
            for code, _name in OTHER_LANGUAGES
        },
    }
