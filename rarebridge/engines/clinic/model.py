"""The one-stop clinic as plain data: days, rooms, professionals, patients, appointments.

Every time is a whole number of *steps* (``Clinic.step_minutes``, 15 by default) counted from
``Clinic.day_starts_at`` on each day; every range is half-open, ``[start, end)``. Steps keep the
solver's arithmetic exact; ``Clinic.step_at`` and ``Clinic.clock_at`` convert for people.

The edit helpers at the bottom (``cancel_patient``, ``cancel_appointment``,
``professional_late``) return a new clinic for ``replan``; nothing here is ever mutated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time


@dataclass(frozen=True, kw_only=True)
class Window:
    """A half-open range of steps ``[start, end)`` within one day."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, kw_only=True)
class Day:
    """One clinic day: when the building is open, and breaks no appointment may run across."""

    opens: int
    closes: int
    breaks: tuple[Window, ...] = ()
    # Latest start of a fasting test (bloods before breakfast). None: two hours after opening,
    # which is when fasting patients are usually given breakfast.
    fasting_by: int | None = None


@dataclass(frozen=True, kw_only=True)
class Room:
    id: str
    kind: str = "consulting"
    step_free: bool = True


@dataclass(frozen=True, kw_only=True)
class Shift:
    """A professional is available on ``day`` during ``[start, end)``; several shifts a day are fine."""

    day: int
    start: int
    end: int


@dataclass(frozen=True, kw_only=True)
class Professional:
    id: str
    name: str = ""
    # Rooms this professional can work in; None: any room.
    rooms: tuple[str, ...] | None = None
    # None: all the clinic's opening hours on every day.
    hours: tuple[Shift, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class Appointment:
    """One consultation or test. ``id`` is unique across the whole clinic."""

    id: str
    # One of these professionals sees the patient (a single one for a named consultant).
    professionals: tuple[str, ...]
    duration: int
    label: str = ""
    # The appointment needs a room of this kind ("audiology booth", "gym"); None: any room
    # the professional can use.
    room_kind: str | None = None
    # Fasting tests come first in the patient's day and start by the day's ``fasting_by``.
    fasting: bool = False
    # A long or tiring test (exercise test, sweat test) is followed by this many steps of rest
    # (lunch may overlap it; a rest that would run past closing ends with the day).
    rest_after: int = 0


@dataclass(frozen=True, kw_only=True)
class Precedence:
    """``before`` ends at least ``min_gap`` steps before ``after`` starts (bloods before the
    consultant who reads them; the hearing test before the audiology review). The gap is a
    rule within a day: when ``after`` is on a later day, the night is gap enough."""

    before: str
    after: str
    min_gap: int = 0


@dataclass(frozen=True, kw_only=True)
class Lunch:
    """A patient's lunch break of ``duration`` steps inside ``[earliest, latest)`` each day."""

    earliest: int
    latest: int
    duration: int


@dataclass(frozen=True, kw_only=True)
class RoundTable:
    """The closing discussion with the team, the patient and family: after all the patient's
    appointments, with every member of ``team`` present."""

    id: str
    team: tuple[str, ...]
    duration: int
    room_kind: str | None = None


@dataclass(frozen=True, kw_only=True)
class Patient:
    id: str
    name: str = ""
    appointments: tuple[Appointment, ...] = ()
    precedences: tuple[Precedence, ...] = ()
    # The clinic days this patient attends; None: any.
    days: tuple[int, ...] | None = None
    # Fatigue limit: first arrival to last departure on one day, in steps; None: no limit.
    max_span: int | None = None
    lunch: Lunch | None = None
    step_free: bool = False
    round_table: RoundTable | None = None


@dataclass(frozen=True, kw_only=True)
class Group:
    """Patients who come together: siblings, or a patient and a carer who is a patient too."""

    id: str
    patients: tuple[str, ...]
    # Each block lists appointment ids (of different members) that one professional sees
    # straight after one another, in any order, so the family waits once.
    back_to_back: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True, kw_only=True)
