"""Safety pages: raise a concern, the alert list, an alert, supervision meetings.

Thin: a selector checks access, a service makes the change, the page renders or redirects.
The forms live here, beside the only views that use them.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rarebridge.accounts.selectors import patient_get_for_user
from rarebridge.core.permissions import Perm
from rarebridge.network.selectors import crisis_resources_for_country
from rarebridge.portals.decorators import staff_required
from rarebridge.portals.staff.forms.safety import (
    CloseForm,
    ConcernForm,
    OnDutyForm,
    SupervisionMeetingForm,
)
from rarebridge.safety.models import Alert
from rarebridge.safety.selectors import (
    alert_can_handle,
    alert_get_for_user,
    alert_notifications,
    alerts_for_user,
    supervision_counsellors_for_user,
    supervision_handlers_for_user,
    supervision_meetings_for_user,
    supervision_organisation_for_user,
)
from rarebridge.safety.services import (
    alert_acknowledge,
    alert_close,
    concern_raise,
    supervision_meeting_record,
)

PAGE_SIZE = 50


@require_http_methods(["GET", "POST"])
@staff_required
def concern_raise_view(request, patient_id: int):
    patient = patient_get_for_user(
        user=request.user, id=patient_id, need=Perm.CONCERN_RAISE, by=request.actor
    )
    form = ConcernForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            concern = concern_raise(
                patient=patient,
                level=form.cleaned_data["level"],
                observed=form.cleaned_data["observed"],
                by=request.actor,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            alert = concern.alert
            if alert.chain:
                messages.success(
                    request, _("Your concern was sent. A supervisor is being alerted.")
                )
            else:
                messages.error(
                    request,
                    _(
                        "Your concern was saved, but nobody could be alerted. Call your supervisor or the emergency number now."
                    ),
                )
            return redirect("safety:alert_detail", alert.pk)
    return render(
        request,
        "staff/safety/concern_raise.html",
        {
            "form": form,
            "patient": patient,
            "country": patient.country,
            "resources": crisis_resources_for_country(country_code=patient.country_id),
        },
    )


@require_GET
@staff_required
def alerts(request):
    page = Paginator(alerts_for_user(user=request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "staff/safety/alerts.html", {"page": page, "now": timezone.now()})


def _detail(request, alert: Alert, *, close_form: CloseForm | None = None, status: int = 200):
    can_handle = alert_can_handle(user=request.user, alert=alert)
    return render(
        request,
        "staff/safety/alert_detail.html",
        {
            "alert": alert,
            "concern": alert.concern,
            "patient": alert.patient,
            "country": alert.patient.country,
            "can_handle": can_handle,
            "close_form": close_form or CloseForm(),
            "notifications": alert_notifications(alert=alert),
            "resources": crisis_resources_for_country(country_code=alert.patient.country_id),
        },
        status=status,
    )


@require_GET
@staff_required
def alert_detail(request, pk: int):
    alert = alert_get_for_user(user=request.user, id=pk, by=request.actor)
    return _detail(request, alert)


@require_POST
@staff_required
def alert_acknowledge_view(request, pk: int):
    alert = alert_get_for_user(user=request.user, id=pk, need=Perm.ALERT_HANDLE, by=request.actor)
    alert = alert_acknowledge(alert=alert, by=request.actor)
    if alert.acknowledged_by_id == request.user.pk:
        messages.success(request, _("You have acknowledged the alert. Escalation has stopped."))
    else:
        messages.info(
            request,
            _("%(name)s acknowledged this alert already.") % {"name": alert.acknowledged_by},
        )
    return redirect("safety:alert_detail", alert.pk)


@require_POST
@staff_required
def alert_close_view(request, pk: int):
    alert = alert_get_for_user(user=request.user, id=pk, need=Perm.ALERT_HANDLE, by=request.actor)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            alert_close(
                alert=alert,
                by=request.actor,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The alert is closed and its outcome recorded."))
            return redirect("safety:alert_detail", alert.pk)
    return _detail(request, alert, close_form=form)


@require_http_methods(["GET", "POST"])
@staff_required
def supervision(request):
    meetings = supervision_meetings_for_user(user=request.user)
    form = SupervisionMeetingForm(
        request.POST or None, counsellors=supervision_counsellors_for_user(user=request.user)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            supervision_meeting_record(
                organisation=supervision_organisation_for_user(user=request.user),
                by=request.actor,
                kind=data["kind"],
                held_at=data["held_at"],
                topic=data["topic"],
                notes=data["notes"],
                participants=list(data["participants"]),
                present=list(data["present"]),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The supervision meeting was recorded."))
            return redirect("safety:supervision")
    page = Paginator(meetings, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "staff/safety/supervision.html", {"form": form, "page": page})


@require_http_methods(["GET", "POST"])
@staff_required
def escalation(request):
    """Who is on duty, and who is next in line when an alert waits."""
    from rarebridge.network.selectors import countries_list
    from rarebridge.safety.selectors import escalation_setup_for_user
    from rarebridge.safety.services import on_duty_add

    setup = escalation_setup_for_user(user=request.user)
    organisation = supervision_organisation_for_user(user=request.user)
    people = supervision_handlers_for_user(user=request.user)
    form = OnDutyForm(request.POST or None, people=people, countries=countries_list())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            on_duty_add(
                organisation=organisation,
                user=data["user"],
                country=data["country"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                by=request.actor,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, _("Saved. New alerts in that country go first to this person.")
            )
            return redirect("safety:escalation")
    return render(request, "staff/safety/escalation.html", {**setup, "form": form})
