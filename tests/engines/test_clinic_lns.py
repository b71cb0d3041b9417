"""The clinic solver's large-neighbourhood search: it improves timetables, keeps every rule,
is reproducible with one worker, and re-plans families together."""

from __future__ import annotations

import dataclasses
import time

import pytest
from ortools.sat.python import cp_model

from rarebridge.engines.clinic import SolveOptions, lns, solve, solve_greedy
from rarebridge.engines.clinic.greedy import first_fit
from rarebridge.engines.clinic.limits import lns_limits as _lns_limits
from rarebridge.engines.clinic.options import Weights
from rarebridge.engines.clinic.problem import Problem, Task
from rarebridge.engines.clinic.solver import _families, _Model
from rarebridge.engines.clinic.synthetic import synthetic_clinic
from tests.engines.test_clinic_properties import assert_valid

# Deterministic work limits: the same search on a busy or an idle machine.
OPTIONS = SolveOptions(time_limit_seconds=60, deterministic_time_limit=0.8, num_workers=1)


def test_it_finds_a_better_timetable_than_cp_sat_alone_in_the_same_work() -> None:
    clinic = synthetic_clinic(patients=12, seed=2)

    searched = solve(clinic=clinic, options=OPTIONS)
    alone = solve(clinic=clinic, options=dataclasses.replace(OPTIONS, lns=False))

    assert_valid(clinic, searched)
    assert_valid(clinic, alone)
    assert searched.objective is not None and alone.objective is not None
    assert searched.objective < alone.objective
    assert searched.bound == alone.bound  # the full model's bound either way


def test_pulling_patients_into_mornings_and_afternoons_finds_cheaper_timetables() -> None:
    # Greedy leaves some of these patients outside sessions; the pull lets the search
    # accept a little waiting on the way to bringing them in, and the answer is judged by
    # the true cost.
    clinic = synthetic_clinic(patients=12, seed=2)

    pulled = solve(clinic=clinic, options=OPTIONS)
    not_pulled = solve(clinic=clinic, options=dataclasses.replace(OPTIONS, sessions_pull=0))

    assert_valid(clinic, pulled)
    assert pulled.objective is not None and not_pulled.objective is not None
    assert pulled.objective < not_pulled.objective


def test_the_search_leaves_the_full_model_only_the_time_it_needs_to_prove_its_bound() -> None:
    problem = Problem(clinic=synthetic_clinic(patients=4, seed=0))

    def search_seconds(limit: float) -> float:
        options = SolveOptions(time_limit_seconds=limit, full_model_seconds=1.5)
        return _lns_limits(problem=problem, options=options, started=0.0).deadline

    # Long limits: everything but the full model's 1.5 s; short ones: ``sessions_share``.
    assert search_seconds(28.5) == pytest.approx(27.0)
    assert search_seconds(60) == pytest.approx(58.5)
    assert search_seconds(10) == pytest.approx(9.0)
    assert search_seconds(4) == pytest.approx(3.6)


def test_it_is_reproducible_with_one_worker() -> None:
    clinic = synthetic_clinic(patients=10, seed=4)

    first = solve(clinic=clinic, options=OPTIONS)
    second = solve(clinic=clinic, options=OPTIONS)

    assert first.visits == second.visits and first.objective == second.objective


def test_workers_side_by_side_keep_every_rule_and_never_do_worse_than_greedy() -> None:
    clinic = synthetic_clinic(patients=12, seed=5)
    options = SolveOptions(time_limit_seconds=8, num_workers=2, gap_limit=0.0)

    schedule = solve(clinic=clinic, options=options)
    greedy = solve_greedy(clinic=clinic)

    assert_valid(clinic, schedule)
    assert schedule.objective is not None and greedy.objective is not None
    assert schedule.objective <= greedy.objective


def test_it_re_plans_siblings_seen_back_to_back_together() -> None:
    problem = Problem(clinic=synthetic_clinic(patients=6))

    families = _families(problem=problem)

    # The synthetic clinic's first two patients are siblings seen back to back.
    assert families["p01"] == families["p02"] == ("p01", "p02")
    assert families["p03"] == ("p03",)


def _searched(patients: int) -> tuple[Problem, _Model, list[int], lns._Search]:
    """A clinic's model with a first solution from CP-SAT, and a search over it."""
    problem = Problem(clinic=synthetic_clinic(patients=patients, seed=1))
    model = _Model(problem=problem, explain=False, weights=Weights(), keep={}, keep_hard=False)
    greedy = first_fit(problem=problem, weights=Weights(), best_fit=True)
    model.hint(placements=greedy.placements, lunches=greedy.lunches)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = 0.2
    solver.solve(model.cp)
    solution = list(solver.response_proto.solution)
    search = lns._Search(
        model=model,
        solution=solution,
        objective=solver.objective_value,
        families=_families(problem=problem),
        limits=lns.Limits(deadline=time.perf_counter() + 60, deterministic=0.5),
    )
    return problem, model, solution, search


def test_a_day_step_frees_patients_one_professional_sees_that_day() -> None:
    _problem, model, solution, search = _searched(patients=12)
    visits = model.visits(solution=solution)

    for _ in range(20):
        day, chosen = search.choose._around_gap(solution=solution, count=lns.FREE_DAY)

        assert day is not None and 2 <= len(chosen) <= lns.FREE_DAY
        seen_by = [
            {v.professional for v in visits if v.patient == patient and v.day == day}
            for patient in chosen
        ]
        assert set.intersection(*seen_by)


def test_a_step_on_one_day_holds_that_patients_other_days_and_everyone_else() -> None:
    problem, model, solution, search = _searched(patients=8)

    def day_of(task: Task, values: list[int]) -> int:
        return problem.day_of(t=values[model.start[task.id].index])

    # A patient who comes on both days, not seen back to back with anyone.
    patient = next(
        p
        for p in problem.patients
        if len({day_of(t, solution) for t in problem.tasks_of[p]}) == 2
        and _families(problem=problem)[p] == (p,)
    )
    freed = {t.id for t in problem.tasks_of[patient] if day_of(t, solution) == 0}
    fixed = search._fixed(free={patient: 0}, solution=solution)

    for other in problem.patients:
        if other != patient:
            assert set(model.patient_variables(patient=other)) <= set(fixed)
    for task in problem.tasks_of[patient]:
        assert (model.start[task.id].index in fixed) == (task.id not in freed)
        assert all(
            lit.index in fixed for lit in model.on[task.id].values() if not isinstance(lit, bool)
        )

    value, found, _ = lns._solve(
        model=model, solution=solution, fixed=fixed, seconds=10, deterministic=0.5, seed=0
    )

    assert value is not None and value <= search.cost
    for task in problem.tasks:
        if task.id in freed:
            assert day_of(task, found) == 0
        else:
            assert found[model.start[task.id].index] == solution[model.start[task.id].index]
