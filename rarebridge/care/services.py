"""Every change to care data: one function per state change, each writing its audit entry and,
for things that happen to a patient, a line on their care timeline."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
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
    ClinicReplan,
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


#
# Once a clinic has a plan, a change to the set-up that the plan depends on marks it: the
# page says the set-up changed since the plan and offers to plan again. The timetable that
# families have is never changed silently: removing a day, room or professional takes their
# appointments out of it (and asks for a new plan); a family or an appointment that is in it
# is taken off through "cannot come" and "cancel", which re-plan and tell the people.


def _setup_changed(clinic: Clinic) -> None:
    """The set-up changed in a way the plan depends on."""
    now = timezone.now()
    if Clinic.objects.filter(pk=clinic.pk, planned_at__isnull=False).update(
        setup_changed_at=now, updated_at=now
    ):
        clinic.setup_changed_at = now


def _check_day(
    *,
    clinic: Clinic,
    on: date,
    opens: time,
    closes: time,
    breaks: list[tuple[time, time]],
    day: ClinicDay | None = None,
) -> None:
    if opens >= closes:
        raise ValidationError(_("A clinic day must close after it opens."))
    others = clinic.days.exclude(pk=day.pk) if day is not None else clinic.days.all()
    if others.filter(date=on).exists():
        raise ValidationError(_("The clinic already has that day."))
    if day is None and others.count() >= 2:
        raise ValidationError(_("A one-stop clinic has one or two days."))
    for starts, ends in breaks:
        if not opens <= starts < ends <= closes:
            raise ValidationError(_("A break must lie inside the opening hours."))


def clinic_day_add(
    *,
    clinic: Clinic,
    day: date,
    opens: time,
    closes: time,
    breaks: list[tuple[time, time]] = (),  # type: ignore[assignment]
    fasting_by: time | None = None,
    by: User | None = None,
    request: HttpRequest | None = None,
) -> ClinicDay:
    _check_day(clinic=clinic, on=day, opens=opens, closes=closes, breaks=list(breaks))
    with transaction.atomic():
        row = ClinicDay.objects.create(
            clinic=clinic, date=day, opens=opens, closes=closes, fasting_by=fasting_by
        )
        for starts, ends in breaks:
            ClinicBreak.objects.create(day=row, starts=starts, ends=ends)
        audit_log(
            action="care.clinic.day_added",
            actor=by,
            obj=clinic,
            request=request,
            payload={"date": day.isoformat()},
        )
        _setup_changed(clinic)
    return row


def clinic_day_update(
    *,
    day: ClinicDay,
    on: date,
    opens: time,
    closes: time,
    breaks: list[tuple[time, time]] = (),  # type: ignore[assignment]
    fasting_by: time | None = None,
    by: User | None = None,
    request: HttpRequest | None = None,
) -> ClinicDay:
    """Change a day's date, hours, breaks or fasting deadline."""
    clinic = day.clinic
    _check_day(clinic=clinic, on=on, opens=opens, closes=closes, breaks=list(breaks), day=day)
    before = (day.date, day.opens, day.closes, day.fasting_by, _breaks_of(day))
    with transaction.atomic():
        day.date, day.opens, day.closes, day.fasting_by = on, opens, closes, fasting_by
        day.save()
        if _breaks_of(day) != sorted(breaks):
            day.breaks.all().delete()
            for starts, ends in breaks:
                ClinicBreak.objects.create(day=day, starts=starts, ends=ends)
        changed = before != (on, opens, closes, fasting_by, sorted(breaks))
        audit_log(
            action="care.clinic.day_updated",
            actor=by,
            obj=clinic,
            request=request,
            payload={"day": day.pk, "date": on.isoformat(), "changed": changed},
        )
        if changed:
            _setup_changed(clinic)
    return day


def _breaks_of(day: ClinicDay) -> list[tuple[time, time]]:
    return sorted((b.starts, b.ends) for b in day.breaks.all())


def clinic_day_remove(
    *, day: ClinicDay, by: User | None = None, request: HttpRequest | None = None
) -> None:
    """Take a day off the clinic; its appointments leave the timetable, which then needs a new
    plan. Refused while someone comes on that day only (they would then come on any)."""
    clinic = day.clinic
    # Hours or attendance on no day at all would read as "every day": ask for a choice first.
    only_then = [
        p.name
        for p in clinic.professionals.prefetch_related("shifts")
        if p.shifts.all() and {s.day_id for s in p.shifts.all()} == {day.pk}
    ] + [
        i.patient.user.full_name
        for i in clinic.invitations.select_related("patient__user").prefetch_related("days")
        if {d.pk for d in i.days.all()} == {day.pk}
    ]
    if only_then:
        raise ValidationError(
            _("These people come only on this day: %(names)s. Change their days first.")
            % {"names": ", ".join(only_then)}
        )
    with transaction.atomic():
        in_timetable = day.visits.exclude(kind=ScheduledVisit.Kind.LUNCH).count()
        audit_log(
            action="care.clinic.day_removed",
            actor=by,
            obj=clinic,
            request=request,
            payload={"date": day.date.isoformat(), "timetable_visits": in_timetable},
        )
        day.delete()
        _setup_changed(clinic)


