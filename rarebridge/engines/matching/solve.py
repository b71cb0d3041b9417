"""Matching patients to counsellors: the optimal batch, the greedy baseline, one patient.

The batch is a min-cost flow. Each waiting patient supplies one unit, which reaches the sink
either through a counsellor or through the patient's own "unmatched" arc:

    patient ──(cost: top - points)──► counsellor ──(n-th new patient: load cost)──► sink
    patient ──────────────────────(cost: UNMATCHED, far above any score)──────────► sink

A counsellor's arcs to the sink carry one unit each, the k-th costing what the caseload
penalty charges for a caseload of ``active_patients + k - 1``. Those costs rise with k, so the
flow always uses them cheapest first, and the convex penalty is exact. The unmatched arc keeps
the model feasible for every input, and its cost is high enough that the flow matches as
many patients as possible before it looks at scores. Min-cost flow has integral optimal
solutions, so the flow solution is a proven optimal assignment, found in polynomial time.

With slot capacity (``_solve_slot_flow``) each pair arc goes instead to a node per
(counsellor, weekly time) whose single arc to the counsellor has capacity one, so no weekly
time is reserved twice; the rest of the network, and so the argument, is the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence

import numpy as np
from ortools.graph.python import min_cost_flow

from .model import (
    DEFAULT_PLAN,
    DEFAULT_WAKING_HOURS,
    DEFAULT_WEIGHTS,
    Assignment,
    BatchResult,
    CallPlan,
    Counsellor,
    MatchingError,
    MatchWeights,
    Objective,
    PairReport,
    Patient,
    ReasonCode,
    Suggestion,
    SuggestionList,
    Unmatched,
    WakingHours,
)
from .pairs import (
    caseload_cost,
    hard_reasons,
    preference_points,
    preference_reasons,
    requirements_missed,
    site_allowed,
    slot_time_reason,
    time_reason,
)
from .report import Facts, counsellor_facts, unmatched_report
from .slots import CounsellorSlots, Pattern, SlotBook, booked
from .timegrid import Grid, Timing

__all__ = ["explain_pair", "match_batch", "match_greedy", "suggest_counsellors"]

# Per patient: (counsellor index, points before the caseload penalty) for every counsellor
# who passes every hard constraint, in counsellor id order.
Options = list[list[tuple[int, int]]]
# Slot mode, per patient and parallel to its options row: (resource, slot index) for each of
# the counsellor's resources (weekly times) with a slot the patient can keep.
Choices = list[list[list[tuple[int, int]]]]


def _check_unique(ids: list[str], kind: str) -> None:
    for before, after in itertools.pairwise(ids):
        if before == after:
            raise MatchingError("duplicate_id", f"{kind} {after!r} appears twice")


class _Pool:
    """The inputs sorted by id (so input order never changes an answer) and their timings."""

    def __init__(
        self,
        *,
        patients: Sequence[Patient],
        counsellors: Sequence[Counsellor],
        now: int,
        plan: CallPlan,
        weights: MatchWeights,
        slot_capacity: bool = False,
        waking: WakingHours = DEFAULT_WAKING_HOURS,
    ) -> None:
        self.patients = sorted(patients, key=lambda item: item.id)
        self.counsellors = sorted(counsellors, key=lambda item: item.id)
        _check_unique([item.id for item in self.patients], "patient")
        _check_unique([item.id for item in self.counsellors], "counsellor")
        self.plan = plan
        self.weights = weights
        self.grid = Grid.build(now=now, plan=plan)
        self._patient_timing: list[Timing | None] = [None] * len(self.patients)
        self._counsellor_timing: list[Timing | None] = [None] * len(self.counsellors)
        self.slot_capacity = slot_capacity
        self.choices: Choices = []
        self._facts: Facts | None = None
        if slot_capacity:
            for patient in self.patients:
                if patient.time_zone is None:
                    raise MatchingError(
                        "missing_time_zone",
                        f"patient {patient.id!r} has no zone (waking hours need one)",
                    )
            self.book = SlotBook(grid=self.grid, plan=plan, waking=waking, cache=len(patients) == 1)
            self._slots: list[CounsellorSlots | None] = [None] * len(self.counsellors)
            self._anchors: list[dict[Pattern, int]] = [{} for _ in self.patients]
            self._usable: list[int | None] = [None] * len(self.patients)

    # --- slot mode ---------------------------------------------------------------------------

    def slots_of(self, index: int) -> CounsellorSlots:
        slots = self._slots[index]
        if slots is None:
            slots = self.book.index(self.counsellors[index])
            self._slots[index] = slots
        return slots

    def fitting(self, patient_index: int, counsellor_index: int) -> int:
        """First-call grains of the counsellor's slots this patient can keep (slot mode)."""
        slots = self.slots_of(counsellor_index)
        if not slots.firsts:
            return 0
        anchors = self._anchors[patient_index]
        hits = 0
        for pattern, firsts in slots.firsts.items():
            mask = anchors.get(pattern)
            if mask is None:
                mask = self._anchor(patient_index, pattern)
            hits |= mask & firsts
        return hits

    def _anchor(self, patient_index: int, pattern: Pattern) -> int:
        usable = self._usable[patient_index]
        if usable is None:
            zone = self.patients[patient_index].time_zone
            assert zone is not None
            usable = self.patient_timing(patient_index).starts & self.book.waking_mask(zone)
            self._usable[patient_index] = usable
        mask = usable & self.grid.first_mask
        for offset in pattern[1:]:
            if not mask:
                break
            mask &= usable >> offset
        self._anchors[patient_index][pattern] = mask
        return mask

    def time_fits(self, patient_index: int, counsellor_index: int) -> bool:
        if self.slot_capacity:
            return bool(self.fitting(patient_index, counsellor_index))
        return self.grid.fits(
            self.patient_timing(patient_index), self.counsellor_timing(counsellor_index)
        )

    def patient_timing(self, index: int) -> Timing:
        timing = self._patient_timing[index]
        if timing is None:
            ranges = self.patients[index].call_times
            if self.slot_capacity:
                # Slot mode needs only the call starts; the series summaries are legacy's.
                timing = Timing(starts=self.grid.start_mask(ranges), weekly=0, loose=0)
            else:
                timing = self.grid.timing(ranges)
            self._patient_timing[index] = timing
        return timing

    def counsellor_timing(self, index: int) -> Timing:
        timing = self._counsellor_timing[index]
        if timing is None:
            timing = self.grid.timing(self.counsellors[index].free)
            self._counsellor_timing[index] = timing
        return timing

    def options(self) -> Options:
        """Every pair that passes every hard constraint, with its points (the hot loop)."""
        by_language: dict[str, list[int]] = {}
        by_site: dict[tuple[str, str | None], list[int]] = {}
        for index, counsellor in enumerate(self.counsellors):
            if counsellor.certified and counsellor.active and counsellor.capacity_left > 0:
                if self.slot_capacity:
                    if not self.slots_of(index).firsts:
                        continue
                else:
                    self.counsellor_timing(index)
                for language in counsellor.languages:
                    by_language.setdefault(language, []).append(index)
                    by_site.setdefault((language, counsellor.site), []).append(index)
        timings = self._counsellor_timing
        # Slot mode: per counsellor, flat lookups for the hot loop (empty for the unusable).
        any_first = [0] * len(self.counsellors)
        firsts_of: list[list[tuple[Pattern, int]]] = [[] for _ in self.counsellors]
        lookup_of: list[tuple[dict[int, int], list[int]]] = [({}, [])] * len(self.counsellors)
        room_of = [counsellor.capacity_left for counsellor in self.counsellors]
        if self.slot_capacity:
            for other, slots in enumerate(self._slots):
                if slots is not None:
                    any_first[other] = slots.any_first
                    firsts_of[other] = list(slots.firsts.items())
                    lookup_of[other] = (slots.by_first, slots.resource_of)
        patterns = list(self.book.patterns) if self.slot_capacity else []
        counsellors = self.counsellors
        weights = self.weights
        anchors = self.grid.anchors
        options: Options = []
        slot_mode = self.slot_capacity
        self.choices = []
        for index, patient in enumerate(self.patients):
            row: list[tuple[int, int]] = []
            options.append(row)
            mine = self.patient_timing(index)
            if not mine.starts:
                if slot_mode:
                    self.choices.append([])
                continue
            sites = patient.allowed_sites
            candidates: Sequence[int]
            if sites is not None:
                # Only the allowed sites' counsellors: the site rule also narrows the search.
                candidates = sorted(
                    {
                        other
                        for lang in patient.languages
                        for site in sites
                        for other in by_site.get((lang, site), [])
                    }
                )
            elif len(patient.languages) == 1:
                candidates = by_language.get(next(iter(patient.languages)), [])
            else:
                candidates = sorted(
                    {other for lang in patient.languages for other in by_language.get(lang, [])}
                )
            declined = patient.declined_counsellor_ids
            required = bool(patient.requirements)
            slot_row: list[list[tuple[int, int]]] = []
            if slot_mode:
                self.choices.append(slot_row)
                mine_anchors = {pattern: self._anchor(index, pattern) for pattern in patterns}
                mine_any = 0
                for mask in mine_anchors.values():
                    mine_any |= mask
            if slot_mode:
                # Pool.fitting and SlotBook.choices, inlined: the hot loop of slot mode.
                for other in candidates:
                    if not mine_any & any_first[other]:
                        continue
                    counsellor = counsellors[other]
                    if declined and counsellor.id in declined:
                        continue
                    if required and requirements_missed(patient, counsellor):
                        continue
                    hits = 0
                    for pattern, firsts in firsts_of[other]:
                        hits |= mine_anchors[pattern] & firsts
                    if not hits:
                        continue
                    picks: list[tuple[int, int]] = []
                    seen = 0
                    by_first, resource_of = lookup_of[other]
                    # The earliest ``capacity_left`` weekly times are enough: the counsellor's
                    # other new patients can hold at most one fewer, so one of these is free
                    # whenever the counsellor has room (see _solve_slot_flow).
                    room = room_of[other]
                    while hits and len(picks) < room:
                        low = hits & -hits
                        hits ^= low
                        number = by_first[low.bit_length() - 1]
                        resource = resource_of[number]
                        if not seen >> resource & 1:
                            seen |= 1 << resource
                            picks.append((resource, number))
                    slot_row.append(picks)
                    row.append((other, preference_points(patient, counsellor, weights)))
                continue
            for other in candidates:
                counsellor = counsellors[other]
                if declined and counsellor.id in declined:
                    continue
                if required and requirements_missed(patient, counsellor):
                    continue
                theirs = timings[other]
                assert theirs is not None
                # Grid.fits, inlined: this line runs for every language-sharing pair.
                if not theirs.weekly & mine.weekly and (
                    not theirs.loose & mine.loose or not anchors(theirs.starts & mine.starts)
                ):
                    continue
                row.append((other, preference_points(patient, counsellor, weights)))
        return options

    def report(self, index: int, *, eligible: Collection[int] | None) -> Unmatched:
        mine = self.patient_timing(index)

        def fits(other: int) -> bool:
            return self.time_fits(index, other)

        def shortfall(other: int) -> ReasonCode:
            if self.slot_capacity:
                return ReasonCode.NO_BOOKABLE_SLOT
            return self.grid.shortfall(mine.starts & self.counsellor_timing(other).starts)

        return unmatched_report(
            patient=self.patients[index],
            counsellors=self.counsellors,
            time_fits=fits,
            time_shortfall=shortfall,
            has_call_times=bool(mine.starts),
            plan=self.plan,
            eligible=eligible,
            facts=self.facts(),
        )

    def facts(self) -> Facts:
        if self._facts is None:
            self._facts = counsellor_facts(self.counsellors)
        return self._facts

    def propose(
        self, counsellor_index: int, patient_indices: Sequence[int]
    ) -> dict[int, tuple[tuple[int, ...], bool]]:
        """A call series for each new patient of one counsellor, avoiding each other.

        The patient with the fewest possible series left goes next (ties by id), so a patient
        who can only make Tuesday evening is not crowded out by one who could make any day.
        A patient left without room keeps a series that fits on their own, marked as a clash.
        """
        full = self.counsellor_timing(counsellor_index).starts
        free = full
        waiting = list(patient_indices)
        proposals: dict[int, tuple[tuple[int, ...], bool]] = {}
        while waiting:
            room = {
                index: self.grid.anchors(free & self.patient_timing(index).starts).bit_count()
                for index in waiting
            }
            index = min(waiting, key=lambda item: (room[item], item))
            waiting.remove(index)
            mine = self.patient_timing(index).starts
            zone = self.patients[index].zone
            schedule = self.grid.series(free & mine, zone) if room[index] else None
            if schedule is None:
                schedule = self.grid.series(full & mine, zone)
                assert schedule is not None, "an assigned pair always fits on its own"
                proposals[index] = (schedule, True)
            else:
                free = self.grid.without(free, schedule)
                proposals[index] = (schedule, False)
        return proposals

    def result(
        self,
        options: Options,
        chosen: dict[int, int],
        *,
        optimal: bool,
        picked: dict[int, int] | None = None,
    ) -> BatchResult:
        """Assignments with reasons and proposed calls; a report for everyone left over.

        ``picked`` (slot mode) gives each matched patient's slot index in their counsellor's
        slots; the series is then that slot, reserved for this match alone.
        """
        members: dict[int, list[int]] = {}
        for patient_index in sorted(chosen):
            members.setdefault(chosen[patient_index], []).append(patient_index)
        assignments: list[Assignment] = []
        for counsellor_index, patient_indices in members.items():
            counsellor = self.counsellors[counsellor_index]
            proposals: dict[int, tuple[tuple[int, ...], bool]]
            if picked is None:
                full = self.counsellor_timing(counsellor_index).starts
                proposals = self.propose(counsellor_index, patient_indices)
            else:
                full = 0
                slots = self.slots_of(counsellor_index)
                proposals = {
                    index: (slots.slots[picked[index]].calls, False) for index in patient_indices
                }
            # The caseload penalty of the k-th new patient goes to the k-th by patient id, so
            # the scores of a batch add up to its objective.
            for k, patient_index in enumerate(patient_indices):
                patient = self.patients[patient_index]
                schedule, clash = proposals[patient_index]
                mine = self.patient_timing(patient_index).starts
                slot = None
                if picked is None:
                    time = time_reason(
                        grid=self.grid,
                        plan=self.plan,
                        patient_starts=mine,
                        common=mine & full,
                        schedule=schedule,
                    )
                else:
                    assert counsellor.time_zone is not None
                    slot = booked(slots.slots[picked[patient_index]], counsellor.time_zone)
                    time = slot_time_reason(plan=self.plan, has_call_times=True, schedule=schedule)
                reasons = hard_reasons(patient, counsellor, time=time) + preference_reasons(
                    patient, counsellor, self.weights, caseload=counsellor.active_patients + k
                )
                assignments.append(
                    Assignment(
                        patient_id=patient.id,
                        counsellor_id=counsellor.id,
                        score=sum(reason.points for reason in reasons),
                        reasons=reasons,
                        schedule=schedule,
                        schedule_clash=clash,
                        slot=slot,
                    )
                )
        assignments.sort(key=lambda item: item.patient_id)
        unmatched = tuple(
            self.report(index, eligible={other for other, _ in options[index]})
            for index in range(len(self.patients))
            if index not in chosen
        )
        return BatchResult(
            assignments=tuple(assignments),
            unmatched=unmatched,
            objective=Objective(
                matched=len(assignments), score=sum(item.score for item in assignments)
            ),
            proven_optimal=optimal,
        )


