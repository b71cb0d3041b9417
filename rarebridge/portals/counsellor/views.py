from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from rarebridge.accounts.selectors import patients_for_user
from rarebridge.portals.decorators import role_required


@require_GET
@role_required("counsellor")
def home(request):
    caseload = patients_for_user(user=request.user).order_by("code")
    return render(request, "counsellor/home.html", {"caseload": caseload})
