"""Large-neighbourhood search over patients: the clinic solver's main improving phase.

A patient's waiting is a property of their own day, and a professional's idle time of the
patients around their gaps. So each step frees the appointments of a few *related patients*
(with their families), keeps everyone else exactly where they are, and lets CP-SAT re-plan the
freed ones optimally against the rest; the result replaces the timetable when it costs no
more (equal cost moves let the search walk along plateaus). Such sub-problems solve in a
fraction of a second, so the search makes hundreds of focused moves where one search over the
whole model makes a few.

Neighbourhoods, chosen at random each step:

* *waiting*: a patient drawn in proportion to their waiting, with the patients they share a
  professional with at nearby times that day;
* *idle*: a gap in a professional's day, with the patients just before and after it, the
  day's first and last (who could fill it), and others that professional sees near it;
* *random*: any few patients, so the search does not stay in one corner;
* *day*: a gap in a professional's day, with more of the patients they see that day, each
  re-planned on that day only (their other days held), so a step can reach further along
  the professional's day for the same effort.

With ``num_workers`` above one, that many workers search side by side (one CP-SAT worker
each) on a shared timetable: a result is taken when nobody changed the timetable meanwhile,
and merged (checked by CP-SAT with every placement held) when the others only moved other
patients; otherwise it is dropped. With a deterministic time limit the search is
reproducible: neighbourhoods come from a seeded generator, every sub-problem stops on
deterministic time, the search stops on their summed deterministic time, and several
workers solve fixed rounds of steps taken in order (``_Search.rounds``) instead of racing.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from ortools.sat.python import cp_model


@dataclass(frozen=True, kw_only=True)
class Visit:
    """One professional's part in one task of a solution, on the global time line."""

    patient: str
    professional: str
    day: int
    start: int
    end: int


class Searchable(Protocol):
    """What the search needs of a model: the model, the variables that place each patient's
    tasks, and how to read visits and waiting back from a solution vector."""

    cp: cp_model.CpModel

    def patient_variables(self, *, patient: str) -> list[int]: ...

    def day_variables(self, *, patient: str, day: int, solution: Sequence[int]) -> list[int]: ...

    def penalty(self, *, solution: Sequence[int]) -> int: ...

    def visits(self, *, solution: Sequence[int]) -> list[Visit]: ...

    def waiting(self, *, solution: Sequence[int]) -> dict[str, int]: ...


@dataclass(frozen=True, kw_only=True)
class Limits:
    deadline: float  # time.perf_counter() value at which to stop
    deterministic: float | None  # CP-SAT deterministic time for the whole search, or None
    sub_seconds: float = 0.3  # per sub-problem
    sub_deterministic: float = 0.05
    workers: int = 1
    seed: int = 0
    # Stop as soon as the objective is at most this (a known lower bound, within the gap).
    good_enough: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Found:
    solution: list[int]
    objective: float
    steps: int


# Patients freed per step: two for waiting and random moves (three make sub-problems that
# rarely finish in time), up to four around a gap: the patients on either side of it and the
# day's first and last, who could move into it; ``NEAR_GAP`` (steps) is what counts as near.
FREE = 2
FREE_AROUND_GAP = 4
NEAR_GAP = 4
# A step on one day frees only that day's appointments of up to ``FREE_DAY`` patients that
# one professional sees that day; their other days and every day's patient list stay as
# they are. Half the variables per patient, so more patients fit in a step that still ends
# in time (about 100 ms against 170 ms for two whole patients).
FREE_DAY = 5
# How often each kind of neighbourhood is chosen; the rest go to waiting. Gap steps over
# whole patients free twice the patients and mostly run out their time, so they are kept
# rare. Measured on the 20-patient bench over the full 28.5 s, six seeds each: without day
# steps the mean objective was 4,059 (3 of 6 within 2 % of the bound); with 30 % day steps
# of five patients, 4,049 (6 of 6); of four, six and eight patients, 4,050 to 4,065.
SHARE_DAY = 0.3
SHARE_RANDOM = 0.14
SHARE_IDLE = 0.07


