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
    gap: float | None = None  # (objective - bound) / objective; 0.0 when proven optimal
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