class Clinic:
    days: tuple[Day, ...]
    rooms: tuple[Room, ...]
    professionals: tuple[Professional, ...]
    patients: tuple[Patient, ...]
    groups: tuple[Group, ...] = ()
    step_minutes: int = 15
    # Clock time of step 0 on every day.
    day_starts_at: time = time(8, 0)

    def clock_at(self, *, step: int) -> time:
        minutes = self.day_starts_at.hour * 60 + self.day_starts_at.minute
        minutes += step * self.step_minutes
        return time(minutes // 60 % 24, minutes % 60)

    def step_at(self, *, clock: time) -> int:
        """The step starting at ``clock``; raises if ``clock`` is not on the step grid."""
        minutes = clock.hour * 60 + clock.minute
        minutes -= self.day_starts_at.hour * 60 + self.day_starts_at.minute
        steps, rest = divmod(minutes, self.step_minutes)
        if rest or clock.second or clock.microsecond:
            raise ValueError(f"{clock} is not on the {self.step_minutes}-minute grid")
        return steps

    def steps(self, *, minutes: int) -> int:
        """Whole steps covering ``minutes`` (a 20-minute test takes two 15-minute steps)."""
        return -(-minutes // self.step_minutes)


def validate(*, clinic: Clinic) -> None:
    """Raise ``ValueError`` for input that is malformed rather than merely impossible to plan.

    Impossible-but-well-formed plans (too little time, conflicting rules) are not errors: the
    solver explains them. This catches what no timetable could ever mean: unknown ids,
    duplicate ids, empty durations, ranges that end before they start.
    """
    problems: list[str] = []
    if not clinic.days:
        problems.append("a clinic needs at least one day")
    if clinic.step_minutes <= 0:
        problems.append("step_minutes must be positive")
    for index, day in enumerate(clinic.days):
        if not 0 <= day.opens < day.closes:
            problems.append(f"day {index}: opening hours {day.opens}-{day.closes} are empty")
        for window in day.breaks:
            if window.start >= window.end:
                problems.append(f"day {index}: break {window.start}-{window.end} is empty")
    problems += _duplicates("room", (r.id for r in clinic.rooms))
    problems += _duplicates("professional", (p.id for p in clinic.professionals))
    problems += _duplicates("patient", (p.id for p in clinic.patients))
    problems += _duplicates("group", (g.id for g in clinic.groups))
    task_ids = [a.id for p in clinic.patients for a in p.appointments]
    task_ids += [p.round_table.id for p in clinic.patients if p.round_table]
    problems += _duplicates("appointment", task_ids)

    room_ids = {r.id for r in clinic.rooms}
    staff_ids = {p.id for p in clinic.professionals}
    for pro in clinic.professionals:
        if pro.rooms is not None:
            problems += [f"{pro.id}: unknown room {r}" for r in pro.rooms if r not in room_ids]
        for shift in pro.hours or ():
            if not 0 <= shift.day < len(clinic.days) or shift.start >= shift.end:
                problems.append(f"{pro.id}: shift {shift} is not a range on a clinic day")
    owner: dict[str, str] = {}
    for patient in clinic.patients:
        problems += _patient_problems(patient=patient, clinic=clinic, staff_ids=staff_ids)
        for appointment in patient.appointments:
            owner[appointment.id] = patient.id
    for group in clinic.groups:
        members = set(group.patients)
        known = {p.id for p in clinic.patients}
        problems += [f"{group.id}: unknown patient {p}" for p in members - known]
        for block in group.back_to_back:
            owners = [owner.get(a) for a in block]
            if len(block) < 2 or None in owners:
                problems.append(f"{group.id}: block {block} needs two or more known appointments")
            elif len(set(owners)) != len(owners) or not set(owners) <= members:
                problems.append(f"{group.id}: block {block} must be one per group member")
    if problems:
        raise ValueError("; ".join(problems))


def _patient_problems(*, patient: Patient, clinic: Clinic, staff_ids: set[str]) -> list[str]:
    problems: list[str] = []
    own = {a.id for a in patient.appointments}
    for appointment in patient.appointments:
        if appointment.duration <= 0 or appointment.rest_after < 0:
            problems.append(f"{appointment.id}: duration must be positive, rest not negative")
        if not appointment.professionals:
            problems.append(f"{appointment.id}: names no professional")
        unknown = set(appointment.professionals) - staff_ids
        problems += [f"{appointment.id}: unknown professional {p}" for p in sorted(unknown)]
    for rule in patient.precedences:
        if rule.before not in own or rule.after not in own or rule.before == rule.after:
            problems.append(
                f"{patient.id}: precedence {rule.before}->{rule.after} is not between two of its appointments"
            )
        if rule.min_gap < 0:
            problems.append(f"{patient.id}: precedence gap must not be negative")
    if patient.days is not None:
        problems += [
            f"{patient.id}: day {d} is not a clinic day"
            for d in patient.days
            if not 0 <= d < len(clinic.days)
        ]
    if patient.max_span is not None and patient.max_span <= 0:
        problems.append(f"{patient.id}: max_span must be positive")
    lunch = patient.lunch
    if lunch and (lunch.duration <= 0 or lunch.latest - lunch.earliest < lunch.duration):
        problems.append(f"{patient.id}: the lunch window cannot hold the lunch break")
    table = patient.round_table
    if table:
        if table.duration <= 0 or not table.team:
            problems.append(f"{table.id}: a round table needs a team and a duration")
        unknown = set(table.team) - staff_ids
        problems += [f"{table.id}: unknown professional {p}" for p in sorted(unknown)]
    return problems


def _duplicates(kind: str, ids: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    problems = []
    for item in ids:
        if item in seen:
            problems.append(f"duplicate {kind} id {item}")
        seen.add(item)
    return problems


def cancel_patient(*, clinic: Clinic, patient_id: str) -> Clinic:
    """The clinic without this patient (and without them in any group)."""
    if patient_id not in {p.id for p in clinic.patients}:
        raise ValueError(f"unknown patient {patient_id}")
    gone = next(p for p in clinic.patients if p.id == patient_id)
    gone_ids = {a.id for a in gone.appointments}
    patients = tuple(p for p in clinic.patients if p.id != patient_id)
    groups = _groups_without(groups=clinic.groups, patient_id=patient_id, appointment_ids=gone_ids)
    return dataclasses.replace(clinic, patients=patients, groups=groups)


def cancel_appointment(*, clinic: Clinic, appointment_id: str) -> Clinic:
    """The clinic without this appointment, its precedences and its back-to-back pairings."""
    patients = []
    found = False
    for patient in clinic.patients:
        kept = tuple(a for a in patient.appointments if a.id != appointment_id)
        if len(kept) != len(patient.appointments):
            found = True
            rules = tuple(
                r for r in patient.precedences if appointment_id not in (r.before, r.after)
            )
            patient = dataclasses.replace(patient, appointments=kept, precedences=rules)
        patients.append(patient)
    if not found:
        raise ValueError(f"unknown appointment {appointment_id}")
    groups = _groups_without(
        groups=clinic.groups, patient_id=None, appointment_ids={appointment_id}
    )
    return dataclasses.replace(clinic, patients=tuple(patients), groups=groups)


def professional_late(
    *, clinic: Clinic, professional_id: str, day: int, available_from: int
) -> Clinic:
    """The clinic where this professional only arrives at step ``available_from`` on ``day``."""
    if not 0 <= day < len(clinic.days):
        raise ValueError(f"day {day} is not a clinic day")
    staff = []
    found = False
    for pro in clinic.professionals:
        if pro.id == professional_id:
            found = True
            shifts = pro.hours
            if shifts is None:
                shifts = tuple(
                    Shift(day=d, start=clinic_day.opens, end=clinic_day.closes)
                    for d, clinic_day in enumerate(clinic.days)
                )
            clipped = []
            for shift in shifts:
                if shift.day == day:
                    if shift.end <= available_from:
                        continue
                    shift = dataclasses.replace(shift, start=max(shift.start, available_from))
                clipped.append(shift)
            pro = dataclasses.replace(pro, hours=tuple(clipped))
        staff.append(pro)
    if not found:
        raise ValueError(f"unknown professional {professional_id}")
    return dataclasses.replace(clinic, professionals=tuple(staff))


def _groups_without(
    *, groups: tuple[Group, ...], patient_id: str | None, appointment_ids: set[str]
) -> tuple[Group, ...]:
    kept = []
    for group in groups:
        members = tuple(p for p in group.patients if p != patient_id)
        blocks = tuple(
            block
            for block in (
                tuple(a for a in b if a not in appointment_ids) for b in group.back_to_back
            )
            if len(block) >= 2
        )
        kept.append(dataclasses.replace(group, patients=members, back_to_back=blocks))
    return tuple(kept)
