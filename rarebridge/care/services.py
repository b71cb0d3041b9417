"""Every change to care data: one function per state change, each writing its audit entry and,
for things that happen to a patient, a line on their care timeline."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.care import planning
from rarebridge.care.content import letter_template
from rarebridge.care.models import (
    CareEvent,
    CareNote,
    CareTeamMember,
    CaseGoal,
    CaseTask,
    ChecklistEntry,
    Clinic,
    ClinicBreak,
    ClinicDay,
    ClinicInvitation,
    ClinicProfessional,
    ClinicRoom,
    ProfessionalShift,
    RequiredAppointment,
    ScheduledVisit,
    SchoolLetter,
    TravelCost,
    TravelLeg,
    TravelPlan,
)
from rarebridge.core.audit import audit_log
from rarebridge.engines import clinic as engine
from rarebridge.network.models import Site
from rarebridge.notify.models import Channel, MessageTemplate
from rarebridge.notify.services import message_send
from rarebridge.notify.templates_store import load_message_templates

MESSAGES_DIR = Path(settings.BASE_DIR) / "content" / "care" / "messages"


def _event(*, patient: PatientProfile, code: str, by: User | None, **params: Any) -> None:
    CareEvent.objects.create(
        organisation_id=patient.organisation_id,
        patient=patient,
        actor=by if by is not None and by.is_authenticated else None,
        code=code,
        params=params,
    )


def _record(
    *,
    action: str,
    by: User | None,
    obj,
    patient: PatientProfile | None = None,
    request: HttpRequest | None = None,
    **params: Any,
) -> None:
    audit_log(action=action, actor=by, obj=obj, payload=params, request=request)
    if patient is not None:
        _event(patient=patient, code=action, by=by, **params)


# --- care team, case plan, notes ---------------------------------------------------------


@transaction.atomic
def team_member_add(
    *,
    patient: PatientProfile,
    by: User | None,
    role: str,
    name: str = "",
    user: User | None = None,
    specialty: str = "",
    request: HttpRequest | None = None,
) -> CareTeamMember:
    """Put a person on the patient's care team (staff with an account, or a named clinician)."""
    if user is None and not name.strip():
        raise ValidationError(_("Give a name or choose a person."))
    member = CareTeamMember.objects.create(
        organisation_id=patient.organisation_id,
        patient=patient,
        user=user,
        name=name.strip() or str(user),
        role=role,
        specialty=specialty,
    )
    _record(
        action="care.team.member_added",
        by=by,
        obj=member,
        patient=patient,
        request=request,
        name=member.name,
        role=role,
    )
    return member


@transaction.atomic
def goal_add(
    *,
    patient: PatientProfile,
    by: User | None,
    title: str,
    owner: CareTeamMember | None = None,
    due_on: date | None = None,
    request: HttpRequest | None = None,
) -> CaseGoal:
    if owner is not None and owner.patient_id != patient.pk:
        raise ValidationError(_("The owner must be on this patient's care team."))
    goal = CaseGoal.objects.create(
        organisation_id=patient.organisation_id,
        patient=patient,
        title=title,
        owner=owner,
        due_on=due_on,
    )
    _record(
        action="care.goal.added", by=by, obj=goal, patient=patient, request=request, title=title
    )
    return goal


@transaction.atomic
def task_add(
    *,
    goal: CaseGoal,
    by: User | None,
    title: str,
    owner: CareTeamMember | None = None,
    due_on: date | None = None,
    request: HttpRequest | None = None,
) -> CaseTask:
    if owner is not None and owner.patient_id != goal.patient_id:
        raise ValidationError(_("The owner must be on this patient's care team."))
    task = CaseTask.objects.create(goal=goal, title=title, owner=owner, due_on=due_on)
    _record(
        action="care.task.added",
        by=by,
        obj=goal,
        patient=goal.patient,
        request=request,
        title=title,
        owner=owner.name if owner else "",
    )
    return task


