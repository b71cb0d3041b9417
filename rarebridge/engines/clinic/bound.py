"""Lower bounds on the objective that do not depend on the search, and the changeable part.

The objective (``Weights``) is ``patient_span * span + professional_idle * idle (+ moved)``.
Part of it no timetable can change: every patient spends their appointments' time on site,
so ``patient_span * (their appointments' duration)`` is a constant, the *fixed part*. What a
timetable changes is the rest: patients' waiting (and lunch taken mid-visit) and
professionals' idle time. The gap that means something is measured on that *changeable
part* alone: ``(objective - bound) / (objective - fixed part)``.

The static bound adds to the fixed part a lower bound on each professional's idle time per
day: the appointments that only they can run and that can only be on that day take ``busy``
steps, which must fit into their working hours (shifts merged where they touch, cut by the
clinic's breaks); when no single stretch of those hours holds them, the day spans a gap in
their hours, and that gap is idle time. The bound is the least such gap over every choice
of first and last stretch that holds ``busy`` steps. Patients' waiting is bounded below by
zero only. CP-SAT's own bound on the full model (which is given these per-day spans as
redundant constraints) is usually stronger; the reported bound is the larger of the two.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from rarebridge.engines.clinic.options import Weights
from rarebridge.engines.clinic.problem import Problem, merge_intervals


@dataclass(frozen=True, kw_only=True)
class DayFloor:
    """One professional's day: busy steps that must fall on it, and the least span and
    idle time that follow from their hours."""

    busy: int
    span: int
    idle: int


def fixed_part(*, problem: Problem, weights: Weights) -> int:
    """The objective's constant: every patient's appointment time, weighted."""
    return weights.patient_span * sum(task.duration for task in problem.tasks)


def idle_floors(*, problem: Problem) -> dict[tuple[str, int], DayFloor]:
    """Per (professional, day): the least span and idle time their fixed appointments force."""
    busy: dict[tuple[str, int], int] = defaultdict(int)
    for task in problem.tasks:
        days = {
            problem.day_of(t=s)
            for s in problem.starts(
                task=task, option=None, days=problem.patient_days(patient=task.patient)
            )
        }
        if len(days) != 1:
            continue
        (day,) = days
        for pro in set.intersection(*(set(o.team) for o in task.options)):
            busy[pro, day] += task.duration
    floors = {}
    for (pro, day), steps in sorted(busy.items()):
        pieces = merge_intervals(
            [
                (max(s, o), min(e, c))
                for s, e in problem.shifts(professional=pro, day=day)
                for o, c in problem.open_segments(day=day)
                if max(s, o) < min(e, c)
            ]
        )
        span = least_span(pieces=pieces, busy=steps)
        if span is not None:
            floors[pro, day] = DayFloor(busy=steps, span=span, idle=span - steps)
    return floors


def least_span(*, pieces: list[tuple[int, int]], busy: int) -> int | None:
    """The shortest stretch from the start of one piece to the end of a later one whose
    pieces hold ``busy`` steps (None: none does). A day with ``busy`` steps of work inside
    those pieces spans at least this."""
    best: int | None = None
    for i, (first, _) in enumerate(pieces):
        held = 0
        for start, end in pieces[i:]:
            held += end - start
            if held >= busy:
                # ``busy`` plus the gaps between the pieces: the stretch may start and stop
                # inside its first and last pieces.
                length = end - first - (held - busy)
                if best is None or length < best:
                    best = length
                break
    return best


def static_bound(*, problem: Problem, weights: Weights) -> int:
    """The fixed part plus every professional's forced idle time, weighted."""
    idle = sum(floor.idle for floor in idle_floors(problem=problem).values())
    return fixed_part(problem=problem, weights=weights) + weights.professional_idle * idle
