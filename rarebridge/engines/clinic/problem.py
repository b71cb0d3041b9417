"""The clinic normalised for the solvers: tasks, their options, and one time line.

Both days sit on one line of steps: step ``s`` of day ``d`` is ``d * horizon + s``. That makes
precedences across the night ordinary inequalities. ``horizon`` leaves a "night" after the
latest closing longer than any precedence gap or rest, so that a gap or a rest is a rule
within a day and the night satisfies it (the blood results are ready by morning), and the end
of one day never touches the start of the next (nothing is "back to back" across a night).

A *task* is an appointment or a round table. Its *options* are the teams that can run it: one
option per eligible professional for an appointment, a single option holding the whole team
for a round table. Everything downstream (CP-SAT model, greedy, checks) works on tasks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rarebridge.engines.clinic.model import Clinic, Patient, Precedence, validate

APPOINTMENT = "appointment"
ROUND_TABLE = "round_table"


@dataclass(frozen=True, kw_only=True)
class Option:
    team: tuple[str, ...]  # professionals who all attend
    rooms: tuple[str, ...]  # rooms of the right kind this team can use (step-free not applied)


@dataclass(frozen=True, kw_only=True)
class Task:
    id: str
    patient: str
    kind: str
    label: str
    duration: int
    rest_after: int
    fasting: bool
    room_kind: str | None
    options: tuple[Option, ...]


@dataclass(frozen=True, kw_only=True)
class Placement:
    """Where a task went: ``start`` on the global line, which option, which room."""

    task: str
    start: int
    option: int
    room: str


def merge_intervals(intervals: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Half-open intervals merged where they touch or overlap, in order: two shifts 08:00-08:45
    and 08:45-09:30 are one stretch of time that a one-hour visit fits in."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if start >= end:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class Problem:
    def __init__(self, *, clinic: Clinic) -> None:
        validate(clinic=clinic)
        self.clinic = clinic
        night = max(
            [1]
            + [r.min_gap + 1 for p in clinic.patients for r in p.precedences]
            + [a.rest_after + 1 for p in clinic.patients for a in p.appointments]
        )
        self.horizon = max(day.closes for day in clinic.days) + night
        self.day_count = len(clinic.days)
        self.patients: dict[str, Patient] = {p.id: p for p in clinic.patients}
        self.rooms = {r.id: r for r in clinic.rooms}
        self.professionals = {p.id: p for p in clinic.professionals}
        self.tasks: list[Task] = []
        self.tasks_of: dict[str, list[Task]] = {}
        self.round_table_of: dict[str, Task] = {}
        self.precedences: list[tuple[str, Precedence]] = []
        for patient in clinic.patients:
            own = [
                self._appointment_task(patient=patient, index=i)
                for i in range(len(patient.appointments))
            ]
            if patient.round_table:
                table = self._round_table_task(patient=patient)
                own.append(table)
                self.round_table_of[patient.id] = table
            self.tasks += own
            self.tasks_of[patient.id] = own
            self.precedences += [(patient.id, rule) for rule in patient.precedences]
        self.task = {t.id: t for t in self.tasks}
        self.blocks: list[tuple[str, tuple[str, ...]]] = [
            (group.id, block) for group in clinic.groups for block in group.back_to_back
        ]
        self._starts: dict[tuple[str, int, tuple[int, ...], bool, bool], list[int]] = {}

    # --- building tasks -------------------------------------------------------------------

    def _appointment_task(self, *, patient: Patient, index: int) -> Task:
        appointment = patient.appointments[index]
        options = tuple(
            Option(
                team=(pro,),
                rooms=self._rooms(team=(pro,), kind=appointment.room_kind, shared=False),
            )
            for pro in appointment.professionals
        )
        return Task(
            id=appointment.id,
            patient=patient.id,
            kind=APPOINTMENT,
            label=appointment.label or appointment.id,
            duration=appointment.duration,
            rest_after=appointment.rest_after,
            fasting=appointment.fasting,
            room_kind=appointment.room_kind,
            options=options,
        )

    def _round_table_task(self, *, patient: Patient) -> Task:
        table = patient.round_table
        assert table is not None
        # A meeting room of the asked kind is shared by everyone, whatever rooms the team
        # members usually consult in.
        rooms = self._rooms(
            team=table.team, kind=table.room_kind, shared=table.room_kind is not None
        )
        return Task(
            id=table.id,
            patient=patient.id,
            kind=ROUND_TABLE,
            label="round table",
            duration=table.duration,
            rest_after=0,
            fasting=False,
            room_kind=table.room_kind,
            options=(Option(team=table.team, rooms=rooms),),
        )

    def _rooms(self, *, team: tuple[str, ...], kind: str | None, shared: bool) -> tuple[str, ...]:
        usable: set[str] = set()
        for pro_id in team:
            listed = self.professionals[pro_id].rooms
            usable |= set(self.rooms) if listed is None or shared else set(listed)
        return tuple(
            room.id
            for room in self.clinic.rooms
            if room.id in usable and (kind is None or room.kind == kind)
        )

    # --- time -----------------------------------------------------------------------------

    def at(self, *, day: int, step: int) -> int:
        return day * self.horizon + step

    def day_of(self, *, t: int) -> int:
        return t // self.horizon

    def local(self, *, t: int) -> int:
        return t % self.horizon

    def patient_days(self, *, patient: str) -> tuple[int, ...]:
        days = self.patients[patient].days
        return tuple(range(self.day_count)) if days is None else tuple(sorted(set(days)))

    def fasting_by(self, *, day: int) -> int:
        clinic_day = self.clinic.days[day]
        if clinic_day.fasting_by is not None:
            return clinic_day.fasting_by
        return clinic_day.opens + self.clinic.steps(minutes=120)

    def open_segments(self, *, day: int) -> list[tuple[int, int]]:
        """Opening hours of ``day`` with the breaks cut out."""
        clinic_day = self.clinic.days[day]
        segments = [(clinic_day.opens, clinic_day.closes)]
        for window in clinic_day.breaks:
            segments = [
                piece
                for start, end in segments
                for piece in ((start, min(end, window.start)), (max(start, window.end), end))
                if piece[0] < piece[1]
            ]
        return segments

    def shifts(self, *, professional: str, day: int) -> list[tuple[int, int]]:
        hours = self.professionals[professional].hours
        if hours is None:
            clinic_day = self.clinic.days[day]
            return [(clinic_day.opens, clinic_day.closes)]
        return merge_intervals([(s.start, s.end) for s in hours if s.day == day])

    def starts(
        self,
        *,
        task: Task,
        option: int | None,
        days: Sequence[int],
        hours: bool = True,
        fasting: bool = True,
    ) -> list[int]:
        """Global start steps where ``task`` fits the opening hours and breaks of ``days``;
        with ``hours``, also inside a shift of every member of the option's team (``option``
        None: any option); with ``fasting``, a fasting task starts by the day's deadline."""
        key = (task.id, -1 if option is None else option, tuple(days), hours, fasting)
        cached = self._starts.get(key)
        if cached is not None:
            return cached
        if option is None:
            found: set[int] = set()
            for index in range(len(task.options)):
                found.update(
                    self.starts(task=task, option=index, days=days, hours=hours, fasting=fasting)
                )
            result = sorted(found)
        else:
            result = []
            team = task.options[option].team
            for day in days:
                latest = self.fasting_by(day=day) if fasting and task.fasting else self.horizon
                windows = [self.open_segments(day=day)]
                if hours:
                    windows += [self.shifts(professional=p, day=day) for p in team]
                for step in range(
                    self.clinic.days[day].opens, min(self.clinic.days[day].closes, latest + 1)
                ):
                    end = step + task.duration
                    if all(any(s <= step and end <= e for s, e in ranges) for ranges in windows):
                        result.append(self.at(day=day, step=step))
        self._starts[key] = result
        return result

    def in_session(self, *, patient: str, day: int, visits: Sequence[tuple[Task, int]]) -> bool:
        """Whether ``visits`` (tasks with their global start steps), the patient's day on
        ``day``, make a session (``SolveOptions.sessions``): the day ends before the lunch break
        or starts after it, and a tiring test is its last visit when the patient could come
        on another day."""
        if not visits:
            return True
        first = min(start for _, start in visits)
        last = max(start + task.duration for task, start in visits)
        lunch = self.patients[patient].lunch
        if lunch is not None and not (
            last <= self.at(day=day, step=lunch.latest - lunch.duration)
            or first >= self.at(day=day, step=lunch.earliest + lunch.duration)
        ):
            return False
        if len(self.patient_days(patient=patient)) > 1:
            return all(start + task.duration == last for task, start in visits if task.rest_after)
        return True

    def rooms_for(self, *, task: Task, option: int, step_free: bool = True) -> tuple[str, ...]:
        """Rooms for ``task`` run by option ``option``; with ``step_free``, only step-free ones
        when the patient needs them."""
        rooms = task.options[option].rooms
        if step_free and self.patients[task.patient].step_free:
            rooms = tuple(r for r in rooms if self.rooms[r].step_free)
        return rooms

    # --- names for messages ---------------------------------------------------------------

    def who(self, *, person: str) -> str:
        if person in self.patients:
            return self.patients[person].name or person
        if person in self.professionals:
            return self.professionals[person].name or person
        return person

    def what(self, *, task: str) -> str:
        found = self.task[task]
        return f"{self.who(person=found.patient)}'s {found.label}"

    def minutes(self, *, steps: int) -> str:
        minutes = steps * self.clinic.step_minutes
        hours, rest = divmod(minutes, 60)
        if hours and rest:
            return f"{hours} h {rest} min"
        return f"{hours} h" if hours else f"{rest} min"

    def clock(self, *, t: int) -> str:
        return f"day {self.day_of(t=t) + 1} {self.clinic.clock_at(step=self.local(t=t)):%H:%M}"
