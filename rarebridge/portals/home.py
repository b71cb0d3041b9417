"""Where "home" is depends on who you are. This router only redirects."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_GET

from rarebridge.core.permissions import Perm, user_has_perm


@require_GET
@login_required
def home(request):
    if user_has_perm(request.user, Perm.CASELOAD):
        return redirect("counsellor:home")
    if request.user.is_staff_member:
        return redirect("staff:home")
    if user_has_perm(request.user, Perm.OWN_PROGRAM):
        return redirect("patient:home")
    return redirect("public:preferences")