def clinic_room_add(
    *,
    clinic: Clinic,
    name: str,
    kind: str = "consulting",
    step_free: bool = True,
    by: User | None = None,
    request: HttpRequest | None = None,
) -> ClinicRoom:
    if clinic.rooms.filter(name=name).exists():
        raise ValidationError(_("The clinic already has a room of that name."))
    with transaction.atomic():
        room = ClinicRoom.objects.create(clinic=clinic, name=name, kind=kind, step_free=step_free)
        audit_log(
            action="care.clinic.room_added",
            actor=by,
            obj=clinic,
            request=request,
            payload={"room": name},
        )
        _setup_changed(clinic)
    return room


def clinic_room_update(
    *,
    room: ClinicRoom,
    name: str,
    kind: str = "consulting",
    step_free: bool = True,
    by: User | None = None,
    request: HttpRequest | None = None,
) -> ClinicRoom:
    """Rename a room or change its kind or access; a new name alone needs no new plan."""
    clinic = room.clinic
    if clinic.rooms.exclude(pk=room.pk).filter(name=name).exists():
        raise ValidationError(_("The clinic already has a room of that name."))
    changed = (room.kind, room.step_free) != (kind, step_free)
    with transaction.atomic():
        old = room.name
        room.name, room.kind, room.step_free = name, kind, step_free
        room.save()
        audit_log(
            action="care.clinic.room_updated",
            actor=by,
            obj=clinic,
            request=request,
            payload={"room": name, "was": old, "changed": changed},
        )
        if changed:
            _setup_changed(clinic)
    return room


def clinic_room_remove(
    *, room: ClinicRoom, by: User | None = None, request: HttpRequest | None = None
) -> None:
    """Take a room off the clinic; appointments in it leave the timetable, which then needs a
    new plan. Refused while it is the only room of a professional (they would then use any)."""
    clinic = room.clinic
    only_room = [
        p.name for p in room.professionals.prefetch_related("rooms") if len(p.rooms.all()) == 1
    ]
    if only_room:
        raise ValidationError(
            _("%(names)s can use only this room. Give them another room first.")
            % {"names": ", ".join(only_room)}
        )
    with transaction.atomic():
        in_timetable = room.visits.count()
        audit_log(
            action="care.clinic.room_removed",
            actor=by,
            obj=clinic,
            request=request,
            payload={"room": room.name, "timetable_visits": in_timetable},
        )
        room.delete()
        _setup_changed(clinic)


def _check_professional(*, clinic: Clinic, rooms, shifts) -> None:
    if any(room.clinic_id != clinic.pk for room in rooms):
        raise ValidationError(_("A professional can only use this clinic's rooms."))
    if any(day.clinic_id != clinic.pk for day, _starts, _ends in shifts or ()):
        raise ValidationError(_("A professional's hours must be on this clinic's days."))


def clinic_professional_add(
    *,
    clinic: Clinic,
    name: str,
    discipline: str,
    rooms: list[ClinicRoom] = (),  # type: ignore[assignment]
    shifts: list[tuple[ClinicDay, time, time]] = (),  # type: ignore[assignment]
    user: User | None = None,
    by: User | None = None,
    request: HttpRequest | None = None,
) -> ClinicProfessional:
    _check_professional(clinic=clinic, rooms=rooms, shifts=shifts)
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
            request=request,
            payload={"name": name, "discipline": discipline},
        )
        _setup_changed(clinic)
    return pro


