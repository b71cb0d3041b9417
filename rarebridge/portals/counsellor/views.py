from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rarebridge.accounts.selectors import patient_get_for_user
from rarebridge.core.permissions import Perm, user_has_perm
from rarebridge.counselling.conditions import counsellor_conditions_for, counsellor_conditions_set
from rarebridge.counselling.ics import calendar_for
from rarebridge.counselling.selectors import (
    call_get_for_user,
    calls_for_counsellor,
    calls_for_feed,
    counsellor_home,
    counsellor_profile_for,
    feed_owner,
    free_slots_for,
    note_for_call,
)
from rarebridge.counselling.services import (
    SlotTaken,
    availability_exception_add,
    availability_rule_add,
    availability_rule_remove,
    calendar_feed_create,
    calendar_feed_revoke,
    call_book,
    counsellor_profile_upsert,
    note_amend,
    note_save,
)
from rarebridge.network.selectors import crisis_resources_for_country
from rarebridge.portals.counsellor.forms import (
    AmendForm,
    ExceptionForm,
    NoteForm,
    ProfileForm,
    RuleForm,
)
from rarebridge.portals.decorators import perm_required
from rarebridge.programs.selectors import active_enrolment_of, guideline_in_language
from rarebridge.safety.selectors import open_alerts_for_counsellor


@require_GET
@perm_required(Perm.CASELOAD)
def home(request):
    context = counsellor_home(user=request.user)
    context["open_alerts"] = list(open_alerts_for_counsellor(user=request.user))
    return render(request, "counsellor/home.html", context)


@require_GET
@perm_required(Perm.CASELOAD)
def calls(request):
    """All of the counsellor's calls: upcoming, and past ones with their notes."""
    return render(request, "counsellor/calls.html", calls_for_counsellor(user=request.user))