@transaction.atomic
def task_complete(
    *, task: CaseTask, by: User | None, request: HttpRequest | None = None
) -> CaseTask:
    if task.done_at is None:
        task.done_at = timezone.now()
        task.save(update_fields=["done_at", "updated_at"])
        _record(
            action="care.task.completed",
            by=by,
            obj=task.goal,
            patient=task.goal.patient,
            request=request,
            title=task.title,
        )
    return task


@transaction.atomic
def note_add(
    *,
    patient: PatientProfile,
    by: User,
    kind: str,
    text: str,
    request: HttpRequest | None = None,
) -> CareNote:
    """Write a note. Only those who may read clinical notes may write one."""
    from rarebridge.care.selectors import can_read_clinical_notes

    if kind == CareNote.Kind.CLINICAL and not can_read_clinical_notes(user=by, patient=patient):
        raise PermissionDenied
    if not text.strip():
        raise ValidationError(_("The note is empty."))
    note = CareNote.objects.create(
        organisation_id=patient.organisation_id, patient=patient, author=by, kind=kind, text=text
    )
    # The timeline says a note was written, never what it says.
    _record(action="care.note.added", by=by, obj=note, patient=patient, request=request, kind=kind)
    return note


@transaction.atomic
def checklist_set(
    *,
    patient: PatientProfile,
    by: User | None,
    kind: str,
    key: str,
    status: str,
    note: str = "",
    request: HttpRequest | None = None,
) -> ChecklistEntry:
    entry, _created = ChecklistEntry.objects.update_or_create(
        patient=patient,
        kind=kind,
        key=key,
        defaults={
            "organisation_id": patient.organisation_id,
            "status": status,
            "note": note,
            "updated_by": by if by is not None and by.is_authenticated else None,
        },
    )
    _record(
        action="care.checklist.updated",
        by=by,
        obj=entry,
        patient=patient,
        request=request,
        kind=kind,
        key=key,
        status=status,
    )
    return entry


@transaction.atomic
def letter_write(
    *,
    patient: PatientProfile,
    by: User,
    template: str,
    school: str,
    language: str | None = None,
    request: HttpRequest | None = None,
) -> SchoolLetter:
    """A letter to the patient's school from a template, in the family's language."""
    language = language or patient.user.language
    body, used = letter_template(key=template, language=language)
    text = body.format(
        school=school,
        name=patient.user.full_name,
        writer=by.full_name,
        date=timezone.localdate().isoformat(),
    )
    letter = SchoolLetter.objects.create(
        organisation_id=patient.organisation_id,
        patient=patient,
        template=template,
        language=used,
        school=school,
        body=text,
        written_by=by,
    )
    _record(
        action="care.letter.written",
        by=by,
        obj=letter,
        patient=patient,
        request=request,
        template=template,
        language=used,
    )
    return letter


# --- clinic set-up ------------------------------------------------------------------------


@transaction.atomic
def clinic_create(*, site: Site, name: str, by: User | None, step_minutes: int = 15) -> Clinic:
    clinic = Clinic.objects.create(
        organisation_id=site.organisation_id, site=site, name=name, step_minutes=step_minutes
    )
    audit_log(action="care.clinic.created", actor=by, obj=clinic, payload={"name": name})
    return clinic


def clinic_day_add(
    *,
    clinic: Clinic,
    day: date,
    opens: time,
    closes: time,
    breaks: list[tuple[time, time]] = (),  # type: ignore[assignment]
    fasting_by: time | None = None,
    by: User | None = None,
) -> ClinicDay:
    if opens >= closes:
        raise ValidationError(_("A clinic day must close after it opens."))
    if clinic.days.filter(date=day).exists():
        raise ValidationError(_("The clinic already has that day."))
    if clinic.days.count() >= 2:
        raise ValidationError(_("A one-stop clinic has one or two days."))
    for starts, ends in breaks:
        if not opens <= starts < ends <= closes:
            raise ValidationError(_("A break must lie inside the opening hours."))
    with transaction.atomic():
        row = ClinicDay.objects.create(
            clinic=clinic, date=day, opens=opens, closes=closes, fasting_by=fasting_by
        )
        for starts, ends in breaks:
            ClinicBreak.objects.create(day=row, starts=starts, ends=ends)
        audit_log(
            action="care.clinic.day_added", actor=by, obj=clinic, payload={"date": day.isoformat()}
        )
    return row


