"""A greedy first-fit timetable: the baseline to beat, and CP-SAT's starting point.

Patients are taken in the order given; each patient's appointments in an order that respects
precedence, fasting tests first, then their round table.
Each task goes to the earliest start, then the first eligible professional, then the first
free room, that breaks no rule given what is already placed. A back-to-back block is placed
as one piece when its first member comes up. It never backtracks, so it can fail on a plan
that has a timetable; it never returns one that breaks a rule.
"""

from __future__ import annotations

import heapq
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from rarebridge.engines.clinic.assemble import build_schedule, evaluate, without_timetable
from rarebridge.engines.clinic.model import Clinic
from rarebridge.engines.clinic.options import SolveOptions, Weights
from rarebridge.engines.clinic.problem import ROUND_TABLE, Placement, Problem, Task
from rarebridge.engines.clinic.results import Explanation, Rule, Schedule, Status


@dataclass(kw_only=True)
class FirstFit:
    placements: dict[str, Placement] = field(default_factory=dict)
    lunches: dict[tuple[str, int], int] = field(default_factory=dict)
    failed: str | None = None  # the task that found no place
    cost: int = 0
    # Patients laid out outside sessions because no morning or afternoon would hold them.
    outside_sessions: set[str] = field(default_factory=set)


def first_fit(
    *,
    problem: Problem,
    seeded: Mapping[str, Placement] | None = None,
    weights: Weights | None = None,
    best_fit: bool = False,
    sessions: bool = False,
) -> FirstFit:
    """Lay out every task first-fit around the ``seeded`` placements (kept in re-planning).

    Two passes, keeping the cheaper: patients in the order given, then the hardest to fit
    first (fewest days, step-free, most appointment time), which rescues plans where the
    last patients in the list find their only day already full.

    With ``best_fit`` it also tries, in both orders, placing each task where it adds least
    to the objective instead of at the earliest start: no longer the plain baseline, but a
    much better starting point for CP-SAT.

    With ``sessions`` every patient's day is a morning or an afternoon: it ends before their
    lunch break or starts after it (see ``SolveOptions.sessions``).
    """
    weights = weights or Weights()
    given = [p.id for p in problem.clinic.patients]
    hardest = sorted(
        given,
        key=lambda p: (
            len(problem.patient_days(patient=p)),
            not problem.patients[p].step_free,
            -sum(t.duration for t in problem.tasks_of[p]),
        ),
    )
    best: FirstFit | None = None
    modes = (False, True) if best_fit else (False,)
    for order, compact in ((o, m) for m in modes for o in (given, hardest)):
        found = _first_fit(
            problem=problem,
            seeded=seeded or {},
            order=order,
            compact=compact,
            weights=weights,
            sessions=sessions,
        )
        if found.failed is not None:
            best = best or found
            continue
        cost = evaluate(problem=problem, placements=found.placements, weights=weights)
        if best is None or best.failed is not None or cost.objective < best.cost:
            best = found
            best.cost = cost.objective
    assert best is not None
    return best


def _first_fit(
    *,
    problem: Problem,
    seeded: Mapping[str, Placement],
    order: list[str],
    compact: bool,
    weights: Weights,
    sessions: bool = False,
) -> FirstFit:
    board = _Board(problem=problem, compact=compact, weights=weights, sessions=sessions)
    for placement in seeded.values():
        board.add(placement)
    block_of = {task_id: block for _, block in problem.blocks for task_id in block}

    def lay_out(patient_id: str) -> str | None:
        for task in _in_order(problem=problem, patient=patient_id):
            if task.id in board.placed:
                continue
            block = block_of.get(task.id)
            placed = board.place_block(block=block) if block else board.place(task=task)
            if not placed:
                return task.id
        # The round table straight after the patient's own appointments, while the team
        # still has time that day.
        table = problem.round_table_of.get(patient_id)
        if table and table.id not in board.placed and not board.place(task=table):
            return table.id
        return None

    outside: set[str] = set()
    for patient_id in order:
        before = set(board.placed)
        failed = lay_out(patient_id)
        if failed and compact:
            # Best-fit can paint itself into a corner: lay this patient out first-fit.
            for task_id in set(board.placed) - before:
                board.remove(board.placed[task_id])
            board.compact = False
            failed = lay_out(patient_id)
            board.compact = compact
        if failed and sessions:
            # No morning-or-afternoon layout for this patient: any layout keeping the rules
            # (the search can still move them into sessions).
            for task_id in set(board.placed) - before:
                board.remove(board.placed[task_id])
            board.sessions = False
            failed = lay_out(patient_id)
            board.sessions = True
            outside.add(patient_id)
        if failed:
            return FirstFit(placements=board.placed, failed=failed)
    return FirstFit(placements=board.placed, lunches=board.lunches(), outside_sessions=outside)


