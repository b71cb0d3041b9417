from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from rarebridge.core.permissions import Perm, user_has_perm
from rarebridge.trials.selectors import participation_for_patient


def rarebridge(request):
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    roles = user.role_set() if signed_in else set()
    perms = {str(p) for p in Perm if user_has_perm(user, p)} if signed_in else set()
    return {
        "demo_mode": settings.DEMO_MODE,
        "current_time_zone": timezone.get_current_timezone_name(),
        "rb_roles": roles,
        "rb_perms": perms,
        "rb_is_patient": str(Perm.OWN_PROGRAM) in perms,
        # Asked only where the menu is drawn for a patient: "My study" is for participants.
        "rb_in_study": (lambda: _in_study(user)) if signed_in else False,
        "rb_is_staff": signed_in and user.is_staff_member,
        "rb_text_size": user.text_size if signed_in else request.COOKIES.get("rb_text", "normal"),
        "rb_contrast": user.high_contrast
        if signed_in
        else request.COOKIES.get("rb_contrast") == "1",
    }


def _in_study(user) -> bool:
    return participation_for_patient(user=user) is not None
