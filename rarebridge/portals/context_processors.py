from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from rarebridge.core.permissions import Perm, user_has_perm
from rarebridge.trials.selectors import participation_for_patient


def rarebridge(request):
    """What every page needs: the reader's permissions (never role names), text size and
    contrast, and the time zone pages are shown in."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {
            "demo_mode": settings.DEMO_MODE,
            "current_time_zone": timezone.get_current_timezone_name(),
            "rb_perms": set(),
            "rb_is_patient": False,
            "rb_in_study": False,
            "rb_is_staff": False,
            "rb_text_size": request.COOKIES.get("rb_text", "normal"),
            "rb_contrast": request.COOKIES.get("rb_contrast") == "1",
        }
    perms = {str(p) for p in Perm if user_has_perm(user, p)}
    return {
        "demo_mode": settings.DEMO_MODE,
        "current_time_zone": timezone.get_current_timezone_name(),
        "rb_perms": perms,
        "rb_is_patient": str(Perm.OWN_PROGRAM) in perms,
        # Asked only where the menu is drawn for a patient: "My study" is for participants.
        "rb_in_study": lambda: _in_study(user),
        "rb_is_staff": user.is_staff_member,
        "rb_text_size": user.text_size,
        "rb_contrast": user.high_contrast,
    }


def _in_study(user) -> bool:
    return participation_for_patient(user=user) is not None