def clinic_room_add(
    *,
    clinic: Clinic,
    name: str,
    kind: str = "consulting",
    step_free: bool = True,
    by: User | None = None,
) -> ClinicRoom:
    if clinic.rooms.filter(name=name).exists():
        raise ValidationError(_("The clinic already has a room of that name."))
    with transaction.atomic():
        room = ClinicRoom.objects.create(clinic=clinic, name=name, kind=kind, step_free=step_free)
        audit_log(action="care.clinic.room_added", actor=by, obj=clinic, payload={"room": name})
    return room


def clinic_professional_add(
    *,
    clinic: Clinic,
    name: str,
    discipline: str,
    rooms: list[ClinicRoom] = (),  # type: ignore[assignment]
    shifts: list[tuple[ClinicDay, time, time]] = (),  # type: ignore[assignment]
    user: User | None = None,
    by: User | None = None,
) -> ClinicProfessional:
    if any(room.clinic_id != clinic.pk for room in rooms):
        raise ValidationError(_("A professional can only use this clinic's rooms."))
    with transaction.atomic():
        pro = ClinicProfessional.objects.create(
            clinic=clinic, name=name, discipline=discipline, user=user
        )
        pro.rooms.set(rooms)
        for day, starts, ends in shifts:
            ProfessionalShift.objects.create(professional=pro, day=day, starts=starts, ends=ends)
        audit_log(
            action="care.clinic.professional_added",
            actor=by,
            obj=clinic,
            payload={"name": name, "discipline": discipline},
        )
    return pro


@transaction.atomic
def clinic_invite(
    *,
    clinic: Clinic,
    patient: PatientProfile,
    by: User | None,
    days: list[ClinicDay] = (),  # type: ignore[assignment]
    step_free: bool = False,
    max_hours_a_day: Decimal | None = None,
    lunch_minutes: int = 30,
    family: str = "",
    round_table_minutes: int = 0,
    round_table_team: list[ClinicProfessional] = (),  # type: ignore[assignment]
) -> ClinicInvitation:
    if patient.organisation_id != clinic.organisation_id:
        raise ValidationError(_("The patient belongs to another organisation."))
    if clinic.invitations.filter(patient=patient).exists():
        raise ValidationError(_("The patient is invited already."))
    invitation = ClinicInvitation.objects.create(
        organisation_id=clinic.organisation_id,
        clinic=clinic,
        patient=patient,
        step_free=step_free,
        max_hours_a_day=max_hours_a_day,
        lunch_minutes=lunch_minutes,
        family=family,
        round_table_minutes=round_table_minutes,
    )
    invitation.days.set(days)
    invitation.round_table_team.set(round_table_team)
    _record(
        action="care.clinic.invited", by=by, obj=invitation, patient=patient, clinic=clinic.name
    )
    return invitation


@transaction.atomic
def appointment_require(
    *,
    invitation: ClinicInvitation,
    label: str,
    professionals: list[ClinicProfessional],
    minutes: int,
    labels: dict[str, str] | None = None,
    room_kind: str = "",
    fasting: bool = False,
    rest_after_minutes: int = 0,
    after: RequiredAppointment | None = None,
    gap_minutes: int = 0,
    sibling_block: str = "",
    by: User | None = None,
) -> RequiredAppointment:
    if after is not None and after.invitation_id != invitation.pk:
        raise ValidationError(_("An appointment can only follow one of the same patient's."))
    if not professionals or any(p.clinic_id != invitation.clinic_id for p in professionals):
        raise ValidationError(_("Choose who sees the patient from this clinic's professionals."))
    appointment = RequiredAppointment.objects.create(
        invitation=invitation,
        label=label,
        labels=labels or {},
        minutes=minutes,
        room_kind=room_kind,
        fasting=fasting,
        rest_after_minutes=rest_after_minutes,
        after=after,
        gap_minutes=gap_minutes,
        sibling_block=sibling_block,
    )
    appointment.professionals.set(professionals)
    audit_log(
        action="care.clinic.appointment_required",
        actor=by,
        obj=invitation,
        payload={"label": label, "minutes": minutes},
    )
    return appointment