def clinic_professional_update(
    *,
    professional: ClinicProfessional,
    name: str,
    discipline: str,
    rooms: list[ClinicRoom] = (),  # type: ignore[assignment]
    shifts: list[tuple[ClinicDay, time, time]] | None = None,
    by: User | None = None,
    request: HttpRequest | None = None,
) -> ClinicProfessional:
    """Change a professional's name, discipline, rooms or hours (``shifts`` None: unchanged)."""
    clinic = professional.clinic
    _check_professional(clinic=clinic, rooms=rooms, shifts=shifts)
    before_rooms = {r.pk for r in professional.rooms.all()}
    before_shifts = sorted((s.day_id, s.starts, s.ends) for s in professional.shifts.all())
    with transaction.atomic():
        professional.name, professional.discipline = name, discipline
        professional.save()
        professional.rooms.set(rooms)
        if shifts is not None:
            professional.shifts.all().delete()
            for day, starts, ends in shifts:
                ProfessionalShift.objects.create(
                    professional=professional, day=day, starts=starts, ends=ends
                )
        changed = before_rooms != {r.pk for r in rooms} or (
            shifts is not None and before_shifts != sorted((d.pk, a, b) for d, a, b in shifts)
        )
        audit_log(
            action="care.clinic.professional_updated",
            actor=by,
            obj=clinic,
            request=request,
            payload={"professional": professional.pk, "name": name, "changed": changed},
        )
        if changed:
            _setup_changed(clinic)
    return professional


def clinic_professional_remove(
    *,
    professional: ClinicProfessional,
    by: User | None = None,
    request: HttpRequest | None = None,
) -> None:
    """Take a professional off the clinic; their appointments leave the timetable, which then
    needs a new plan. Refused while they are the only one who can see an appointment."""
    clinic = professional.clinic
    needed = (
        RequiredAppointment.objects.filter(
            professionals=professional, status=RequiredAppointment.Status.NEEDED
        )
        .select_related("invitation__patient__user")
        .prefetch_related("professionals")
    )
    alone = [a for a in needed if len(a.professionals.all()) == 1]
    if alone:
        raise ValidationError(
            _(
                "%(name)s is the only one who can see %(what)s. Choose someone else for "
                "these appointments first."
            )
            % {
                "name": professional.name,
                "what": ", ".join(
                    f"{a.label} ({a.invitation.patient.user.full_name})" for a in alone
                ),
            }
        )
    with transaction.atomic():
        visits = ScheduledVisit.objects.filter(clinic=clinic, professionals=professional)
        in_timetable = visits.count()
        visits.delete()
        audit_log(
            action="care.clinic.professional_removed",
            actor=by,
            obj=clinic,
            request=request,
            payload={
                "name": professional.name,
                "discipline": professional.discipline,
                "timetable_visits": in_timetable,
            },
        )
        professional.delete()
        _setup_changed(clinic)


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
    request: HttpRequest | None = None,
) -> ClinicInvitation:
    if patient.organisation_id != clinic.organisation_id:
        raise ValidationError(_("The patient belongs to another organisation."))
    if clinic.invitations.filter(patient=patient).exists():
        raise ValidationError(_("The patient is invited already."))
    _check_invitation(clinic=clinic, days=days, round_table_team=round_table_team)
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
        action="care.clinic.invited",
        by=by,
        obj=invitation,
        patient=patient,
        request=request,
        clinic=clinic.name,
    )
    _setup_changed(clinic)
    return invitation


def _check_invitation(*, clinic: Clinic, days, round_table_team) -> None:
    if any(d.clinic_id != clinic.pk for d in days) or any(
        p.clinic_id != clinic.pk for p in round_table_team
    ):
        raise ValidationError(_("Choose days and people of this clinic."))


@transaction.atomic
def clinic_invitation_update(
    *,
    invitation: ClinicInvitation,
    by: User | None,
    days: list[ClinicDay] = (),  # type: ignore[assignment]
    step_free: bool = False,
    max_hours_a_day: Decimal | None = None,
    lunch_minutes: int = 30,
    family: str = "",
    round_table_minutes: int = 0,
    round_table_team: list[ClinicProfessional] = (),  # type: ignore[assignment]
    request: HttpRequest | None = None,
) -> ClinicInvitation:
    """Change what an invited family needs around their appointments."""
    clinic = invitation.clinic
    _check_invitation(clinic=clinic, days=days, round_table_team=round_table_team)

    def state(inv, day_ids, team_ids):
        hours = None if inv.max_hours_a_day is None else Decimal(inv.max_hours_a_day)
        return (
            inv.step_free,
            hours,
            inv.lunch_minutes,
            inv.family,
            inv.round_table_minutes,
            day_ids,
            team_ids,
        )

    before = state(
        invitation,
        {d.pk for d in invitation.days.all()},
        {p.pk for p in invitation.round_table_team.all()},
    )
    invitation.step_free = step_free
    invitation.max_hours_a_day = max_hours_a_day
    invitation.lunch_minutes = lunch_minutes
    invitation.family = family
    invitation.round_table_minutes = round_table_minutes
    invitation.save()
    invitation.days.set(days)
    invitation.round_table_team.set(round_table_team)
    changed = before != state(invitation, {d.pk for d in days}, {p.pk for p in round_table_team})
    _record(
        action="care.invitation.updated",
        by=by,
        obj=invitation,
        patient=invitation.patient,
        request=request,
        clinic=clinic.name,
    )
    if changed:
        _setup_changed(clinic)
    return invitation


