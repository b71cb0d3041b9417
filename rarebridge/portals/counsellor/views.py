from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from rarebridge.accounts.selectors import patients_page_for_user
from rarebridge.portals.decorators import role_required


@require_GET
@role_required("counsellor")
def home(request):
    caseload = patients_page_for_user(
        user=request.user, page_number=request.GET.get("page"), per_page=100, request=request
    )
    return render(request, "counsellor/home.html", {"caseload": caseload})