# --- planning -----------------------------------------------------------------------------


def _options(time_limit_seconds: float, gap_limit: float = 0.0) -> engine.SolveOptions:
    return engine.SolveOptions(
        time_limit_seconds=time_limit_seconds,
        explain_time_limit_seconds=min(5.0, time_limit_seconds),
        num_workers=2,
        random_seed=0,
        gap_limit=gap_limit,
    )


def _explanations(schedule: engine.Schedule) -> list[dict[str, Any]]:
    return [
        {
            "rule": str(e.rule),
            "people": list(e.people),
            "params": dict(e.params),
            "message": e.message,
        }
        for e in schedule.explanations
    ]


def _save_result(*, loaded: planning.Loaded, schedule: engine.Schedule) -> Clinic:
    clinic = loaded.clinic
    planning.store(loaded, schedule=schedule)
    clinic.status = str(schedule.status)
    clinic.method = schedule.method
    clinic.objective = schedule.objective
    clinic.bound = schedule.bound
    clinic.gap = schedule.gap
    clinic.waiting_minutes = (
        schedule.cost.patient_waiting * clinic.step_minutes if schedule.cost else None
    )
    clinic.explanations = _explanations(schedule)
    clinic.planned_at = timezone.now()
    clinic.wall_seconds = round(schedule.wall_seconds, 3)
    clinic.save()
    return clinic


def clinic_plan(
    *,
    clinic: Clinic,
    by: User | None,
    time_limit_seconds: float = 10.0,
    gap_limit: float = 0.0,
    request: HttpRequest | None = None,
) -> Clinic:
    """Build every invited patient's itinerary with the solver, or store why it cannot be done.

    The solver proves the best timetable when it can within ``time_limit_seconds`` (or stops
    once within ``gap_limit``, 0.02 for 2%) and otherwise reports the gap. It runs outside the
    transaction (it takes seconds); the result is written in one.
    """
    loaded = planning.load(clinic=clinic)
    model = planning.to_engine(loaded)
    try:
        schedule = engine.solve(clinic=model, options=_options(time_limit_seconds, gap_limit))
    except ValueError as exc:  # malformed set-up, not merely impossible
        raise ValidationError(str(exc)) from exc
    with transaction.atomic():
        _save_result(loaded=loaded, schedule=schedule)
        audit_log(
            action="care.clinic.planned",
            actor=by,
            obj=clinic,
            request=request,
            payload={
                "status": clinic.status,
                "objective": clinic.objective,
                "bound": clinic.bound,
                "gap": clinic.gap,
                "rules": [e["rule"] for e in clinic.explanations],
            },
        )
        if clinic.has_timetable:
            for invitation in loaded.invitations.values():
                _event(
                    patient=invitation.patient,
                    code="care.clinic.planned",
                    by=by,
                    clinic=clinic.name,
                )
    return clinic


def clinic_plan_request(
    *, clinic: Clinic, by: User | None, request: HttpRequest | None = None
) -> Clinic:
    """Queue planning in the background (the solver takes seconds); the page shows progress."""
    from rarebridge.care.tasks import plan_clinic

    with transaction.atomic():
        clinic.planning_since = timezone.now()
        clinic.save(update_fields=["planning_since", "updated_at"])
        audit_log(action="care.clinic.plan_requested", actor=by, obj=clinic, request=request)
        since = clinic.planning_since.isoformat()
        actor = by.pk if by is not None and by.is_authenticated else None
        transaction.on_commit(
            lambda: plan_clinic.enqueue(clinic_id=clinic.pk, since=since, by_id=actor)
        )
    return clinic


