"""Clinic scheduling engine: the synthetic two-day clinic (20 patients, 15 professionals,
15-minute steps), CP-SAT against the greedy baseline, and re-planning after a change.

The objective counts patients' whole time on site, appointments included (see ``Weights``),
so besides the solver's gap the notes give the gap on the changeable part alone
(``Schedule.changeable_gap``): waiting, lunches taken mid-visit and professionals' idle time,
which is what a better timetable can actually remove.

The searches are limited by CP-SAT's deterministic time, not by the clock: the same plan on
any machine and under any load (the plan's fingerprint in the notes shows it), with a wall-clock
cap only as a safety net ("deterministic: False" when it stopped a run).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from run import Benchmark

from rarebridge.engines.clinic import (
    Clinic,
    Keep,
    Schedule,
    SolveOptions,
    cancel_appointment,
    professional_late,
    replan,
    solve,
    solve_greedy,
)
from rarebridge.engines.clinic.synthetic import synthetic_clinic

# Limited by deterministic work (25 s on two shared cores at a load of 3, 85 s at a load of
# 14), one worker and a fixed seed: reproducible. The wall-clock limits are safety caps only.
SOLVE = SolveOptions(
    time_limit_seconds=300.0, deterministic_time_limit=5.0, num_workers=1, gap_limit=0.02
)
REPLAN = SolveOptions(
    time_limit_seconds=60.0, deterministic_time_limit=1.0, num_workers=1, gap_limit=0.02
)

_solved: dict[str, Schedule] = {}


def _clinic() -> Clinic:
    return synthetic_clinic(patients=20, seed=0)


def _appointment_steps(clinic: Clinic) -> int:
    return sum(a.duration for p in clinic.patients for a in p.appointments) + sum(
        p.round_table.duration for p in clinic.patients if p.round_table
    )


def _setup_solve() -> dict[str, Any]:
    clinic = _clinic()
    return {"clinic": clinic, "greedy": solve_greedy(clinic=clinic)}


def _run_solve(state: dict[str, Any]) -> None:
    clinic: Clinic = state["clinic"]
    greedy: Schedule = state["greedy"]
    schedule = solve(clinic=clinic, options=SOLVE)
    _solved["schedule"] = schedule
    assert schedule.objective is not None and schedule.bound is not None
    assert greedy.objective is not None and schedule.cost is not None
    assert schedule.fixed_part == SOLVE.weights.patient_span * _appointment_steps(clinic)
    assert schedule.summary is not None and schedule.changeable_gap is not None
    summary = schedule.summary
    SOLVE_BENCH.notes.update(
        {
            "status": schedule.status.value,
            "objective / bound / gap": f"{schedule.objective} / {schedule.bound} / {schedule.gap:.1%}",
            "greedy (first-fit) objective": greedy.objective,
            "better than greedy by": f"{1 - schedule.objective / greedy.objective:.1%}",
            "patient waiting / span / professional idle (steps)": (
                f"{schedule.cost.patient_waiting} / {schedule.cost.patient_span} / "
                f"{schedule.cost.professional_idle}"
            ),
            "changeable part (waiting + idle): objective / bound / gap": (
                f"{schedule.objective - schedule.fixed_part} / "
                f"{schedule.bound - schedule.fixed_part} / {schedule.changeable_gap:.1%}"
            ),
            "in minutes: max / mean wait, idle (its lower bound)": (
                f"{summary.max_wait_minutes} / {summary.mean_wait_minutes} / "
                f"{summary.idle_minutes} ({summary.idle_lower_bound_minutes})"
            ),
            "deterministic (work limit, not the wall-clock cap)": schedule.deterministic,
            "plan fingerprint": _fingerprint(schedule),
            "solver seconds": f"{schedule.wall_seconds:.1f}",
        }
    )


def _fingerprint(schedule: Schedule) -> str:
    """A short digest of the timetable: equal on every run that makes the same plan."""
    text = repr([(v.id, v.day, v.start, v.room, v.professionals) for v in schedule.visits])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _run_greedy(clinic: Clinic) -> None:
    schedule = solve_greedy(clinic=clinic)
    GREEDY_BENCH.notes["objective"] = schedule.objective


def _setup_replan() -> dict[str, Any]:
    clinic = _clinic()
    previous = _solved.get("schedule") or solve(clinic=clinic, options=SOLVE)
    return {"clinic": clinic, "previous": previous}


def _run_cancellation(state: dict[str, Any]) -> None:
    changed = cancel_appointment(clinic=state["clinic"], appointment_id="p07-cardiology")
    schedule = replan(clinic=changed, previous=state["previous"], options=REPLAN)
    _note_replan(bench=CANCEL_BENCH, schedule=schedule, previous=state["previous"])


def _run_late(state: dict[str, Any]) -> None:
    # The cardiologist arrives at 10:00 instead of 08:30 on the first day.
    changed = professional_late(
        clinic=state["clinic"], professional_id="cardio", day=0, available_from=8
    )
    schedule = replan(clinic=changed, previous=state["previous"], options=REPLAN, keep=Keep.FIX)
    _note_replan(bench=LATE_BENCH, schedule=schedule, previous=state["previous"])


def _note_replan(*, bench: Benchmark, schedule: Schedule, previous: Schedule) -> None:
    assert schedule.has_timetable and schedule.cost is not None
    bench.notes.update(
        {
            "status": schedule.status.value,
            "objective before / after": f"{previous.objective} / {schedule.objective}",
            "appointments changed / unaffected ones moved": (
                f"{len(schedule.moved)} / {schedule.cost.moved}"
            ),
            "changeable-part gap": (
                "-" if schedule.changeable_gap is None else f"{schedule.changeable_gap:.1%}"
            ),
            "deterministic": schedule.deterministic,
            "plan fingerprint": _fingerprint(schedule),
        }
    )


SOLVE_BENCH = Benchmark(
    name="clinic: CP-SAT, 20 patients x 15 professionals x 2 days",
    setup=_setup_solve,
    run=_run_solve,
    repeat=1,
    goal_seconds=40,
)
GREEDY_BENCH = Benchmark(
    name="clinic: greedy first-fit baseline, same clinic",
    setup=_clinic,
    run=_run_greedy,
    repeat=5,
)
CANCEL_BENCH = Benchmark(
    name="clinic: re-plan after one cancelled appointment",
    setup=_setup_replan,
    run=_run_cancellation,
    repeat=3,
    goal_seconds=5,
)
LATE_BENCH = Benchmark(
    name="clinic: re-plan around a professional 90 min late",
    setup=_setup_replan,
    run=_run_late,
    repeat=3,
    goal_seconds=5,
)

BENCHMARKS = [SOLVE_BENCH, GREEDY_BENCH, CANCEL_BENCH, LATE_BENCH]