def _solve_flow(pool: _Pool, options: Options) -> tuple[dict[int, int], Objective]:
    """Patient index -> counsellor index for a lexicographically optimal batch, and its value."""
    weights = pool.weights
    patients = len(options)
    demand: dict[int, int] = {}
    for row in options:
        for other, _ in row:
            demand[other] = demand.get(other, 0) + 1
    used = sorted(demand)
    node_of = {other: patients + k for k, other in enumerate(used)}
    sink = patients + len(used)
    top = weights.max_pair_points

    tails: list[int] = []
    heads: list[int] = []
    costs: list[int] = []
    for node, row in enumerate(options):
        for other, points in row:
            tails.append(node)
            heads.append(node_of[other])
            costs.append(top - points)
    pair_arcs = len(tails)
    heaviest_load = 0
    for other in used:
        counsellor = pool.counsellors[other]
        # More sink arcs than possible patients would only slow the solver down.
        for k in range(min(counsellor.capacity_left, demand[other])):
            cost = caseload_cost(weights, counsellor.active_patients + k)
            heaviest_load = max(heaviest_load, cost)
            tails.append(node_of[other])
            heads.append(sink)
            costs.append(cost)
    # Matching one more patient reroutes the flow along a cycle through the sink that drops
    # one unmatched arc, adds at most one arc per counsellor (each costing at most ``top``)
    # and one sink arc (at most ``heaviest_load``). An unmatched cost above that sum makes
    # every such cycle profitable, so the optimum matches as many patients as possible.
    unmatched_cost = min(patients, len(used)) * top + heaviest_load + 1
    for node in range(patients):
        tails.append(node)
        heads.append(sink)
        costs.append(unmatched_cost)

    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.array(tails, dtype=np.int32),
        np.array(heads, dtype=np.int32),
        np.ones(len(tails), dtype=np.int64),
        np.array(costs, dtype=np.int64),
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:patients] = 1
    supplies[sink] = -patients
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        # The unmatched arcs make every instance feasible; anything else is a solver fault.
        raise MatchingError("solver_failed", f"min-cost flow ended with status {status}")
    chosen: dict[int, int] = {}
    if pair_arcs:
        used_arcs = np.flatnonzero(flow.flows(np.arange(pair_arcs, dtype=np.int32)))
        for arc in used_arcs.tolist():
            chosen[tails[arc]] = used[heads[arc] - patients]
    # Undo the cost transformation: each matched patient paid ``top - points`` instead of
    # ``-points``, each unmatched one ``unmatched_cost``.
    matched = len(chosen)
    score = matched * top + (patients - matched) * unmatched_cost - flow.optimal_cost()
    return chosen, Objective(matched=matched, score=score)


