"""Care coordination: a clinic's set-up. Add, change and remove days, rooms, professionals,
families and what each needs; a form that does not validate comes back as typed, with its
errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rarebridge.care.selectors import (
    care_patients_for_user,
    clinic_get_for_user,
    clinic_overview,
    clinic_setup_item_get,
    clinic_setup_usage,
)
from rarebridge.care.services import (
    appointment_remove,
    appointment_require,
    appointment_update,
    clinic_day_add,
    clinic_day_remove,
    clinic_day_update,
    clinic_invitation_remove,
    clinic_invitation_update,
    clinic_invite,
    clinic_professional_add,
    clinic_professional_remove,
    clinic_professional_update,
    clinic_room_add,
    clinic_room_remove,
    clinic_room_update,
)
from rarebridge.core.permissions import Perm, user_has_perm
from rarebridge.portals.decorators import staff_required
from rarebridge.portals.staff.forms.care import (
    AppointmentForm,
    DayForm,
    InviteForm,
    ProfessionalForm,
    RoomForm,
    appointment_initial,
    day_initial,
    invitation_initial,
    professional_initial,
    professional_shifts,
)


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
    add: Callable[..., Any]  # (clinic, form, by)
    update: Callable[..., Any]  # (item, form, by)
    remove: Callable[..., Any]  # (item, by)
    initial: Callable[[Any], dict]
    name: Callable[[Any], str]


SETUP = {
    "day": SetupKind(
        form=DayForm,
        add=lambda clinic, form, by: clinic_day_add(
            clinic=clinic,
            day=form.cleaned_data["on"],
            by=by,
            **_day_data(form.cleaned_data),
        ),
        update=lambda day, form, by: clinic_day_update(
            day=day,
            on=form.cleaned_data["on"],
            by=by,
            **_day_data(form.cleaned_data),
        ),
        remove=lambda day, by: clinic_day_remove(day=day, by=by),
        initial=day_initial,
        name=lambda day: date_format(day.date, "DATE_FORMAT"),
    ),
    "room": SetupKind(
        form=RoomForm,
        add=lambda clinic, form, by: clinic_room_add(clinic=clinic, by=by, **form.cleaned_data),
        update=lambda room, form, by: clinic_room_update(room=room, by=by, **form.cleaned_data),
        remove=lambda room, by: clinic_room_remove(room=room, by=by),
        initial=lambda room: {"name": room.name, "kind": room.kind, "step_free": room.step_free},
        name=lambda room: room.name,
    ),
    "professional": SetupKind(
        form=ProfessionalForm,
        add=lambda clinic, form, by: clinic_professional_add(
            clinic=clinic,
            by=by,
            name=form.cleaned_data["name"],
            discipline=form.cleaned_data["discipline"],
            rooms=list(form.cleaned_data["rooms"]),
            shifts=professional_shifts(clinic, form.cleaned_data),
        ),
        update=lambda pro, form, by: clinic_professional_update(
            professional=pro,
            by=by,
            name=form.cleaned_data["name"],
            discipline=form.cleaned_data["discipline"],
            rooms=list(form.cleaned_data["rooms"]),
            # Hours the form cannot show exactly stay as they are unless these fields change.
            shifts=professional_shifts(pro.clinic, form.cleaned_data)
            if set(ProfessionalForm.HOURS) & set(form.changed_data)
            else None,
        ),
        remove=lambda pro, by: clinic_professional_remove(professional=pro, by=by),
        initial=professional_initial,
        name=lambda pro: pro.name,
    ),
    "invite": SetupKind(
        form=InviteForm,
        add=lambda clinic, form, by: clinic_invite(
            clinic=clinic,
            by=by,
            patient=form.cleaned_data["patient"],
            **_invite_data(form.cleaned_data),
        ),
        update=lambda invitation, form, by: clinic_invitation_update(
            invitation=invitation,
            by=by,
            lunch_minutes=invitation.lunch_minutes,
            **_invite_data(form.cleaned_data),
        ),
        remove=lambda invitation, by: clinic_invitation_remove(invitation=invitation, by=by),
        initial=invitation_initial,
        name=lambda invitation: invitation.patient.user.full_name,
    ),
    "appointment": SetupKind(
        form=AppointmentForm,
        add=lambda clinic, form, by: appointment_require(
            invitation=form.cleaned_data["invitation"],
            by=by,
            **_appointment_data(form),
        ),
        update=lambda appointment, form, by: appointment_update(
            appointment=appointment, by=by, **_appointment_data(form)
        ),
        remove=lambda appointment, by: appointment_remove(appointment=appointment, by=by),
        initial=appointment_initial,
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
    found = clinic_get_for_user(by=request.actor, id=clinic_id, need=need)
    if request.method == "GET":
        return _setup_page(request, found)
    kind = request.POST.get("form", "")
    if kind not in SETUP:
        raise Http404
    form = _setup_form(kind, found, request, request.POST)
    if form.is_valid():
        try:
            SETUP[kind].add(found, form, request.actor)
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
    found = clinic_get_for_user(by=request.actor, id=clinic_id, need=Perm.CARE_MANAGE)
    item = clinic_setup_item_get(clinic=found, kind=kind, id=item_id)
    form = _setup_form(
        kind, found, request, request.POST if request.method == "POST" else None, item=item
    )
    if request.method == "POST" and form.is_valid():
        try:
            SETUP[kind].update(item, form, request.actor)
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
    found = clinic_get_for_user(by=request.actor, id=clinic_id, need=Perm.CARE_MANAGE)
    item = clinic_setup_item_get(clinic=found, kind=kind, id=item_id)
    name = SETUP[kind].name(item)
    try:
        SETUP[kind].remove(item, request.actor)
    except ValidationError as exc:
        found.refresh_from_db()
        return _setup_page(request, found, error=" ".join(exc.messages), status=400)
    messages.success(request, _("%(name)s was removed.") % {"name": name})
    return redirect("care:clinic_setup", found.pk)