@transaction.atomic
def clinic_invitation_remove(
    *, invitation: ClinicInvitation, by: User | None, request: HttpRequest | None = None
) -> None:
    """Withdraw an invitation made by mistake. A family with appointments in the timetable or
    with travel arranged is taken off with "cannot come" instead, which keeps the record."""
    name = invitation.patient.user.full_name
    if invitation.visits.exists():
        raise ValidationError(
            _(
                "%(name)s has appointments in the timetable. If they cannot come, take them "
                "off on the planning page: the clinic is re-planned around them."
            )
            % {"name": name}
        )
    if TravelPlan.objects.filter(invitation=invitation).exists():
        raise ValidationError(
            _(
                "Travel and stay are arranged for %(name)s. If they cannot come, take them off "
                "on the planning page: the travel record is kept."
            )
            % {"name": name}
        )
    clinic = invitation.clinic
    _record(
        action="care.invitation.removed",
        by=by,
        obj=clinic,
        patient=invitation.patient,
        request=request,
        clinic=clinic.name,
    )
    invitation.delete()
    _setup_changed(clinic)


def _clean_labels(labels: dict[str, str] | None) -> dict[str, str]:
    return {k: v.strip() for k, v in (labels or {}).items() if v and v.strip()}


def _check_appointment(
    *,
    invitation: ClinicInvitation,
    professionals: list[ClinicProfessional],
    after: RequiredAppointment | None,
    appointment: RequiredAppointment | None = None,
) -> None:
    if after is not None and after.invitation_id != invitation.pk:
        raise ValidationError(_("An appointment can only follow one of the same patient's."))
    if appointment is not None and after is not None:
        # Following itself, or something that (in the end) follows it, can never be planned.
        seen, step = set(), after
        while step is not None and step.pk not in seen:
            if step.pk == appointment.pk:
                raise ValidationError(_("An appointment cannot come after itself."))
            seen.add(step.pk)
            step = step.after
    if not professionals or any(p.clinic_id != invitation.clinic_id for p in professionals):
        raise ValidationError(_("Choose who sees the patient from this clinic's professionals."))


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
    request: HttpRequest | None = None,
) -> RequiredAppointment:
    _check_appointment(invitation=invitation, professionals=professionals, after=after)
    appointment = RequiredAppointment.objects.create(
        invitation=invitation,
        label=label,
        labels=_clean_labels(labels),
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
        request=request,
        payload={"label": label, "minutes": minutes},
    )
    _setup_changed(invitation.clinic)
    return appointment


@transaction.atomic
def appointment_update(
    *,
    appointment: RequiredAppointment,
    label: str,
    professionals: list[ClinicProfessional],
    minutes: int,
    labels: dict[str, str] | None = None,
    room_kind: str = "",
    fasting: bool = False,
    rest_after_minutes: int = 0,
    after: RequiredAppointment | None = None,
    gap_minutes: int = 0,
    by: User | None = None,
    request: HttpRequest | None = None,
) -> RequiredAppointment:
    """Change what an appointment needs; its name in any language needs no new plan."""
    invitation = appointment.invitation
    _check_appointment(
        invitation=invitation, professionals=professionals, after=after, appointment=appointment
    )
    fields = ("minutes", "room_kind", "fasting", "rest_after_minutes", "after_id", "gap_minutes")
    before = (
        *(getattr(appointment, f) for f in fields),
        {p.pk for p in appointment.professionals.all()},
    )
    appointment.label = label
    appointment.labels = _clean_labels(labels)
    appointment.minutes = minutes
    appointment.room_kind = room_kind
    appointment.fasting = fasting
    appointment.rest_after_minutes = rest_after_minutes
    appointment.after = after
    appointment.gap_minutes = gap_minutes
    appointment.save()
    appointment.professionals.set(professionals)
    changed = before != (
        *(getattr(appointment, f) for f in fields),
        {p.pk for p in professionals},
    )
    audit_log(
        action="care.clinic.appointment_updated",
        actor=by,
        obj=invitation,
        request=request,
        payload={"appointment": appointment.pk, "label": label, "changed": changed},
    )
    if changed:
        _setup_changed(invitation.clinic)
    return appointment


