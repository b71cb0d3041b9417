"""The matching engine against a slow, obviously-correct reference, on small random cases.

The reference shares no code with the engine: it checks call times minute by minute against
the raw ranges (no bitmasks, no grid tricks), scores pairs from the weights directly and
finds the best batch by trying every assignment. Instances are small (up to five patients and
four counsellors) and use a compact plan (three daily calls) so brute force stays quick.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from rarebridge.engines.matching import (
    HARD_CRITERIA,
    PREFERENCE_CRITERIA,
    CallPlan,
    Counsellor,
    Criterion,
    MatchWeights,
    Objective,
    Patient,
    Requirement,
    TimeRange,
    explain_pair,
    match_batch,
    match_greedy,
    suggest_counsellors,
)

DAY = 24 * 60
PLAN = CallPlan(
    calls=3,
    call_minutes=60,
    first_call_within_minutes=2 * DAY,
    interval_minutes=DAY,
    tolerance_minutes=120,
    grain_minutes=30,
)
BASE = 29_570_880  # Monday 23 March 2026, 08:00 UTC
SETTINGS = settings(max_examples=60, deadline=None)

LANGUAGES = ("de", "hu", "en")
CONDITIONS = ("A", "B", "C")
GROUPS = ("g1", "g2")


# --- strategies -----------------------------------------------------------------------------


T = TypeVar("T")

# Window starts (minutes after midnight UTC) shared by everyone, so that many pairs overlap;
# the odd 10-minute offset puts range edges between grid lines.
STARTS = (17 * 60, 17 * 60 + 10, 18 * 60, 17 * 60, 17 * 60, 8 * 60)


def mostly(value: T, *others: T) -> st.SearchStrategy[T]:
    """``value`` five times out of six (or more, with fewer ``others``)."""
    return st.sampled_from((value,) * max(5 * len(others), 5) + others)


@st.composite
def time_ranges(draw: st.DrawFn, now: int, dense: bool) -> tuple[TimeRange, ...]:
    """Daily windows with the odd shifted or missing day, plus the odd stray range."""
    ranges: list[TimeRange] = []
    for _ in range(draw(st.sampled_from((1, 2) if dense else (1, 1, 2, 1, 1, 0)))):
        start = draw(st.sampled_from(STARTS[:3] if dense else STARTS))
        length = draw(st.sampled_from((120, 240) if dense else (120, 240, 90, 120, 60)))
        # Some people are free only from the second or third day (a late first call).
        for day in range(draw(st.sampled_from((0, 0, 0, 1, 2))), 6):
            # A missing day, or one moved by an hour (a clock change, a busy week), or right
            # to the edge of the tolerance (two hours), or past it.
            shift = draw(st.sampled_from((0,) * 9 + (60, -60, 120, -120, 150, -150, None)))
            if shift is None:
                continue
            begin = (now // DAY) * DAY + day * DAY + start + shift
            ranges.append(TimeRange(begin, begin + length))
    for _ in range(draw(mostly(0, 1))):
        begin = now + draw(st.integers(-600, 5 * DAY))
        ranges.append(TimeRange(begin, begin + draw(st.integers(1, 40)) * 10))
    return tuple(ranges)


def subsets(items: Sequence[str], *, least: int = 0) -> st.SearchStrategy[frozenset[str]]:
    return st.frozensets(st.sampled_from(items), min_size=least, max_size=len(items))


LANGUAGE_SETS = st.sampled_from(
    [frozenset(languages) for languages in ({"de"}, {"de", "en"}, {"de"}, {"en"}, {"hu"})]
)


@st.composite
def instances(
    draw: st.DrawFn, *, dense: bool = False
) -> tuple[list[Patient], list[Counsellor], int, MatchWeights]:
    """A small case; ``dense`` ones have nearly every pair possible, so patients compete."""
    now = BASE + draw(st.integers(0, 90))
    languages = st.just(frozenset({"de"})) if dense else LANGUAGE_SETS
    yes = st.just(True) if dense else mostly(True, False)
    nothing: frozenset[str] = frozenset()
    counsellor_ids = [f"c{n}" for n in range(draw(st.sampled_from((3, 4, 2, 3, 4, 1, 0))))]
    counsellors = [
        Counsellor(
            id=ident,
            languages=draw(languages),
            country=draw(st.sampled_from(("DE", "HU"))),
            certified=draw(yes),
            active=draw(yes),
            conditions=draw(subsets(CONDITIONS)),
            condition_groups=draw(subsets(GROUPS)),
            gender=draw(st.sampled_from(("f", "m", None))),
            age_band=draw(st.sampled_from((None, 0, 1, 2, 3))),
            max_patients=draw(st.sampled_from((2, 1, 3) if dense else (2, 1, 3, 0))),
            active_patients=draw(st.sampled_from((0, 0, 1, 2))),
            free=draw(time_ranges(now, dense)),
            site=draw(st.sampled_from(("s1", "s1", "s2", None))),
        )
        for ident in counsellor_ids
    ]
    # Ids of counsellors who exist, plus one who does not (a departed counsellor).
    ids = st.sampled_from([*counsellor_ids, "gone"])
    no_requirements: frozenset[Requirement] = frozenset()
    patients = [
        Patient(
            id=f"p{n}",
            languages=draw(languages),
            country=draw(st.sampled_from(("DE", "HU"))),
            conditions=draw(subsets(CONDITIONS)),
            condition_groups=draw(subsets(GROUPS)),
            preferred_gender=draw(st.sampled_from(("f", "m", None, None))),
            age_band=draw(st.sampled_from((None, 0, 1, 2, 3))),
            call_times=draw(time_ranges(now, dense)),
            allowed_sites=draw(
                st.just(None)
                if dense
                else mostly(None, frozenset({"s1"}), frozenset({"s1", "s2"}), frozenset())
            ),
            current_counsellor_id=draw(mostly(None) | ids),
            declined_counsellor_ids=draw(
                st.just(nothing) if dense else mostly(nothing) | st.frozensets(ids)
            ),
            requirements=draw(
                st.just(no_requirements)
                if dense
                else mostly(no_requirements)
                | st.frozensets(st.sampled_from(tuple(Requirement)), max_size=2)
            ),
        )
        for n in range(draw(st.sampled_from((4, 5, 3, 2, 1, 0))))
    ]
    weights = MatchWeights(
        **{
            name: draw(st.integers(0, 30))
            for name in (
                "same_condition",
                "same_condition_group",
                "same_country",
                "preferred_gender",
                "same_age_band",
                "adjacent_age_band",
                "keep_current_counsellor",
                "load_spread",
            )
        }
    )
    return patients, counsellors, now, weights


# --- the reference --------------------------------------------------------------------------


def covered(start: int, ranges: Sequence[TimeRange]) -> bool:
    """Whether the call starting at ``start`` lies inside the union of ``ranges``."""
    reached = start
    while reached < start + PLAN.call_minutes:
        ends = [r.end for r in ranges if r.start <= reached < r.end]
        if not ends:
            return False
        reached = max(ends)
    return True


def call_starts(ranges: Sequence[TimeRange], now: int) -> set[int]:
    grain = PLAN.grain_minutes
    first = -(-now // grain) * grain
    last = now + PLAN.first_call_within_minutes + 2 * PLAN.interval_minutes + PLAN.tolerance_minutes
    return {t for t in range(first, last + grain, grain) if covered(t, ranges)}


def reference_series(common: set[int], now: int) -> bool:
    for anchor in sorted(common):
        if not now <= anchor < now + PLAN.first_call_within_minutes:
            continue
        if all(
            any(
                anchor + k * PLAN.interval_minutes + shift in common
                for shift in range(
                    -PLAN.tolerance_minutes, PLAN.tolerance_minutes + 1, PLAN.grain_minutes
                )
            )
            for k in range(1, PLAN.calls)
        ):
            return True
    return False


@dataclass(frozen=True)
class Reference:
    patients: list[Patient]
    counsellors: list[Counsellor]
    now: int
    weights: MatchWeights

    def time_fits(self, patient: Patient, counsellor: Counsellor) -> bool:
        common = call_starts(patient.call_times, self.now) & call_starts(counsellor.free, self.now)
        return reference_series(common, self.now)

    def passes(self, patient: Patient, counsellor: Counsellor) -> dict[Criterion, bool]:
        required = patient.requirements
        same_condition = bool(patient.conditions & counsellor.conditions)
        same_group = same_condition or bool(patient.condition_groups & counsellor.condition_groups)
        gender_ok = patient.preferred_gender is None or (
            patient.preferred_gender == counsellor.gender
        )
        return {
            Criterion.CERTIFIED: counsellor.certified,
            Criterion.ACTIVE: counsellor.active,
            Criterion.SITE: patient.allowed_sites is None
            or counsellor.site in patient.allowed_sites,
            Criterion.LANGUAGE: bool(patient.languages & counsellor.languages),
            Criterion.NOT_DECLINED: counsellor.id not in patient.declined_counsellor_ids,
            Criterion.REQUIREMENTS: (
                (Requirement.SAME_CONDITION not in required or same_condition)
                and (Requirement.SAME_CONDITION_GROUP not in required or same_group)
                and (
                    Requirement.SAME_COUNTRY not in required
                    or patient.country == counsellor.country
                )
                and (Requirement.PREFERRED_GENDER not in required or gender_ok)
            ),
            Criterion.CAPACITY: counsellor.max_patients > counsellor.active_patients,
            Criterion.CALL_TIMES: self.time_fits(patient, counsellor),
        }

    def eligible(self, patient: Patient, counsellor: Counsellor) -> bool:
        return all(self.passes(patient, counsellor).values())

    def points(self, patient: Patient, counsellor: Counsellor) -> int:
        w = self.weights
        points = 0
        if patient.conditions & counsellor.conditions:
            points += w.same_condition
        elif patient.condition_groups & counsellor.condition_groups:
            points += w.same_condition_group
        points += w.same_country * (patient.country == counsellor.country)
        if patient.preferred_gender and patient.preferred_gender == counsellor.gender:
            points += w.preferred_gender
        if patient.age_band is not None and counsellor.age_band is not None:
            apart = abs(patient.age_band - counsellor.age_band)
            points += {0: w.same_age_band, 1: w.adjacent_age_band}.get(apart, 0)
        points += w.keep_current_counsellor * (patient.current_counsellor_id == counsellor.id)
        return points

    def best(self) -> Objective:
        choices = [
            [None, *(c for c in self.counsellors if self.eligible(p, c))] for p in self.patients
        ]
        best = Objective(0, 0)
        for assignment in itertools.product(*choices):
            taken = [c for c in assignment if c is not None]
            load = {c.id: sum(1 for other in taken if other.id == c.id) for c in taken}
            if any(load[c.id] > c.max_patients - c.active_patients for c in taken):
                continue
            score = sum(
                self.points(p, c)
                for p, c in zip(self.patients, assignment, strict=True)
                if c is not None
            )
            for c in {c.id: c for c in taken}.values():
                score -= sum(
                    self.weights.load_spread * (c.active_patients + k) for k in range(load[c.id])
                )
            best = max(best, Objective(len(taken), score))
        return best


def valid_schedule(
    schedule: Sequence[int], patient: Patient, counsellor: Counsellor, now: int
) -> bool:
    anchor = schedule[0]
    return (
        len(schedule) == PLAN.calls
        and now <= anchor < now + PLAN.first_call_within_minutes
        and all(t % PLAN.grain_minutes == 0 for t in schedule)
        and all(
            abs(t - (anchor + k * PLAN.interval_minutes)) <= PLAN.tolerance_minutes
            for k, t in enumerate(schedule)
        )
        and all(covered(t, patient.call_times) and covered(t, counsellor.free) for t in schedule)
    )


Instance = tuple[list[Patient], list[Counsellor], int, MatchWeights]


# --- properties -----------------------------------------------------------------------------


@SETTINGS
@given(instances() | instances(dense=True))
def test_it_finds_the_brute_force_optimum(instance: Instance) -> None:
    patients, counsellors, now, weights = instance

    result = match_batch(
        patients=patients, counsellors=counsellors, now=now, weights=weights, plan=PLAN
    )

    assert result.proven_optimal
    assert result.objective == Reference(patients, counsellors, now, weights).best()


@SETTINGS
@given(instances() | instances(dense=True))
def test_it_never_breaks_a_hard_constraint(instance: Instance) -> None:
    patients, counsellors, now, weights = instance
    reference = Reference(patients, counsellors, now, weights)
    by_id = {c.id: c for c in counsellors}
    patient_by_id = {p.id: p for p in patients}

    for solver in (match_batch, match_greedy):
        result = solver(
            patients=patients, counsellors=counsellors, now=now, weights=weights, plan=PLAN
        )
        for assignment in result.assignments:
            patient = patient_by_id[assignment.patient_id]
            counsellor = by_id[assignment.counsellor_id]
            assert reference.eligible(patient, counsellor)
            assert valid_schedule(assignment.schedule, patient, counsellor, now)
        for counsellor in counsellors:
            mine = [a for a in result.assignments if a.counsellor_id == counsellor.id]
            assert len(mine) <= max(counsellor.max_patients - counsellor.active_patients, 0)
            # Series not flagged as clashing never overlap one another.
            calls = sorted(t for a in mine if not a.schedule_clash for t in a.schedule)
            assert all(b - a >= PLAN.call_minutes for a, b in itertools.pairwise(calls))


@SETTINGS
@given(instances())
def test_it_agrees_with_the_reference_on_every_pair(instance: Instance) -> None:
    patients, counsellors, now, weights = instance
    reference = Reference(patients, counsellors, now, weights)

    for patient in patients:
        for counsellor in counsellors:
            report = explain_pair(
                patient=patient, counsellor=counsellor, now=now, weights=weights, plan=PLAN
            )
            passes = reference.passes(patient, counsellor)
            hard = report.reasons[: len(HARD_CRITERIA)]
            assert {r.criterion: r.met for r in hard} == passes
            assert report.eligible == all(passes.values())
            assert report.score == reference.points(patient, counsellor) - (
                weights.load_spread * counsellor.active_patients
            )
            assert (report.schedule is not None) == passes[Criterion.CALL_TIMES]
            if report.schedule is not None:
                assert valid_schedule(report.schedule, patient, counsellor, now)


@SETTINGS
@given(instances())
def test_it_gives_complete_reasons_and_reports_everyone_else(instance: Instance) -> None:
    patients, counsellors, now, weights = instance
    result = match_batch(
        patients=patients, counsellors=counsellors, now=now, weights=weights, plan=PLAN
    )

    criteria = [*HARD_CRITERIA, *PREFERENCE_CRITERIA]
    for assignment in result.assignments:
        assert [r.criterion for r in assignment.reasons] == criteria
        assert all(r.met for r in assignment.reasons[: len(HARD_CRITERIA)])
        assert sum(r.points for r in assignment.reasons) == assignment.score
    assert sum(a.score for a in result.assignments) == result.objective.score

    matched = [a.patient_id for a in result.assignments]
    unmatched = [u.patient_id for u in result.unmatched]
    assert sorted(matched + unmatched) == sorted(p.id for p in patients)

    reference = Reference(patients, counsellors, now, weights)
    for report in result.unmatched:
        patient = next(p for p in patients if p.id == report.patient_id)
        passes = [reference.passes(patient, c) for c in counsellors]
        expected = [
            sum(1 for checks in passes if all(checks[c] for c in HARD_CRITERIA[: stage + 1]))
            for stage in range(len(HARD_CRITERIA))
        ]
        assert [step.remaining for step in report.funnel] == expected
        assert [step.criterion for step in report.funnel] == list(HARD_CRITERIA)
        if report.blocking is None:
            assert expected[-1] > 0  # possible counsellors, all taken by the batch
        else:
            stage = HARD_CRITERIA.index(report.blocking)
            assert expected[stage] == 0
            assert stage == 0 or expected[stage - 1] > 0
        assert report.reasons and report.fixes
        assert report.fixes[-1].code == "recruit_counsellor"


@SETTINGS
@given(instances(), st.randoms(use_true_random=False))
def test_it_gives_the_same_answer_for_any_input_order(
    instance: Instance, rng: random.Random
) -> None:
    patients, counsellors, now, weights = instance
    first = match_batch(
        patients=patients, counsellors=counsellors, now=now, weights=weights, plan=PLAN
    )
    rng.shuffle(patients)
    rng.shuffle(counsellors)

    again = match_batch(
        patients=patients, counsellors=counsellors, now=now, weights=weights, plan=PLAN
    )

    assert again == first


@SETTINGS
@given(instances(dense=True))
def test_it_never_does_worse_than_greedy(instance: Instance) -> None:
    patients, counsellors, now, weights = instance
    best, greedy = (
        solver(patients=patients, counsellors=counsellors, now=now, weights=weights, plan=PLAN)
        for solver in (match_batch, match_greedy)
    )

    assert best.objective >= greedy.objective
    assert not greedy.proven_optimal


@SETTINGS
@given(instances())
def test_it_ranks_suggestions_by_score_then_id(instance: Instance) -> None:
    patients, counsellors, now, weights = instance
    reference = Reference(patients, counsellors, now, weights)

    for patient in patients:
        ranked = suggest_counsellors(
            patient=patient,
            counsellors=counsellors,
            now=now,
            weights=weights,
            plan=PLAN,
            limit=None,
        )
        expected = sorted(
            (
                -(reference.points(patient, c) - weights.load_spread * c.active_patients),
                c.id,
            )
            for c in counsellors
            if reference.eligible(patient, c)
        )
        assert [(-s.score, s.counsellor_id) for s in ranked.suggestions] == expected
        assert (ranked.unmatched is None) == bool(expected)