def _in_order(*, problem: Problem, patient: str) -> list[Task]:
    """The patient's appointments, predecessors first; among the ready ones, fasting tests
    first (they must open the day), then the scarcest (fewest possible starts: a
    professional who is in for one day only), then in the order given."""
    own = [t for t in problem.tasks_of[patient] if t.kind != ROUND_TABLE]
    days = problem.patient_days(patient=patient)
    index = {
        t.id: (len(problem.starts(task=t, option=None, days=days)), i) for i, t in enumerate(own)
    }
    waiting_on = {t.id: 0 for t in own}
    successors: dict[str, list[str]] = defaultdict(list)
    for owner, rule in problem.precedences:
        if owner == patient:
            waiting_on[rule.after] += 1
            successors[rule.before].append(rule.after)
    ready = [(not t.fasting, *index[t.id], t.id) for t in own if waiting_on[t.id] == 0]
    heapq.heapify(ready)
    ordered = []
    while ready:
        *_, task_id = heapq.heappop(ready)
        ordered.append(problem.task[task_id])
        for after in successors[task_id]:
            waiting_on[after] -= 1
            if waiting_on[after] == 0:
                heapq.heappush(ready, (not problem.task[after].fasting, *index[after], after))
    # A precedence cycle leaves tasks out; append them so the caller reports the failure.
    ordered += [t for t in own if t not in ordered]
    return ordered


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