@transaction.atomic
def appointment_remove(
    *, appointment: RequiredAppointment, by: User | None, request: HttpRequest | None = None
) -> None:
    """Take an appointment off a family's list. One in the timetable is cancelled instead, so
    the clinic is re-planned and the family told."""
    invitation = appointment.invitation
    if appointment.visits.exists():
        raise ValidationError(
            _(
                "“%(what)s” for %(name)s is in the timetable. Cancel it on the planning page "
                "instead: the clinic is re-planned and the family is told."
            )
            % {"what": appointment.label, "name": invitation.patient.user.full_name}
        )
    _record(
        action="care.appointment.removed",
        by=by,
        obj=invitation,
        patient=invitation.patient,
        request=request,
        label=appointment.label,
    )
    appointment.delete()
    _setup_changed(invitation.clinic)


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
    # Planned with the set-up as it was when it was read: a change made while the solver ran
    # is later than this, so the page still asks for a new plan.
    clinic.planned_at = loaded.loaded_at
    clinic.wall_seconds = round(schedule.wall_seconds, 3)
    # Only the plan's own fields: the lease and the planning marks belong to others.
    clinic.save(
        update_fields=[
            "status",
            "method",
            "objective",
            "bound",
            "gap",
            "waiting_minutes",
            "explanations",
            "planned_at",
            "wall_seconds",
            "updated_at",
        ]
    )
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

    if _replanning(clinic):
        raise ValidationError(
            _("The clinic is being re-planned after a change. Plan again when that is done.")
        )
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


# --- re-planning after a change ------------------------------------------------------------
#
# A cancellation, a late arrival or a changed set-up is recorded at once (the page shows it)
# as a ``ClinicReplan``; a background task then re-plans around it, keeping everyone else's
# appointments where they are, and tells the families and professionals whose times changed.
# One re-plan at a time writes a clinic's timetable (the clinic's lease); changes recorded
# meanwhile are re-planned together next. Running the task again does nothing new: the
# changes are marked done in the same transaction that writes the timetable, and every
# message has an idempotency key naming the re-plan.

REPLAN_LEASE = timedelta(minutes=5)  # a re-plan takes seconds; a lease this old is a dead one
REPLAN_REQUEUE_AFTER = timedelta(minutes=2)


def _replanning(clinic: Clinic) -> bool:
    """A re-plan is queued or running (one queued long ago waits for the periodic re-queue and
    blocks nothing)."""
    return ClinicReplan.objects.filter(
        clinic=clinic,
        status=ClinicReplan.Status.QUEUED,
        requested_at__gte=timezone.now() - REPLAN_LEASE,
    ).exists()


def _check_not_planning(clinic: Clinic) -> None:
    if Clinic.objects.filter(pk=clinic.pk, planning_since__isnull=False).exists():
        raise ValidationError(
            _("The clinic is being planned from scratch. Make the change when that is done.")
        )


def _replan_record(
    *,
    clinic: Clinic,
    reason: str,
    params: dict[str, Any],
    touched: set[int],
    by: User | None,
    request: HttpRequest | None,
    enqueue: bool,
) -> ClinicReplan:
    replan = ClinicReplan.objects.create(
        clinic=clinic,
        reason=reason,
        params=params,
        touched=sorted(touched),
        requested_by=by if by is not None and by.is_authenticated else None,
    )
    audit_log(
        action="care.clinic.replan_requested",
        actor=by,
        obj=clinic,
        request=request,
        payload={"replan": replan.pk, "reason": reason, **params},
    )
    if enqueue:
        from rarebridge.care.tasks import replan_clinic

        transaction.on_commit(lambda: replan_clinic.enqueue(replan_id=replan.pk))
    return replan


def appointment_cancel(
    *,
    appointment: RequiredAppointment,
    by: User | None,
    request: HttpRequest | None = None,
    enqueue: bool = True,
) -> ClinicReplan | None:
    """Cancel one appointment now; a planned clinic is re-planned around it in the background
    (the returned change). Unplanned, there is nothing to re-plan."""
    invitation = appointment.invitation
    clinic = invitation.clinic
    _check_not_planning(clinic)
    with transaction.atomic():
        cancelled = RequiredAppointment.objects.filter(
            pk=appointment.pk, status=RequiredAppointment.Status.NEEDED
        ).update(status=RequiredAppointment.Status.CANCELLED)
        if not cancelled:
            raise ValidationError(_("That appointment is cancelled already."))
        appointment.status = RequiredAppointment.Status.CANCELLED
        RequiredAppointment.objects.filter(after=appointment).update(after=None)
        _record(
            action="care.appointment.cancelled",
            by=by,
            obj=invitation,
            patient=invitation.patient,
            request=request,
            label=appointment.label,
        )
        if not clinic.has_timetable:
            return None
        return _replan_record(
            clinic=clinic,
            reason=ClinicReplan.Reason.APPOINTMENT_CANCELLED,
            params={
                "appointment": appointment.pk,
                "invitation": invitation.pk,
                "label": appointment.label,
            },
            touched={invitation.pk},
            by=by,
            request=request,
            enqueue=enqueue,
        )


