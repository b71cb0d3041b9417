"""Care coordination pages: a patient's care page (team, plan, notes, timeline, checklists,
letters), clinic planning, itineraries, day sheets and travel. Mounted at /staff/care/.

Thin: a selector checks access, a service makes the change, the page renders or redirects.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.accounts.selectors import sites_for_user
from rarebridge.care.content import (
    benefits_checklist,
    letter_templates,
    transition_milestones,
    travel_checklist,
)
from rarebridge.care.documents import itinerary_context, itinerary_ics, itinerary_pdf
from rarebridge.care.models import (
    CareNote,
    CareTeamMember,
    ChecklistEntry,
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
from rarebridge.care.selectors import (
    appointment_get_for_user,
    can_read_clinical_notes,
    care_patient_get_for_user,
    care_patients_for_user,
    care_staff_for_user,
    checklist_state,
    clinic_busy,
    clinic_get_for_user,
    clinic_overview,
    clinic_progress,
    clinic_setup_item_get,
    clinic_setup_usage,
    clinics_for_user,
    day_sheets,
    explanations_for,
    goal_get_for_user,
    goals_for,
    invitation_get_for_user,
    notes_for_user,
    professional_get,
    room_get,
    task_get_for_user,
    team_for,
    timeline_for,
    travel_for,
)
from rarebridge.care.services import (
    appointment_cancel,
    appointment_remove,
    appointment_require,
    appointment_update,
    checklist_set,
    clinic_create,
    clinic_day_add,
    clinic_day_remove,
    clinic_day_update,
    clinic_invitation_remove,
    clinic_invitation_update,
    clinic_invite,
    clinic_itineraries_send,
    clinic_plan_request,
    clinic_professional_add,
    clinic_professional_remove,
    clinic_professional_update,
    clinic_replan_request,
    clinic_room_add,
    clinic_room_remove,
    clinic_room_update,
    goal_add,
    invitation_cancel,
    letter_write,
    note_add,
    professional_late,
    task_add,
    task_complete,
    team_member_add,
    travel_cost_add,
    travel_cost_status_set,
    travel_leg_add,
    travel_plan_set,
)
from rarebridge.core.permissions import Perm, user_has_perm
from rarebridge.network.models import Site
from rarebridge.portals.decorators import staff_required


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


def _day_initial(day: ClinicDay) -> dict:
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


def _shifts(clinic, data) -> list:
    """The professional's hours: the same times on each chosen day (all days by default)."""
    if not data["present_from"]:
        if data["days"]:
            return [(d, d.opens, d.closes) for d in data["days"]]
        return []
    days = list(data["days"]) or list(clinic.days.all())
    return [(d, data["present_from"], data["present_until"]) for d in days]


def _professional_initial(pro: ClinicProfessional) -> dict:
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


def _invitation_initial(invitation: ClinicInvitation) -> dict:
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


def _appointment_initial(appointment: RequiredAppointment) -> dict:
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


# --- overview and the patient's care page --------------------------------------------------


@require_GET
@staff_required
def home(request):
    if not user_has_perm(request.user, Perm.CARE_VIEW):
        raise PermissionDenied
    query = request.GET.get("q", "").strip()
    patients = care_patients_for_user(user=request.user).order_by("code")
    if query:
        patients = patients.filter(code__icontains=query) | patients.filter(
            user__full_name__icontains=query
        )
    return render(
        request,
        "care/home.html",
        {
            "clinics": clinics_for_user(user=request.user)[:50],
            "patients": patients.filter(care_team__isnull=False).distinct()[:50]
            if not query
            else patients[:50],
            "query": query,
            "clinic_form": ClinicForm(sites=sites_for_user(user=request.user), prefix="clinic")
            if user_has_perm(request.user, Perm.CARE_MANAGE)
            else None,
        },
    )


