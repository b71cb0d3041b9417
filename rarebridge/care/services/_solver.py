"""The solver's options and how its result is stored on the clinic: shared by planning from
scratch and re-planning."""

from __future__ import annotations

import dataclasses
from typing import Any

from rarebridge.care import planning
from rarebridge.care.models import Clinic
from rarebridge.engines import clinic as engine


def _options(time_limit_seconds: float, gap_limit: float = 0.0) -> engine.SolveOptions:
    return planning.solve_options(time_limit_seconds=time_limit_seconds, gap_limit=gap_limit)


def _explanations(schedule: engine.Schedule) -> list[dict[str, Any]]:
    return [
        {
            "rule": str(e.rule),
            "people": list(e.people),
            "params": dict(e.params),
            "message": e.message,
        }
        for e in schedule.explanations
    ]


def _save_result(*, loaded: planning.Loaded, schedule: engine.Schedule) -> Clinic:
    clinic = loaded.clinic
    planning.store(loaded, schedule=schedule)
    clinic.status = str(schedule.status)
    clinic.method = schedule.method
    clinic.objective = schedule.objective
    clinic.bound = schedule.bound
    clinic.gap = schedule.gap
    clinic.waiting_minutes = (
        schedule.cost.patient_waiting * clinic.step_minutes if schedule.cost else None
    )
    clinic.explanations = _explanations(schedule)
    # Planned with the set-up as it was when it was read: a change made while the solver ran
    # is later than this, so the page still asks for a new plan.
    clinic.planned_at = loaded.loaded_at
    clinic.wall_seconds = round(schedule.wall_seconds, 3)
    clinic.summary = dataclasses.asdict(schedule.summary) if schedule.summary else {}
    clinic.reproducible = schedule.deterministic if schedule.has_timetable else None
    # Only the plan's own fields: the lease and the planning marks belong to others.
    clinic.save(
        update_fields=[
            "status",
            "method",
            "objective",
            "bound",
            "gap",
            "waiting_minutes",
            "explanations",
            "planned_at",
            "wall_seconds",
            "summary",
            "reproducible",
            "updated_at",
        ]
    )
    return clinic
