from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from rarebridge.notify.selectors import inbox_for_user
from rarebridge.portals.decorators import role_required


@require_GET
@role_required("patient")
def home(request):
    """ "This week": the program fills it once the patient is enrolled."""
    profile = request.user.patient_profile
    return render(request, "patient/home.html", {"profile": profile})


@require_GET
@role_required("patient")
def messages_inbox(request):
    items = inbox_for_user(user=request.user)[:50]
    return render(request, "patient/messages.html", {"items": items})