def clinic_plan_run(*, clinic_id: int, since: str, by_id: int | None) -> str:
    """The planning task's body: plan once per request; a newer request supersedes it."""
    clinic = Clinic.objects.filter(pk=clinic_id).select_related("site").first()
    if clinic is None or clinic.planning_since is None:
        return "nothing to do"
    if clinic.planning_since.isoformat() != since:
        return "superseded"
    by = User.objects.filter(pk=by_id).first() if by_id else None
    try:
        clinic_plan(clinic=clinic, by=by)
    except ValidationError as exc:
        # Malformed rather than impossible (no days, say): shown like the solver's reasons.
        clinic.status = Clinic.Status.DRAFT
        clinic.explanations = [
            {"rule": "setup", "people": [], "params": {}, "message": " ".join(exc.messages)}
        ]
        clinic.save(update_fields=["status", "explanations", "updated_at"])
    Clinic.objects.filter(pk=clinic_id, planning_since=clinic.planning_since).update(
        planning_since=None
    )
    return str(clinic.status)


def _replan(
    *,
    clinic: Clinic,
    by: User | None,
    action: str,
    payload: dict[str, Any],
    time_limit_seconds: float,
    touched: set[int],
    request: HttpRequest | None,
) -> engine.Schedule:
    loaded = planning.load(clinic=clinic)
    previous = planning.previous_schedule(loaded)
    schedule = engine.replan(
        clinic=planning.to_engine(loaded), previous=previous, options=_options(time_limit_seconds)
    )
    with transaction.atomic():
        if not schedule.has_timetable:
            # Keep the timetable people already have (without what was cancelled) and show why
            # the change cannot be planned; nobody is told of a change that did not happen.
            ScheduledVisit.objects.filter(
                clinic=clinic, appointment__status=RequiredAppointment.Status.CANCELLED
            ).delete()
            clinic.explanations = _explanations(schedule)
            clinic.save(update_fields=["explanations", "updated_at"])
            audit_log(
                action=action,
                actor=by,
                obj=clinic,
                request=request,
                payload={**payload, "status": str(schedule.status), "kept_previous": True},
            )
            return schedule
        _save_result(loaded=loaded, schedule=schedule)
        moved_invitations = {
            loaded.invitations[v.patient].pk for v in schedule.visits if v.id in schedule.moved
        }
        affected = (moved_invitations | touched) & {i.pk for i in loaded.invitations.values()}
        audit_log(
            action=action,
            actor=by,
            obj=clinic,
            request=request,
            payload={**payload, "status": clinic.status, "moved": list(schedule.moved)},
        )
        if clinic.has_timetable:
            for invitation in loaded.invitations.values():
                if invitation.pk in affected:
                    _itinerary_changed(invitation=invitation, by=by, action=action)
            # Professionals with an account hear that their day sheet changed.
            staff = {
                pro
                for v in (*previous.visits, *schedule.visits)
                if v.id in schedule.moved
                or loaded.invitations.get(v.patient, None) is None
                or loaded.invitations[v.patient].pk in touched
                for pro in v.professionals
            }
            stamp = f"{clinic.planned_at.timestamp():.0f}" if clinic.planned_at else ""
            _ensure_message_templates()
            for code in sorted(staff):
                pro = loaded.professionals.get(code)
                if pro is None or pro.user is None:
                    continue
                message_send(
                    recipient=pro.user,
                    template_key="care_day_sheet_changed",
                    context={"clinic": clinic.name},
                    idempotency_key=f"care-day-sheet-{pro.pk}-{stamp}",
                    channels=(Channel.IN_APP,),
                )
    return schedule


def _itinerary_changed(*, invitation: ClinicInvitation, by: User | None, action: str) -> None:
    _event(
        patient=invitation.patient,
        code="care.itinerary.changed",
        by=by,
        clinic=invitation.clinic.name,
    )
    _ensure_message_templates()
    first = invitation.visits.order_by("starts_at").first()
    message_send(
        recipient=invitation.patient.user,
        template_key="care_itinerary_changed",
        context={
            "clinic": invitation.clinic.name,
            "first": first.starts_at if first else None,
        },
        idempotency_key=f"care-itinerary-{invitation.pk}-{timezone.now().timestamp():.0f}-{action}",
        channels=(Channel.EMAIL, Channel.IN_APP),
    )