def _solve_slot_flow(
    pool: _Pool, options: Options
) -> tuple[dict[int, int], dict[int, int], Objective]:
    """The slot-capacity batch: patient -> counsellor and slot index, and the objective.

    patient ──(top - points)──► (counsellor, weekly time) ──(cap 1)──► counsellor ──► sink

    Each (counsellor, weekly time) node has one arc of capacity one to its counsellor, so at
    most one patient reserves it; the counsellor's sink arcs carry the caseload as before.

    A pair gets arcs to at most ``capacity_left`` of the counsellor's weekly times (the
    earliest), which loses nothing: the score does not depend on the slot, and a counsellor's
    new patients can always get distinct slots from these lists (Hall's condition: a group
    holding a patient with ``capacity_left`` slots is no bigger than that; a group without
    one has all its fitting slots). It keeps the flow small.
    """
    weights = pool.weights
    patients = len(options)
    choices = pool.choices
    demand: dict[int, int] = {}
    resource_node: dict[tuple[int, int], int] = {}
    resource_keys: list[tuple[int, int]] = []
    for row, slot_row in zip(options, choices, strict=True):
        for (other, _), picks in zip(row, slot_row, strict=True):
            demand[other] = demand.get(other, 0) + 1
            for resource, _slot in picks:
                if (other, resource) not in resource_node:
                    resource_node[(other, resource)] = patients + len(resource_keys)
                    resource_keys.append((other, resource))
    used = sorted(demand)
    first_counsellor = patients + len(resource_keys)
    node_of = {other: first_counsellor + k for k, other in enumerate(used)}
    sink = first_counsellor + len(used)
    top = weights.max_pair_points

    tails: list[int] = []
    heads: list[int] = []
    costs: list[int] = []
    arc_slot: list[int] = []
    for node, (row, slot_row) in enumerate(zip(options, choices, strict=True)):
        for (other, points), picks in zip(row, slot_row, strict=True):
            for resource, slot in picks:
                tails.append(node)
                heads.append(resource_node[(other, resource)])
                costs.append(top - points)
                arc_slot.append(slot)
    pair_arcs = len(tails)
    for other, resource in resource_keys:
        tails.append(resource_node[(other, resource)])
        heads.append(node_of[other])
        costs.append(0)
    heaviest_load = 0
    for other in used:
        counsellor = pool.counsellors[other]
        for k in range(min(counsellor.capacity_left, demand[other])):
            cost = caseload_cost(weights, counsellor.active_patients + k)
            heaviest_load = max(heaviest_load, cost)
            tails.append(node_of[other])
            heads.append(sink)
            costs.append(cost)
    # As in ``_solve_flow``: a cycle that matches one more patient drops an unmatched arc and
    # adds at most one pair arc per patient and one sink arc; the unmatched cost is above that.
    unmatched_cost = min(patients, len(resource_keys)) * top + heaviest_load + 1
    for node in range(patients):
        tails.append(node)
        heads.append(sink)
        costs.append(unmatched_cost)

    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.array(tails, dtype=np.int32),
        np.array(heads, dtype=np.int32),
        np.ones(len(tails), dtype=np.int64),
        np.array(costs, dtype=np.int64),
    )
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:patients] = 1
    supplies[sink] = -patients
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise MatchingError("solver_failed", f"min-cost flow ended with status {status}")
    chosen: dict[int, int] = {}
    picked: dict[int, int] = {}
    if pair_arcs:
        used_arcs = np.flatnonzero(flow.flows(np.arange(pair_arcs, dtype=np.int32)))
        for arc in used_arcs.tolist():
            other, _resource = resource_keys[heads[arc] - patients]
            chosen[tails[arc]] = other
            picked[tails[arc]] = arc_slot[arc]
    matched = len(chosen)
    score = matched * top + (patients - matched) * unmatched_cost - flow.optimal_cost()
    return chosen, picked, Objective(matched=matched, score=score)