@require_POST
@staff_required
def clinic_new(request):
    if not user_has_perm(request.user, Perm.CARE_MANAGE):
        raise PermissionDenied
    form = ClinicForm(request.POST, sites=sites_for_user(user=request.user), prefix="clinic")
    if form.is_valid():
        data = form.cleaned_data
        breaks = (
            [(data["break_from"], data["break_until"])]
            if data["break_from"] and data["break_until"]
            else []
        )
        try:
            with transaction.atomic():
                found = clinic_create(site=data["site"], name=data["name"], by=request.user)
                for day in filter(None, (data["first_day"], data["second_day"])):
                    clinic_day_add(
                        clinic=found,
                        day=day,
                        opens=data["opens"],
                        closes=data["closes"],
                        breaks=breaks,
                        by=request.user,
                    )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("care:clinic_setup", found.pk)
    return render(
        request,
        "care/home.html",
        {
            "clinics": clinics_for_user(user=request.user)[:50],
            "patients": [],
            "query": "",
            "clinic_form": form,
        },
        status=400,
    )


# --- clinic set-up: add, change and remove days, rooms, professionals, families and what
# each needs. A form that does not validate comes back as typed, with its errors.


def _invite_data(data) -> dict:
    return {
        "days": list(data["days"]),
        "step_free": data["step_free"],
        "max_hours_a_day": data["max_hours_a_day"],
        "family": data["family"],
        "round_table_minutes": data["round_table_minutes"],
        "round_table_team": list(data["round_table_team"]),
    }


def _appointment_data(form) -> dict:
    data = form.cleaned_data
    return {
        "label": data["label"],
        "labels": form.labels(),
        "minutes": data["minutes"],
        "professionals": list(data["professionals"]),
        "room_kind": data["room_kind"],
        "fasting": data["fasting"],
        "rest_after_minutes": data["rest_after_minutes"],
        "after": data["after"],
        "gap_minutes": data["gap_minutes"],
    }


def _day_data(data) -> dict:
    return {
        "opens": data["opens"],
        "closes": data["closes"],
        "breaks": data["breaks"],
        "fasting_by": data["fasting_by"],
    }


@dataclass(frozen=True)
class SetupKind:
    """How the set-up page adds, changes and removes one kind of thing."""

    form: type[forms.Form]
    add: Callable[..., Any]  # (clinic, form, by, request)
    update: Callable[..., Any]  # (item, form, by, request)
    remove: Callable[..., Any]  # (item, by, request)
    initial: Callable[[Any], dict]
    name: Callable[[Any], str]


SETUP = {
    "day": SetupKind(
        form=DayForm,
        add=lambda clinic, form, by, request: clinic_day_add(
            clinic=clinic,
            day=form.cleaned_data["on"],
            by=by,
            request=request,
            **_day_data(form.cleaned_data),
        ),
        update=lambda day, form, by, request: clinic_day_update(
            day=day,
            on=form.cleaned_data["on"],
            by=by,
            request=request,
            **_day_data(form.cleaned_data),
        ),
        remove=lambda day, by, request: clinic_day_remove(day=day, by=by, request=request),
        initial=_day_initial,
        name=lambda day: date_format(day.date, "DATE_FORMAT"),
    ),
    "room": SetupKind(
        form=RoomForm,
        add=lambda clinic, form, by, request: clinic_room_add(
            clinic=clinic, by=by, request=request, **form.cleaned_data
        ),
        update=lambda room, form, by, request: clinic_room_update(
            room=room, by=by, request=request, **form.cleaned_data
        ),
        remove=lambda room, by, request: clinic_room_remove(room=room, by=by, request=request),
        initial=lambda room: {"name": room.name, "kind": room.kind, "step_free": room.step_free},
        name=lambda room: room.name,
    ),
    "professional": SetupKind(
        form=ProfessionalForm,
        add=lambda clinic, form, by, request: clinic_professional_add(
            clinic=clinic,
            by=by,
            request=request,
            name=form.cleaned_data["name"],
            discipline=form.cleaned_data["discipline"],
            rooms=list(form.cleaned_data["rooms"]),
            shifts=_shifts(clinic, form.cleaned_data),
        ),
        update=lambda pro, form, by, request: clinic_professional_update(
            professional=pro,
            by=by,
            request=request,
            name=form.cleaned_data["name"],
            discipline=form.cleaned_data["discipline"],
            rooms=list(form.cleaned_data["rooms"]),
            # Hours the form cannot show exactly stay as they are unless these fields change.
            shifts=_shifts(pro.clinic, form.cleaned_data)
            if set(ProfessionalForm.HOURS) & set(form.changed_data)
            else None,
        ),
        remove=lambda pro, by, request: clinic_professional_remove(
            professional=pro, by=by, request=request
        ),
        initial=_professional_initial,
        name=lambda pro: pro.name,
    ),
    "invite": SetupKind(
        form=InviteForm,
        add=lambda clinic, form, by, request: clinic_invite(
            clinic=clinic,
            by=by,
            request=request,
            patient=form.cleaned_data["patient"],
            **_invite_data(form.cleaned_data),
        ),
        update=lambda invitation, form, by, request: clinic_invitation_update(
            invitation=invitation,
            by=by,
            request=request,
            lunch_minutes=invitation.lunch_minutes,
            **_invite_data(form.cleaned_data),
        ),
        remove=lambda invitation, by, request: clinic_invitation_remove(
            invitation=invitation, by=by, request=request
        ),
        initial=_invitation_initial,
        name=lambda invitation: invitation.patient.user.full_name,
    ),
    "appointment": SetupKind(
        form=AppointmentForm,
        add=lambda clinic, form, by, request: appointment_require(
            invitation=form.cleaned_data["invitation"],
            by=by,
            request=request,
            **_appointment_data(form),
        ),
        update=lambda appointment, form, by, request: appointment_update(
            appointment=appointment, by=by, request=request, **_appointment_data(form)
        ),
        remove=lambda appointment, by, request: appointment_remove(
            appointment=appointment, by=by, request=request
        ),
        initial=_appointment_initial,
        name=lambda appointment: (
            _("“%(what)s” for %(name)s")
            % {"what": appointment.label, "name": appointment.invitation.patient.user.full_name}
        ),
    ),
}