CARE_MESSAGES = ("care_itinerary_changed", "care_itinerary_ready", "care_day_sheet_changed")


def _ensure_message_templates() -> None:
    found = set(MessageTemplate.objects.filter(key__in=CARE_MESSAGES).values_list("key", flat=True))
    if found != set(CARE_MESSAGES):
        load_message_templates(directory=MESSAGES_DIR)


def clinic_itineraries_send(
    *, clinic: Clinic, by: User | None, request: HttpRequest | None = None
) -> int:
    """Tell every invited family their itinerary is ready; sending the same plan again sends
    nothing new. Returns how many families were told."""
    if not clinic.has_timetable or clinic.planned_at is None:
        raise ValidationError(_("Plan the clinic first."))
    _ensure_message_templates()
    told = 0
    with transaction.atomic():
        invitations = clinic.invitations.filter(
            status=ClinicInvitation.Status.INVITED
        ).select_related("patient__user")
        for invitation in invitations:
            first = invitation.visits.order_by("starts_at").first()
            if first is None:
                continue
            message_send(
                recipient=invitation.patient.user,
                template_key="care_itinerary_ready",
                context={"clinic": clinic.name, "first": first.starts_at},
                idempotency_key=f"care-itinerary-ready-{invitation.pk}-{clinic.planned_at.timestamp():.0f}",
                channels=(Channel.EMAIL, Channel.IN_APP),
            )
            ChecklistEntry.objects.update_or_create(
                patient=invitation.patient,
                kind=ChecklistEntry.Kind.TRAVEL,
                key="itinerary-sent",
                defaults={
                    "organisation_id": invitation.organisation_id,
                    "status": ChecklistEntry.Status.DONE,
                    "updated_by": by if by is not None and by.is_authenticated else None,
                },
            )
            _event(
                patient=invitation.patient, code="care.itinerary.sent", by=by, clinic=clinic.name
            )
            told += 1
        audit_log(
            action="care.clinic.itineraries_sent",
            actor=by,
            obj=clinic,
            request=request,
            payload={"families": told},
        )
    return told


def clinic_replan_after_cancellation(
    *,
    appointment: RequiredAppointment,
    by: User | None,
    time_limit_seconds: float = 10.0,
    request: HttpRequest | None = None,
) -> engine.Schedule:
    """Cancel one appointment and re-plan, keeping everyone else's appointments where they are."""
    invitation = appointment.invitation
    with transaction.atomic():
        RequiredAppointment.objects.filter(pk=appointment.pk).update(
            status=RequiredAppointment.Status.CANCELLED
        )
        RequiredAppointment.objects.filter(after=appointment).update(after=None)
        _event(
            patient=invitation.patient,
            code="care.appointment.cancelled",
            by=by,
            label=appointment.label,
        )
    return _replan(
        clinic=invitation.clinic,
        by=by,
        action="care.clinic.replanned",
        payload={"cancelled": appointment.label, "appointment": appointment.pk},
        time_limit_seconds=time_limit_seconds,
        touched={invitation.pk},
        request=request,
    )


def clinic_replan_after_invitation_cancelled(
    *,
    invitation: ClinicInvitation,
    by: User | None,
    time_limit_seconds: float = 10.0,
    request: HttpRequest | None = None,
) -> engine.Schedule:
    """A family cannot come: take them off the clinic and re-plan around everyone else."""
    with transaction.atomic():
        ClinicInvitation.objects.filter(pk=invitation.pk).update(
            status=ClinicInvitation.Status.CANCELLED
        )
        ScheduledVisit.objects.filter(invitation=invitation).delete()
        _event(
            patient=invitation.patient,
            code="care.invitation.cancelled",
            by=by,
            clinic=invitation.clinic.name,
        )
    return _replan(
        clinic=invitation.clinic,
        by=by,
        action="care.clinic.replanned",
        payload={"cancelled_invitation": invitation.pk},
        time_limit_seconds=time_limit_seconds,
        touched=set(),
        request=request,
    )