def _validated(now: int, weights: MatchWeights, plan: CallPlan) -> None:
    if not isinstance(now, int):
        raise MatchingError("bad_now", "now is a UTC minute (see utc_minute)")
    if not isinstance(weights, MatchWeights) or not isinstance(plan, CallPlan):
        raise MatchingError("bad_config", "weights and plan must be MatchWeights and CallPlan")


def match_batch(
    *,
    patients: Sequence[Patient],
    counsellors: Sequence[Counsellor],
    now: int,
    weights: MatchWeights = DEFAULT_WEIGHTS,
    plan: CallPlan = DEFAULT_PLAN,
    slot_capacity: bool = False,
    waking_hours: WakingHours = DEFAULT_WAKING_HOURS,
) -> BatchResult:
    """Match every waiting patient at once, to proven optimality.

    Maximises the number of patients matched, then the total score (preference points minus
    the caseload penalty). Every patient appears once: in ``assignments`` or in ``unmatched``.
    With ``slot_capacity`` every assignment reserves one of its counsellor's ``slots`` that
    both people can keep within ``waking_hours``, no slot twice: the optimum is over bookable
    assignments.
    """
    _validated(now, weights, plan)
    pool = _Pool(
        patients=patients,
        counsellors=counsellors,
        now=now,
        plan=plan,
        weights=weights,
        slot_capacity=slot_capacity,
        waking=waking_hours,
    )
    options = pool.options()
    if slot_capacity:
        chosen, picked, objective = _solve_slot_flow(pool, options)
        result = pool.result(options, chosen, optimal=True, picked=picked)
    else:
        chosen, objective = _solve_flow(pool, options)
        result = pool.result(options, chosen, optimal=True)
    # The reasons' points must add up to the solver's own objective, or one of them is wrong.
    assert result.objective == objective, (result.objective, objective)
    return result