def improve(
    *,
    model: Searchable,
    solution: Sequence[int],
    objective: float,
    families: dict[str, tuple[str, ...]],
    limits: Limits,
) -> Found:
    """Improve ``solution`` (a complete assignment of ``model.cp``) until a limit is met."""
    search = _Search(
        model=model, solution=solution, objective=objective, families=families, limits=limits
    )
    if limits.workers == 1:
        search.work()
    elif limits.deterministic is not None:
        search.rounds()
    else:
        with ThreadPoolExecutor(max_workers=limits.workers) as pool:
            for done in [pool.submit(search.work) for _ in range(limits.workers)]:
                done.result()
    return Found(
        solution=search.kept,
        objective=search.kept_cost,
        steps=search.steps,
    )


class _Search:
    """The incumbent timetable shared by the workers. Each worker takes a copy, re-plans one
    neighbourhood of it, and hands the result back: taken as it is when nobody changed the
    timetable meanwhile, merged when the others changed only other patients."""

    def __init__(
        self,
        *,
        model: Searchable,
        solution: Sequence[int],
        objective: float,
        families: dict[str, tuple[str, ...]],
        limits: Limits,
    ) -> None:
        self.model, self.limits = model, limits
        self.patients = sorted(families)
        self.choose = _Neighbourhoods(
            model=model, rng=random.Random(limits.seed), patients=self.patients, families=families
        )
        self.fixable = {p: model.patient_variables(patient=p) for p in self.patients}
        self.best, self.cost = list(solution), objective
        # The best timetable by its true cost, without the model's pull towards sessions
        # (``Searchable.penalty``), which the search follows but the answer must not count.
        self.kept, self.kept_cost = self.best, objective - model.penalty(solution=solution)
        # Patients re-planned by each accepted change, version by version.
        self.changes: list[set[str]] = []
        self.lock = threading.Lock()
        self.spent = 0.0
        self.steps = 0

    def _over(self) -> bool:
        limits = self.limits
        return (
            self.kept_cost <= limits.good_enough
            or limits.deadline - time.perf_counter() < 0.02
            or (limits.deterministic is not None and self.spent >= limits.deterministic)
        )

    def _seconds(self) -> float:
        """Wall time for one sub-problem. Under a deterministic limit only the overall
        deadline applies, so that the machine's load cannot change the result."""
        left = self.limits.deadline - time.perf_counter()
        return left if self.limits.deterministic is not None else min(self.limits.sub_seconds, left)

    def work(self) -> None:
        limits = self.limits
        while True:
            with self.lock:
                if self._over():
                    return
                version, base, base_cost = len(self.changes), self.best, self.cost
                freed = self.choose(solution=base)
                free = set(freed)
                seed = limits.seed + self.steps
                self.steps += 1
            value, found, spent = _solve(
                model=self.model,
                solution=base,
                fixed=self._fixed(free=freed, solution=base),
                seconds=self._seconds(),
                deterministic=limits.sub_deterministic if limits.deterministic else None,
                seed=seed,
            )
            with self.lock:
                self.spent += spent
                if value is None or value > base_cost:
                    continue
                since = set().union(*self.changes[version:])
                if not since:
                    self._accept(value=value, found=found, free=free)
                elif value < base_cost and not since & free:
                    # Others improved other patients meanwhile: keep both changes if they fit.
                    self._merge(found=found, free=free)

    def rounds(self) -> None:
        """The reproducible way to use several workers: each round draws ``workers``
        neighbourhoods of the same timetable in order, solves them side by side (each on
        deterministic time alone), and takes the results in that order, as ``work`` would if
        they had come back in it. The threads' timing changes nothing."""
        limits = self.limits
        with ThreadPoolExecutor(max_workers=limits.workers) as pool:
            while not self._over():
                base, base_cost = self.best, self.cost
                version = len(self.changes)
                drawn = []
                for _ in range(limits.workers):
                    drawn.append((self.choose(solution=base), limits.seed + self.steps))
                    self.steps += 1
                seconds = self._seconds()

                def step(
                    job: tuple[dict[str, int | None], int],
                    base: list[int] = base,
                    seconds: float = seconds,
                ) -> tuple[float | None, list[int], float]:
                    return _solve(
                        model=self.model,
                        solution=base,
                        fixed=self._fixed(free=job[0], solution=base),
                        seconds=seconds,
                        deterministic=limits.sub_deterministic,
                        seed=job[1],
                    )

                results = list(pool.map(step, drawn))
                for (freed, _), (value, found, spent) in zip(drawn, results, strict=True):
                    self.spent += spent
                    free = set(freed)
                    if value is None or value > base_cost:
                        continue
                    since = set().union(*self.changes[version:])
                    if not since:
                        self._accept(value=value, found=found, free=free)
                    elif value < base_cost and not since & free:
                        self._merge(found=found, free=free)

    def _fixed(self, *, free: dict[str, int | None], solution: Sequence[int]) -> list[int]:
        """The variables a step holds: every patient's but the freed ones', and of a patient
        freed on one day only, all but that day's placements."""
        fixed = []
        for patient in self.patients:
            if patient not in free:
                fixed += self.fixable[patient]
            elif (day := free[patient]) is not None:
                movable = set(self.model.day_variables(patient=patient, day=day, solution=solution))
                fixed += [i for i in self.fixable[patient] if i not in movable]
        return fixed

    def _accept(self, *, value: float, found: list[int], free: set[str]) -> None:
        self.best, self.cost = found, value
        true_cost = value - self.model.penalty(solution=found)
        if true_cost < self.kept_cost:
            self.kept, self.kept_cost = found, true_cost
        self.changes.append(free)

    def _merge(self, *, found: list[int], free: set[str]) -> None:
        """The incumbent with ``free``'s patients placed as in ``found``, if that is still a
        timetable: every placement is held and CP-SAT only recomputes spans, lunches and the
        objective."""
        combined = list(self.best)
        for patient in free:
            for index in self.fixable[patient]:
                combined[index] = found[index]
        value, merged, spent = _solve(
            model=self.model,
            solution=combined,
            fixed=[i for p in self.patients for i in self.fixable[p]],
            seconds=self._seconds(),
            deterministic=self.limits.sub_deterministic if self.limits.deterministic else None,
            seed=0,
        )
        self.spent += spent
        if value is not None and value < self.cost:
            self._accept(value=value, found=merged, free=free)


