"""The CP-SAT model of a clinic, solving it, and explaining why a plan is impossible.

The model, per task (appointment or round table): one start variable whose domain already
holds the opening hours, breaks, the patient's days and (when solving) the professionals'
hours and the fasting deadline; a literal per day, per option (team) and per room, each
exactly one. Optional intervals per option go into each professional's no-overlap, per room
into the room's, and the task's own interval into the patient's, together with the patient's
lunch breaks and the rests after long tests.

Solving runs in phases (``SolveOptions.sessions``): first the model where every patient's day
is a morning or an afternoon and a tiring test ends it, which holds the good timetables in a
far smaller space. A short CP-SAT search from greedy's timetable gives a first solution of
it, and the large-neighbourhood search (``lns``) improves that by re-planning a few related
patients at a time against everyone else. Patients greedy could not fit into a morning or an
afternoon are pulled into them during the search (``SolveOptions.sessions_pull``). Last, the full model, hinted with the best so far,
gives the proven bound and may still improve on it.

Limits: by default (``SolveOptions.deterministic``) every phase is limited by CP-SAT's
deterministic time, a share of ``deterministic_time_limit`` each, and the neighbourhood
search stops on the summed deterministic time of its steps; with several workers CP-SAT
interleaves its strategies in fixed batches and the neighbourhood search runs fixed rounds.
So the same clinic and options give the same plan on any machine and under any load; the
wall clock (``time_limit_seconds``) is a safety cap, and a run it stopped reports
``Schedule.deterministic`` False. Clinics of at most ``exact_up_to_tasks`` tasks skip the
phases and give the whole budget to the full model, which proves small clinics optimal.

The bound reported is CP-SAT's proven lower bound on the full model's objective, given as
redundant constraints each professional's least span per day forced by their hours
(``bound.py``), or that static bound itself when larger: the fixed part (every patient's
appointment time) plus the idle time those hours force. It says nothing about waiting, nor
about idle time the interplay of patients and professionals forces: on the 20-patient bench
it equals the fixed part, so the gap on the changeable part (``Schedule.changeable_gap``) is
100 % there, while small clinics are proven optimal.

Explaining builds the same model with every rule instance (a patient's lunch, one precedence,
one professional's hours, ...) guarded by its own literal, assumes them all, and asks CP-SAT
for a sufficient set of assumptions behind the infeasibility. That set is then shrunk by
dropping one rule at a time and re-solving, so each rule named is needed for the conflict.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from ortools.sat.python import cp_model
from ortools.sat.python import cp_model_helper as cmh
from ortools.util.python.sorted_interval_list import Domain

from rarebridge.engines.clinic import lns
from rarebridge.engines.clinic.assemble import build_schedule, without_timetable
from rarebridge.engines.clinic.bound import idle_floors
from rarebridge.engines.clinic.greedy import FirstFit, first_fit
from rarebridge.engines.clinic.limits import (
    lns_limits,
    new_solver,
    reproducible,
    share_of,
)
from rarebridge.engines.clinic.model import Clinic
from rarebridge.engines.clinic.options import SolveOptions, Weights, resolved
from rarebridge.engines.clinic.precheck import precheck
from rarebridge.engines.clinic.problem import ROUND_TABLE, Placement, Problem, Task
from rarebridge.engines.clinic.results import Explanation, Rule, Schedule, Status
from rarebridge.engines.clinic.symmetry import identical_patients, ordered_hint

# A literal of the model, or a plain bool where the choice is already made (one option,
# one day, one room): constants keep the model small and the code free of special cases.
Lit = cmh.Literal | bool
Key = TypeVar("Key", int, str)


def solve(*, clinic: Clinic, options: SolveOptions | None = None) -> Schedule:
    """The best timetable CP-SAT finds within the limits, or why there is none.

    With ``SolveOptions.deterministic`` (the default) the search is limited by deterministic
    work, so the same clinic and options give the same plan on any machine; small clinics
    (``SolveOptions.exact_up_to_tasks``) go straight to the full model."""
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
    hint = None
    if options.greedy_hint:
        hint = first_fit(problem=problem, weights=options.weights, best_fit=True)
    small = len(problem.tasks) <= options.exact_up_to_tasks
    if not small and options.sessions and any(p.lunch for p in clinic.patients):
        hint = _sessions_first(problem=problem, options=options, hint=hint, started=started)
        if options.deterministic_time_limit is not None:
            rest = max(0.1, 1 - options.sessions_share)
            options = dataclasses.replace(
                options, deterministic_time_limit=options.deterministic_time_limit * rest
            )
    return optimise(problem=problem, options=options, hint=hint, started=started)


def _sessions_first(
    *, problem: Problem, options: SolveOptions, hint: FirstFit | None, started: float
) -> FirstFit | None:
    """Search the timetables where each patient comes for a morning or an afternoon each day
    and a tiring test ends their day (``SolveOptions.sessions``); return the best found as
    the hint for the full model, or the given hint when that is better. Such a timetable keeps
    every rule of the full model, so it is also a valid answer should the full search find
    nothing better.

    A short CP-SAT search from greedy's timetable gives a first solution of that model; the
    large-neighbourhood search (``lns``) then re-plans a few related patients at a time."""
    start_from = hint
    # Patients whom no morning or afternoon holds in greedy's layout stay free, so that the
    # search starts from a timetable of its own model.
    who = frozenset(problem.patients)
    if options.greedy_hint:
        in_sessions = first_fit(
            problem=problem, weights=options.weights, best_fit=True, sessions=True
        )
        if in_sessions.failed is None:
            start_from = in_sessions
            who -= in_sessions.outside_sessions
    model = _Model(
        problem=problem,
        explain=False,
        weights=options.weights,
        keep={},
        keep_hard=False,
        sessions=who,
        # Greedy's patients outside sessions are pulled into them (``sessions_pull``).
        soft_sessions=frozenset(problem.patients) if options.lns else frozenset(),
        soft_penalty=round(options.weights.patient_span * options.sessions_pull),
    )
    if model.empty:
        return hint
    if start_from is not None and start_from.failed is None:
        model.hint(placements=start_from.placements, lunches=start_from.lunches)
    first = share_of(
        options=options,
        started=started,
        share=options.sessions_start_share if options.lns else options.sessions_share,
    )
    solver = new_solver(
        options=first, time_limit=first.time_limit_seconds - (time.perf_counter() - started)
    )
    status = _solve_with_hint(solver=solver, model=model, options=first, started=started)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return hint
    solution = list(solver.response_proto.solution)
    objective = solver.objective_value - model.penalty(solution=solution)
    if options.lns and status != cp_model.OPTIMAL:
        found = lns.improve(
            model=model,
            solution=solution,
            objective=solver.objective_value,
            families=_families(problem=problem),
            limits=lns_limits(problem=problem, options=options, started=started),
        )
        solution, objective = found.solution, found.objective
    if hint is not None and hint.failed is None and hint.cost < objective:
        return hint  # greedy's start was better: the solver never does worse than greedy
    placements, lunches = model.read(value=_lookup(solution))
    return FirstFit(placements=placements, lunches=lunches, cost=round(objective))


def _solve_with_hint(
    *, solver: cp_model.CpSolver, model: _Model, options: SolveOptions, started: float
) -> cp_model.CpSolverStatus:
    try:
        return solver.solve(model.cp)
    except IndexError:
        # CP-SAT 9.15 can fail while carrying a hint through presolve (an out-of-range
        # lookup in its solution crush, google/or-tools#5288). Search again without the hint.
        model.cp.clear_hints()
        solver.parameters.max_time_in_seconds = max(
            0.01, options.time_limit_seconds - (time.perf_counter() - started)
        )
        return solver.solve(model.cp)


def _families(*, problem: Problem) -> dict[str, tuple[str, ...]]:
    """Each patient with everyone seen back to back with them: re-planned together."""
    families = {p: {p} for p in problem.patients}
    for group in problem.clinic.groups:
        if group.back_to_back:
            for member in group.patients:
                families[member] |= set(group.patients)
    return {p: tuple(sorted(members)) for p, members in families.items()}


def optimise(
    *,
    problem: Problem,
    options: SolveOptions,
    hint: FirstFit | None,
    started: float,
    keep: Mapping[str, Placement] | None = None,
    keep_hard: bool = False,
    explain_infeasible: bool = True,
    repair_hint: bool = False,
    sessions: frozenset[str] = frozenset(),
) -> Schedule:
    keep = keep or {}
    # Interchangeable patients are searched in one order only (not when re-planning: the
    # previous timetable names who goes where).
    symmetric = identical_patients(problem=problem) if options.break_symmetry and not keep else []
    model = _Model(
        problem=problem,
        explain=False,
        weights=options.weights,
        keep=keep,
        keep_hard=keep_hard,
        sessions=sessions,
        symmetric=symmetric,
    )
    if hint is not None and symmetric:
        hint = ordered_hint(problem=problem, hint=hint, classes=symmetric)
    if model.empty:
        return _infeasible(
            problem=problem, options=options, started=started, explain=explain_infeasible
        )
    if hint is not None and (hint.failed is None or repair_hint):
        model.hint(placements=hint.placements, lunches=hint.lunches)
    # The limit covers the whole call: prechecks and greedy count against it.
    solver = new_solver(
        options=options, time_limit=options.time_limit_seconds - (time.perf_counter() - started)
    )
    solver.parameters.repair_hint = repair_hint
    # Should the hint be dropped (see ``_solve_with_hint``), greedy's timetable stays the
    # fallback below if the search then finds nothing.
    status = _solve_with_hint(solver=solver, model=model, options=options, started=started)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        placements, lunches = model.read(value=solver.value)
        schedule = build_schedule(
            problem=problem,
            status=Status.FEASIBLE,
            method="cp-sat",
            placements=placements,
            lunches=lunches,
            weights=options.weights,
            keep=keep,
            bound=math.ceil(solver.best_objective_bound - 1e-6),
            wall_seconds=time.perf_counter() - started,
            deterministic=reproducible(options=options, started=started, status=status),
        )
        # CP-SAT also says OPTIMAL when it stops at ``gap_limit``; only a closed gap is (the
        # static bound may close it too).
        if schedule.gap == 0.0:
            schedule = dataclasses.replace(schedule, status=Status.OPTIMAL)
        return schedule
    if status == cp_model.INFEASIBLE:
        return _infeasible(
            problem=problem, options=options, started=started, explain=explain_infeasible
        )
    if status == cp_model.MODEL_INVALID:
        raise RuntimeError(f"clinic model rejected by CP-SAT: {model.cp.validate()}")
    if hint is not None and hint.failed is None:
        # Stopped before CP-SAT found anything: greedy's timetable is still a valid answer.
        return build_schedule(
            problem=problem,
            status=Status.FEASIBLE,
            method="greedy",
            placements=hint.placements,
            lunches=hint.lunches,
            weights=options.weights,
            keep=keep,
            wall_seconds=time.perf_counter() - started,
            deterministic=reproducible(options=options, started=started, status=status),
        )
    return without_timetable(
        status=Status.UNKNOWN, method="cp-sat", wall_seconds=time.perf_counter() - started
    )


def _infeasible(
    *, problem: Problem, options: SolveOptions, started: float, explain: bool
) -> Schedule:
    reasons = explain_problem(problem=problem, options=options) if explain else ()
    return without_timetable(
        status=Status.INFEASIBLE,
        method="cp-sat",
        explanations=reasons,
        wall_seconds=time.perf_counter() - started,
    )


def explain(*, clinic: Clinic, options: SolveOptions | None = None) -> tuple[Explanation, ...]:
    """Why no timetable keeps every rule: the rules (with the people) that conflict.

    Empty when the plan does have a timetable, or when none of the checks could finish in
    ``options.explain_time_limit_seconds``.
    """
    return explain_problem(problem=Problem(clinic=clinic), options=options or SolveOptions())


def explain_problem(*, problem: Problem, options: SolveOptions) -> tuple[Explanation, ...]:
    found = precheck(problem=problem)
    if found:
        return found
    started = time.perf_counter()
    budget = options.explain_time_limit_seconds
    model = _Model(problem=problem, explain=True, weights=options.weights, keep={}, keep_hard=False)

    def infeasible_with(assumed: Sequence[int]) -> tuple[bool | None, list[int]]:
        """True and a core when the assumed rules conflict, False when they do not, None
        when the time ran out."""
        left = budget - (time.perf_counter() - started)
        if left <= 0:
            return None, []
        model.cp.clear_assumptions()
        model.cp.add_assumptions([model.rule_literal[i] for i in assumed])
        solver = new_solver(options=options, time_limit=left)
        # One worker and no presolve: the core is only reported reliably that way (with
        # presolve it may name literals that are not assumptions).
        solver.parameters.num_workers = 1
        solver.parameters.cp_model_presolve = False
        status = solver.solve(model.cp)
        if status == cp_model.INFEASIBLE:
            chosen = set(assumed)
            core = [i for i in solver.sufficient_assumptions_for_infeasibility() if i in chosen]
            return True, core
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return False, []
        return None, []

    every = sorted(model.rule_literal)
    conflict, core = infeasible_with(every)
    if conflict is not True:
        return ()
    if infeasible_with([])[0] is True:
        return (
            Explanation(
                rule=Rule.CAPACITY,
                people=(),
                message="Even with every other rule relaxed the appointments do not fit: each "
                "professional, patient and room can only be in one place at a time, inside "
                "opening hours and outside breaks.",
            ),
        )
    # The reported core is sufficient in theory; check it, and start from all rules if not.
    if not core or infeasible_with(core)[0] is not True:
        core = every
    for literal in list(core):
        if literal not in core or len(core) == 1:
            continue
        trial = [i for i in core if i != literal]
        still, smaller = infeasible_with(trial)
        if still is None:
            break
        if still:
            core = smaller if smaller and set(smaller) < set(trial) else trial
    return tuple(model.rule_of[i] for i in sorted(core))


class _Model:
    """One CP-SAT model of the problem. With ``explain`` every rule instance is guarded by a
    literal (``rule_literal``) and the professionals' hours and patients' days become
    relaxable constraints instead of domains; there is no objective."""

    def __init__(
        self,
        *,
        problem: Problem,
        explain: bool,
        weights: Weights,
        keep: Mapping[str, Placement],
        keep_hard: bool,
        sessions: frozenset[str] = frozenset(),
        soft_sessions: frozenset[str] = frozenset(),
        soft_penalty: int = 0,
        symmetric: Sequence[Sequence[str]] = (),
    ) -> None:
        self.problem = problem
        self.explain = explain
        # Patients whose days are each a morning or an afternoon, tiring tests last.
        self.sessions = frozenset() if explain else sessions
        # Patients for whom keeping to sessions earns ``soft_penalty`` off the objective: a
        # pull towards mornings and afternoons for those greedy could not fit into them.
        self.soft_sessions = frozenset() if explain else soft_sessions - sessions
        self.soft_penalty = soft_penalty
        self.session_literal: dict[str, cp_model.IntVar] = {}
        self.cp = cp_model.CpModel()
        self.rule_literal: dict[int, cp_model.IntVar] = {}
        self.rule_of: dict[int, Explanation] = {}
        self.empty = False  # some task has nowhere to go (prechecks normally catch it)
        self.start: dict[str, cp_model.IntVar] = {}
        self.on: dict[str, dict[int, Lit]] = {}
        self.use: dict[str, dict[int, Lit]] = {}  # option index -> literal
        self.room: dict[str, dict[str, Lit]] = {}
        self.interval: dict[str, cp_model.IntervalVar] = {}
        self.lunch: dict[tuple[str, int], cp_model.IntVar] = {}
        self.first: dict[tuple[str, int], cp_model.IntVar] = {}
        self.last: dict[tuple[str, int], cp_model.IntVar] = {}
        self.staff_first: dict[tuple[str, int], cp_model.IntVar] = {}
        self.staff_last: dict[tuple[str, int], cp_model.IntVar] = {}
        self.block_ends: list[tuple[tuple[str, ...], cp_model.IntVar, cp_model.IntVar]] = []
        self.keep_literal: dict[str, Lit] = {}
        self.keep_target: dict[str, Placement] = {}
        self.domain: dict[str, set[int]] = {}
        for task in problem.tasks:
            self._task(task=task)
        if self.empty:
            return
        self._professionals()
        self._rooms()
        for patient in problem.clinic.patients:
            self._patient(patient_id=patient.id)
        self._precedences()
        self._blocks()
        if not explain:
            self._keep(keep=keep, hard=keep_hard)
            self._objective(weights=weights)
            for members in symmetric:
                # ``symmetry.py``: identical patients' first appointments in id order.
                firsts = [self.start[problem.tasks_of[p][0].id] for p in members]
                for earlier, later in itertools.pairwise(firsts):
                    self.cp.add(earlier <= later)

    # --- helpers --------------------------------------------------------------------------

    def _rule(
        self, *, rule: Rule, people: tuple[str, ...], message: str, **params: int | str
    ) -> Lit:
        if not self.explain:
            return True
        literal = self.cp.new_bool_var(f"rule_{rule}_{len(self.rule_literal)}")
        self.rule_literal[literal.index] = literal
        self.rule_of[literal.index] = Explanation(
            rule=rule, people=people, message=message, params=params
        )
        return literal

    def _when(self, constraint: cp_model.Constraint, *conditions: Lit) -> None:
        real = [c for c in conditions if c is not True]
        if any(c is False for c in real):
            raise AssertionError("a constraint guarded by a false literal should not be built")
        if real:
            constraint.only_enforce_if(real)

    def _literals(self, *, name: str, keys: Sequence[Key]) -> dict[Key, Lit]:
        """One literal per key, exactly one true; a lone key is simply True."""
        if len(keys) == 1:
            return {keys[0]: True}
        found: dict[Key, Lit] = {key: self.cp.new_bool_var(f"{name}_{key}") for key in keys}
        self.cp.add_exactly_one(found.values())
        return found

    def _imply_not(self, condition: Lit, literal: Lit) -> None:
        """``condition`` forbids ``literal``."""
        if literal is False or condition is False:
            return
        if literal is True:
            self.cp.add_bool_or([_negate(condition)])
        elif condition is True:
            self.cp.add_bool_or([_negate(literal)])
        else:
            self.cp.add_implication(condition, _negate(literal))

    def _optional(
        self, start: cp_model.LinearExprT, size: int, present: Lit, name: str
    ) -> cp_model.IntervalVar:
        if present is True:
            return self.cp.new_fixed_size_interval_var(start, size, name)
        return self.cp.new_optional_fixed_size_interval_var(start, size, present, name)

    # --- tasks ----------------------------------------------------------------------------

    def _task(self, *, task: Task) -> None:
        problem = self.problem
        days = (
            range(problem.day_count) if self.explain else problem.patient_days(patient=task.patient)
        )
        relaxed = {"hours": False, "fasting": False} if self.explain else {}
        per_option = {
            k: problem.starts(task=task, option=k, days=days, **relaxed)
            for k in range(len(task.options))
        }
        per_option = {k: starts for k, starts in per_option.items() if starts}
        starts = sorted({s for found in per_option.values() for s in found})
        if not starts:
            self.empty = True
            return
        start = self.cp.new_int_var_from_domain(Domain.from_values(starts), f"start_{task.id}")
        self.start[task.id] = start
        self.domain[task.id] = set(starts)
        self.interval[task.id] = self.cp.new_fixed_size_interval_var(
            start, task.duration, f"task_{task.id}"
        )

        day_list = sorted({problem.day_of(t=s) for s in starts})
        self.on[task.id] = self._literals(name=f"on_{task.id}", keys=day_list)
        if len(day_list) > 1:
            for day, literal in self.on[task.id].items():
                lo, hi = problem.at(day=day, step=0), problem.at(day=day + 1, step=0) - 1
                self._when(self.cp.add_linear_constraint(start, lo, hi), literal)

        self.use[task.id] = self._literals(name=f"use_{task.id}", keys=sorted(per_option))
        for k, literal in self.use[task.id].items():
            if len(per_option[k]) < len(starts):
                self._when(
                    self.cp.add_linear_expression_in_domain(
                        start, Domain.from_values(per_option[k])
                    ),
                    literal,
                )

        rooms: dict[str, list[int]] = defaultdict(list)
        for k in per_option:
            for room in problem.rooms_for(task=task, option=k, step_free=not self.explain):
                rooms[room].append(k)
        if not rooms:
            self.empty = True
            return
        self.room[task.id] = self._literals(
            name=f"room_{task.id}", keys=sorted(rooms, key=list(problem.rooms).index)
        )
        for room, usable in rooms.items():
            if len(usable) < len(per_option):
                literal = self.room[task.id][room]
                clause = self.cp.add_bool_or([self.use[task.id][k] for k in usable])
                self._when(clause, literal)

    def _professionals(self) -> None:
        by_staff: dict[str, list[cp_model.IntervalVar]] = defaultdict(list)
        for task in self.problem.tasks:
            for k, literal in self.use[task.id].items():
                interval = (
                    self.interval[task.id]
                    if literal is True
                    else self._optional(
                        self.start[task.id], task.duration, literal, f"use_{task.id}_{k}"
                    )
                )
                for pro in task.options[k].team:
                    by_staff[pro].append(interval)
        for pro, intervals in by_staff.items():
            if self.explain:
                intervals += self._hours(pro=pro)
            if len(intervals) > 1:
                self.cp.add_no_overlap(intervals)

    def _hours(self, *, pro: str) -> list[cp_model.IntervalVar]:
        """Explain mode: the hours a professional does not work become blocked intervals in
        their no-overlap, all switched on by one literal for that professional."""
        problem = self.problem
        blocked: list[cp_model.IntervalVar] = []
        if problem.professionals[pro].hours is not None:
            literal = self._rule(
                rule=Rule.PROFESSIONAL_HOURS,
                people=(pro,),
                message=f"{problem.who(person=pro)} only works their set hours.",
                professional=pro,
            )
            for day in range(problem.day_count):
                free = 0
                for start, end in [
                    *problem.shifts(professional=pro, day=day),
                    (problem.horizon, problem.horizon),
                ]:
                    if start > free:
                        blocked.append(
                            self._optional(
                                problem.at(day=day, step=free), start - free, literal, f"off_{pro}"
                            )
                        )
                    free = max(free, end)
        return blocked

    def _rooms(self) -> None:
        problem = self.problem
        by_room: dict[str, list[tuple[Task, Lit]]] = defaultdict(list)
        for task in problem.tasks:
            for room, literal in self.room[task.id].items():
                by_room[room].append((task, literal))
        for room, entries in by_room.items():
            if len(entries) < 2:
                continue
            # When every task that may use this room is run by one same professional, that
            # professional's no-overlap already keeps the room to one task at a time.
            teams = [
                set(task.options[k].team)
                for task, _ in entries
                for k in self.use[task.id]
                if room in task.options[k].rooms
            ]
            if set.intersection(*teams):
                continue
            intervals = [
                self.interval[task.id]
                if literal is True
                else self._optional(
                    self.start[task.id], task.duration, literal, f"in_{task.id}_{room}"
                )
                for task, literal in entries
            ]
            self.cp.add_no_overlap(intervals)
        if self.explain:
            self._step_free()

    def _step_free(self) -> None:
        problem = self.problem
        for patient in problem.clinic.patients:
            if not patient.step_free:
                continue
            steps = [
                (task, literal)
                for task in problem.tasks_of[patient.id]
                for room, literal in self.room[task.id].items()
                if not problem.rooms[room].step_free
            ]
            if steps:
                guard = self._rule(
                    rule=Rule.STEP_FREE,
                    people=(patient.id,),
                    message=f"{problem.who(person=patient.id)} needs step-free rooms.",
                    patient=patient.id,
                )
                for _, literal in steps:
                    self._imply_not(guard, literal)

    # --- patients -------------------------------------------------------------------------

    def _patient(self, *, patient_id: str) -> None:
        problem = self.problem
        patient = problem.patients[patient_id]
        who = problem.who(person=patient_id)
        tasks = problem.tasks_of[patient_id]
        days = sorted({d for t in tasks for d in self.on[t.id]})
        bare = [self.interval[t.id] for t in tasks]

        rests = []
        for task in tasks:
            if task.rest_after:
                guard = self._rule(
                    rule=Rule.REST,
                    people=(patient_id,),
                    message=f"{problem.what(task=task.id)} is followed by "
                    f"{problem.minutes(steps=task.rest_after)} of rest.",
                    task=task.id,
                    rest=task.rest_after,
                )
                end = self.start[task.id] + task.duration
                rests.append(self._optional(end, task.rest_after, guard, f"rest_{task.id}"))

        lunches = []
        if patient.lunch is not None:
            lunch = patient.lunch
            guard = self._rule(
                rule=Rule.LUNCH,
                people=(patient_id,),
                message=f"{who} has a {problem.minutes(steps=lunch.duration)} lunch break between "
                f"{problem.clinic.clock_at(step=lunch.earliest):%H:%M} and "
                f"{problem.clinic.clock_at(step=lunch.latest):%H:%M}.",
                patient=patient_id,
            )
            for day in days:
                lo = problem.at(day=day, step=lunch.earliest)
                start = self.cp.new_int_var(
                    lo,
                    problem.at(day=day, step=lunch.latest) - lunch.duration,
                    f"lunch_{patient_id}_{day}",
                )
                self.lunch[patient_id, day] = start
                lunches.append(
                    self._optional(start, lunch.duration, guard, f"lunch_{patient_id}_{day}")
                )
        # Rest may overlap lunch (resting while eating), so they go in separate no-overlaps.
        if rests and lunches:
            self.cp.add_no_overlap(bare + rests)
            self.cp.add_no_overlap(bare + lunches)
        elif len(bare) + len(rests) + len(lunches) > 1:
            self.cp.add_no_overlap(bare + rests + lunches)

        span_guard: Lit = True
        if patient.max_span is not None:
            span_guard = self._rule(
                rule=Rule.MAX_SPAN,
                people=(patient_id,),
                message=f"{who} is at the clinic at most {problem.minutes(steps=patient.max_span)} a day.",
                patient=patient_id,
                max_span=patient.max_span,
            )
        for day in days:
            lo, hi = problem.at(day=day, step=0), problem.at(day=day + 1, step=0)
            first = self.cp.new_int_var(lo, hi, f"first_{patient_id}_{day}")
            last = self.cp.new_int_var(lo, hi, f"last_{patient_id}_{day}")
            self.first[patient_id, day], self.last[patient_id, day] = first, last
            self.cp.add(last >= first)
            present = []
            for task in tasks:
                on = self.on[task.id].get(day)
                if on is None:
                    continue
                self._when(self.cp.add(first <= self.start[task.id]), on)
                self._when(self.cp.add(last >= self.start[task.id] + task.duration), on)
                present.append((task.duration, on))
            if not self.explain:
                # Redundant, for the bound: the day lasts at least as long as its appointments.
                self.cp.add(last - first >= sum(d * _as_int(on) for d, on in present))
            if patient.max_span is not None:
                self._when(self.cp.add(last - first <= patient.max_span), span_guard)
            kept: list[Lit] = []
            if patient_id in self.soft_sessions:
                if patient_id not in self.session_literal:
                    self.session_literal[patient_id] = self.cp.new_bool_var(
                        f"in_sessions_{patient_id}"
                    )
                kept = [self.session_literal[patient_id]]
            in_sessions = patient_id in self.sessions or bool(kept)
            if in_sessions and patient.lunch is not None:
                # A morning ends in time for lunch; an afternoon starts after it.
                lunch = patient.lunch
                morning = self.cp.new_bool_var(f"morning_{patient_id}_{day}")
                ends = problem.at(day=day, step=lunch.latest - lunch.duration)
                begins = problem.at(day=day, step=lunch.earliest + lunch.duration)
                self._when(self.cp.add(last <= ends), morning, *kept)
                self._when(self.cp.add(first >= begins), ~morning, *kept)
            if in_sessions and len(problem.patient_days(patient=patient_id)) > 1:
                # A tiring test ends the patient's day, so its rest is not spent waiting.
                for task in tasks:
                    on = self.on[task.id].get(day)
                    if task.rest_after and on is not None:
                        self._when(
                            self.cp.add(last <= self.start[task.id] + task.duration), on, *kept
                        )

        self._fasting(patient_id=patient_id, tasks=tasks)
        self._round_table(patient_id=patient_id, tasks=tasks)
        if self.explain and patient.days is not None:
            self._patient_days(patient_id=patient_id, tasks=tasks)

    def _fasting(self, *, patient_id: str, tasks: list[Task]) -> None:
        problem = self.problem
        for fasting in (t for t in tasks if t.fasting):
            latest = max(
                problem.fasting_by(day=d) for d in problem.patient_days(patient=patient_id)
            )
            guard = self._rule(
                rule=Rule.FASTING,
                people=(patient_id,),
                message=f"{problem.what(task=fasting.id)} is a fasting test: first of their day, "
                f"starting by {problem.clinic.clock_at(step=latest):%H:%M}.",
                task=fasting.id,
            )
            fasting_end = self.start[fasting.id] + fasting.duration
            for day, on in self.on[fasting.id].items():
                if self.explain:
                    latest = problem.at(day=day, step=problem.fasting_by(day=day))
                    self._when(self.cp.add(self.start[fasting.id] <= latest), on, guard)
                for other in tasks:
                    other_on = self.on[other.id].get(day)
                    if other.fasting or other_on is None:
                        continue
                    self._when(
                        self.cp.add(self.start[other.id] >= fasting_end), on, other_on, guard
                    )

    def _round_table(self, *, patient_id: str, tasks: list[Task]) -> None:
        table = self.problem.round_table_of.get(patient_id)
        if table is None:
            return
        guard = self._rule(
            rule=Rule.ROUND_TABLE,
            people=(patient_id, *table.options[0].team),
            message=f"{self.problem.what(task=table.id)} comes after all their appointments.",
            task=table.id,
        )
        for task in tasks:
            if task.kind != ROUND_TABLE:
                self._when(
                    self.cp.add(self.start[table.id] >= self.start[task.id] + task.duration), guard
                )

    def _patient_days(self, *, patient_id: str, tasks: list[Task]) -> None:
        problem = self.problem
        allowed = set(problem.patient_days(patient=patient_id))
        guard = self._rule(
            rule=Rule.PATIENT_DAYS,
            people=(patient_id,),
            message=f"{problem.who(person=patient_id)} only attends day(s) "
            + ", ".join(str(d + 1) for d in sorted(allowed))
            + ".",
            patient=patient_id,
        )
        for task in tasks:
            for day, on in self.on[task.id].items():
                if day not in allowed:
                    self._imply_not(guard, on)

    def _precedences(self) -> None:
        problem = self.problem
        for patient_id, rule in problem.precedences:
            gap = f" by {problem.minutes(steps=rule.min_gap)}" if rule.min_gap else ""
            guard = self._rule(
                rule=Rule.PRECEDENCE,
                people=(patient_id,),
                message=f"{problem.what(task=rule.before)} comes before "
                f"{problem.task[rule.after].label}{gap}.",
                before=rule.before,
                after=rule.after,
                min_gap=rule.min_gap,
            )
            duration = problem.task[rule.before].duration
            constraint = self.cp.add(
                self.start[rule.after] >= self.start[rule.before] + duration + rule.min_gap
            )
            self._when(constraint, guard)

    def _blocks(self) -> None:
        problem = self.problem
        for group, block in problem.blocks:
            tasks = [problem.task[t] for t in block]
            guard = self._rule(
                rule=Rule.BACK_TO_BACK,
                people=tuple(t.patient for t in tasks),
                message="One professional sees "
                + " and ".join(problem.what(task=t.id) for t in tasks)
                + " straight after one another.",
                group=group,
                block=",".join(block),
            )

            def literal_for(task: Task, pro: str) -> Lit:
                for k, literal in self.use[task.id].items():
                    if task.options[k].team == (pro,):
                        return literal
                return False

            pros = {o.team[0] for t in tasks for o in t.options}
            for pro in sorted(pros):
                literals = [literal_for(t, pro) for t in tasks]
                if any(lit is False for lit in literals):
                    for lit in literals:
                        if lit is not False:
                            self._imply_not(guard, lit)
                    continue
                first = literals[0]
                for lit in literals[1:]:
                    if first is True and lit is True:
                        continue
                    self._when(self.cp.add(_as_int(first) == _as_int(lit)), guard)
            begin = self.cp.new_int_var(
                0, problem.at(day=problem.day_count, step=0), f"block_begin_{group}"
            )
            finish = self.cp.new_int_var(
                0, problem.at(day=problem.day_count, step=0), f"block_end_{group}"
            )
            self.cp.add_min_equality(begin, [self.start[t.id] for t in tasks])
            self.cp.add_max_equality(finish, [self.start[t.id] + t.duration for t in tasks])
            self._when(self.cp.add(finish - begin == sum(t.duration for t in tasks)), guard)
            self.block_ends.append((block, begin, finish))

    # --- re-planning and objective --------------------------------------------------------

    def _keep(self, *, keep: Mapping[str, Placement], hard: bool) -> None:
        """Pin (``hard``) or reward keeping each placement of the previous timetable."""
        for task_id, before in keep.items():
            use = self.use.get(task_id, {}).get(before.option)
            room = self.room.get(task_id, {}).get(before.room)
            start = self.start.get(task_id)
            if (
                use is None
                or room is None
                or start is None
                or before.start not in self.domain[task_id]
            ):
                continue  # the old place no longer exists: the task is free to move
            literal: Lit = True if hard else self.cp.new_bool_var(f"keep_{task_id}")
            self.keep_literal[task_id] = literal
            self.keep_target[task_id] = before
            self._when(self.cp.add(start == before.start), literal)
            for needed in (use, room):
                if needed is not True:
                    self._when(self.cp.add_bool_or([needed]), literal)

    def _objective(self, *, weights: Weights) -> None:
        problem = self.problem
        staff_busy = 0
        by_staff_day: dict[tuple[str, int], list[tuple[Task, Lit, Lit]]] = defaultdict(list)
        for task in problem.tasks:
            for k, use in self.use[task.id].items():
                for pro in task.options[k].team:
                    for day, on in self.on[task.id].items():
                        by_staff_day[pro, day].append((task, use, on))
            # Every option of a task has the same team size, so the professionals' total busy
            # time is a constant and their idle time is their total span minus it.
            staff_busy += task.duration * len(task.options[0].team)
        floors = idle_floors(problem=problem)
        for (pro, day), entries in by_staff_day.items():
            lo, hi = problem.at(day=day, step=0), problem.at(day=day + 1, step=0)
            first = self.cp.new_int_var(lo, hi, f"staff_first_{pro}_{day}")
            last = self.cp.new_int_var(lo, hi, f"staff_last_{pro}_{day}")
            self.staff_first[pro, day], self.staff_last[pro, day] = first, last
            self.cp.add(last >= first)
            busy: list[cp_model.LinearExprT] = []
            for task, use, on in entries:
                self._when(self.cp.add(first <= self.start[task.id]), use, on)
                self._when(self.cp.add(last >= self.start[task.id] + task.duration), use, on)
                if use is True:
                    busy.append(task.duration * _as_int(on))
                elif on is True:
                    busy.append(task.duration * _as_int(use))
            # Redundant, for the bound: a professional's day lasts as long as their visits,
            # and at least as long as their hours force (``bound.idle_floors``).
            self.cp.add(last - first >= sum(busy))
            floor = floors.get((pro, day))
            if floor is not None and floor.span > 0:
                self.cp.add(last - first >= floor.span)
        span = sum(self.last[k] - self.first[k] for k in self.last)
        idle = sum(self.staff_last[k] - self.staff_first[k] for k in self.staff_last) - staff_busy
        # Redundant, for the bound: per-day busy time is only known for tasks whose
        # professional is fixed, but in total nobody is idle for less than nothing.
        self.cp.add(idle >= 0)
        moved = sum(1 - _as_int(lit) for lit in self.keep_literal.values())
        outside = sum(1 - lit for lit in self.session_literal.values())
        self.cp.minimize(
            weights.patient_span * span
            + weights.professional_idle * idle
            + weights.moved * moved
            + self.soft_penalty * outside
        )

    # --- hints and reading back -----------------------------------------------------------

    def hint(
        self, *, placements: Mapping[str, Placement], lunches: Mapping[tuple[str, int], int]
    ) -> None:
        """Hint a complete timetable (greedy's, or the previous one) to start the search."""
        problem = self.problem
        patient_days: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
        staff_days: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
        for task in problem.tasks:
            placement = placements.get(task.id)
            if placement is None or placement.option not in self.use[task.id]:
                continue  # a partial hint still helps
            start, end = placement.start, placement.start + task.duration
            day = problem.day_of(t=start)
            self.cp.add_hint(self.start[task.id], start)
            self._hint_choice(chosen=day, literals=self.on[task.id])
            self._hint_choice(chosen=placement.option, literals=self.use[task.id])
            self._hint_choice(chosen=placement.room, literals=self.room[task.id])
            patient_days[task.patient, day].append((start, end))
            for pro in task.options[placement.option].team:
                staff_days[pro, day].append((start, end))
        for key, variable in self.lunch.items():
            # A day the patient does not come: any lunch time will do, take the earliest.
            lunch = problem.patients[key[0]].lunch
            assert lunch is not None
            earliest = problem.at(day=key[1], step=lunch.earliest)
            self.cp.add_hint(variable, lunches.get(key, earliest))
        for spans_of, firsts, lasts in (
            (patient_days, self.first, self.last),
            (staff_days, self.staff_first, self.staff_last),
        ):
            for key, first in firsts.items():
                spans = spans_of.get(key)
                low = min(s for s, _ in spans) if spans else problem.at(day=key[1], step=0)
                high = max(e for _, e in spans) if spans else low
                self.cp.add_hint(first, low)
                self.cp.add_hint(lasts[key], high)
        for block, begin, finish in self.block_ends:
            if not all(t in placements for t in block):
                continue
            self.cp.add_hint(begin, min(placements[t].start for t in block))
            ends = [placements[t].start + problem.task[t].duration for t in block]
            self.cp.add_hint(finish, max(ends))
        for task_id, literal in self.keep_literal.items():
            if task_id not in placements:
                continue
            now, before = placements[task_id], self.keep_target[task_id]
            same = (now.start, now.option, now.room) == (before.start, before.option, before.room)
            if not isinstance(literal, bool):
                self.cp.add_hint(literal, same)

    def _hint_choice(self, *, chosen: Key, literals: Mapping[Key, Lit]) -> None:
        for key, literal in literals.items():
            if not isinstance(literal, bool):
                self.cp.add_hint(literal, key == chosen)

    def read(
        self, *, value: Callable[[cmh.IntVar | cmh.Literal], int]
    ) -> tuple[dict[str, Placement], dict[tuple[str, int], int]]:
        """The timetable in a solution, ``value`` giving each variable's value in it (a
        solver's, or a solution vector's lookup by variable index)."""
        placements = {}
        for task in self.problem.tasks:
            option = next(k for k, lit in self.use[task.id].items() if _is_true(value, lit))
            room = next(r for r, lit in self.room[task.id].items() if _is_true(value, lit))
            placements[task.id] = Placement(
                task=task.id, start=value(self.start[task.id]), option=option, room=room
            )
        lunches = {key: value(var) for key, var in self.lunch.items()}
        return placements, lunches

    # --- for the large-neighbourhood search (``lns.Searchable``) ---------------------------

    def patient_variables(self, *, patient: str) -> list[int]:
        """Indices of the variables that place ``patient``'s tasks: start, day, team, room."""
        found = []
        for task in self.problem.tasks_of[patient]:
            found.append(self.start[task.id].index)
            for literals in (self.on[task.id], self.use[task.id], self.room[task.id]):
                found += [lit.index for lit in literals.values() if not isinstance(lit, bool)]
        return found

    def day_variables(self, *, patient: str, day: int, solution: Sequence[int]) -> list[int]:
        """Of ``patient_variables``, those a re-plan of ``day`` alone may change: start, team
        and room of the tasks on that day in ``solution``, which stay on it."""
        found = []
        for task in self.problem.tasks_of[patient]:
            start = self.start[task.id]
            if self.problem.day_of(t=solution[start.index]) != day:
                continue
            found.append(start.index)
            for literals in (self.use[task.id], self.room[task.id]):
                found += [lit.index for lit in literals.values() if not isinstance(lit, bool)]
        return found

    def penalty(self, *, solution: Sequence[int]) -> int:
        """The part of ``solution``'s objective that is the pull towards sessions."""
        return self.soft_penalty * sum(
            1 - solution[lit.index] for lit in self.session_literal.values()
        )

    def visits(self, *, solution: Sequence[int]) -> list[lns.Visit]:
        found = []
        for task in self.problem.tasks:
            option = next(
                k for k, lit in self.use[task.id].items() if _is_true(_lookup(solution), lit)
            )
            start = solution[self.start[task.id].index]
            for pro in task.options[option].team:
                found.append(
                    lns.Visit(
                        patient=task.patient,
                        professional=pro,
                        day=self.problem.day_of(t=start),
                        start=start,
                        end=start + task.duration,
                    )
                )
        return found

    def waiting(self, *, solution: Sequence[int]) -> dict[str, int]:
        """Each patient's time on site beyond their appointments, over all days."""
        found: dict[str, int] = defaultdict(int)
        for (patient, day), first in self.first.items():
            busy = sum(
                task.duration
                for task in self.problem.tasks_of[patient]
                if day in self.on[task.id] and _is_true(_lookup(solution), self.on[task.id][day])
            )
            if busy:
                span = solution[self.last[patient, day].index] - solution[first.index]
                found[patient] += span - busy
        return found


def _lookup(solution: Sequence[int]) -> Callable[[cmh.IntVar | cmh.Literal], int]:
    return lambda variable: solution[variable.index]


def _negate(literal: Lit) -> Lit:
    if isinstance(literal, bool):
        return not literal
    return literal.negated()


def _as_int(literal: Lit) -> cmh.LinearExpr | int:
    return int(literal) if isinstance(literal, bool) else literal


def _is_true(value: Callable[[cmh.IntVar | cmh.Literal], int], literal: Lit) -> bool:
    return literal is True or (literal is not False and bool(value(literal)))
