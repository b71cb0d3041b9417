"""Symmetry between identical patients, for the bound.

Two patients who need exactly the same (same appointments with the same professionals,
durations, rooms, tests and rests, the same precedences, days, daily limit, lunch, step-free
need and round table) and belong to no group can trade timetables without changing any cost.
CP-SAT need only look at one of the two orders: within each class of such patients, in id
order, the first appointment starts no later for the earlier patient. That removes no cost
value, only copies of timetables, so the proven bound is unchanged in meaning and found
sooner. A hint is first put into that order (``ordered_hint``) so it stays a timetable of
the model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable

from rarebridge.engines.clinic.greedy import FirstFit
from rarebridge.engines.clinic.model import Patient
from rarebridge.engines.clinic.problem import Placement, Problem


def _signature(patient: Patient) -> Hashable:
    index = {a.id: i for i, a in enumerate(patient.appointments)}
    table = patient.round_table
    return (
        tuple(
            (a.professionals, a.duration, a.room_kind, a.fasting, a.rest_after)
            for a in patient.appointments
        ),
        tuple(sorted((index[r.before], index[r.after], r.min_gap) for r in patient.precedences)),
        patient.days,
        patient.max_span,
        patient.lunch,
        patient.step_free,
        None if table is None else (table.team, table.duration, table.room_kind),
    )


def identical_patients(*, problem: Problem) -> list[list[str]]:
    """Classes of two or more interchangeable patients, each in id order."""
    grouped = {p for group in problem.clinic.groups for p in group.patients}
    classes: dict[Hashable, list[str]] = defaultdict(list)
    for patient in problem.clinic.patients:
        if patient.id not in grouped and patient.appointments:
            classes[_signature(patient)].append(patient.id)
    return [sorted(members) for members in classes.values() if len(members) > 1]


def ordered_hint(*, problem: Problem, hint: FirstFit, classes: list[list[str]]) -> FirstFit:
    """``hint`` with the timetables of each class's patients handed round so that the first
    appointments start in id order (what ``identical_patients`` lets the model require)."""
    placements = dict(hint.placements)
    lunches = dict(hint.lunches)
    for members in classes:
        tasks = {p: [t.id for t in problem.tasks_of[p]] for p in members}
        if not all(t in hint.placements for p in members for t in tasks[p]):
            continue  # a partial hint: leave it as it is
        order = sorted(members, key=lambda p: (hint.placements[tasks[p][0]].start, p))
        for target, source in zip(members, order, strict=True):
            for mine, theirs in zip(tasks[target], tasks[source], strict=True):
                was = hint.placements[theirs]
                placements[mine] = Placement(
                    task=mine, start=was.start, option=was.option, room=was.room
                )
            for day in range(problem.day_count):
                lunches.pop((target, day), None)
                if (source, day) in hint.lunches:
                    lunches[target, day] = hint.lunches[source, day]
    return FirstFit(
        placements=placements,
        lunches=lunches,
        failed=hint.failed,
        cost=hint.cost,
        outside_sessions=set(hint.outside_sessions),
    )
