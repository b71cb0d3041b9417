"""How long each phase of the clinic search may run: by deterministic work (reproducible, the
default) or by the wall clock, and CP-SAT solvers set up accordingly. See ``SolveOptions``.
"""

from __future__ import annotations

import dataclasses
import math
import time

from ortools.sat.python import cp_model

from rarebridge.engines.clinic import lns
from rarebridge.engines.clinic.bound import static_bound
from rarebridge.engines.clinic.options import SolveOptions
from rarebridge.engines.clinic.problem import Problem


def by_work(options: SolveOptions) -> bool:
    """Whether the search is limited by deterministic work (reproducible)."""
    return options.deterministic and options.deterministic_time_limit is not None


def share_of(*, options: SolveOptions, started: float, share: float) -> SolveOptions:
    """``options`` for one phase of a search: ``share`` of the time limits, from now."""
    deterministic = options.deterministic_time_limit
    if by_work(options):
        # Limited by work: the wall clock stays the whole call's safety cap.
        assert deterministic is not None
        return dataclasses.replace(options, deterministic_time_limit=deterministic * share)
    return dataclasses.replace(
        options,
        time_limit_seconds=time.perf_counter() - started + options.time_limit_seconds * share,
        deterministic_time_limit=None if deterministic is None else deterministic * share,
    )


def lns_limits(*, problem: Problem, options: SolveOptions, started: float) -> lns.Limits:
    lns_share = options.sessions_share - options.sessions_start_share
    deterministic = options.deterministic_time_limit
    # Nothing costs less than the static bound (``bound.py``), so a timetable within the gap
    # limit of it needs no more search.
    floor = static_bound(problem=problem, weights=options.weights)
    wall_share = max(
        options.time_limit_seconds * options.sessions_share,
        options.time_limit_seconds - options.full_model_seconds,
    )
    return lns.Limits(
        # The search ends at its share of the whole limit, leaving the rest to the full model;
        # under a work limit the wall clock is only the whole call's safety cap.
        deadline=started + (options.time_limit_seconds if by_work(options) else wall_share),
        deterministic=None if deterministic is None else deterministic * lns_share,
        sub_seconds=options.lns_step_seconds,
        workers=max(1, options.num_workers),
        seed=options.random_seed,
        good_enough=floor / (1 - options.gap_limit) if options.gap_limit < 1 else math.inf,
    )


def reproducible(*, options: SolveOptions, started: float, status: cp_model.CpSolverStatus) -> bool:
    """Whether the result depends on work alone: limited by work and not stopped by the
    wall-clock cap (a run that reached the cap has used it up). A proof of infeasibility is
    the same whatever stopped it."""
    if status == cp_model.INFEASIBLE:
        return True
    return by_work(options) and time.perf_counter() - started < options.time_limit_seconds - 0.05


def new_solver(*, options: SolveOptions, time_limit: float) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.01, time_limit)
    if options.deterministic_time_limit is not None:
        solver.parameters.max_deterministic_time = options.deterministic_time_limit
    solver.parameters.num_workers = max(1, options.num_workers)
    if by_work(options) and options.num_workers > 1:
        # Several workers race unless their strategies are interleaved in fixed batches.
        solver.parameters.interleave_search = True
    solver.parameters.relative_gap_limit = options.gap_limit
    solver.parameters.random_seed = options.random_seed
    solver.parameters.log_search_progress = options.log_search
    return solver
