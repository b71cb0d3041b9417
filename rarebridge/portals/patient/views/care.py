"""The family's own clinic pages: their itinerary (printable, large print, PDF, calendar file)
and their travel and stay plan. Mounted at /me/care/."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from rarebridge.care.content import travel_checklist
from rarebridge.care.documents import itinerary_context, itinerary_ics, itinerary_pdf
from rarebridge.care.models import ChecklistEntry
from rarebridge.care.selectors import checklist_state, own_invitation_get, own_invitations
from rarebridge.core.permissions import Perm
from rarebridge.portals.decorators import perm_required


@require_GET
@perm_required(Perm.OWN_CARE)
def home(request):
    return render(
        request, "care/my_clinics.html", {"invitations": own_invitations(user=request.user)}
    )


@require_GET
@perm_required(Perm.OWN_CARE)
def itinerary(request, invitation_id: int):
    invitation = own_invitation_get(user=request.user, id=invitation_id)
    state = checklist_state(patient=invitation.patient, kind=ChecklistEntry.Kind.TRAVEL)
    return render(
        request,
        "care/itinerary.html",
        {
            **itinerary_context(invitation=invitation, language=get_language()),
            "large": request.GET.get("print") == "large",
            "pdf_url": "patient_care:itinerary_pdf",
            "ics_url": "patient_care:itinerary_ics",
            "page_url": "patient_care:itinerary",
            "checklist": [
                {**item, "entry": state.get(item["key"])}
                for item in travel_checklist(language=get_language())
            ],
        },
    )


@require_GET
@perm_required(Perm.OWN_CARE)
def itinerary_pdf_view(request, invitation_id: int):
    invitation = own_invitation_get(user=request.user, id=invitation_id)
    pdf = itinerary_pdf(
        invitation=invitation, language=get_language(), large=request.GET.get("print") == "large"
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="my-clinic-itinerary.pdf"'
    return response


@require_GET
@perm_required(Perm.OWN_CARE)
def itinerary_ics_view(request, invitation_id: int):
    invitation = own_invitation_get(user=request.user, id=invitation_id)
    response = HttpResponse(
        itinerary_ics(invitation=invitation, language=get_language()),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="my-clinic-itinerary.ics"'
    return response
