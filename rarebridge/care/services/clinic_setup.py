"""A clinic's set-up: the clinic, its days (hours, breaks), rooms and professionals (rooms they
use, hours they are there).

Once a clinic has a plan, a change to the set-up that the plan depends on marks it: the
page says the set-up changed since the plan and offers to plan again. The timetable that
families have is never changed silently: removing a day, room or professional takes their
appointments out of it (and asks for a new plan); a family or an appointment that is in it
is taken off through "cannot come" and "cancel" (``clinic_changes``), which re-plan and tell
the people.
"""

from __future__ import annotations

from datetime import date, time

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rarebridge.accounts.models import User
from rarebridge.care.models import (
    Clinic,
    ClinicBreak,
    ClinicDay,
    ClinicProfessional,
    ClinicRoom,
    ProfessionalShift,
    RequiredAppointment,
    ScheduledVisit,
)
from rarebridge.care.services._common import _setup_changed
from rarebridge.core.actor import Actor
from rarebridge.core.audit import audit_log
from rarebridge.network.models import Site


@transaction.atomic
def clinic_create(
    *, site: Site, name: str, by: Actor | User | None, step_minutes: int = 15
) -> Clinic:
    clinic = Clinic.objects.create(
        organisation_id=site.organisation_id, site=site, name=name, step_minutes=step_minutes
    )
    audit_log(action="care.clinic.created", actor=by, obj=clinic, payload={"name": name})
    return clinic


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
    by: Actor | User | None = None,
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
    by: Actor | User | None = None,
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
            payload={"day": day.pk, "date": on.isoformat(), "changed": changed},
        )
        if changed:
            _setup_changed(clinic)
    return day


def _breaks_of(day: ClinicDay) -> list[tuple[time, time]]:
    return sorted((b.starts, b.ends) for b in day.breaks.all())


def clinic_day_remove(*, day: ClinicDay, by: Actor | User | None = None) -> None:
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
    by: Actor | User | None = None,
) -> ClinicRoom:
    if clinic.rooms.filter(name=name).exists():
        raise ValidationError(_("The clinic already has a room of that name."))
    with transaction.atomic():
        room = ClinicRoom.objects.create(clinic=clinic, name=name, kind=kind, step_free=step_free)
        audit_log(
            action="care.clinic.room_added",
            actor=by,
            obj=clinic,
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
    by: Actor | User | None = None,
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
            payload={"room": name, "was": old, "changed": changed},
        )
        if changed:
            _setup_changed(clinic)
    return room


def clinic_room_remove(*, room: ClinicRoom, by: Actor | User | None = None) -> None:
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
    by: Actor | User | None = None,
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
    by: Actor | User | None = None,
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
            payload={"professional": professional.pk, "name": name, "changed": changed},
        )
        if changed:
            _setup_changed(clinic)
    return professional


def clinic_professional_remove(
    *,
    professional: ClinicProfessional,
    by: Actor | User | None = None,
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
            payload={
                "name": professional.name,
                "discipline": professional.discipline,
                "timetable_visits": in_timetable,
            },
        )
        professional.delete()
        _setup_changed(clinic)