def _solve(
    *,
    model: Searchable,
    solution: list[int],
    fixed: list[int],
    seconds: float,
    deterministic: float | None,
    seed: int,
) -> tuple[float | None, list[int], float]:
    """``model`` with the ``fixed`` variables held at their values in ``solution``, hinted
    with it: the objective (None if nothing was found), the solution, deterministic time."""
    if seconds < 0.01:
        return None, [], 0.0
    sub = model.cp.clone()
    proto = sub.proto
    for index in fixed:
        domain = proto.variables[index].domain
        domain.clear()
        domain.extend([solution[index], solution[index]])
    proto.clear_solution_hint()
    proto.solution_hint.vars.extend(list(range(len(solution))))
    proto.solution_hint.values.extend(solution)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_time_in_seconds = seconds
    # Small sub-problems: probing and symmetry detection cost more than they save.
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.symmetry_level = 0
    if deterministic is not None:
        solver.parameters.max_deterministic_time = deterministic
    status = solver.solve(sub)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return (
            solver.objective_value,
            list(solver.response_proto.solution),
            solver.deterministic_time,
        )
    return None, [], solver.deterministic_time


class _Neighbourhoods:
    def __init__(
        self,
        *,
        model: Searchable,
        rng: random.Random,
        patients: list[str],
        families: dict[str, tuple[str, ...]],
    ) -> None:
        self.model, self.rng, self.patients, self.families = model, rng, patients, families

    def __call__(self, *, solution: Sequence[int]) -> dict[str, int | None]:
        """The patients a step frees, each with the one day it frees them on (None: all)."""
        draw = self.rng.random()
        if draw < SHARE_DAY:
            day, chosen = self._around_gap(solution=solution, count=FREE_DAY)
            return {member: day for patient in chosen for member in self.families[patient]}
        if draw < SHARE_DAY + SHARE_RANDOM or len(self.patients) <= FREE:
            chosen = set(self.rng.sample(self.patients, min(FREE, len(self.patients))))
        elif draw < SHARE_DAY + SHARE_RANDOM + SHARE_IDLE:
            _, chosen = self._around_gap(solution=solution, count=FREE_AROUND_GAP, near=NEAR_GAP)
        else:
            chosen = self._around_waiting(solution=solution)
        return {member: None for patient in chosen for member in self.families[patient]}

    def _around_waiting(self, *, solution: Sequence[int]) -> set[str]:
        waiting = self.model.waiting(solution=solution)
        weights = [waiting.get(p, 0) + 1 for p in self.patients]
        seed = self.rng.choices(self.patients, weights=weights)[0]
        visits = self.model.visits(solution=solution)
        own = [v for v in visits if v.patient == seed]
        closeness: dict[str, float] = defaultdict(float)
        for visit in visits:
            if visit.patient == seed:
                continue
            for mine in own:
                if visit.professional == mine.professional and visit.day == mine.day:
                    apart = max(0, max(visit.start, mine.start) - min(visit.end, mine.end))
                    closeness[visit.patient] += 1 / (1 + apart)
        return {seed} | self._draw(weights=closeness, count=FREE - 1)

    def _gap(self, *, solution: Sequence[int]) -> tuple[Visit, Visit, list[Visit]] | None:
        """A gap in some professional's day, drawn in proportion to its length: the visits
        on either side of it and all that professional's visits that day, in time order."""
        days: dict[tuple[str, int], list[Visit]] = defaultdict(list)
        for visit in self.model.visits(solution=solution):
            days[visit.professional, visit.day].append(visit)
        gaps: list[tuple[int, Visit, Visit, list[Visit]]] = []
        for visits in days.values():
            visits.sort(key=lambda v: v.start)
            for before, after in itertools.pairwise(visits):
                if after.start > before.end:
                    gaps.append((after.start - before.end, before, after, visits))
        if not gaps:
            return None
        _, before, after, visits = self.rng.choices(gaps, weights=[g[0] for g in gaps])[0]
        return before, after, visits

    def _around_gap(
        self, *, solution: Sequence[int], count: int, near: int | None = None
    ) -> tuple[int | None, set[str]]:
        """A gap's day, with the patients on either side of the gap, the professional's first
        and last that day (who could move into it, shortening the day from its end), and
        others they see that day (within ``near`` steps of the gap, if given), up to
        ``count``."""
        gap = self._gap(solution=solution)
        if gap is None:
            return None, set(self.rng.sample(self.patients, min(FREE, len(self.patients))))
        before, after, visits = gap
        chosen = {before.patient, after.patient, visits[0].patient, visits[-1].patient}
        others = sorted(
            {
                v.patient
                for v in visits
                if near is None or (v.end >= before.end - near and v.start <= after.start + near)
            }
            - chosen
        )
        self.rng.shuffle(others)
        return before.day, chosen | set(others[: max(0, count - len(chosen))])

    def _draw(self, *, weights: dict[str, float], count: int) -> set[str]:
        chosen: set[str] = set()
        candidates = sorted(weights)
        while len(chosen) < count and candidates:
            pick = self.rng.choices(candidates, weights=[weights[c] for c in candidates])[0]
            chosen.add(pick)
            candidates.remove(pick)
        return chosen