def match_greedy(
    *,
    patients: Sequence[Patient],
    counsellors: Sequence[Counsellor],
    now: int,
    weights: MatchWeights = DEFAULT_WEIGHTS,
    plan: CallPlan = DEFAULT_PLAN,
    slot_capacity: bool = False,
    waking_hours: WakingHours = DEFAULT_WAKING_HOURS,
) -> BatchResult:
    """The baseline: patients in id order, each taking the best counsellor still free.

    This is what a coordinator gets by accepting the top suggestion for one patient after
    another; the benchmark compares it with ``match_batch``. With ``slot_capacity`` each
    patient takes the earliest slot still free of that counsellor (so greedy is bookable too).
    """
    _validated(now, weights, plan)
    pool = _Pool(
        patients=patients,
        counsellors=counsellors,
        now=now,
        plan=plan,
        weights=weights,
        slot_capacity=slot_capacity,
        waking=waking_hours,
    )
    options = pool.options()
    caseload = [counsellor.active_patients for counsellor in pool.counsellors]
    left = [counsellor.capacity_left for counsellor in pool.counsellors]
    taken: set[tuple[int, int]] = set()
    chosen: dict[int, int] = {}
    picked: dict[int, int] = {}
    for index, row in enumerate(options):
        best: int | None = None
        best_slot = -1
        best_value = 0
        # ``row`` is in counsellor id order and only a strictly better value replaces the
        # best, so ties go to the smaller id.
        for position, (other, points) in enumerate(row):
            if left[other] <= 0:
                continue
            slot = -1
            if slot_capacity:
                # Choices come earliest first, so the first free one is the earliest.
                free = next(
                    (s for r, s in pool.choices[index][position] if (other, r) not in taken), None
                )
                if free is None:
                    continue
                slot = free
            value = points - caseload_cost(weights, caseload[other])
            if best is None or value > best_value:
                best, best_value, best_slot = other, value, slot
        if best is not None:
            chosen[index] = best
            left[best] -= 1
            caseload[best] += 1
            if slot_capacity:
                picked[index] = best_slot
                taken.add((best, pool.slots_of(best).resource_of[best_slot]))
    return pool.result(options, chosen, optimal=False, picked=picked if slot_capacity else None)


