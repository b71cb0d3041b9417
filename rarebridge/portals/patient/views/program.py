from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rarebridge.core.permissions import Perm
from rarebridge.counselling.ics import calendar_for
from rarebridge.counselling.selectors import (
    bookable_slots_for_patient,
    call_get_for_user,
    calls_for_patient,
    counsellor_of_patient,
    match_preference_of,
)
from rarebridge.counselling.services import (
    SlotTaken,
    call_book,
    call_cancel,
    call_reschedule,
    match_preference_set,
    match_request_change,
)
from rarebridge.network.models import pick_translation
from rarebridge.notify.selectors import inbox_for_user
from rarebridge.portals.decorators import perm_required
from rarebridge.portals.patient.forms.program import (
    MatchPreferenceForm,
    current_preferences_initial,
)
from rarebridge.programs.booklet import booklet_pdf
from rarebridge.programs.forms import field_views, parse_form
from rarebridge.programs.selectors import (
    VALUES_AND_GOALS_WEEKS,
    NotOpenYet,
    chapter_in_language,
    enrolment_for_patient,
    enrolment_get_for_patient,
    exercise_get_for_patient,
    exercises_with_answers,
    weeks_for,
)
from rarebridge.programs.services import answer_complete, answer_save, answer_share_set
from rarebridge.trials.journey import participant_journey
from rarebridge.trials.models import Participant
from rarebridge.trials.selectors import participation_for_patient


@require_GET
@perm_required(Perm.OWN_PROGRAM)
def home(request):
    """ "This week": where the patient is, what is open, what comes next."""
    enrolment = enrolment_for_patient(user=request.user)
    upcoming_calls = calls_for_patient(user=request.user).filter(
        status="booked", starts_at__gte=timezone.now()
    )
    context = {
        "profile": request.user.patient_profile,
        "enrolment": enrolment,
        "next_call": upcoming_calls.first(),
    }
    if enrolment is None:
        context["journey"] = _study_journey(request.user)
    if enrolment is not None:
        weeks = weeks_for(enrolment=enrolment, user=request.user)
        rows = exercises_with_answers(enrolment=enrolment)
        language = get_language()
        current = next((w for w in weeks if w.is_current), None)
        upcoming = next((w for w in weeks if not w.is_open), None)
        context.update(
            weeks=[
                {
                    "state": w,
                    "title": pick_translation(enrolment.version.week(w.number)["title"], language),
                    "done": sum(1 for r in rows if r.exercise.week == w.number and r.done),
                    "total": sum(1 for r in rows if r.exercise.week == w.number),
                }
                for w in weeks
            ],
            current=current,
            current_rows=[r for r in rows if current and r.exercise.week == current.number],
            upcoming=upcoming,
            program_title=pick_translation(enrolment.version.definition["title"], language),
        )
    return render(request, "patient/home.html", context)


def _not_open(request, enrolment, week_state):
    return render(
        request, "patient/not_open.html", {"state": week_state, "enrolment": enrolment}, status=200
    )


@require_GET
@perm_required(Perm.OWN_PROGRAM)
def week(request, number: int):
    enrolment = enrolment_get_for_patient(user=request.user)
    weeks = weeks_for(enrolment=enrolment, user=request.user)
    if not 1 <= number <= len(weeks):
        return render(request, "404.html", status=404)
    state = weeks[number - 1]
    if not state.is_open:
        return _not_open(request, enrolment, state)
    language = get_language()
    chapter, fallback = chapter_in_language(
        version=enrolment.version, week=number, language=language
    )
    rows = exercises_with_answers(enrolment=enrolment, weeks=(number,))
    return render(
        request,
        "patient/week.html",
        {
            "enrolment": enrolment,
            "chapter": chapter,
            "fallback": fallback,
            "number": number,
            "weeks": weeks,
            "rows": rows,
            "language": language,
            "week_title": pick_translation(enrolment.version.week(number)["title"], language),
        },
    )


def _exercise_context(request, enrolment, exercise, answer, data=None, errors=None):
    language = get_language()
    data = data if data is not None else (answer.data if answer else {})
    return {
        "enrolment": enrolment,
        "exercise": exercise,
        "answer": answer,
        "errors": errors or {},
        "title": pick_translation(exercise.definition["title"], language),
        "intro": pick_translation(exercise.definition.get("intro", {}), language),
        "fields": field_views(exercise.definition["fields"], data, errors or {}, language),
        "revision": answer.revision if answer else 0,
        "shared": bool(answer and answer.shared_with_counsellor),
    }


