"""Re-planning after a change: a cancellation, a late professional, an added appointment.

Give the changed clinic (see ``cancel_patient``, ``cancel_appointment``, ``professional_late``)
and the previous timetable. An appointment is *unaffected* when

- it is still in the clinic, with the same professional(s) and room available at the same time
  (opening hours, breaks, hours, patient's days and fasting deadline all still allow it),
- its patient's list of appointments did not change (a patient who lost or gained an
  appointment gets their whole visit re-planned, so their day closes up), and
- it is not named in ``release`` and shares no back-to-back block with a task that cannot
  stay (a block that can stay, stays, even when its patient's list changed).

With ``Keep.FIX`` (the default) unaffected appointments are pinned and only the rest are
planned: fast, and nobody else gets a changed letter. When pinning leaves no timetable, it
falls back to ``Keep.PENALISE``: everything may move, each unaffected appointment that moves
costing ``Weights.moved`` (by default as much as 100 steps of a patient's time), so moves are
kept to a minimum; the search starts from the previous timetable and repairs it. The time
limit in ``options`` covers both attempts.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable

from rarebridge.engines.clinic.assemble import without_timetable
from rarebridge.engines.clinic.greedy import FirstFit, first_fit
from rarebridge.engines.clinic.model import Clinic
from rarebridge.engines.clinic.options import Keep, SolveOptions, resolved
from rarebridge.engines.clinic.precheck import precheck
from rarebridge.engines.clinic.problem import Placement, Problem
from rarebridge.engines.clinic.results import Schedule, Status
from rarebridge.engines.clinic.solver import optimise


def replan(
    *,
    clinic: Clinic,
    previous: Schedule,
    options: SolveOptions | None = None,
    keep: Keep = Keep.FIX,
    release: Iterable[str] = (),
) -> Schedule:
    """A new timetable for the changed ``clinic`` that keeps ``previous`` where it can.

    ``Schedule.moved`` lists every appointment whose time, room or professional changed from
    ``previous`` (the people to tell); ``Schedule.cost.moved`` counts only the unaffected ones
    that had to move.
    """
    options = resolved(options or SolveOptions())
    started = time.perf_counter()
    problem = Problem(clinic=clinic)
    found = precheck(problem=problem)
    if found:
        return without_timetable(
            status=Status.INFEASIBLE,
            method="cp-sat",
            explanations=found,
            wall_seconds=time.perf_counter() - started,
        )
    kept = unaffected(problem=problem, previous=previous, release=set(release))
    result: Schedule | None = None
    if keep == Keep.FIX:
        hint = _hint(problem=problem, previous=previous, kept=kept, options=options)
        result = optimise(
            problem=problem,
            options=options,
            hint=hint,
            started=started,
            keep=kept,
            keep_hard=True,
            explain_infeasible=False,
        )
    if result is None or result.status == Status.INFEASIBLE:
        # Start from the previous timetable itself, displaced appointments nudged to their
        # nearest possible start, and let CP-SAT repair the clashes: it then finds a timetable
        # that moves few appointments long before it could build one from scratch.
        result = optimise(
            problem=problem,
            options=options,
            hint=_previous(problem=problem, previous=previous),
            started=started,
            keep=kept,
            repair_hint=True,
        )
    return dataclasses.replace(result, moved=_changed(previous=previous, now=result))


def _hint(
    *, problem: Problem, previous: Schedule, kept: dict[str, Placement], options: SolveOptions
) -> FirstFit:
    """A starting timetable: greedy around the kept appointments; failing that, greedy
    around every appointment whose old place is still possible (a released patient's old
    places always are after a cancellation), so only the displaced ones need a new place."""
    found = first_fit(problem=problem, seeded=kept, weights=options.weights, best_fit=True)
    if found.failed is None:
        return found
    still = unaffected(problem=problem, previous=previous, release=set(), whole_visits=False)
    return first_fit(problem=problem, seeded=still, weights=options.weights, best_fit=True)


def _previous(*, problem: Problem, previous: Schedule) -> FirstFit:
    """The previous timetable as a (possibly clashing) hint in the new problem."""
    # Not a checked timetable, so it is marked failed: only a hint to repair, never a result.
    hint = FirstFit(failed="previous timetable")
    for visit in previous.visits:
        task = problem.task.get(visit.id)
        if task is None:
            continue
        days = problem.patient_days(patient=task.patient)
        for option, choice in enumerate(task.options):
            starts = problem.starts(task=task, option=option, days=days)
            if choice.team != visit.professionals or not starts:
                continue
            old = problem.at(day=visit.day, step=visit.start)
            start = min(starts, key=lambda s: (abs(s - old), s))
            hint.placements[task.id] = Placement(
                task=task.id, start=start, option=option, room=visit.room
            )
    for itinerary in previous.itineraries:
        for lunch in itinerary.lunches:
            hint.lunches[itinerary.patient, lunch.day] = problem.at(day=lunch.day, step=lunch.start)
    return hint


def unaffected(
    *, problem: Problem, previous: Schedule, release: set[str], whole_visits: bool = True
) -> dict[str, Placement]:
    """The previous placements that still stand, as placements in the new problem; with
    ``whole_visits``, none of a patient whose list of appointments changed."""
    before: dict[str, set[str]] = {}
    for visit in previous.visits:
        before.setdefault(visit.patient, set()).add(visit.id)
    in_block = {t for _, block in problem.blocks for t in block}
    kept: dict[str, Placement] = {}
    for visit in previous.visits:
        task = problem.task.get(visit.id)
        if task is None or visit.id in release or task.patient != visit.patient:
            continue
        # A sibling's back-to-back appointment stays put unless it has to move (below), so
        # one child's cancellation does not reshuffle the other's day.
        changed = before[visit.patient] != {t.id for t in problem.tasks_of[task.patient]}
        if whole_visits and changed and task.id not in in_block:
            continue
        option = next(
            (k for k, o in enumerate(task.options) if o.team == visit.professionals), None
        )
        if option is None or visit.room not in problem.rooms_for(task=task, option=option):
            continue
        start = problem.at(day=visit.day, step=visit.start)
        days = problem.patient_days(patient=task.patient)
        if start not in problem.starts(task=task, option=option, days=days):
            continue
        kept[task.id] = Placement(task=task.id, start=start, option=option, room=visit.room)
    # A back-to-back block moves as one.
    for _, block in problem.blocks:
        if not all(t in kept for t in block):
            for t in block:
                kept.pop(t, None)
    return kept


def _changed(*, previous: Schedule, now: Schedule) -> tuple[str, ...]:
    if not now.has_timetable:
        return ()
    old = {v.id: (v.day, v.start, v.room, v.professionals) for v in previous.visits}
    return tuple(
        sorted(
            v.id
            for v in now.visits
            if v.id in old and old[v.id] != (v.day, v.start, v.room, v.professionals)
        )
    )
