from __future__ import annotations

import copy

from allauth.account.internal.flows.login import record_authentication
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from rarebridge.accounts.selectors import email_change_pending, invitation_get_by_token
from rarebridge.accounts.services import (
    email_change_request,
    invitation_accept,
    user_update_preferences,
)
from rarebridge.counselling.selectors import reminder_preference_for
from rarebridge.counselling.services import reminder_preference_set
from rarebridge.network.selectors import countries_list, crisis_resources_for_country
from rarebridge.notify.selectors import outbox_for_user
from rarebridge.portals.links import send_link_within_limit
from rarebridge.portals.public.forms.accounts import (
    EmailChangeForm,
    InvitationAcceptForm,
    PreferencesForm,
)

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def index(request):
    if request.user.is_authenticated:
        return redirect("portals:home")
    return render(request, "public/index.html")


@require_http_methods(["GET"])
def help_now(request):
    """Crisis resources for the person's country: one click from every patient page."""
    countries = list(countries_list())
    code = request.GET.get("country", "")
    user = request.user
    if not code and user.is_authenticated and hasattr(user, "patient_profile"):
        code = user.patient_profile.country_id
    known = {c.code for c in countries}
    selected = code.upper() if code.upper() in known else None
    resources = list(crisis_resources_for_country(country_code=selected)) if selected else []
    return render(
        request,
        "public/help.html",
        {"countries": countries, "selected": selected, "resources": resources},
    )


@require_POST
def set_language(request):
    language = request.POST.get("language", "")
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    if language not in LANGUAGE_CODES:
        return HttpResponseRedirect(target)
    if request.user.is_authenticated:
        user_update_preferences(user=request.user, by=request.actor, language=language)
    response = HttpResponseRedirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, language, max_age=365 * 24 * 3600, samesite="Lax"
    )
    return response


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    # The form validates a copy; the service writes the person, with its audit entry.
    form = PreferencesForm(request.POST or None, instance=copy.copy(request.user))
    if request.method == "POST" and form.is_valid():
        user_update_preferences(user=request.user, by=request.actor, **form.cleaned_data)
        messages.success(request, _("Your preferences are saved."))
        return redirect("public:preferences")
    reminder = reminder_preference_for(user=request.user)
    return render(request, "public/preferences.html", {"form": form, "reminder": reminder})


@require_http_methods(["GET", "POST"])
def invitation_accept_view(request, token: str):
    invitation = invitation_get_by_token(token=token)
    # The page (and the welcome after it) speaks the invitation's language, unless the person
    # chose another one with the language switcher (its cookie).
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    language = chosen if chosen in LANGUAGE_CODES else invitation.language
    if language in LANGUAGE_CODES:
        translation.activate(language)
        request.LANGUAGE_CODE = language
    if not invitation.is_open:
        return render(request, "public/invitation_closed.html", status=410)
    form = InvitationAcceptForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(
                invitation=invitation, password=form.cleaned_data["password1"], by=request.actor
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            # Choosing the password just now counts as a fresh sign-in, so MFA set-up does
            # not ask for the password again a second later.
            record_authentication(
                request, user, method="password", email=user.email, reauthenticated=True
            )
            messages.success(request, _("Welcome to RareBridge."))
            return redirect("portals:home")
    return render(
        request, "public/invitation_accept.html", {"form": form, "invitation": invitation}
    )


@require_http_methods(["GET"])
def demo_outbox(request):
    if not settings.DEMO_MODE:
        raise Http404
    items = outbox_for_user(demo_mode=settings.DEMO_MODE)[:100]
    return render(request, "public/demo_outbox.html", {"items": items})


def csrf_failure(request, reason=""):
    return render(request, "public/csrf_failure.html", status=403)


@login_required
@require_POST
def reminders(request):
    reminder_preference_set(
        user=request.user,
        by=request.actor,
        **{
            name: request.POST.get(name) == "on"
            for name in ("by_email", "by_sms", "day_before", "hour_before")
        },
    )
    messages.success(request, _("Your reminder choices are saved."))
    return redirect("public:preferences")


@login_required
@require_http_methods(["GET", "POST"])
def email_change(request):
    """A new sign-in address: the link goes there and the switch waits until it is opened."""
    form = EmailChangeForm(request.POST or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and send_link_within_limit(
            request,
            form=form,
            send=lambda: email_change_request(
                user=request.user,
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                by=request.actor,
            ),
        )
    ):
        messages.success(
            request,
            _(
                "We sent a link to %(email)s. Your address changes when you open it; "
                "until then you sign in with %(old)s."
            )
            % {"email": form.cleaned_data["email"], "old": request.user.email},
        )
        return redirect("public:preferences")
    return render(
        request,
        "public/email_change.html",
        {"form": form, "pending": email_change_pending(user=request.user)},
        status=422 if form.errors else 200,
    )