@require_http_methods(["GET", "POST"])
@perm_required(Perm.OWN_PROGRAM)
def exercise(request, key: str):
    enrolment = enrolment_get_for_patient(user=request.user)
    try:
        item, answer = exercise_get_for_patient(user=request.user, enrolment=enrolment, key=key)
    except NotOpenYet as closed:
        return _not_open(request, enrolment, closed.state)
    if request.method == "POST":
        # The form without JavaScript: the same service as autosave.
        data = parse_form(item.definition["fields"], request.POST)
        result = answer_save(
            enrolment=enrolment,
            exercise=item,
            data=data,
            base_revision=_int(request.POST.get("base_revision")),
            shared=request.POST.get("shared") == "on",
            by=request.actor,
        )
        if result.status == "saved":
            if request.POST.get("action") == "done":
                answer = item.answers.get(enrolment=enrolment)
                missing = answer_complete(answer=answer, by=request.actor)
                if missing:
                    errors = {
                        m: _("Please answer this before you mark the exercise as done.")
                        for m in missing
                    }
                    return render(
                        request,
                        "patient/exercise.html",
                        _exercise_context(request, enrolment, item, answer, data, errors),
                        status=422,
                    )
            return redirect("patient:exercise", key=key)
        item_answer = item.answers.filter(enrolment=enrolment).first()
        context = _exercise_context(request, enrolment, item, item_answer, data, result.errors)
        context["conflict"] = result.status == "conflict"
        return render(
            request,
            "patient/exercise.html",
            context,
            status=409 if result.status == "conflict" else 422,
        )
    return render(
        request, "patient/exercise.html", _exercise_context(request, enrolment, item, answer)
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


@require_POST
@perm_required(Perm.OWN_PROGRAM)
def exercise_autosave(request, key: str):
    """Autosave from the page's script: the same parser and service as the form."""
    enrolment = enrolment_get_for_patient(user=request.user)
    try:
        item, _answer = exercise_get_for_patient(user=request.user, enrolment=enrolment, key=key)
    except NotOpenYet:
        return JsonResponse({"status": "closed"}, status=403)
    data = parse_form(item.definition["fields"], request.POST)
    shared = request.POST.get("shared") == "on" if "shared_present" in request.POST else None
    result = answer_save(
        enrolment=enrolment,
        exercise=item,
        data=data,
        base_revision=_int(request.POST.get("base_revision")),
        shared=shared,
        client_id=request.POST.get("client_id", "")[:64],
        by=request.actor,
    )
    status = {"saved": 200, "conflict": 409, "invalid": 422}[result.status]
    saved_at = timezone.localtime().strftime("%H:%M")
    return JsonResponse(
        {
            "status": result.status,
            "revision": result.revision,
            "errors": result.errors,
            "current": result.current,
            "saved_at": saved_at,
        },
        status=status,
    )


@require_POST
@perm_required(Perm.OWN_PROGRAM)
def exercise_share(request, key: str):
    enrolment = enrolment_get_for_patient(user=request.user)
    try:
        item, answer = exercise_get_for_patient(user=request.user, enrolment=enrolment, key=key)
    except NotOpenYet as closed:
        return _not_open(request, enrolment, closed.state)
    if answer is None:
        answer_save(enrolment=enrolment, exercise=item, data={}, base_revision=0, by=request.actor)
        answer = item.answers.get(enrolment=enrolment)
    answer_share_set(answer=answer, shared=request.POST.get("shared") == "on", by=request.actor)
    return redirect("patient:exercise", key=key)


@require_GET
@perm_required(Perm.OWN_PROGRAM)
def values_and_goals(request):
    enrolment = enrolment_get_for_patient(user=request.user)
    language = get_language()
    open_weeks = {w.number for w in weeks_for(enrolment=enrolment, user=request.user) if w.is_open}
    rows = [
        r
        for r in exercises_with_answers(enrolment=enrolment, weeks=VALUES_AND_GOALS_WEEKS)
        if r.exercise.week in open_weeks
    ]
    items = [
        {
            "row": r,
            "title": pick_translation(r.exercise.definition["title"], language),
            "fields": field_views(
                r.exercise.definition["fields"], r.answer.data if r.answer else {}, {}, language
            ),
        }
        for r in rows
    ]
    return render(request, "patient/values_goals.html", {"items": items, "enrolment": enrolment})


@require_GET
@perm_required(Perm.OWN_PROGRAM)
def booklet(request):
    enrolment = enrolment_get_for_patient(user=request.user)
    weeks = [w.number for w in weeks_for(enrolment=enrolment, user=request.user) if w.is_open]
    requested = _int(request.GET.get("week"))
    if requested > 0:
        weeks = [w for w in weeks if w == requested]
    with_answers = request.GET.get("answers") == "1"
    answers = (
        {
            r.answer.exercise_id: r.answer
            for r in exercises_with_answers(enrolment=enrolment)
            if r.answer
        }
        if with_answers
        else None
    )
    pdf = booklet_pdf(
        version=enrolment.version, language=get_language(), weeks=weeks, answers=answers
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="rarebridge-booklet.pdf"'
    return response


@require_GET
@perm_required(Perm.OWN_PROGRAM)
def messages_inbox(request):
    items = inbox_for_user(user=request.user)[:50]
    return render(request, "patient/messages.html", {"items": items})


# Calls --------------------------------------------------------------------------------------


@require_GET
@perm_required(Perm.OWN_PROGRAM)
def calls(request):
    counsellor, slots = bookable_slots_for_patient(user=request.user)
    enrolment = enrolment_for_patient(user=request.user)
    booked_weeks = set(
        calls_for_patient(user=request.user)
        .filter(status__in=["booked", "held", "missed"])
        .values_list("week", flat=True)
    )
    open_weeks = (
        [
            w.number
            for w in weeks_for(
                enrolment=enrolment, user=request.user, now=timezone.now() + timedelta(days=7)
            )
        ]
        if enrolment
        else []
    )
    return render(
        request,
        "patient/calls.html",
        {
            "calls": calls_for_patient(user=request.user),
            "counsellor": counsellor,
            "slot_days": _by_day(slots),
            "weeks_to_book": [n for n in open_weeks if n not in booked_weeks],
            "enrolment": enrolment,
            "journey": _study_journey(request.user) if enrolment is None else None,
        },
    )


def _study_journey(user):
    participant = participation_for_patient(user=user)
    if participant is None or participant.status == Participant.Status.WITHDRAWN:
        return None
    return participant_journey(participant=participant)


def _by_day(slots):
    days: dict = {}
    for slot in slots:
        local = timezone.localtime(slot)
        days.setdefault(local.date(), []).append(slot)
    return sorted(days.items())


@require_POST
@perm_required(Perm.OWN_PROGRAM)
def call_book_view(request):
    enrolment = enrolment_get_for_patient(user=request.user)
    counsellor, _slots = bookable_slots_for_patient(user=request.user)
    try:
        starts_at = datetime.fromisoformat(request.POST.get("slot", ""))
        week = int(request.POST.get("week", ""))
    except ValueError:
        messages.error(request, _("Please choose a time and a week."))
        return redirect("patient:calls")
    if counsellor is None:
        raise Http404
    try:
        call_book(
            enrolment=enrolment,
            counsellor=counsellor,
            starts_at=starts_at,
            week=week,
            by=request.actor,
        )
    except SlotTaken as taken:
        times = ", ".join(
            date_format(timezone.localtime(s), "DATETIME_FORMAT") for s in taken.alternatives[:3]
        )
        messages.error(
            request,
            _("Sorry — someone booked this time a moment ago. Free times soon after: %(times)s")
            % {"times": times or "—"},
        )
        return redirect("patient:calls")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("patient:calls")
    messages.success(request, _("Your call is booked. We sent you the details."))
    return redirect("patient:calls")


@require_http_methods(["GET", "POST"])
@perm_required(Perm.OWN_PROGRAM)
def call_change(request, pk: int):
    call = call_get_for_user(user=request.user, id=pk, need="change", by=request.actor)
    _counsellor, slots = bookable_slots_for_patient(user=request.user)
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        try:
            if request.POST.get("action") == "cancel":
                call_cancel(call=call, by=request.actor, reason=reason)
                messages.success(request, _("The call is cancelled."))
            else:
                call_reschedule(
                    call=call,
                    new_start=datetime.fromisoformat(request.POST.get("slot", "")),
                    by=request.actor,
                    reason=reason,
                )
                messages.success(request, _("The call is moved."))
            return redirect("patient:calls")
        except SlotTaken:
            messages.error(
                request, _("Sorry — someone booked this time a moment ago. Please choose another.")
            )
        except (ValidationError, ValueError) as exc:
            messages.error(
                request, " ".join(getattr(exc, "messages", [_("Please choose a time.")]))
            )
    return render(
        request,
        "patient/call_change.html",
        {"call": call, "slot_days": _by_day(slots), "reason": request.POST.get("reason", "")},
    )


@require_GET
@perm_required(Perm.OWN_PROGRAM)
def call_ics(request, pk: int):
    call = call_get_for_user(user=request.user, id=pk, by=request.actor)
    response = HttpResponse(
        calendar_for([call], request.user), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="rarebridge-call-{call.pk}.ics"'
    return response


@require_http_methods(["GET", "POST"])
@perm_required(Perm.OWN_PROGRAM)
def counsellor_preferences(request):
    """What the patient wishes for in a counsellor, and when calls suit them."""
    profile = request.user.patient_profile
    current = match_preference_of(patient=profile)
    form = MatchPreferenceForm(request.POST or None, initial=current_preferences_initial(current))
    if request.method == "POST":
        if request.POST.get("action") == "change":
            reason = request.POST.get("reason", "").strip()
            if not reason:
                messages.error(
                    request, _("Please tell us briefly why, so we can find a better match.")
                )
            else:
                match_request_change(patient=profile, by=request.actor, reason=reason)
                messages.success(
                    request,
                    _(
                        "Thank you. We will find you another counsellor; your notes and past calls stay with you."
                    ),
                )
                return redirect("patient:counsellor_preferences")
        elif form.is_valid():
            match_preference_set(patient=profile, by=request.actor, **form.to_fields())
            messages.success(request, _("Your preferences are saved."))
            return redirect("patient:counsellor_preferences")
    counsellor = counsellor_of_patient(patient=profile)
    return render(
        request, "patient/counsellor_preferences.html", {"form": form, "counsellor": counsellor}
    )
