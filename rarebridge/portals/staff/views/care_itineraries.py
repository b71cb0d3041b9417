"""Care coordination: a family's itinerary (page, PDF, calendar file) and their travel and
stay."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from rarebridge.care.content import travel_checklist
from rarebridge.care.documents import itinerary_context, itinerary_ics, itinerary_pdf
from rarebridge.care.models import ChecklistEntry, TravelCost, TravelPlan
from rarebridge.care.selectors import checklist_state, invitation_get_for_user, travel_for
from rarebridge.care.services import (
    travel_cost_add,
    travel_cost_status_set,
    travel_leg_add,
    travel_plan_set,
)
from rarebridge.core.permissions import Perm, user_has_perm
from rarebridge.portals.decorators import staff_required
from rarebridge.portals.staff.forms.care import TravelCostForm, TravelForm, TravelLegForm


@require_GET
@staff_required
def itinerary(request, invitation_id: int):
    invitation = invitation_get_for_user(by=request.actor, id=invitation_id)
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
    invitation = invitation_get_for_user(by=request.actor, id=invitation_id)
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
    invitation = invitation_get_for_user(by=request.actor, id=invitation_id)
    response = HttpResponse(
        itinerary_ics(invitation=invitation, language=invitation.patient.user.language),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="itinerary-{invitation.pk}.ics"'
    return response


@require_http_methods(["GET", "POST"])
@staff_required
def travel(request, invitation_id: int):
    need = Perm.CARE_MANAGE if request.method == "POST" else Perm.CARE_VIEW
    invitation = invitation_get_for_user(by=request.actor, id=invitation_id, need=need)
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
        travel_plan_set(invitation=invitation, by=request.actor, **form.cleaned_data)
        messages.success(request, _("Travel and stay saved."))
        return redirect("care:travel", invitation.pk)
    if which == "cost_status" and plan is not None:
        cost = plan.costs.filter(pk=request.POST.get("cost")).first()
        if cost is None:
            raise Http404
        try:
            travel_cost_status_set(
                cost=cost, status=request.POST.get("status", ""), by=request.actor
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return redirect("care:travel", invitation.pk)
    if which in ("leg", "cost"):
        if plan is None:
            plan = travel_plan_set(
                invitation=invitation, by=request.actor, stay=TravelPlan.Stay.NONE
            )
        chosen = leg_form if which == "leg" else cost_form
        if chosen.is_valid():
            try:
                if which == "leg":
                    travel_leg_add(plan=plan, by=request.actor, **chosen.cleaned_data)
                else:
                    travel_cost_add(plan=plan, by=request.actor, **chosen.cleaned_data)
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
