"""The clinic engine's bound, gap and reproducibility.

* The reported bound is never above the true optimum, found by a tiny brute force written
  here from the input dataclasses alone (2-3 families, 1-2 professionals, one short day), and
  the gap on the changeable part (waiting and idle, not appointment time) is reported.
* The same clinic planned twice gives the same plan, with one worker and with two, and also
  while a busy-loop process competes for the CPU: the search is limited by deterministic work.
* Touching shifts are one stretch of time; small clinics are solved exactly; the summary
  speaks in minutes.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rarebridge.engines.clinic import (
    Appointment,
    Clinic,
    Day,
    Patient,
    Precedence,
    Professional,
    Room,
    Shift,
    SolveOptions,
    Status,
    Weights,
    explain,
    solve,
)
from rarebridge.engines.clinic.bound import least_span
from rarebridge.engines.clinic.options import resolved
from rarebridge.engines.clinic.synthetic import synthetic_clinic
from tests.engines.test_clinic_properties import assert_valid

EXACT = SolveOptions(time_limit_seconds=30.0, deterministic_time_limit=2.0, num_workers=1)


# --- an independent brute force ---------------------------------------------------------------


def brute_force_optimum(clinic: Clinic, weights: Weights) -> int | None:
    """The least objective over every timetable of a one-day clinic whose professionals each
    have their own room (so rooms never clash apart from them), without lunches or round
    tables: every start and professional tried, by backtracking."""
    (day,) = clinic.days
    staff = {p.id: p for p in clinic.professionals}

    def works(pro: str, start: int, end: int) -> bool:
        hours = staff[pro].hours
        if hours is None:
            return True
        return all(any(s.start <= t < s.end for s in hours) for t in range(start, end))

    def in_break(start: int, end: int) -> bool:
        return any(start < w.end and w.start < end for w in day.breaks)

    items = [(p, a) for p in clinic.patients for a in p.appointments]
    chosen: list[tuple[str, str, int, int]] = []  # patient, professional, start, end
    best: list[int | None] = [None]

    def cost() -> int:
        total = 0
        for owner in {c[0] for c in chosen}:
            mine = [c for c in chosen if c[0] == owner]
            total += weights.patient_span * (max(c[3] for c in mine) - min(c[2] for c in mine))
        for pro in {c[1] for c in chosen}:
            mine = [c for c in chosen if c[1] == pro]
            span = max(c[3] for c in mine) - min(c[2] for c in mine)
            total += weights.professional_idle * (span - sum(c[3] - c[2] for c in mine))
        return total

    def precedences_hold() -> bool:
        at = {a.id: (c[2], c[3]) for (_, a), c in zip(items, chosen, strict=True)}
        return all(
            at[r.after][0] >= at[r.before][1] + r.min_gap
            for p in clinic.patients
            for r in p.precedences
        )

    def place(index: int) -> None:
        if index == len(items):
            if precedences_hold():
                found = cost()
                if best[0] is None or found < best[0]:
                    best[0] = found
            return
        patient, appointment = items[index]
        for pro in appointment.professionals:
            for start in range(day.opens, day.closes - appointment.duration + 1):
                end = start + appointment.duration
                if in_break(start, end) or not works(pro, start, end):
                    continue
                if any(
                    (c[0] == patient.id or c[1] == pro) and start < c[3] and c[2] < end
                    for c in chosen
                ):
                    continue
                chosen.append((patient.id, pro, start, end))
                place(index + 1)
                chosen.pop()

    place(0)
    return best[0]


@st.composite
def tiny_clinics(draw: st.DrawFn) -> Clinic:
    closes = draw(st.integers(5, 7))
    staff = []
    for i in range(draw(st.integers(1, 2))):
        hours = None
        kind = draw(st.sampled_from(("all", "touching", "split")))
        if kind == "touching":  # two shifts that meet: one stretch of time
            hours = (Shift(day=0, start=0, end=2), Shift(day=0, start=2, end=closes))
        elif kind == "split":  # a gap in the day: idle time when the work does not fit
            at = draw(st.integers(1, closes - 3))
            hours = (Shift(day=0, start=0, end=at), Shift(day=0, start=at + 1, end=closes))
        staff.append(Professional(id=f"pro{i}", rooms=(f"room{i}",), hours=hours))
    ids = [p.id for p in staff]
    patients = []
    for i in range(draw(st.integers(2, 3))):
        appointments = tuple(
            Appointment(
                id=f"p{i}a{j}",
                professionals=tuple(
                    draw(st.lists(st.sampled_from(ids), min_size=1, max_size=2, unique=True))
                ),
                duration=draw(st.integers(1, 2)),
            )
            for j in range(draw(st.integers(1, 2)))
        )
        precedences = ()
        if len(appointments) == 2 and draw(st.booleans()):
            precedences = (
                Precedence(before=f"p{i}a0", after=f"p{i}a1", min_gap=draw(st.integers(0, 1))),
            )
        patients.append(Patient(id=f"p{i}", appointments=appointments, precedences=precedences))
    return Clinic(
        days=(Day(opens=0, closes=closes),),
        rooms=tuple(Room(id=f"room{i}") for i in range(len(staff))),
        professionals=tuple(staff),
        patients=tuple(patients),
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(clinic=tiny_clinics())
def test_the_bound_is_never_above_the_brute_force_optimum(clinic: Clinic) -> None:
    optimum = brute_force_optimum(clinic, EXACT.weights)
    schedule = solve(clinic=clinic, options=EXACT)

    if optimum is None:
        assert not schedule.has_timetable
        return
    assert_valid(clinic, schedule)
    assert schedule.bound is not None and schedule.objective is not None
    assert schedule.bound <= optimum <= schedule.objective
    # The gap on the part a timetable can change is reported, and means what it says.
    assert schedule.fixed_part is not None and schedule.changeable_gap is not None
    assert schedule.fixed_part <= schedule.bound
    changeable = schedule.objective - schedule.fixed_part
    assert schedule.changeable_gap == pytest.approx(
        (schedule.objective - schedule.bound) / max(1, changeable)
    )
    assert schedule.summary is not None
    assert schedule.summary.changeable_gap == schedule.changeable_gap
    # Small clinics are solved exactly.
    assert schedule.status == Status.OPTIMAL and schedule.objective == optimum
    assert schedule.changeable_gap == 0.0 and schedule.summary.proven_optimal


def test_the_bound_counts_idle_time_forced_by_a_professionals_hours() -> None:
    # The consultant works 0-3 and 4-8: five steps of work cannot avoid the gap at 3.
    consultant = Professional(
        id="consultant",
        rooms=("c1",),
        hours=(Shift(day=0, start=0, end=3), Shift(day=0, start=4, end=8)),
    )
    patients = tuple(
        Patient(
            id=f"p{i}",
            appointments=(
                Appointment(id=f"p{i}-visit", professionals=("consultant",), duration=d),
            ),
        )
        for i, d in enumerate((2, 2, 1))
    )
    clinic = Clinic(
        days=(Day(opens=0, closes=8),),
        rooms=(Room(id="c1"),),
        professionals=(consultant,),
        patients=patients,
    )
    # Solved through the phased search (no exact path): the static bound alone proves it.
    options = SolveOptions(deterministic_time_limit=0.2, exact_up_to_tasks=0)

    schedule = solve(clinic=clinic, options=options)

    assert schedule.fixed_part == 10 * 5
    assert schedule.bound == 10 * 5 + 1 == schedule.objective
    assert schedule.status == Status.OPTIMAL
    assert schedule.summary is not None
    assert schedule.summary.idle_minutes == 15
    assert schedule.summary.idle_lower_bound_minutes == 15
    assert schedule.summary.idle_above_lower_bound_minutes == 0


def test_least_span_over_pieces_of_working_time() -> None:
    pieces = [(0, 3), (5, 8)]
    assert least_span(pieces=pieces, busy=3) == 3
    assert least_span(pieces=pieces, busy=4) == 6  # across the gap of two steps
    assert least_span(pieces=pieces, busy=6) == 8
    assert least_span(pieces=pieces, busy=7) is None


# --- touching shifts --------------------------------------------------------------------------


def test_touching_shifts_are_one_stretch_of_time() -> None:
    # 08:00-08:45 and 08:45-09:30 in 15-minute steps: a one-hour visit fits across them.
    pro = Professional(
        id="genetics",
        rooms=("c1",),
        hours=(Shift(day=0, start=0, end=3), Shift(day=0, start=3, end=6)),
    )
    patient = Patient(
        id="p1",
        appointments=(Appointment(id="p1-genetics", professionals=("genetics",), duration=4),),
    )
    clinic = Clinic(
        days=(Day(opens=0, closes=8),),
        rooms=(Room(id="c1"),),
        professionals=(pro,),
        patients=(patient,),
    )

    schedule = solve(clinic=clinic, options=EXACT)

    assert explain(clinic=clinic) == ()
    assert schedule.status == Status.OPTIMAL
    assert_valid(clinic, schedule)
    (visit,) = schedule.visits
    assert visit.start >= 0 and visit.end <= 6


# --- reproducibility --------------------------------------------------------------------------

# The phased search (sessions, then the neighbourhood search, then the full model) on a clinic
# above the exact-solving size, limited by a little deterministic work; the wall clock only
# caps a run far slower than any expected one.
PHASED = SolveOptions(time_limit_seconds=120.0, deterministic_time_limit=0.3, num_workers=1)


def _plan(options: SolveOptions) -> tuple[object, ...]:
    clinic = synthetic_clinic(patients=4, seed=1)
    schedule = solve(clinic=clinic, options=options)
    assert schedule.has_timetable and schedule.deterministic
    assert schedule.summary is not None and schedule.summary.deterministic
    return (schedule.visits, schedule.objective, schedule.bound)


def test_the_same_clinic_gets_the_same_plan_twice() -> None:
    assert _plan(PHASED) == _plan(PHASED)


def test_the_same_plan_with_two_workers() -> None:
    options = SolveOptions(time_limit_seconds=120.0, deterministic_time_limit=0.3, num_workers=2)
    assert _plan(options) == _plan(options)


def test_the_plan_under_load_is_the_plan_without_it() -> None:
    before = _plan(PHASED)
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        during = _plan(PHASED)
    finally:
        hog.kill()
        hog.wait()
    assert during == before


# --- what the numbers mean ----------------------------------------------------------------------


def test_the_summary_speaks_in_minutes() -> None:
    clinic = synthetic_clinic(patients=2, seed=0)

    schedule = solve(clinic=clinic, options=EXACT)

    assert schedule.has_timetable and schedule.summary is not None and schedule.cost is not None
    summary = schedule.summary
    minutes = clinic.step_minutes
    waits = [i.waiting * minutes for i in schedule.itineraries]
    assert summary.max_wait_minutes == max(waits)
    assert summary.total_wait_minutes == sum(waits)
    assert summary.mean_wait_minutes == pytest.approx(sum(waits) / len(waits), abs=0.05)
    assert summary.idle_minutes == schedule.cost.professional_idle * minutes
    assert (
        summary.idle_above_lower_bound_minutes
        == summary.idle_minutes - summary.idle_lower_bound_minutes
    )
    assert summary.proven_optimal == (schedule.status == Status.OPTIMAL)


def test_the_default_options_limit_the_search_by_work() -> None:
    options = resolved(SolveOptions(time_limit_seconds=10.0))
    assert options.deterministic and options.deterministic_time_limit == pytest.approx(1.0)
    # Without ``deterministic`` the wall clock limits the search, as it used to.
    assert resolved(SolveOptions(deterministic=False)).deterministic_time_limit is None


def test_identical_patients_are_searched_in_one_order_only() -> None:
    staff = (
        Professional(id="pro0", rooms=("room0",)),
        Professional(
            id="pro1",
            rooms=("room1",),
            hours=(Shift(day=0, start=0, end=3), Shift(day=0, start=4, end=7)),
        ),
    )
    patients = tuple(
        Patient(
            id=f"p{i}",
            appointments=(
                Appointment(id=f"p{i}a0", professionals=("pro0",), duration=1),
                Appointment(id=f"p{i}a1", professionals=("pro0", "pro1"), duration=2),
            ),
        )
        for i in range(3)
    )
    clinic = Clinic(
        days=(Day(opens=0, closes=7),),
        rooms=(Room(id="room0"), Room(id="room1")),
        professionals=staff,
        patients=patients,
    )
    optimum = brute_force_optimum(clinic, EXACT.weights)

    broken = solve(clinic=clinic, options=EXACT)
    plain = solve(clinic=clinic, options=dataclasses.replace(EXACT, break_symmetry=False))

    assert broken.status == plain.status == Status.OPTIMAL
    assert broken.objective == plain.objective == optimum
    firsts = [broken.visit(visit_id=f"p{i}a0").start for i in range(3)]
    assert firsts == sorted(firsts)
    assert_valid(clinic, broken)


def test_a_small_clinic_is_proven_optimal_under_any_limit() -> None:
    clinic = Clinic(
        days=(Day(opens=0, closes=8),),
        rooms=(Room(id="room0"), Room(id="room1")),
        professionals=(
            Professional(id="pro0", rooms=("room0",)),
            Professional(id="pro1", rooms=("room1",)),
        ),
        patients=tuple(
            Patient(
                id=f"p{i}",
                appointments=(
                    Appointment(id=f"p{i}a0", professionals=("pro0",), duration=1 + i % 2),
                    Appointment(id=f"p{i}a1", professionals=("pro1",), duration=2 - i % 2),
                ),
            )
            for i in range(3)
        ),
    )
    found = {
        limit: solve(clinic=clinic, options=SolveOptions(deterministic_time_limit=limit))
        for limit in (0.2, 1.0, 3.0)
    }

    assert {s.status for s in found.values()} == {Status.OPTIMAL}
    assert len({s.objective for s in found.values()}) == 1
    assert {s.changeable_gap for s in found.values()} == {0.0}
