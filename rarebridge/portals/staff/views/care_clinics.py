"""Care coordination: a new clinic, the clinic page (and its progress while it plans), the
professionals' and rooms' day sheets."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from rarebridge.accounts.selectors import sites_for_user
from rarebridge.care.planning import summary_sentences
from rarebridge.care.selectors import (
    clinic_busy,
    clinic_get_for_user,
    clinic_overview,
    clinic_progress,
    clinics_for_user,
    day_sheets,
    explanations_for,
    professional_get,
    room_get,
)
from rarebridge.care.services import clinic_create, clinic_day_add
from rarebridge.core.permissions import Perm, user_has_perm
from rarebridge.portals.decorators import staff_required
from rarebridge.portals.staff.forms.care import ClinicForm, LateForm


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
                found = clinic_create(site=data["site"], name=data["name"], by=request.actor)
                for day in filter(None, (data["first_day"], data["second_day"])):
                    clinic_day_add(
                        clinic=found,
                        day=day,
                        opens=data["opens"],
                        closes=data["closes"],
                        breaks=breaks,
                        by=request.actor,
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


def clinic_page(request, clinic, *, late_form=None, status=200):
    """The clinic page; ``care_planning`` shows it again with a late-arrival form in error."""
    return render(
        request,
        "care/clinic.html",
        {
            "clinic": clinic,
            **clinic_overview(clinic=clinic),
            **clinic_progress(clinic=clinic),
            "explanations": explanations_for(clinic=clinic),
            "quality": summary_sentences(clinic.summary),
            "can_manage": user_has_perm(request.user, Perm.CARE_MANAGE),
            "late_form": late_form or LateForm(clinic=clinic),
        },
        status=status,
    )


@require_GET
@staff_required
def clinic(request, clinic_id: int):
    return clinic_page(request, clinic_get_for_user(by=request.actor, id=clinic_id))


@require_GET
@staff_required
def clinic_progress_view(request, clinic_id: int):
    """Polled by the clinic page while it plans: nothing while busy, then reload the page."""
    found = clinic_get_for_user(by=request.actor, id=clinic_id)
    if not request.headers.get("HX-Request"):
        return redirect("care:clinic", found.pk)
    if clinic_busy(clinic=found):
        return HttpResponse(status=204)
    response = HttpResponse()
    response["HX-Refresh"] = "true"
    return response


@require_GET
@staff_required
def professional_sheet(request, clinic_id: int, professional_id: int):
    found = clinic_get_for_user(by=request.actor, id=clinic_id)
    pro = professional_get(clinic=found, id=professional_id)
    return render(
        request,
        "care/day_sheet.html",
        {
            "clinic": found,
            "owner": pro,
            "days": day_sheets(clinic=found, by=request.actor, professional=pro),
        },
    )


@require_GET
@staff_required
def room_sheet(request, clinic_id: int, room_id: int):
    found = clinic_get_for_user(by=request.actor, id=clinic_id)
    room = room_get(clinic=found, id=room_id)
    return render(
        request,
        "care/day_sheet.html",
        {
            "clinic": found,
            "owner": room,
            "is_room": True,
            "days": day_sheets(clinic=found, by=request.actor, room=room),
        },
    )
