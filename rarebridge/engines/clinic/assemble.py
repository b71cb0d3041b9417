"""Turn placements into the result: itineraries, day sheets and the cost.

The cost is always recomputed here from the placements, never read back from the solver: the
solver's own objective can overstate a timetable it has not finished polishing (its span
variables may be looser than the visits), and greedy and CP-SAT must be measured alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from rarebridge.engines.clinic.bound import fixed_part, idle_floors
from rarebridge.engines.clinic.options import Weights
from rarebridge.engines.clinic.problem import Placement, Problem
from rarebridge.engines.clinic.results import (
    Cost,
    DaySheet,
    Explanation,
    Itinerary,
    LunchBreak,
    Schedule,
    Status,
    Summary,
    Visit,
)


def moved_tasks(*, placements: Mapping[str, Placement], keep: Mapping[str, Placement]) -> list[str]:
    """Kept tasks whose start, team or room differs from the previous timetable."""
    moved = []
    for task_id, before in keep.items():
        now = placements.get(task_id)
        if now is None or (now.start, now.option, now.room) != (
            before.start,
            before.option,
            before.room,
        ):
            moved.append(task_id)
    return moved


def evaluate(
    *,
    problem: Problem,
    placements: Mapping[str, Placement],
    weights: Weights,
    keep: Mapping[str, Placement] | None = None,
    lunches: Mapping[tuple[str, int], int] | None = None,
) -> Cost:
    patient_days: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    staff_days: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    for placement in placements.values():
        task = problem.task[placement.task]
        span = (placement.start, placement.start + task.duration)
        day = problem.day_of(t=placement.start)
        patient_days[task.patient, day].append(span)
        for pro in task.options[placement.option].team:
            staff_days[pro, day].append(span)
    patient_span = sum(_span(spans) for spans in patient_days.values())
    patient_busy = sum(e - s for spans in patient_days.values() for s, e in spans)
    eating = 0  # lunch breaks taken between a patient's first and last appointment
    for (patient_id, day), spans in patient_days.items():
        lunch = problem.patients[patient_id].lunch
        start = (lunches or {}).get((patient_id, day))
        if lunch is not None and start is not None:
            first, last = min(s for s, _ in spans), max(e for _, e in spans)
            eating += max(0, min(last, start + lunch.duration) - max(first, start))
    idle = sum(_span(spans) - sum(e - s for s, e in spans) for spans in staff_days.values())
    moved = len(moved_tasks(placements=placements, keep=keep or {}))
    objective = (
        weights.patient_span * patient_span
        + weights.professional_idle * idle
        + weights.moved * moved
    )
    return Cost(
        patient_waiting=patient_span - patient_busy - eating,
        patient_span=patient_span,
        professional_idle=idle,
        moved=moved,
        objective=objective,
    )


def _span(spans: list[tuple[int, int]]) -> int:
    return max(e for _, e in spans) - min(s for s, _ in spans)


def build_schedule(
    *,
    problem: Problem,
    status: Status,
    method: str,
    placements: Mapping[str, Placement],
    lunches: Mapping[tuple[str, int], int],
    weights: Weights,
    keep: Mapping[str, Placement] | None = None,
    bound: int | None = None,
    wall_seconds: float = 0.0,
    deterministic: bool = True,
) -> Schedule:
    """The result for ``placements``. ``bound`` is a proven lower bound on the objective (the
    solver's); the static bound of ``bound.py`` is never weaker, so the larger is reported."""
    clinic = problem.clinic
    visits = []
    for placement in placements.values():
        task = problem.task[placement.task]
        day = problem.day_of(t=placement.start)
        start = problem.local(t=placement.start)
        visits.append(
            Visit(
                id=task.id,
                patient=task.patient,
                kind=task.kind,
                label=task.label,
                day=day,
                start=start,
                end=start + task.duration,
                starts_at=clinic.clock_at(step=start),
                ends_at=clinic.clock_at(step=start + task.duration),
                room=placement.room,
                professionals=task.options[placement.option].team,
            )
        )
    visits.sort(key=lambda v: (v.day, v.start, v.patient, v.id))
    by_patient: dict[str, list[Visit]] = defaultdict(list)
    by_staff: dict[tuple[str, int], list[Visit]] = defaultdict(list)
    by_room: dict[tuple[str, int], list[Visit]] = defaultdict(list)
    for visit in visits:
        by_patient[visit.patient].append(visit)
        by_room[visit.room, visit.day].append(visit)
        for pro in visit.professionals:
            by_staff[pro, visit.day].append(visit)

    itineraries = []
    for patient in clinic.patients:
        own = by_patient.get(patient.id, [])
        days = sorted({v.day for v in own})
        breaks = []
        for day in days:
            eats = lunches.get((patient.id, day))
            if eats is not None and patient.lunch is not None:
                local = problem.local(t=eats)
                end = local + patient.lunch.duration
                breaks.append(
                    LunchBreak(
                        patient=patient.id,
                        day=day,
                        start=local,
                        end=end,
                        starts_at=clinic.clock_at(step=local),
                        ends_at=clinic.clock_at(step=end),
                    )
                )
        spans = {
            d: (min(v.start for v in own if v.day == d), max(v.end for v in own if v.day == d))
            for d in days
        }
        eating = sum(
            max(0, min(spans[b.day][1], b.end) - max(spans[b.day][0], b.start)) for b in breaks
        )
        span = sum(last - first for first, last in spans.values())
        itineraries.append(
            Itinerary(
                patient=patient.id,
                visits=tuple(own),
                lunches=tuple(breaks),
                span=span,
                waiting=span - sum(v.end - v.start for v in own) - eating,
            )
        )

    cost = evaluate(
        problem=problem, placements=placements, weights=weights, keep=keep, lunches=lunches
    )
    fixed = fixed_part(problem=problem, weights=weights)
    floors = idle_floors(problem=problem)
    idle_floor = sum(f.idle for f in floors.values())
    gap = changeable_gap = None
    if bound is not None:
        bound = max(bound, fixed + weights.professional_idle * idle_floor)
        gap = (cost.objective - bound) / max(1, cost.objective)
        changeable_gap = (cost.objective - bound) / max(1, cost.objective - fixed)
    minutes = clinic.step_minutes
    waits = [i.waiting for i in itineraries if i.visits]
    summary = Summary(
        proven_optimal=gap == 0.0,
        max_wait_minutes=max(waits, default=0) * minutes,
        mean_wait_minutes=round(sum(waits) * minutes / max(1, len(waits)), 1),
        total_wait_minutes=sum(waits) * minutes,
        idle_minutes=cost.professional_idle * minutes,
        idle_lower_bound_minutes=idle_floor * minutes,
        idle_above_lower_bound_minutes=(cost.professional_idle - idle_floor) * minutes,
        changeable_gap=changeable_gap,
        minutes_from_best_bound=None
        if bound is None
        else round((cost.objective - bound) * minutes / max(1, weights.patient_span), 1),
        deterministic=deterministic,
    )
    return Schedule(
        status=status,
        method=method,
        visits=tuple(visits),
        itineraries=tuple(itineraries),
        professional_sheets=_sheets(grouped=by_staff, order=[p.id for p in clinic.professionals]),
        room_sheets=_sheets(grouped=by_room, order=[r.id for r in clinic.rooms]),
        cost=cost,
        objective=cost.objective,
        bound=bound,
        gap=gap,
        fixed_part=fixed,
        changeable_gap=changeable_gap,
        summary=summary,
        deterministic=deterministic,
        moved=tuple(sorted(moved_tasks(placements=placements, keep=keep or {}))),
        wall_seconds=wall_seconds,
    )


def _sheets(
    *, grouped: Mapping[tuple[str, int], list[Visit]], order: list[str]
) -> tuple[DaySheet, ...]:
    rank = {owner: i for i, owner in enumerate(order)}
    sheets = []
    for (owner, day), visits in sorted(grouped.items(), key=lambda kv: (rank[kv[0][0]], kv[0][1])):
        busy = sum(v.end - v.start for v in visits)
        span = max(v.end for v in visits) - min(v.start for v in visits)
        sheets.append(DaySheet(owner=owner, day=day, visits=tuple(visits), idle=span - busy))
    return tuple(sheets)


def without_timetable(
    *,
    status: Status,
    method: str,
    explanations: tuple[Explanation, ...] = (),
    wall_seconds: float = 0.0,
    bound: int | None = None,
) -> Schedule:
    return Schedule(
        status=status,
        method=method,
        explanations=explanations,
        wall_seconds=wall_seconds,
        bound=bound,
    )