def invitation_cancel(
    *,
    invitation: ClinicInvitation,
    by: User | None,
    request: HttpRequest | None = None,
    enqueue: bool = True,
) -> ClinicReplan | None:
    """A family cannot come: take them off the clinic now (their travel record stays) and
    re-plan a planned clinic around everyone else in the background."""
    clinic = invitation.clinic
    _check_not_planning(clinic)
    with transaction.atomic():
        cancelled = ClinicInvitation.objects.filter(
            pk=invitation.pk, status=ClinicInvitation.Status.INVITED
        ).update(status=ClinicInvitation.Status.CANCELLED)
        if not cancelled:
            raise ValidationError(_("The family is off the clinic already."))
        invitation.status = ClinicInvitation.Status.CANCELLED
        ScheduledVisit.objects.filter(invitation=invitation).delete()
        _record(
            action="care.invitation.cancelled",
            by=by,
            obj=invitation,
            patient=invitation.patient,
            request=request,
            clinic=clinic.name,
        )
        if not clinic.has_timetable:
            return None
        return _replan_record(
            clinic=clinic,
            reason=ClinicReplan.Reason.INVITATION_CANCELLED,
            params={"invitation": invitation.pk},
            touched=set(),
            by=by,
            request=request,
            enqueue=enqueue,
        )


def professional_late(
    *,
    professional: ClinicProfessional,
    day: ClinicDay,
    arrives: time,
    by: User | None,
    request: HttpRequest | None = None,
    enqueue: bool = True,
) -> ClinicReplan | None:
    """A professional arrives late: their hours that day start at ``arrives`` now; a planned
    clinic is re-planned around it in the background."""
    clinic = professional.clinic
    if day.clinic_id != clinic.pk:
        raise ValidationError(_("Choose a day of this clinic."))
    _check_not_planning(clinic)
    with transaction.atomic():
        shifts = list(professional.shifts.filter(day=day))
        if not shifts:
            ProfessionalShift.objects.create(
                professional=professional, day=day, starts=arrives, ends=day.closes
            )
            # A professional without shifts was there all clinic long: keep the other days.
            if not professional.shifts.exclude(day=day).exists():
                for other in clinic.days.exclude(pk=day.pk):
                    ProfessionalShift.objects.create(
                        professional=professional, day=other, starts=other.opens, ends=other.closes
                    )
        for shift in shifts:
            if shift.ends <= arrives:
                shift.delete()
            elif shift.starts < arrives:
                shift.starts = arrives
                shift.save(update_fields=["starts"])
        if not clinic.has_timetable:
            audit_log(
                action="care.clinic.professional_late",
                actor=by,
                obj=clinic,
                request=request,
                payload={"professional": professional.pk, "arrives": arrives.isoformat()},
            )
            return None
        return _replan_record(
            clinic=clinic,
            reason=ClinicReplan.Reason.PROFESSIONAL_LATE,
            params={
                "professional": professional.pk,
                "name": professional.name,
                "day": day.date.isoformat(),
                "arrives": arrives.strftime("%H:%M"),
            },
            touched=set(),
            by=by,
            request=request,
            enqueue=enqueue,
        )


def clinic_replan_request(
    *, clinic: Clinic, by: User | None, request: HttpRequest | None = None, enqueue: bool = True
) -> ClinicReplan:
    """The set-up changed since the plan: re-plan with it, keeping families' times where
    possible (planning from scratch may move everyone)."""
    if not clinic.has_timetable:
        raise ValidationError(_("Plan the clinic first."))
    _check_not_planning(clinic)
    with transaction.atomic():
        return _replan_record(
            clinic=clinic,
            reason=ClinicReplan.Reason.SETUP_CHANGED,
            params={},
            touched=set(),
            by=by,
            request=request,
            enqueue=enqueue,
        )


def clinic_replan_run(*, replan_id: int, time_limit_seconds: float = 10.0) -> str:
    """The re-planning task's body; safe to run any number of times, by any worker."""
    replan = ClinicReplan.objects.filter(pk=replan_id).first()
    if replan is None:
        return "nothing to do"
    if replan.status != ClinicReplan.Status.QUEUED:
        return "done already"
    done = _replans_run(clinic_id=replan.clinic_id, time_limit_seconds=time_limit_seconds)
    return "done" if replan_id in done else "left to the re-plan running now"