def clinic_replan_after_late_professional(
    *,
    professional: ClinicProfessional,
    day: ClinicDay,
    arrives: time,
    by: User | None,
    time_limit_seconds: float = 10.0,
    request: HttpRequest | None = None,
) -> engine.Schedule:
    """A professional arrives late: their hours that day start at ``arrives``; re-plan."""
    with transaction.atomic():
        shifts = list(professional.shifts.filter(day=day))
        if not shifts:
            ProfessionalShift.objects.create(
                professional=professional, day=day, starts=arrives, ends=day.closes
            )
            # A professional without shifts was there all clinic long: keep the other days.
            if not professional.shifts.exclude(day=day).exists():
                for other in professional.clinic.days.exclude(pk=day.pk):
                    ProfessionalShift.objects.create(
                        professional=professional, day=other, starts=other.opens, ends=other.closes
                    )
        for shift in shifts:
            if shift.ends <= arrives:
                shift.delete()
            elif shift.starts < arrives:
                shift.starts = arrives
                shift.save(update_fields=["starts"])
    return _replan(
        clinic=professional.clinic,
        by=by,
        action="care.clinic.replanned",
        payload={"late": professional.name, "arrives": arrives.isoformat()},
        time_limit_seconds=time_limit_seconds,
        touched=set(),
        request=request,
    )


# --- travel and stay ----------------------------------------------------------------------


@transaction.atomic
def travel_plan_set(
    *,
    invitation: ClinicInvitation,
    by: User | None,
    stay: str,
    stay_name: str = "",
    nights: int = 0,
    assistance: str = "",
    request: HttpRequest | None = None,
) -> TravelPlan:
    plan, _created = TravelPlan.objects.update_or_create(
        invitation=invitation,
        defaults={
            "organisation_id": invitation.organisation_id,
            "stay": stay,
            "stay_name": stay_name,
            "nights": nights,
            "assistance": assistance,
        },
    )
    _record(
        action="care.travel.updated",
        by=by,
        obj=plan,
        patient=invitation.patient,
        request=request,
        clinic=invitation.clinic.name,
    )
    return plan


def travel_leg_add(
    *,
    plan: TravelPlan,
    by: User | None,
    mode: str,
    departs_at: datetime,
    arrives_at: datetime,
    origin: str,
    destination: str,
    paid_by: str,
    booked: bool = False,
    request: HttpRequest | None = None,
) -> TravelLeg:
    if arrives_at <= departs_at:
        raise ValidationError(_("The journey must arrive after it departs."))
    leg = TravelLeg.objects.create(
        plan=plan,
        mode=mode,
        departs_at=departs_at,
        arrives_at=arrives_at,
        origin=origin,
        destination=destination,
        paid_by=paid_by,
        booked=booked,
    )
    audit_log(
        action="care.travel.leg_added",
        actor=by,
        obj=plan,
        request=request,
        payload={"mode": mode, "booked": booked},
    )
    return leg


def travel_cost_add(
    *,
    plan: TravelPlan,
    by: User | None,
    what: str,
    amount: Decimal,
    currency: str = "EUR",
    status: str = "expected",
    request: HttpRequest | None = None,
) -> TravelCost:
    cost = TravelCost.objects.create(
        plan=plan, what=what, amount=amount, currency=currency.upper(), status=status
    )
    audit_log(
        action="care.travel.cost_added",
        actor=by,
        obj=plan,
        request=request,
        payload={"what": what, "amount": str(amount), "status": status},
    )
    return cost


def travel_cost_status_set(
    *, cost: TravelCost, status: str, by: User | None, request: HttpRequest | None = None
) -> TravelCost:
    """Move a cost along: expected, claimed, reimbursed."""
    if status not in TravelCost.Status.values:
        raise ValidationError(_("Unknown status."))
    if cost.status != status:
        cost.status = status
        cost.save(update_fields=["status"])
        audit_log(
            action="care.travel.cost_updated",
            actor=by,
            obj=cost.plan,
            request=request,
            payload={"cost": cost.pk, "status": status},
        )
    return cost