def _setup_form(kind: str, clinic, request, data=None, item=None):
    """The add form of ``kind``, or with ``item`` the form changing it."""
    kwargs: dict = {"prefix": kind, "data": data}
    if kind in ("professional", "appointment", "invite"):
        kwargs["clinic"] = clinic
    if kind == "invite":
        if item is not None:
            kwargs["editing"] = True
        else:
            kwargs["patients"] = care_patients_for_user(user=request.user).filter(
                site=clinic.site_id
            )
    if kind == "appointment" and item is not None:
        kwargs["appointment"] = item
    if item is not None:
        kwargs["initial"] = SETUP[kind].initial(item)
    return SETUP[kind].form(**kwargs)


def _setup_page(request, clinic, *, forms_=None, editing=None, error=None, status=200):
    forms_ = forms_ or {}
    return render(
        request,
        "care/clinic_setup.html",
        {
            "clinic": clinic,
            "forms": {
                kind: forms_.get(kind) or _setup_form(kind, clinic, request) for kind in SETUP
            },
            "editing": editing,
            "error": error,
            "used": clinic_setup_usage(clinic=clinic),
            "can_manage": user_has_perm(request.user, Perm.CARE_MANAGE),
            **clinic_overview(clinic=clinic),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def clinic_setup(request, clinic_id: int):
    """Days, rooms, professionals, invited patients and what each needs; then plan."""
    need = Perm.CARE_MANAGE if request.method == "POST" else Perm.CARE_VIEW
    found = clinic_get_for_user(user=request.user, id=clinic_id, need=need)
    if request.method == "GET":
        return _setup_page(request, found)
    kind = request.POST.get("form", "")
    if kind not in SETUP:
        raise Http404
    form = _setup_form(kind, found, request, request.POST)
    if form.is_valid():
        try:
            SETUP[kind].add(found, form, request.user, request)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, _("Saved. Plan the clinic again when the set-up is complete.")
            )
            return redirect("care:clinic_setup", found.pk)
    return _setup_page(request, found, forms_={kind: form}, status=400)


@require_http_methods(["GET", "POST"])
@staff_required
def clinic_setup_edit(request, clinic_id: int, kind: str, item_id: int):
    """Change one day, room, professional, invitation or appointment."""
    found = clinic_get_for_user(user=request.user, id=clinic_id, need=Perm.CARE_MANAGE)
    item = clinic_setup_item_get(clinic=found, kind=kind, id=item_id)
    form = _setup_form(
        kind, found, request, request.POST if request.method == "POST" else None, item=item
    )
    if request.method == "POST" and form.is_valid():
        try:
            SETUP[kind].update(item, form, request.user, request)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("care:clinic_setup", found.pk)
    editing = {"kind": kind, "item": item, "name": SETUP[kind].name(item)}
    return _setup_page(
        request,
        found,
        forms_={kind: form},
        editing=editing,
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@staff_required
def clinic_setup_remove(request, clinic_id: int, kind: str, item_id: int):
    found = clinic_get_for_user(user=request.user, id=clinic_id, need=Perm.CARE_MANAGE)
    item = clinic_setup_item_get(clinic=found, kind=kind, id=item_id)
    name = SETUP[kind].name(item)
    try:
        SETUP[kind].remove(item, request.user, request)
    except ValidationError as exc:
        found.refresh_from_db()
        return _setup_page(request, found, error=" ".join(exc.messages), status=400)
    messages.success(request, _("%(name)s was removed.") % {"name": name})
    return redirect("care:clinic_setup", found.pk)


def _patient_page(request, patient, *, forms_: dict | None = None, status: int = 200):
    clinical = can_read_clinical_notes(user=request.user, patient=patient)
    team = team_for(patient=patient)
    can_manage = user_has_perm(request.user, Perm.CARE_MANAGE)
    language = translation.get_language()
    transition_state = checklist_state(patient=patient, kind=ChecklistEntry.Kind.TRANSITION)
    benefits_state = checklist_state(patient=patient, kind=ChecklistEntry.Kind.BENEFITS)
    forms_ = forms_ or {}
    return render(
        request,
        "care/patient.html",
        {
            "patient": patient,
            "team": team,
            "goals": [
                (goal, TaskForm(team=team, prefix=f"task-{goal.pk}"))
                for goal in goals_for(patient=patient)
            ],
            "notes": notes_for_user(user=request.user, patient=patient)[:50],
            "clinical": clinical,
            "timeline": timeline_for(patient=patient),
            "can_manage": can_manage,
            "member_form": forms_.get("member")
            or TeamMemberForm(staff=care_staff_for_user(user=request.user), prefix="member"),
            "goal_form": forms_.get("goal") or GoalForm(team=team, prefix="goal"),
            "note_form": forms_.get("note") or NoteForm(clinical=clinical, prefix="note"),
            "letter_form": forms_.get("letter") or LetterForm(prefix="letter"),
            "letters": patient.school_letters.all()[:10],
            "transition": [
                {
                    **stage,
                    "items": [
                        {**item, "entry": transition_state.get(item["key"])}
                        for item in stage["items"]
                    ],
                }
                for stage in transition_milestones(language=language)
            ],
            "benefits": [
                {**item, "entry": benefits_state.get(item["key"])}
                for item in benefits_checklist(country=patient.country_id, language=language)
            ],
            "statuses": ChecklistEntry.Status.choices,
            "invitations": patient.clinic_invitations.select_related("clinic"),
        },
        status=status,
    )


@require_GET
@staff_required
def patient(request, patient_id: int):
    found = care_patient_get_for_user(user=request.user, id=patient_id, request=request)
    return _patient_page(request, found)


def _managed(request, patient_id: int):
    return care_patient_get_for_user(
        user=request.user, id=patient_id, need=Perm.CARE_MANAGE, request=request
    )


@require_POST
@staff_required
def team_member_add_view(request, patient_id: int):
    found = _managed(request, patient_id)
    form = TeamMemberForm(
        request.POST, staff=care_staff_for_user(user=request.user), prefix="member"
    )
    if form.is_valid():
        try:
            team_member_add(patient=found, by=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
    if form.errors:
        return _patient_page(request, found, forms_={"member": form}, status=400)
    messages.success(request, _("Added to the care team."))
    return redirect("care:patient", found.pk)


@require_POST
@staff_required
def goal_add_view(request, patient_id: int):
    found = _managed(request, patient_id)
    form = GoalForm(request.POST, team=team_for(patient=found), prefix="goal")
    if not form.is_valid():
        return _patient_page(request, found, forms_={"goal": form}, status=400)
    goal_add(patient=found, by=request.user, request=request, **form.cleaned_data)
    messages.success(request, _("Goal added to the case plan."))
    return redirect("care:patient", found.pk)


@require_POST
@staff_required
def task_add_view(request, goal_id: int):
    goal = goal_get_for_user(user=request.user, id=goal_id)
    form = TaskForm(request.POST, team=team_for(patient=goal.patient), prefix=f"task-{goal.pk}")
    if form.is_valid():
        task_add(goal=goal, by=request.user, request=request, **form.cleaned_data)
        messages.success(request, _("Task added."))
    else:
        messages.error(request, _("The task needs a title."))
    return redirect("care:patient", goal.patient_id)


@require_POST
@staff_required
def task_done_view(request, task_id: int):
    task = task_get_for_user(user=request.user, id=task_id)
    task_complete(task=task, by=request.user, request=request)
    return redirect("care:patient", task.goal.patient_id)


@require_POST
@staff_required
def note_add_view(request, patient_id: int):
    found = _managed(request, patient_id)
    clinical = can_read_clinical_notes(user=request.user, patient=found)
    form = NoteForm(request.POST, clinical=clinical, prefix="note")
    if not form.is_valid():
        return _patient_page(request, found, forms_={"note": form}, status=400)
    note_add(patient=found, by=request.user, request=request, **form.cleaned_data)
    messages.success(request, _("Note saved."))
    return redirect("care:patient", found.pk)


@require_POST
@staff_required
def checklist_set_view(request, patient_id: int):
    found = _managed(request, patient_id)
    kind = request.POST.get("kind", "")
    status = request.POST.get("status", "")
    key = request.POST.get("key", "")[:80]
    if (
        kind not in ChecklistEntry.Kind.values
        or status not in ChecklistEntry.Status.values
        or not key
    ):
        messages.error(request, _("That checklist change was not understood."))
    else:
        checklist_set(
            patient=found, by=request.user, kind=kind, key=key, status=status, request=request
        )
    back = request.POST.get("back")
    if back == "travel" and request.POST.get("invitation"):
        return redirect("care:travel", int(request.POST["invitation"]))
    return redirect("care:patient", found.pk)


@require_POST
@staff_required
def letter_write_view(request, patient_id: int):
    found = _managed(request, patient_id)
    form = LetterForm(request.POST, prefix="letter")
    if not form.is_valid():
        return _patient_page(request, found, forms_={"letter": form}, status=400)
    letter = letter_write(patient=found, by=request.user, request=request, **form.cleaned_data)
    messages.success(request, _("The letter was written in the family's language."))
    return redirect("care:letter", found.pk, letter.pk)


@require_GET
@staff_required
def letter(request, patient_id: int, letter_id: int):
    found = care_patient_get_for_user(user=request.user, id=patient_id, request=request)
    letter = found.school_letters.filter(pk=letter_id).first()
    if letter is None:
        raise Http404
    return render(request, "care/letter.html", {"patient": found, "letter": letter})


# --- clinics ------------------------------------------------------------------------------


def _clinic_page(request, clinic, *, late_form=None, status=200):
    return render(
        request,
        "care/clinic.html",
        {
            "clinic": clinic,
            **clinic_overview(clinic=clinic),
            **clinic_progress(clinic=clinic),
            "explanations": explanations_for(clinic=clinic),
            "can_manage": user_has_perm(request.user, Perm.CARE_MANAGE),
            "late_form": late_form or LateForm(clinic=clinic),
        },
        status=status,
    )


@require_GET
@staff_required
def clinic(request, clinic_id: int):
    return _clinic_page(request, clinic_get_for_user(user=request.user, id=clinic_id))


@require_GET
@staff_required
def clinic_progress_view(request, clinic_id: int):
    """Polled by the clinic page while it plans: nothing while busy, then reload the page."""
    found = clinic_get_for_user(user=request.user, id=clinic_id)
    if not request.headers.get("HX-Request"):
        return redirect("care:clinic", found.pk)
    if clinic_busy(clinic=found):
        return HttpResponse(status=204)
    response = HttpResponse()
    response["HX-Refresh"] = "true"
    return response


def _try(request, action, success: str) -> None:
    """Run one service; its refusal becomes the page's error message."""
    try:
        result = action()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return None
    messages.success(request, success)
    return result


REPLANNING = gettext_lazy(
    "The clinic is being re-planned in the background; people whose times change will be told."
)


@require_POST
@staff_required
def clinic_plan_view(request, clinic_id: int):
    found = clinic_get_for_user(user=request.user, id=clinic_id, need=Perm.CARE_MANAGE)
    _try(
        request,
        lambda: clinic_plan_request(clinic=found, by=request.user, request=request),
        _("Planning has started. It takes up to ten seconds; this page shows the result."),
    )
    return redirect("care:clinic", found.pk)


@require_POST
@staff_required
def clinic_replan_view(request, clinic_id: int):
    """Re-plan with a changed set-up, keeping families' times where possible."""
    found = clinic_get_for_user(user=request.user, id=clinic_id, need=Perm.CARE_MANAGE)
    _try(
        request,
        lambda: clinic_replan_request(clinic=found, by=request.user, request=request),
        str(REPLANNING),
    )
    return redirect("care:clinic", found.pk)


@require_POST
@staff_required
def clinic_send_view(request, clinic_id: int):
    found = clinic_get_for_user(user=request.user, id=clinic_id, need=Perm.CARE_MANAGE)
    try:
        told = clinic_itineraries_send(clinic=found, by=request.user, request=request)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            ngettext(
                "%(n)s family was sent their itinerary.",
                "%(n)s families were sent their itinerary.",
                told,
            )
            % {"n": told},
        )
    return redirect("care:clinic", found.pk)


@require_POST
@staff_required
def appointment_cancel_view(request, appointment_id: int):
    appointment = appointment_get_for_user(user=request.user, id=appointment_id)
    clinic_id = appointment.invitation.clinic_id
    planned = appointment.invitation.clinic.has_timetable
    _try(
        request,
        lambda: appointment_cancel(appointment=appointment, by=request.user, request=request),
        _("The appointment is cancelled.") + (" " + str(REPLANNING) if planned else ""),
    )
    return redirect("care:clinic", clinic_id)


@require_POST
@staff_required
def invitation_cancel_view(request, invitation_id: int):
    invitation = invitation_get_for_user(
        user=request.user, id=invitation_id, need=Perm.CARE_MANAGE, request=request
    )
    clinic_get_for_user(user=request.user, id=invitation.clinic_id, need=Perm.CARE_MANAGE)
    planned = invitation.clinic.has_timetable
    _try(
        request,
        lambda: invitation_cancel(invitation=invitation, by=request.user, request=request),
        _("The family is taken off the clinic; their travel record is kept.")
        + (" " + str(REPLANNING) if planned else ""),
    )
    return redirect("care:clinic", invitation.clinic_id)


@require_POST
@staff_required
def professional_late_view(request, clinic_id: int):
    found = clinic_get_for_user(user=request.user, id=clinic_id, need=Perm.CARE_MANAGE)
    form = LateForm(request.POST, clinic=found)
    if not form.is_valid():
        return _clinic_page(request, found, late_form=form, status=400)
    try:
        professional_late(by=request.user, request=request, **form.cleaned_data)
    except ValidationError as exc:
        form.add_error(None, exc)
        return _clinic_page(request, found, late_form=form, status=400)
    messages.success(request, _("The late arrival is recorded.") + " " + str(REPLANNING))
    return redirect("care:clinic", found.pk)


# --- itineraries, day sheets, travel ------------------------------------------------------


@require_GET
@staff_required
def itinerary(request, invitation_id: int):
    invitation = invitation_get_for_user(user=request.user, id=invitation_id, request=request)
    # The page is the family's version, in the family's language, as they will print it.
    language = invitation.patient.user.language
    with translation.override(language):
        return render(
            request,
            "care/itinerary.html",
            {
                **itinerary_context(invitation=invitation, language=language),
                "large": request.GET.get("print") == "large",
                "pdf_url": "care:itinerary_pdf",
                "ics_url": "care:itinerary_ics",
                "page_url": "care:itinerary",
                "staff_view": True,
            },
        )


@require_GET
@staff_required
def itinerary_pdf_view(request, invitation_id: int):
    invitation = invitation_get_for_user(user=request.user, id=invitation_id, request=request)
    pdf = itinerary_pdf(
        invitation=invitation,
        language=invitation.patient.user.language,
        large=request.GET.get("print") == "large",
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="itinerary-{invitation.pk}.pdf"'
    return response


@require_GET
@staff_required
def itinerary_ics_view(request, invitation_id: int):
    invitation = invitation_get_for_user(user=request.user, id=invitation_id, request=request)
    response = HttpResponse(
        itinerary_ics(invitation=invitation, language=invitation.patient.user.language),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="itinerary-{invitation.pk}.ics"'
    return response


@require_GET
@staff_required
def professional_sheet(request, clinic_id: int, professional_id: int):
    found = clinic_get_for_user(user=request.user, id=clinic_id)
    pro = professional_get(clinic=found, id=professional_id)
    return render(
        request,
        "care/day_sheet.html",
        {
            "clinic": found,
            "owner": pro,
            "days": day_sheets(clinic=found, user=request.user, professional=pro, request=request),
        },
    )


@require_GET
@staff_required
def room_sheet(request, clinic_id: int, room_id: int):
    found = clinic_get_for_user(user=request.user, id=clinic_id)
    room = room_get(clinic=found, id=room_id)
    return render(
        request,
        "care/day_sheet.html",
        {
            "clinic": found,
            "owner": room,
            "is_room": True,
            "days": day_sheets(clinic=found, user=request.user, room=room, request=request),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required
def travel(request, invitation_id: int):
    need = Perm.CARE_MANAGE if request.method == "POST" else Perm.CARE_VIEW
    invitation = invitation_get_for_user(
        user=request.user, id=invitation_id, need=need, request=request
    )
    plan = travel_for(invitation=invitation)
    initial = (
        {
            "stay": plan.stay,
            "stay_name": plan.stay_name,
            "nights": plan.nights,
            "assistance": plan.assistance,
        }
        if plan
        else {"stay": TravelPlan.Stay.NONE, "nights": 0}
    )
    which = request.POST.get("form", "plan") if request.method == "POST" else ""
    form = TravelForm(request.POST if which == "plan" else None, initial=initial, prefix="plan")
    leg_form = TravelLegForm(request.POST if which == "leg" else None, prefix="leg")
    cost_form = TravelCostForm(request.POST if which == "cost" else None, prefix="cost")
    if which == "plan" and form.is_valid():
        travel_plan_set(
            invitation=invitation, by=request.user, request=request, **form.cleaned_data
        )
        messages.success(request, _("Travel and stay saved."))
        return redirect("care:travel", invitation.pk)
    if which == "cost_status" and plan is not None:
        cost = plan.costs.filter(pk=request.POST.get("cost")).first()
        if cost is None:
            raise Http404
        try:
            travel_cost_status_set(
                cost=cost, status=request.POST.get("status", ""), by=request.user, request=request
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("care:travel", invitation.pk)
    if which in ("leg", "cost"):
        if plan is None:
            plan = travel_plan_set(
                invitation=invitation, by=request.user, stay=TravelPlan.Stay.NONE
            )
        chosen = leg_form if which == "leg" else cost_form
        if chosen.is_valid():
            try:
                if which == "leg":
                    travel_leg_add(
                        plan=plan, by=request.user, request=request, **chosen.cleaned_data
                    )
                else:
                    travel_cost_add(
                        plan=plan, by=request.user, request=request, **chosen.cleaned_data
                    )
            except ValidationError as exc:
                chosen.add_error(None, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("care:travel", invitation.pk)
    state = checklist_state(patient=invitation.patient, kind=ChecklistEntry.Kind.TRAVEL)
    return render(
        request,
        "care/travel.html",
        {
            "invitation": invitation,
            "plan": plan,
            "form": form,
            "leg_form": leg_form,
            "cost_form": cost_form,
            "checklist": [
                {**item, "entry": state.get(item["key"])}
                for item in travel_checklist(language=translation.get_language())
            ],
            "statuses": ChecklistEntry.Status.choices,
            "cost_statuses": TravelCost.Status.choices,
            "can_manage": user_has_perm(request.user, Perm.CARE_MANAGE),
        },
        status=400 if request.method == "POST" else 200,
    )