def _replans_run(*, clinic_id: int, time_limit_seconds: float) -> dict[int, engine.Schedule]:
    """Take the clinic's lease and re-plan its queued changes until none is left; the schedule
    each change was re-planned with. Another worker holding the lease takes them instead."""
    done: dict[int, engine.Schedule] = {}
    while True:
        lease = timezone.now()
        taken = (
            Clinic.objects.filter(pk=clinic_id)
            .filter(Q(replan_lease__isnull=True) | Q(replan_lease__lt=lease - REPLAN_LEASE))
            .update(replan_lease=lease)
        )
        if not taken:
            return done
        try:
            while True:
                batch = list(
                    ClinicReplan.objects.filter(
                        clinic_id=clinic_id, status=ClinicReplan.Status.QUEUED
                    )
                    .select_related("requested_by")
                    .order_by("pk")
                )
                if not batch:
                    break
                schedule = _replan(replans=batch, time_limit_seconds=time_limit_seconds)
                done.update(dict.fromkeys((r.pk for r in batch), schedule))
        finally:
            Clinic.objects.filter(pk=clinic_id, replan_lease=lease).update(replan_lease=None)
        # A change recorded after the last look, whose own task found the lease taken.
        if not ClinicReplan.objects.filter(
            clinic_id=clinic_id, status=ClinicReplan.Status.QUEUED
        ).exists():
            return done


def _timetable(clinic: Clinic) -> dict[str, tuple]:
    """The stored appointments and round tables: id -> (invitation, appointment, starts, room,
    professionals)."""
    rows = (
        ScheduledVisit.objects.filter(clinic=clinic)
        .exclude(kind=ScheduledVisit.Kind.LUNCH)
        .prefetch_related("professionals")
    )
    return {
        (f"a{row.appointment_id}" if row.appointment_id else f"t{row.invitation_id}"): (
            row.invitation_id,
            row.appointment_id,
            row.starts_at,
            row.room_id,
            frozenset(p.pk for p in row.professionals.all()),
        )
        for row in rows
    }


def _replan(*, replans: list[ClinicReplan], time_limit_seconds: float) -> engine.Schedule:
    """Re-plan the clinic once for these changes and mark them done, in one transaction."""
    clinic = Clinic.objects.select_related("site").get(pk=replans[0].clinic_id)
    by = replans[-1].requested_by
    key = replans[-1].pk
    touched = {pk for r in replans for pk in r.touched}
    loaded = planning.load(clinic=clinic)
    previous = planning.previous_schedule(loaded)
    before = _timetable(clinic)
    try:
        schedule = engine.replan(
            clinic=planning.to_engine(loaded),
            previous=previous,
            options=_options(time_limit_seconds),
        )
        explanations = _explanations(schedule)
    except ValueError as exc:  # a malformed set-up, shown like the solver's reasons
        schedule = engine.Schedule(status=engine.Status.UNKNOWN, method="setup")
        explanations = [{"rule": "setup", "people": [], "params": {}, "message": str(exc)}]
    status = ClinicReplan.Status.DONE if schedule.has_timetable else ClinicReplan.Status.KEPT
    payload = {
        "replans": [r.pk for r in replans],
        "changes": [{"reason": r.reason, **r.params} for r in replans],
    }
    with transaction.atomic():
        claimed = ClinicReplan.objects.filter(
            pk__in=[r.pk for r in replans], status=ClinicReplan.Status.QUEUED
        ).update(status=status, batch=key, finished_at=timezone.now())
        if claimed != len(replans):  # another worker re-planned them meanwhile
            transaction.set_rollback(True)
            return schedule
        if not schedule.has_timetable:
            # Keep the timetable people already have (without what was cancelled) and show why
            # the change cannot be planned; nobody is told of a change that did not happen.
            ScheduledVisit.objects.filter(
                clinic=clinic, appointment__status=RequiredAppointment.Status.CANCELLED
            ).delete()
            clinic.explanations = explanations
            clinic.save(update_fields=["explanations", "updated_at"])
            audit_log(
                action="care.clinic.replanned",
                actor=by,
                obj=clinic,
                payload={**payload, "status": str(schedule.status), "kept_previous": True},
            )
            return schedule
        _save_result(loaded=loaded, schedule=schedule)
        after = _timetable(clinic)
        moved = [
            {
                "invitation": now[0],
                "appointment": now[1],
                "from": before[code][2].isoformat() if code in before else "",
                "to": now[2].isoformat(),
            }
            for code, now in sorted(after.items(), key=lambda item: item[1][2])
            if code not in before or before[code][2:] != now[2:]
        ]
        gone = [was for code, was in before.items() if code not in after]
        ClinicReplan.objects.filter(pk__in=[r.pk for r in replans]).update(moved=moved)
        audit_log(
            action="care.clinic.replanned",
            actor=by,
            obj=clinic,
            payload={**payload, "status": clinic.status, "moved": len(moved)},
        )
        invited = {i.pk: i for i in loaded.invitations.values()}
        told = ({m["invitation"] for m in moved} | {was[0] for was in gone} | touched) & set(
            invited
        )
        for pk in sorted(told):
            _itinerary_changed(invitation=invited[pk], by=by, key=key)
        # Professionals with an account hear that their day sheet changed.
        changed_codes = {
            code for code in after if code not in before or before[code] != after[code]
        }
        changed_codes |= {code for code in before if code not in after}
        staff = {
            pro
            for timetable in (before, after)
            for code, visit in timetable.items()
            if code in changed_codes or visit[0] in touched
            for pro in visit[4]
        }
        _ensure_message_templates()
        for pro in ClinicProfessional.objects.filter(
            pk__in=staff, user__isnull=False
        ).select_related("user"):
            message_send(
                recipient=pro.user,
                template_key="care_day_sheet_changed",
                context={"clinic": clinic.name},
                idempotency_key=f"care-day-sheet-{pro.pk}-replan-{key}",
                channels=(Channel.IN_APP,),
            )
    return schedule


