"""Care coordination: planning a clinic, re-planning it after a change (a cancellation, a
family that cannot come, a late professional, a changed set-up), sending itineraries."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from rarebridge.care.selectors import (
    appointment_get_for_user,
    clinic_get_for_user,
    invitation_get_for_user,
)
from rarebridge.care.services import (
    appointment_cancel,
    clinic_itineraries_send,
    clinic_plan_request,
    clinic_replan_request,
    invitation_cancel,
    professional_late,
)
from rarebridge.core.permissions import Perm
from rarebridge.portals.decorators import staff_required
from rarebridge.portals.staff.forms.care import LateForm
from rarebridge.portals.staff.views.care_clinics import clinic_page


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
    found = clinic_get_for_user(by=request.actor, id=clinic_id, need=Perm.CARE_MANAGE)
    _try(
        request,
        lambda: clinic_plan_request(clinic=found, by=request.actor),
        _("Planning has started. It takes up to ten seconds; this page shows the result."),
    )
    return redirect("care:clinic", found.pk)


@require_POST
@staff_required
def clinic_replan_view(request, clinic_id: int):
    """Re-plan with a changed set-up, keeping families' times where possible."""
    found = clinic_get_for_user(by=request.actor, id=clinic_id, need=Perm.CARE_MANAGE)
    _try(
        request,
        lambda: clinic_replan_request(clinic=found, by=request.actor),
        str(REPLANNING),
    )
    return redirect("care:clinic", found.pk)


@require_POST
@staff_required
def clinic_send_view(request, clinic_id: int):
    found = clinic_get_for_user(by=request.actor, id=clinic_id, need=Perm.CARE_MANAGE)
    try:
        told = clinic_itineraries_send(clinic=found, by=request.actor)
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
    appointment = appointment_get_for_user(by=request.actor, id=appointment_id)
    clinic_id = appointment.invitation.clinic_id
    planned = appointment.invitation.clinic.has_timetable
    _try(
        request,
        lambda: appointment_cancel(appointment=appointment, by=request.actor),
        _("The appointment is cancelled.") + (" " + str(REPLANNING) if planned else ""),
    )
    return redirect("care:clinic", clinic_id)


@require_POST
@staff_required
def invitation_cancel_view(request, invitation_id: int):
    invitation = invitation_get_for_user(by=request.actor, id=invitation_id, need=Perm.CARE_MANAGE)
    clinic_get_for_user(by=request.actor, id=invitation.clinic_id, need=Perm.CARE_MANAGE)
    planned = invitation.clinic.has_timetable
    _try(
        request,
        lambda: invitation_cancel(invitation=invitation, by=request.actor),
        _("The family is taken off the clinic; their travel record is kept.")
        + (" " + str(REPLANNING) if planned else ""),
    )
    return redirect("care:clinic", invitation.clinic_id)


@require_POST
@staff_required
def professional_late_view(request, clinic_id: int):
    found = clinic_get_for_user(by=request.actor, id=clinic_id, need=Perm.CARE_MANAGE)
    form = LateForm(request.POST, clinic=found)
    if not form.is_valid():
        return clinic_page(request, found, late_form=form, status=400)
    try:
        professional_late(by=request.actor, **form.cleaned_data)
    except ValidationError as exc:
        form.add_error(None, exc)
        return clinic_page(request, found, late_form=form, status=400)
    messages.success(request, _("The late arrival is recorded.") + " " + str(REPLANNING))
    return redirect("care:clinic", found.pk)