def suggest_counsellors(
    *,
    patient: Patient,
    counsellors: Sequence[Counsellor],
    now: int,
    weights: MatchWeights = DEFAULT_WEIGHTS,
    plan: CallPlan = DEFAULT_PLAN,
    limit: int | None = 10,
    slot_capacity: bool = False,
    waking_hours: WakingHours = DEFAULT_WAKING_HOURS,
) -> SuggestionList:
    """Counsellors for one patient, best first (score, then counsellor id), with reasons.

    When nobody passes the hard constraints, ``unmatched`` says why and what would help.
    With ``slot_capacity`` each suggestion proposes the counsellor's earliest free slot the
    patient can keep (``Suggestion.slot``).
    """
    _validated(now, weights, plan)
    pool = _Pool(
        patients=[patient],
        counsellors=counsellors,
        now=now,
        plan=plan,
        weights=weights,
        slot_capacity=slot_capacity,
        waking=waking_hours,
    )
    ranked: list[tuple[int, str, int]] = []
    for index, counsellor in enumerate(pool.counsellors):
        # Cheap tests first; the time test only for counsellors who pass them.
        if not (
            counsellor.certified
            and counsellor.active
            and counsellor.capacity_left > 0
            and patient.languages & counsellor.languages
            and counsellor.id not in patient.declined_counsellor_ids
            and site_allowed(patient, counsellor)
            and not requirements_missed(patient, counsellor)
            and pool.time_fits(0, index)
        ):
            continue
        score = preference_points(patient, counsellor, weights) - caseload_cost(
            weights, counsellor.active_patients
        )
        ranked.append((-score, counsellor.id, index))
    ranked.sort()
    if limit is not None:
        ranked = ranked[: max(limit, 0)]
    suggestions: list[Suggestion] = []
    for _, _, index in ranked:
        report = _pair_report(pool, index)
        assert report.eligible and report.schedule is not None
        suggestions.append(
            Suggestion(
                counsellor_id=report.counsellor_id,
                score=report.score,
                reasons=report.reasons,
                schedule=report.schedule,
                slot=report.slot,
            )
        )
    return SuggestionList(
        patient_id=patient.id,
        suggestions=tuple(suggestions),
        unmatched=None if ranked else pool.report(0, eligible=()),
    )


