"""What the engine hands back: itineraries, day sheets, the objective, and explanations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum


class Status(StrEnum):
    OPTIMAL = "optimal"  # proven best for the objective
    FEASIBLE = "feasible"  # a valid timetable; see ``gap`` for how far from the bound
    INFEASIBLE = "infeasible"  # proven impossible; see ``explanations``
    UNKNOWN = "unknown"  # stopped before finding a timetable or a proof


class Rule(StrEnum):
    """Rule codes used in explanations (stable: the care app translates them for people)."""

    OPENING_HOURS = "opening_hours"  # appointments inside opening hours, never across a break
    CAPACITY = "capacity"  # one patient per professional, one place per patient, one use per room
    PROFESSIONAL_HOURS = "professional_hours"
    ROOM = "room"  # a room of the needed kind that the professional can use
    STEP_FREE = "step_free"
    PATIENT_DAYS = "patient_days"
    PRECEDENCE = "precedence"
    FASTING = "fasting"  # first in the patient's day and early
    REST = "rest"  # rest after a long test
    LUNCH = "lunch"
    MAX_SPAN = "max_span"  # fatigue limit per day
    BACK_TO_BACK = "back_to_back"
    ROUND_TABLE = "round_table"  # the closing discussion comes after everything else


@dataclass(frozen=True, kw_only=True)
class Explanation:
    """One rule that, together with the others listed, makes the plan impossible."""

    rule: Rule
    people: tuple[str, ...]  # patient and professional ids involved
    message: str
    params: Mapping[str, int | str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Visit:
    """One appointment or round table as placed."""

    id: str
    patient: str
    kind: str  # "appointment" or "round_table"
    label: str
    day: int
    start: int  # step within the day
    end: int
    starts_at: time
    ends_at: time
    room: str
    professionals: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class LunchBreak:
    patient: str
    day: int
    start: int
    end: int
    starts_at: time
    ends_at: time


@dataclass(frozen=True, kw_only=True)
class Itinerary:
    patient: str
    visits: tuple[Visit, ...]  # in time order
    lunches: tuple[LunchBreak, ...]
    span: int  # steps on site, summed over days (first arrival to last departure each day)
    waiting: int  # of those, steps neither in an appointment nor at lunch


@dataclass(frozen=True, kw_only=True)
class DaySheet:
    """One professional's or one room's day."""

    owner: str
    day: int
    visits: tuple[Visit, ...]
    idle: int  # steps between the first and last visit not spent in a visit


@dataclass(frozen=True, kw_only=True)
class Cost:
    """The objective and its parts; see ``Weights`` for how they combine."""

    patient_span: int  # time on site, summed over patients and days
    patient_waiting: int  # of that, time neither in an appointment nor at lunch
    professional_idle: int
    moved: int  # appointments moved from the previous timetable (re-planning only)
    objective: int


@dataclass(frozen=True, kw_only=True)
class Summary:
    """What the numbers mean for people, in minutes, for a sentence such as "every family
    waits at most 20 minutes; professionals' idle time is within 10 minutes of the least
    possible". Stable field names: the care app turns them into translated text."""

    proven_optimal: bool  # no timetable has a lower objective
    max_wait_minutes: int  # the longest any patient waits, over all their days
    mean_wait_minutes: float  # per patient
    total_wait_minutes: int
    idle_minutes: int  # professionals' idle time, summed
    # The least idle time that professionals' fixed appointments and hours force (``bound``).
    idle_lower_bound_minutes: int
    idle_above_lower_bound_minutes: int
    # How far the timetable may be from the best possible, as a share of the part a
    # timetable can change (waiting and idle, not appointment time); 0.0 when proven optimal,
    # None without a bound.
    changeable_gap: float | None
    # Of that part, objective minus bound, in minutes of a patient's waiting (the objective
    # weighs a patient's minute ``Weights.patient_span`` times a professional's).
    minutes_from_best_bound: float | None
    # The search stopped on its work limit, not on the wall-clock cap: the same input and
    # options give this same plan on any machine.
    deterministic: bool


@dataclass(frozen=True, kw_only=True)
class Schedule:
    status: Status
    method: str  # "cp-sat" or "greedy"
    visits: tuple[Visit, ...] = ()
    itineraries: tuple[Itinerary, ...] = ()
    professional_sheets: tuple[DaySheet, ...] = ()
    room_sheets: tuple[DaySheet, ...] = ()
    cost: Cost | None = None
    objective: int | None = None
    bound: int | None = None  # the solver's proven lower bound on the objective
    # (objective - bound) / objective; 0.0 when proven optimal. The objective includes every
    # patient's appointment time, which no timetable changes: see ``changeable_gap``.
    gap: float | None = None
    # The objective's constant part (every patient's appointment time, weighted), and the gap
    # on the rest, the part a timetable changes: (objective - bound) / (objective - fixed_part).
    fixed_part: int | None = None
    changeable_gap: float | None = None
    summary: Summary | None = None
    # False when the wall-clock safety cap stopped the search (then not reproducible).
    deterministic: bool = True
    explanations: tuple[Explanation, ...] = ()
    moved: tuple[str, ...] = ()  # ids of appointments that re-planning moved
    wall_seconds: float = 0.0

    @property
    def has_timetable(self) -> bool:
        return self.status in (Status.OPTIMAL, Status.FEASIBLE)

    def itinerary(self, *, patient: str) -> Itinerary:
        for itinerary in self.itineraries:
            if itinerary.patient == patient:
                return itinerary
        raise KeyError(patient)

    def visit(self, *, visit_id: str) -> Visit:
        for visit in self.visits:
            if visit.id == visit_id:
                return visit
        raise KeyError(visit_id)