class _Board:
    def __init__(
        self,
        *,
        problem: Problem,
        compact: bool = False,
        weights: Weights | None = None,
        sessions: bool = False,
    ) -> None:
        self.problem = problem
        self.compact = compact
        self.sessions = sessions
        self.weights = weights or Weights()
        self.placed: dict[str, Placement] = {}
        self.staff: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.room: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.own: dict[str, list[str]] = defaultdict(list)
        self.successors: dict[str, list[tuple[str, int]]] = defaultdict(list)
        self.predecessors: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for _, rule in problem.precedences:
            self.successors[rule.before].append((rule.after, rule.min_gap))
            self.predecessors[rule.after].append((rule.before, rule.min_gap))

    def _span(self, placement: Placement) -> tuple[int, int]:
        return placement.start, placement.start + self.problem.task[placement.task].duration

    def add(self, placement: Placement) -> None:
        task = self.problem.task[placement.task]
        span = self._span(placement)
        self.placed[task.id] = placement
        for pro in task.options[placement.option].team:
            self.staff[pro].append(span)
        self.room[placement.room].append(span)
        self.own[task.patient].append(task.id)

    def remove(self, placement: Placement) -> None:
        task = self.problem.task[placement.task]
        span = self._span(placement)
        del self.placed[task.id]
        for pro in task.options[placement.option].team:
            self.staff[pro].remove(span)
        self.room[placement.room].remove(span)
        self.own[task.patient].remove(task.id)

    def place(self, *, task: Task) -> bool:
        days = self.problem.patient_days(patient=task.patient)
        candidates = sorted(
            (start, option)
            for option in range(len(task.options))
            for start in self.problem.starts(task=task, option=option, days=days)
        )
        best: tuple[int, int, Placement] | None = None
        for start, option in candidates:
            placement = self._fit(task=task, start=start, option=option)
            if placement is None:
                continue
            if not self.compact:
                self.add(placement)
                return True
            added = self._added_cost(task=task, placement=placement)
            if best is None or added < best[0]:
                best = (added, start, placement)
        if best is not None:
            self.add(best[2])
            return True
        return False

    def _added_cost(self, *, task: Task, placement: Placement) -> int:
        """How much the objective grows with ``placement``: the patient's day and each team
        member's day get longer by this much, less the visit itself for the team."""
        start, end = self._span(placement)
        day = self.problem.day_of(t=start)

        def growth(spans: list[tuple[int, int]]) -> int:
            today = [s for s in spans if self.problem.day_of(t=s[0]) == day]
            if not today:
                return end - start
            low, high = min(s for s, _ in today), max(e for _, e in today)
            return max(high, end) - min(low, start) - (high - low)

        patient = growth([self._span(self.placed[t]) for t in self.own[task.patient]])
        idle = sum(
            growth(self.staff[pro]) - (end - start) for pro in task.options[placement.option].team
        )
        return self.weights.patient_span * patient + self.weights.professional_idle * idle

    def place_block(self, *, block: tuple[str, ...]) -> bool:
        """Place the block's appointments straight after one another with one professional,
        at the earliest start that fits them all."""
        tasks = [self.problem.task[t] for t in block]
        common = [
            pro
            for pro in (o.team[0] for o in tasks[0].options)
            if all(any(o.team == (pro,) for o in t.options) for t in tasks)
        ]
        for pro in common:
            options = [next(i for i, o in enumerate(t.options) if o.team == (pro,)) for t in tasks]
            allowed = [
                set(
                    self.problem.starts(
                        task=t, option=k, days=self.problem.patient_days(patient=t.patient)
                    )
                )
                for t, k in zip(tasks, options, strict=True)
            ]
            for first in sorted(allowed[0]):
                done: list[Placement] = []
                start = first
                for task, option, starts in zip(tasks, options, allowed, strict=True):
                    placement = (
                        self._fit(task=task, start=start, option=option)
                        if start in starts
                        else None
                    )
                    if placement is None:
                        break
                    self.add(placement)
                    done.append(placement)
                    start += task.duration
                if len(done) == len(tasks):
                    return True
                for placement in done:
                    self.remove(placement)
        return False

    def _fit(self, *, task: Task, start: int, option: int) -> Placement | None:
        span = (start, start + task.duration)
        team = task.options[option].team
        if any(_overlaps(span, busy) for pro in team for busy in self.staff[pro]):
            return None
        if not self._patient_allows(task=task, span=span):
            return None
        for room in self.problem.rooms_for(task=task, option=option):
            if not any(_overlaps(span, busy) for busy in self.room[room]):
                return Placement(task=task.id, start=start, option=option, room=room)
        return None

    def _patient_allows(self, *, task: Task, span: tuple[int, int]) -> bool:
        problem = self.problem
        patient = problem.patients[task.patient]
        start, end = span
        day = problem.day_of(t=start)
        resting = (start, end + task.rest_after)
        same_day: list[tuple[Task, int, int]] = []
        for other_id in self.own[task.patient]:
            other = problem.task[other_id]
            other_start = self.placed[other_id].start
            other_end = other_start + other.duration
            if _overlaps(resting, (other_start, other_end + other.rest_after)):
                return False
            if other.kind == ROUND_TABLE and end > other_start:
                return False
            if task.kind == ROUND_TABLE and other_end > start:
                return False
            if problem.day_of(t=other_start) == day:
                same_day.append((other, other_start, other_end))
        for after, gap in self.successors[task.id]:
            if after in self.placed and end + gap > self.placed[after].start:
                return False
        for before, gap in self.predecessors[task.id]:
            if before in self.placed and self._span(self.placed[before])[1] + gap > start:
                return False
        for other, other_start, other_end in same_day:
            if task.fasting and not other.fasting and other_start < end:
                return False
            if other.fasting and not task.fasting and start < other_end:
                return False
        if patient.max_span is not None:
            first = min([start] + [s for _, s, _ in same_day])
            last = max([end] + [e for _, _, e in same_day])
            if last - first > patient.max_span:
                return False
        if patient.lunch is not None:
            busy = [span] + [(s, e) for _, s, e in same_day]
            if self._lunch_start(patient=task.patient, day=day, busy=busy) is None:
                return False
        if self.sessions:
            visits = [(task, start)] + [(other, s) for other, s, _ in same_day]
            return problem.in_session(patient=task.patient, day=day, visits=visits)
        return True

    def _lunch_start(
        self,
        *,
        patient: str,
        day: int,
        busy: list[tuple[int, int]],
        within: tuple[int, int] | None = None,
    ) -> int | None:
        lunch = self.problem.patients[patient].lunch
        assert lunch is not None
        first = self.problem.at(day=day, step=lunch.earliest)
        last = self.problem.at(day=day, step=lunch.latest) - lunch.duration
        if within is not None:
            first, last = max(first, within[0]), min(last, within[1] - lunch.duration)
        for start in range(first, last + 1):
            if not any(_overlaps((start, start + lunch.duration), b) for b in busy):
                return start
        return None

    def lunches(self) -> dict[tuple[str, int], int]:
        found = {}
        for patient_id, task_ids in self.own.items():
            if self.problem.patients[patient_id].lunch is None:
                continue
            by_day: dict[int, list[tuple[int, int]]] = defaultdict(list)
            for task_id in task_ids:
                span = self._span(self.placed[task_id])
                by_day[self.problem.day_of(t=span[0])].append(span)
            for day, busy in by_day.items():
                # Lunch goes in a gap of the patient's day when there is one (the gap is then
                # a meal, not waiting), else at the first free time in the window.
                inside = (min(s for s, _ in busy), max(e for _, e in busy))
                start = self._lunch_start(patient=patient_id, day=day, busy=busy, within=inside)
                if start is None:
                    start = self._lunch_start(patient=patient_id, day=day, busy=busy)
                assert start is not None, "every placement checked that lunch still fits"
                found[patient_id, day] = start
        return found


def solve_greedy(*, clinic: Clinic, options: SolveOptions | None = None) -> Schedule:
    """The greedy baseline as a result comparable with ``solve``'s (same cost function).

    Its status is FEASIBLE when it lays everything out and UNKNOWN when it gets stuck: being
    stuck proves nothing, a smarter order might have worked.
    """
    options = options or SolveOptions()
    started = time.perf_counter()
    problem = Problem(clinic=clinic)
    found = first_fit(problem=problem, weights=options.weights)
    if found.failed is not None:
        return without_timetable(
            status=Status.UNKNOWN,
            method="greedy",
            explanations=(
                Explanation(
                    rule=Rule.CAPACITY,
                    people=(problem.task[found.failed].patient,),
                    message=f"First-fit found no place for {problem.what(task=found.failed)}.",
                    params={"task": found.failed},
                ),
            ),
            wall_seconds=time.perf_counter() - started,
        )
    return build_schedule(
        problem=problem,
        status=Status.FEASIBLE,
        method="greedy",
        placements=found.placements,
        lunches=found.lunches,
        weights=options.weights,
        wall_seconds=time.perf_counter() - started,
    )
