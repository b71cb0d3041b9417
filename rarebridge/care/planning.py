"""The clinic as the engine sees it, and back: DB rows -> ``engines.clinic.Clinic`` ->
``Schedule`` -> ``ScheduledVisit`` rows.

Engine ids are short codes of our primary keys: ``r<room>``, ``s<professional>``,
``i<invitation>`` (the patient), ``a<appointment>``, ``t<invitation>`` (their round table).
Clinic times are local clock times at the site, on the clinic's step grid.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from rarebridge.care.models import (
    Clinic,
    ClinicDay,
    ClinicInvitation,
    ClinicProfessional,
    ClinicRoom,
    RequiredAppointment,
    ScheduledVisit,
)
from rarebridge.engines import clinic as engine

LUNCH_FROM = time(11, 30)
LUNCH_UNTIL = time(14, 0)
ROUND_TABLE_ROOM_KIND = "meeting"


@dataclass
class Loaded:
    """The clinic's rows, loaded once, with the id maps both directions need."""

    clinic: Clinic
    days: list[ClinicDay]
    rooms: dict[str, ClinicRoom] = field(default_factory=dict)
    professionals: dict[str, ClinicProfessional] = field(default_factory=dict)
    invitations: dict[str, ClinicInvitation] = field(default_factory=dict)
    appointments: dict[str, RequiredAppointment] = field(default_factory=dict)
    day_starts_at: time = time(8, 0)
    # When the rows were read: a plan made from them shows the set-up as of this moment.
    loaded_at: datetime = field(default_factory=timezone.now)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.clinic.site.time_zone)

    def minutes_of(self, clock: time) -> int:
        return clock.hour * 60 + clock.minute

    def step(self, clock: time, *, up: bool = False) -> int:
        """The step at ``clock``; off-grid times round down (or up, for a start of a break)."""
        offset = self.minutes_of(clock) - self.minutes_of(self.day_starts_at)
        steps, rest = divmod(offset, self.clinic.step_minutes)
        return steps + (1 if up and rest else 0)

    def steps(self, minutes: int) -> int:
        return -(-minutes // self.clinic.step_minutes)


def load(*, clinic: Clinic) -> Loaded:
    days = list(clinic.days.prefetch_related("breaks").order_by("date"))
    loaded = Loaded(clinic=clinic, days=days)
    if days:
        earliest = min(loaded.minutes_of(d.opens) for d in days)
        earliest -= earliest % clinic.step_minutes
        loaded.day_starts_at = time(earliest // 60, earliest % 60)
    loaded.rooms = {f"r{r.pk}": r for r in clinic.rooms.all()}
    loaded.professionals = {
        f"s{p.pk}": p
        for p in clinic.professionals.select_related("user").prefetch_related("rooms", "shifts")
    }
    invitations = clinic.invitations.filter(status=ClinicInvitation.Status.INVITED)
    loaded.invitations = {
        f"i{i.pk}": i
        for i in invitations.select_related("patient__user").prefetch_related(
            "days", "round_table_team"
        )
    }
    for appointment in RequiredAppointment.objects.filter(
        invitation__in=list(loaded.invitations.values()),
        status=RequiredAppointment.Status.NEEDED,
    ).prefetch_related("professionals"):
        loaded.appointments[f"a{appointment.pk}"] = appointment
    return loaded


def to_engine(loaded: Loaded) -> engine.Clinic:
    day_index = {d.pk: n for n, d in enumerate(loaded.days)}
    days = tuple(
        engine.Day(
            opens=loaded.step(d.opens, up=True),
            closes=loaded.step(d.closes),
            breaks=tuple(
                engine.Window(start=loaded.step(b.starts), end=loaded.step(b.ends, up=True))
                for b in d.breaks.all()
            ),
            fasting_by=loaded.step(d.fasting_by) if d.fasting_by else None,
        )
        for d in loaded.days
    )
    room_code = {r.pk: code for code, r in loaded.rooms.items()}
    rooms = tuple(
        engine.Room(id=code, kind=r.kind, step_free=r.step_free) for code, r in loaded.rooms.items()
    )
    professionals = []
    for code, pro in loaded.professionals.items():
        usable = tuple(room_code[r.pk] for r in pro.rooms.all())
        shifts = tuple(
            engine.Shift(
                day=day_index[s.day_id],
                start=loaded.step(s.starts, up=True),
                end=loaded.step(s.ends),
            )
            for s in pro.shifts.all()
            if s.day_id in day_index
        )
        professionals.append(
            engine.Professional(id=code, name=pro.name, rooms=usable or None, hours=shifts or None)
        )
    by_invitation: dict[int, list[tuple[str, RequiredAppointment]]] = defaultdict(list)
    for code, appointment in loaded.appointments.items():
        by_invitation[appointment.invitation_id].append((code, appointment))
    has_meeting_room = any(r.kind == ROUND_TABLE_ROOM_KIND for r in loaded.rooms.values())
    patients = []
    for code, invitation in loaded.invitations.items():
        own = by_invitation[invitation.pk]
        own_codes = {a.pk: c for c, a in own}
        appointments = tuple(
            engine.Appointment(
                id=c,
                label=a.label,
                professionals=tuple(f"s{p.pk}" for p in a.professionals.all()),
                duration=loaded.steps(a.minutes),
                room_kind=a.room_kind or None,
                fasting=a.fasting,
                rest_after=loaded.steps(a.rest_after_minutes),
            )
            for c, a in own
        )
        precedences = tuple(
            engine.Precedence(
                before=own_codes[a.after_id], after=c, min_gap=loaded.steps(a.gap_minutes)
            )
            for c, a in own
            if a.after_id in own_codes
        )
        attends = tuple(sorted(day_index[d.pk] for d in invitation.days.all()))
        team = tuple(sorted(f"s{p.pk}" for p in invitation.round_table_team.all()))
        round_table = None
        if invitation.round_table_minutes and team:
            round_table = engine.RoundTable(
                id=f"t{invitation.pk}",
                team=team,
                duration=loaded.steps(invitation.round_table_minutes),
                room_kind=ROUND_TABLE_ROOM_KIND if has_meeting_room else None,
            )
        lunch = None
        if invitation.lunch_minutes:
            lunch = engine.Lunch(
                earliest=loaded.step(LUNCH_FROM),
                latest=loaded.step(LUNCH_UNTIL),
                duration=loaded.steps(invitation.lunch_minutes),
            )
        patients.append(
            engine.Patient(
                id=code,
                name=invitation.patient.user.full_name,
                appointments=appointments,
                precedences=precedences,
                days=attends or None,
                max_span=loaded.steps(int(invitation.max_hours_a_day * 60))
                if invitation.max_hours_a_day
                else None,
                lunch=lunch,
                step_free=invitation.step_free,
                round_table=round_table,
            )
        )
    return engine.Clinic(
        days=days,
        rooms=rooms,
        professionals=tuple(professionals),
        patients=tuple(patients),
        groups=_groups(loaded),
        step_minutes=loaded.clinic.step_minutes,
        day_starts_at=loaded.day_starts_at,
    )


def _groups(loaded: Loaded) -> tuple[engine.Group, ...]:
    families: dict[str, list[str]] = defaultdict(list)
    for code, invitation in loaded.invitations.items():
        if invitation.family:
            families[invitation.family].append(code)
    groups = []
    for family, members in sorted(families.items()):
        if len(members) < 2:
            continue
        blocks: dict[str, list[str]] = defaultdict(list)
        for code, appointment in loaded.appointments.items():
            owner = f"i{appointment.invitation_id}"
            if appointment.sibling_block and owner in members:
                blocks[appointment.sibling_block].append(code)
        groups.append(
            engine.Group(
                id=f"f-{family}",
                patients=tuple(members),
                back_to_back=tuple(tuple(b) for _k, b in sorted(blocks.items()) if len(b) >= 2),
            )
        )
    return tuple(groups)


def moment(loaded: Loaded, *, day: int, clock: time) -> datetime:
    return datetime.combine(loaded.days[day].date, clock, tzinfo=loaded.zone)


def store(loaded: Loaded, *, schedule: engine.Schedule) -> None:
    """Replace the clinic's visits by the schedule's (nothing when it has no timetable)."""
    clinic = loaded.clinic
    ScheduledVisit.objects.filter(clinic=clinic).delete()
    if not schedule.has_timetable:
        return
    created = []
    for visit in schedule.visits:
        invitation = loaded.invitations[visit.patient]
        appointment = loaded.appointments.get(visit.id)
        row = ScheduledVisit.objects.create(
            clinic=clinic,
            invitation=invitation,
            appointment=appointment,
            kind=ScheduledVisit.Kind.APPOINTMENT
            if appointment is not None
            else ScheduledVisit.Kind.ROUND_TABLE,
            day=loaded.days[visit.day],
            starts_at=moment(loaded, day=visit.day, clock=visit.starts_at),
            ends_at=moment(loaded, day=visit.day, clock=visit.ends_at),
            room=loaded.rooms[visit.room],
        )
        created.append((row, visit.professionals))
    for row, pros in created:
        row.professionals.set([loaded.professionals[p] for p in pros])
    for itinerary in schedule.itineraries:
        for lunch in itinerary.lunches:
            ScheduledVisit.objects.create(
                clinic=clinic,
                invitation=loaded.invitations[itinerary.patient],
                kind=ScheduledVisit.Kind.LUNCH,
                day=loaded.days[lunch.day],
                starts_at=moment(loaded, day=lunch.day, clock=lunch.starts_at),
                ends_at=moment(loaded, day=lunch.day, clock=lunch.ends_at),
            )


def previous_schedule(loaded: Loaded) -> engine.Schedule:
    """The stored timetable as the engine's ``Schedule``, for re-planning around it."""
    day_index = {d.pk: n for n, d in enumerate(loaded.days)}
    visits = []
    lunches: dict[str, list[engine.LunchBreak]] = defaultdict(list)
    rows = (
        ScheduledVisit.objects.filter(clinic=loaded.clinic)
        .select_related("appointment")
        .prefetch_related("professionals")
    )
    for row in rows:
        day = day_index[row.day_id]
        starts = row.starts_at.astimezone(loaded.zone).time()
        ends = row.ends_at.astimezone(loaded.zone).time()
        patient = f"i{row.invitation_id}"
        if row.kind == ScheduledVisit.Kind.LUNCH:
            lunches[patient].append(
                engine.LunchBreak(
                    patient=patient,
                    day=day,
                    start=loaded.step(starts),
                    end=loaded.step(ends),
                    starts_at=starts,
                    ends_at=ends,
                )
            )
            continue
        visits.append(
            engine.Visit(
                id=f"a{row.appointment_id}" if row.appointment_id else f"t{row.invitation_id}",
                patient=patient,
                kind=row.kind,
                label=row.appointment.label if row.appointment else "round table",
                day=day,
                start=loaded.step(starts),
                end=loaded.step(ends),
                starts_at=starts,
                ends_at=ends,
                room=f"r{row.room_id}",
                professionals=tuple(sorted(f"s{p.pk}" for p in row.professionals.all())),
            )
        )
    itineraries = tuple(
        engine.Itinerary(
            patient=patient,
            visits=tuple(v for v in visits if v.patient == patient),
            lunches=tuple(lunches.get(patient, ())),
            span=0,
            waiting=0,
        )
        for patient in sorted({v.patient for v in visits} | set(lunches))
    )
    return engine.Schedule(
        status=engine.Status.FEASIBLE,
        method="stored",
        visits=tuple(visits),
        itineraries=itineraries,
    )


# Solving and saying how good the plan is ------------------------------------------------------


def solve_options(*, time_limit_seconds: float = 10.0, gap_limit: float = 0.0):
    """The solver's options: limited by deterministic work (``CLINIC_SOLVER_WORK_LIMIT`` per
    10 s of the caller's budget, so the same set-up gives the same plan on any machine and
    under any load), with the wall clock only as a generous safety cap."""
    work = settings.CLINIC_SOLVER_WORK_LIMIT * time_limit_seconds / 10.0
    return engine.SolveOptions(
        time_limit_seconds=max(time_limit_seconds, settings.CLINIC_SOLVER_WALL_CAP_SECONDS),
        deterministic_time_limit=work,
        explain_time_limit_seconds=min(5.0, time_limit_seconds),
        num_workers=2,
        random_seed=0,
        gap_limit=gap_limit,
    )


def summary_sentences(summary: dict) -> list[str]:
    """The plan's quality as sentences in the reader's language (from ``Schedule.summary``)."""
    if not summary:
        return []
    wait = summary["max_wait_minutes"]
    idle = summary["idle_above_lower_bound_minutes"]
    first = (
        _("No family waits between appointments.")
        if wait == 0
        else ngettext(
            "Every family waits at most %(wait)s minute",
            "Every family waits at most %(wait)s minutes",
            wait,
        )
        % {"wait": wait}
    )
    second = (
        _("professionals' idle time is the least possible.")
        if idle == 0
        else ngettext(
            "professionals' idle time is within %(idle)s minute of the least possible.",
            "professionals' idle time is within %(idle)s minutes of the least possible.",
            idle,
        )
        % {"idle": idle}
    )
    sentences = [_("%(first)s; %(second)s") % {"first": first, "second": second}]
    if summary["proven_optimal"]:
        sentences.append(_("This plan is proven the best possible."))
    else:
        gap = summary.get("minutes_from_best_bound")
        if gap is None:
            sentences.append(_("A better plan may exist; how much better is not known."))
        else:
            minutes = max(1, round(gap))
            sentences.append(
                ngettext(
                    "A better plan may exist: at most %(minutes)s minute of a family's waiting "
                    "better in total.",
                    "A better plan may exist: at most %(minutes)s minutes of families' waiting "
                    "better in total.",
                    minutes,
                )
                % {"minutes": minutes}
            )
    sentences.append(
        _("Planning again with the same set-up gives the same plan.")
        if summary.get("deterministic", True)
        else _("The solver was stopped by the clock, so planning again may give another plan.")
    )
    return sentences
