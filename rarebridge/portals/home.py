"""Where "home" is depends on who you are. This router only redirects."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_GET


@require_GET
@login_required
def home(request):
    roles = request.user.role_set()
    if "counsellor" in roles:
        return redirect("counsellor:home")
    if request.user.is_staff_member:
        return redirect("staff:home")
    if "patient" in roles:
        return redirect("patient:home")
    return redirect("public:preferences")