@require_http_methods(["GET", "POST"])
@perm_required(Perm.CASELOAD)
def availability(request):
    profile = counsellor_profile_for(user=request.user)
    rule_form = RuleForm(
        request.POST if request.POST.get("form") == "rule" else None, prefix="rule"
    )
    exception_form = ExceptionForm(
        request.POST if request.POST.get("form") == "exception" else None, prefix="off"
    )
    if request.method == "POST":
        try:
            if request.POST.get("form") == "remove":
                rule = profile.rules.filter(pk=request.POST.get("rule")).first()
                if rule is None:
                    raise Http404
                availability_rule_remove(rule=rule, by=request.actor)
                return redirect("counsellor:availability")
            if rule_form.is_valid():
                availability_rule_add(
                    counsellor=profile, by=request.actor, **rule_form.cleaned_data
                )
                messages.success(
                    request, _("Saved. Patients see these times in their own time zone.")
                )
                return redirect("counsellor:availability")
            if exception_form.is_valid():
                availability_exception_add(
                    counsellor=profile, by=request.actor, **exception_form.cleaned_data
                )
                messages.success(request, _("Saved. No calls can be booked at that time."))
                return redirect("counsellor:availability")
        except ValidationError as exc:
            (rule_form if request.POST.get("form") == "rule" else exception_form).add_error(
                None, exc
            )
    return render(
        request,
        "counsellor/availability.html",
        {
            "profile": profile,
            "rules": profile.rules.all(),
            "exceptions": profile.exceptions.all(),
            "rule_form": rule_form,
            "exception_form": exception_form,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def call_note(request, pk: int):
    """The counsellor writes the note beside the week's guideline; their supervisor reads it."""
    call = call_get_for_user(user=request.user, id=pk, need="view", by=request.actor)
    editable = call.counsellor.user_id == request.user.pk
    if not editable and not user_has_perm(request.user, Perm.SUPERVISION_VIEW):
        raise Http404
    if request.method == "POST" and not editable:
        raise PermissionDenied
    guideline, _fallback = guideline_in_language(
        version=call.enrolment.version, week=call.week, language=get_language()
    )
    note = note_for_call(call=call, by=request.actor)
    initial = None
    if note:
        initial = {
            "held": "yes" if note.held else "no",
            "missed_code": note.missed_code,
            "missed_reason": note.missed_reason,
            "duration_minutes": note.duration_minutes,
            "topics": note.topics,
            "engagement": note.engagement,
            "agreed_next": note.agreed_next,
            "risk": note.risk,
            "text": note.text,
        }
    form = NoteForm(request.POST or None, initial=initial, checklist=guideline.checklist)
    amend_form = AmendForm(request.POST if request.POST.get("action") == "amend" else None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "amend":
                if note is None or not note.signed_at or not amend_form.is_valid():
                    raise ValidationError(_("Please write the amendment."))
                note_amend(note=note, by=request.actor, text=amend_form.cleaned_data["text"])
                return redirect("counsellor:call_note", pk=call.pk)
            if form.is_valid():
                note_save(
                    call=call,
                    by=request.actor,
                    sign=request.POST.get("action") == "sign",
                    **form.cleaned_data,
                )
                messages.success(request, _("The note is saved."))
                if form.cleaned_data["risk"] == "concern":
                    # The note records it; the concern is what reaches a supervisor.
                    return redirect("safety:concern_raise", patient_id=call.patient_id)
                return redirect("counsellor:call_note", pk=call.pk)
        except ValidationError as exc:
            form.add_error(None, exc)
    return render(
        request,
        "counsellor/call_note.html",
        {
            "call": call,
            "note": note,
            "form": form,
            "amend_form": amend_form,
            "guideline": guideline,
            "resources": crisis_resources_for_country(country_code=call.patient.country_id),
            "editable": editable,
        },
    )


@require_http_methods(["GET", "POST"])
@perm_required(Perm.CASELOAD)
def profile(request):
    current = counsellor_profile_for(user=request.user)
    form = ProfileForm(
        request.POST or None,
        initial={
            "languages": current.languages,
            "conditions": "\n".join(
                f"ORPHA:{row.condition.orphacode}"
                for row in counsellor_conditions_for(profile=current)
            ),
            "gender": current.gender,
            "age_band": current.age_band,
            "capacity": current.capacity,
            "introduction": current.introduction,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        counsellor_profile_upsert(
            user=request.user,
            organisation_id=current.organisation_id,
            country_id=current.country_id,
            by=request.actor,
            languages=data["languages"],
            gender=data["gender"],
            age_band=data["age_band"],
            capacity=data["capacity"],
            introduction=data["introduction"],
        )
        counsellor_conditions_set(profile=current, conditions=data["conditions"], by=request.actor)
        messages.success(request, _("Your profile is saved."))
        return redirect("counsellor:profile")
    return render(request, "counsellor/profile.html", {"form": form})


@require_http_methods(["GET", "POST"])
@perm_required(Perm.CASELOAD)
def book_for_patient(request, patient_pk: int):
    """The counsellor books a call for one of their patients, in one of their own free slots."""
    patient = patient_get_for_user(user=request.user, id=patient_pk, by=request.actor)
    profile = counsellor_profile_for(user=request.user)
    enrolment = active_enrolment_of(patient=patient)
    if enrolment is None:
        raise Http404
    if request.method == "POST":
        try:
            call_book(
                enrolment=enrolment,
                counsellor=profile,
                by=request.actor,
                starts_at=datetime.fromisoformat(request.POST.get("slot", "")),
                week=int(request.POST.get("week", "")),
            )
            messages.success(request, _("The call is booked. The patient has been told."))
            return redirect("counsellor:home")
        except SlotTaken:
            messages.error(
                request, _("Sorry — someone booked this time a moment ago. Please choose another.")
            )
        except (ValidationError, ValueError) as exc:
            messages.error(
                request, " ".join(getattr(exc, "messages", [_("Please choose a time and a week.")]))
            )
    start = (timezone.now() + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    slots = free_slots_for(
        counsellor=profile, start=start, end=start + timedelta(days=settings.BOOKING_HORIZON_DAYS)
    )
    days: dict = {}
    for slot in slots:
        days.setdefault(timezone.localtime(slot).date(), []).append(slot)
    return render(
        request,
        "counsellor/book.html",
        {
            "patient": patient,
            "slot_days": sorted(days.items()),
            "weeks": range(1, enrolment.version.weeks + 1),
        },
    )


@require_POST
@perm_required(Perm.OWN_CALLS)
def calendar_feed(request):
    if request.POST.get("action") == "revoke":
        calendar_feed_revoke(user=request.user)
        messages.success(
            request, _("Your calendar link no longer works. Create a new one when you want.")
        )
        return redirect("public:preferences")
    token = calendar_feed_create(user=request.user)
    request.session["calendar_feed_url"] = request.build_absolute_uri(f"/calendar/{token}.ics")
    messages.success(
        request,
        _("Your private calendar link is ready. Copy it into your calendar app; do not share it."),
    )
    return redirect("public:preferences")


@require_GET
def calendar_feed_ics(request, token: str):
    """The private feed: the token is the credential, so no sign-in is needed."""
    user = feed_owner(token=token)
    return HttpResponse(
        calendar_for(calls_for_feed(user=user), user), content_type="text/calendar; charset=utf-8"
    )