def _pair_report(pool: _Pool, index: int) -> PairReport:
    patient = pool.patients[0]
    counsellor = pool.counsellors[index]
    mine = pool.patient_timing(0).starts
    slot = None
    if pool.slot_capacity:
        chosen = SlotBook.earliest(pool.fitting(0, index), pool.slots_of(index))
        schedule = chosen.calls if chosen is not None else None
        if chosen is not None:
            assert counsellor.time_zone is not None
            slot = booked(chosen, counsellor.time_zone)
        time = slot_time_reason(plan=pool.plan, has_call_times=bool(mine), schedule=schedule)
    else:
        common = mine & pool.counsellor_timing(index).starts
        schedule = pool.grid.series(common, patient.zone)
        time = time_reason(
            grid=pool.grid, plan=pool.plan, patient_starts=mine, common=common, schedule=schedule
        )
    hard = hard_reasons(patient, counsellor, time=time)
    reasons = hard + preference_reasons(
        patient, counsellor, pool.weights, caseload=counsellor.active_patients
    )
    return PairReport(
        patient_id=patient.id,
        counsellor_id=counsellor.id,
        eligible=all(reason.met for reason in hard),
        score=sum(reason.points for reason in reasons),
        reasons=reasons,
        schedule=schedule,
        slot=slot,
    )


def explain_pair(
    *,
    patient: Patient,
    counsellor: Counsellor,
    now: int,
    weights: MatchWeights = DEFAULT_WEIGHTS,
    plan: CallPlan = DEFAULT_PLAN,
    slot_capacity: bool = False,
    waking_hours: WakingHours = DEFAULT_WAKING_HOURS,
) -> PairReport:
    """Every hard constraint and preference for one pair, met or missed ("why not Anna?").

    ``schedule`` is the series the two could hold, whatever the other constraints say (in
    slot mode the counsellor's earliest slot the patient can keep, also in ``slot``).
    """
    _validated(now, weights, plan)
    pool = _Pool(
        patients=[patient],
        counsellors=[counsellor],
        now=now,
        plan=plan,
        weights=weights,
        slot_capacity=slot_capacity,
        waking=waking_hours,
    )
    return _pair_report(pool, 0)
