"""Sign-in rules that apply to every request of a staff member."""

from __future__ import annotations

import time

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

# Paths a staff member without MFA may still reach: sign-in and MFA set-up, help, language.
MFA_EXEMPT_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/help/", "/invite/", "/language/")
IDLE_KEY = "rarebridge_last_seen"


def has_mfa(user) -> bool:
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class StaffIdleTimeoutMiddleware:
    """Ends a staff session after STAFF_IDLE_TIMEOUT_MINUTES without a request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and user.is_staff_member:
            now = time.time()
            last = request.session.get(IDLE_KEY)
            limit = settings.STAFF_IDLE_TIMEOUT_MINUTES * 60
            if last is not None and now - last > limit:
                logout(request)
                messages.info(
                    request,
                    _("You were signed out after a period without activity. Please sign in again."),
                )
                return redirect(f"{reverse('account_login')}?{urlencode({'next': request.path})}")
            request.session[IDLE_KEY] = now
        return self.get_response(request)


class StaffMfaRequiredMiddleware:
    """Staff must enrol TOTP before any page beyond sign-in, help and MFA set-up."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and user.is_staff_member
            and not request.path.startswith(MFA_EXEMPT_PREFIXES)
            and not has_mfa(user)
        ):
            messages.warning(
                request,
                _(
                    "Before you can see patient data, protect your account with a second step: set up an authenticator app."
                ),
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