def _itinerary_changed(*, invitation: ClinicInvitation, by: User | None, key: int) -> None:
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
        idempotency_key=f"care-itinerary-{invitation.pk}-replan-{key}",
        channels=(Channel.EMAIL, Channel.IN_APP),
    )


def clinic_replans_requeue_due() -> int:
    """Periodic: queue again the re-plans a lost worker left behind. Returns how many."""
    from rarebridge.care.tasks import replan_clinic

    now = timezone.now()
    waiting = (
        ClinicReplan.objects.filter(
            status=ClinicReplan.Status.QUEUED, requested_at__lt=now - REPLAN_REQUEUE_AFTER
        )
        .filter(
            Q(clinic__replan_lease__isnull=True) | Q(clinic__replan_lease__lt=now - REPLAN_LEASE)
        )
        .order_by("clinic_id", "pk")
    )
    first = {}
    for replan in waiting:
        first.setdefault(replan.clinic_id, replan.pk)
    for replan_id in first.values():
        replan_clinic.enqueue(replan_id=replan_id)
    return len(first)


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
    if clinic.setup_changed_since_plan:
        raise ValidationError(
            _("The set-up changed since the plan. Plan again before sending itineraries.")
        )
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


# Re-planning at once, for callers without a worker (tests, the engine's benchmarks, scripts).


def _schedule_of(replan: ClinicReplan | None, time_limit_seconds: float) -> engine.Schedule:
    if replan is None:  # an unplanned clinic: nothing to re-plan
        return engine.Schedule(status=engine.Status.UNKNOWN, method="none")
    done = _replans_run(clinic_id=replan.clinic_id, time_limit_seconds=time_limit_seconds)
    return done.get(replan.pk) or engine.Schedule(status=engine.Status.UNKNOWN, method="busy")


def clinic_replan_after_cancellation(
    *,
    appointment: RequiredAppointment,
    by: User | None,
    time_limit_seconds: float = 10.0,
    request: HttpRequest | None = None,
) -> engine.Schedule:
    """Cancel one appointment and re-plan now, keeping everyone else's appointments in place."""
    replan = appointment_cancel(appointment=appointment, by=by, request=request, enqueue=False)
    return _schedule_of(replan, time_limit_seconds)


def clinic_replan_after_invitation_cancelled(
    *,
    invitation: ClinicInvitation,
    by: User | None,
    time_limit_seconds: float = 10.0,
    request: HttpRequest | None = None,
) -> engine.Schedule:
    """A family cannot come: take them off the clinic and re-plan now around everyone else."""
    replan = invitation_cancel(invitation=invitation, by=by, request=request, enqueue=False)
    return _schedule_of(replan, time_limit_seconds)


def clinic_replan_after_late_professional(
    *,
    professional: ClinicProfessional,
    day: ClinicDay,
    arrives: time,
    by: User | None,
    time_limit_seconds: float = 10.0,
    request: HttpRequest | None = None,
) -> engine.Schedule:
    """A professional arrives late: their hours that day start at ``arrives``; re-plan now."""
    replan = professional_late(
        professional=professional, day=day, arrives=arrives, by=by, request=request, enqueue=False
    )
    return _schedule_of(replan, time_limit_seconds)


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
