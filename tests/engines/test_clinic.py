"""The clinic scheduling engine, one behaviour at a time, on hand-made clinics.

The cast: Alice and Bob (siblings), Carol (uses a wheelchair); the specialist nurse who takes
fasting bloods, the endocrinologist who reads them, the audiology technician and audiologist,
the physiotherapist who runs the exercise test. One morning, 08:30 to 13:00, in 15-minute
steps (step 0 is 08:00), unless a test says otherwise.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import time
from time import perf_counter as time_now

import pytest

from rarebridge.engines.clinic import (
    Appointment,
    Clinic,
    Day,
    Group,
    Keep,
    Lunch,
    Patient,
    Precedence,
    Professional,
    Room,
    RoundTable,
    Rule,
    Shift,
    SolveOptions,
    Status,
    Weights,
    Window,
    cancel_appointment,
    cancel_patient,
    explain,
    professional_late,
    replan,
    solve,
    solve_greedy,
    validate,
)
from rarebridge.engines.clinic.assemble import build_schedule
from rarebridge.engines.clinic.greedy import first_fit
from rarebridge.engines.clinic.problem import Problem, Task
from rarebridge.engines.clinic.results import Schedule, Visit
from rarebridge.engines.clinic.solver import optimise
from rarebridge.engines.clinic.synthetic import synthetic_clinic
from tests.engines.test_clinic_properties import assert_valid

OPTIONS = SolveOptions(time_limit_seconds=5.0, deterministic_time_limit=2.0, num_workers=1)

MORNING = Day(opens=2, closes=20)
ROOMS = (
    Room(id="bloods", kind="phlebotomy"),
    Room(id="c1"),
    Room(id="c2"),
    Room(id="c3-upstairs", step_free=False),
    Room(id="booth", kind="audiology booth"),
    Room(id="gym", kind="gym"),
    Room(id="meeting", kind="meeting"),
)
STAFF = (
    Professional(id="nurse", name="Specialist nurse", rooms=("bloods", "c1")),
    Professional(id="endo", name="Endocrinologist", rooms=("c1", "c3-upstairs")),
    Professional(id="audio-tech", name="Audiology technician", rooms=("booth",)),
    Professional(id="audio", name="Audiologist", rooms=("c2",)),
    Professional(id="physio", name="Physiotherapist", rooms=("gym",)),
)


def bloods(who: str, **changes: object) -> Appointment:
    appointment = Appointment(
        id=f"{who}-bloods",
        label="bloods",
        professionals=("nurse",),
        duration=1,
        room_kind="phlebotomy",
        fasting=True,
    )
    return dataclasses.replace(appointment, **changes)


def visit(who: str, what: str, pro: str, steps: int = 2, **changes: object) -> Appointment:
    appointment = Appointment(id=f"{who}-{what}", label=what, professionals=(pro,), duration=steps)
    return dataclasses.replace(appointment, **changes)


def clinic_of(*patients: Patient, days: tuple[Day, ...] = (MORNING,), **changes: object) -> Clinic:
    clinic = Clinic(days=days, rooms=ROOMS, professionals=STAFF, patients=patients)
    return dataclasses.replace(clinic, **changes)


def alice(**changes: object) -> Patient:
    patient = Patient(
        id="alice",
        name="Alice",
        appointments=(
            bloods("alice"),
            visit("alice", "endo", "endo"),
            visit("alice", "hearing-test", "audio-tech", room_kind="audiology booth"),
            visit("alice", "audiology", "audio", steps=1),
        ),
        precedences=(
            Precedence(before="alice-bloods", after="alice-endo", min_gap=2),
            Precedence(before="alice-hearing-test", after="alice-audiology"),
        ),
    )
    return dataclasses.replace(patient, **changes)


# --- timetables -------------------------------------------------------------------------------


def test_it_builds_an_itinerary_with_clock_times_rooms_and_day_sheets() -> None:
    clinic = clinic_of(alice())

    schedule = solve(clinic=clinic, options=OPTIONS)

    assert_valid(clinic, schedule)
    itinerary = schedule.itinerary(patient="alice")
    first = itinerary.visits[0]
    assert (first.id, first.room, first.professionals) == ("alice-bloods", "bloods", ("nurse",))
    assert (first.starts_at, first.ends_at) == (time(8, 30), time(8, 45))
    endo = schedule.visit(visit_id="alice-endo")
    assert endo.start >= first.end + 2
    nurse_sheet = [s for s in schedule.professional_sheets if s.owner == "nurse"]
    assert [v.id for s in nurse_sheet for v in s.visits] == ["alice-bloods"]
    booth = [s for s in schedule.room_sheets if s.owner == "booth"]
    assert [v.id for s in booth for v in s.visits] == ["alice-hearing-test"]


def test_it_proves_the_optimum_and_reports_a_zero_gap() -> None:
    schedule = solve(clinic=clinic_of(alice()), options=OPTIONS)

    assert schedule.status == Status.OPTIMAL
    assert schedule.bound == schedule.objective
    assert schedule.gap == 0.0
    # Six steps of appointments, and the endocrinologist must wait two steps after bloods,
    # which the hearing test and audiology fill exactly.
    assert schedule.cost is not None
    assert (schedule.cost.patient_span, schedule.cost.patient_waiting) == (6, 0)


def test_it_seats_fasting_tests_first_and_before_the_deadline() -> None:
    early = dataclasses.replace(MORNING, fasting_by=4)
    bob = Patient(
        id="bob",
        appointments=(visit("bob", "audiology", "audio", steps=1), bloods("bob")),
    )
    clinic = clinic_of(alice(), bob, days=(early,))

    schedule = solve(clinic=clinic, options=OPTIONS)

    assert_valid(clinic, schedule)
    for who in ("alice", "bob"):
        itinerary = schedule.itinerary(patient=who)
        assert itinerary.visits[0].id == f"{who}-bloods"
        assert itinerary.visits[0].start <= 4


def test_it_rests_the_patient_after_a_long_test() -> None:
    carol = Patient(
        id="carol",
        appointments=(
            visit("carol", "exercise-test", "physio", steps=3, room_kind="gym", rest_after=2),
            visit("carol", "audiology", "audio", steps=1),
        ),
        precedences=(Precedence(before="carol-exercise-test", after="carol-audiology"),),
    )
    clinic = clinic_of(carol)

    schedule = solve(clinic=clinic, options=OPTIONS)

    assert_valid(clinic, schedule)
    test, review = schedule.itinerary(patient="carol").visits
    assert review.start == test.end + 2


def test_it_keeps_a_lunch_break_and_the_daily_limit() -> None:
    day = Day(opens=2, closes=30)
    patient = alice(
        appointments=(
            *alice().appointments,
            visit("alice", "physio", "physio", steps=4, room_kind="gym"),
        ),
        lunch=Lunch(earliest=16, latest=22, duration=2),
        max_span=16,
    )
    blocked = (
        Professional(id="physio", rooms=("gym",), hours=(Shift(day=0, start=18, end=30),)),
        *(p for p in STAFF if p.id != "physio"),
    )
    clinic = clinic_of(patient, days=(day,), professionals=blocked)

    schedule = solve(clinic=clinic, options=OPTIONS)

    assert_valid(clinic, schedule)
    itinerary = schedule.itinerary(patient="alice")
    assert len(itinerary.lunches) == 1
    assert itinerary.span <= 16


def test_it_keeps_siblings_back_to_back_with_one_professional() -> None:
    bob = Patient(
        id="bob",
        name="Bob",
        appointments=(visit("bob", "audiology", "audio", steps=1), visit("bob", "endo", "endo")),
    )
    family = Group(
        id="family", patients=("alice", "bob"), back_to_back=(("alice-audiology", "bob-audiology"),)
    )
    clinic = clinic_of(alice(), bob, groups=(family,))

    schedule = solve(clinic=clinic, options=OPTIONS)

    assert_valid(clinic, schedule)
    a, b = sorted(
        (schedule.visit(visit_id="alice-audiology"), schedule.visit(visit_id="bob-audiology")),
        key=lambda v: v.start,
    )
    assert b.start == a.end and a.professionals == b.professionals


def test_it_closes_with_the_round_table_and_the_whole_team() -> None:
    table = RoundTable(
        id="alice-round-table", team=("endo", "nurse", "audio"), duration=2, room_kind="meeting"
    )
    clinic = clinic_of(alice(round_table=table))

    schedule = solve(clinic=clinic, options=OPTIONS)

    assert_valid(clinic, schedule)
    last = schedule.itinerary(patient="alice").visits[-1]
    assert (last.id, last.kind, last.room) == ("alice-round-table", "round_table", "meeting")
    assert last.professionals == ("endo", "nurse", "audio")
    for pro in ("endo", "nurse", "audio"):
        sheet = [s for s in schedule.professional_sheets if s.owner == pro]
        assert "alice-round-table" in {v.id for s in sheet for v in s.visits}


def test_it_puts_a_step_free_patient_in_a_step_free_room() -> None:
    carol = Patient(id="carol", step_free=True, appointments=(visit("carol", "endo", "endo"),))
    # The endocrinologist also works upstairs, where Carol cannot go.
    clinic = clinic_of(carol, alice())

    schedule = solve(clinic=clinic, options=OPTIONS)

    assert_valid(clinic, schedule)
    assert schedule.visit(visit_id="carol-endo").room == "c1"


def test_it_chooses_among_eligible_professionals() -> None:
    either = (
        Professional(id="endo-a", rooms=("c1",), hours=(Shift(day=0, start=2, end=6),)),
        Professional(id="endo-b", rooms=("c2",)),
    )
    patients = tuple(
        Patient(
            id=who,
            appointments=(
                Appointment(id=f"{who}-endo", professionals=("endo-a", "endo-b"), duration=4),
            ),
        )
        for who in ("alice", "bob")
    )
    # One hour of clinic: both patients can only be seen if each sees a different doctor.
    clinic = clinic_of(*patients, professionals=either, days=(Day(opens=2, closes=6),))

    schedule = solve(clinic=clinic, options=OPTIONS)

    assert_valid(clinic, schedule)
    assert {v.professionals for v in schedule.visits} == {("endo-a",), ("endo-b",)}
    assert all(v.start == 2 for v in schedule.visits)


def test_it_is_deterministic_with_one_worker_and_a_fixed_seed() -> None:
    clinic = synthetic_clinic(patients=5)
    options = SolveOptions(time_limit_seconds=20, deterministic_time_limit=0.5, num_workers=1)

    first = solve(clinic=clinic, options=options)
    second = solve(clinic=clinic, options=options)

    assert first.visits == second.visits
    assert first.objective == second.objective


def test_it_reports_objective_bound_and_gap_when_stopped_by_the_time_limit() -> None:
    clinic = synthetic_clinic(patients=20)
    # A deterministic work limit, not wall time: the same stop on a busy or an idle machine.
    options = SolveOptions(time_limit_seconds=60, deterministic_time_limit=1.0, num_workers=1)

    schedule = solve(clinic=clinic, options=options)
    greedy = solve_greedy(clinic=clinic)

    assert schedule.status == Status.FEASIBLE
    assert_valid(clinic, schedule)
    assert (
        schedule.bound is not None and schedule.objective is not None and schedule.gap is not None
    )
    assert schedule.bound < schedule.objective and 0 < schedule.gap < 1
    assert greedy.objective is not None and schedule.objective <= greedy.objective


def test_it_beats_greedy_on_the_synthetic_clinic() -> None:
    clinic = synthetic_clinic(patients=8, seed=3)
    options = SolveOptions(time_limit_seconds=5, deterministic_time_limit=0.5, num_workers=1)

    schedule = solve(clinic=clinic, options=options)
    greedy = solve_greedy(clinic=clinic)

    assert_valid(clinic, schedule)
    assert_valid(clinic, greedy)
    assert schedule.objective is not None and greedy.objective is not None
    assert schedule.objective < greedy.objective


def in_sessions_of(*, problem: Problem, schedule: Schedule) -> frozenset[str]:
    """The patients whose every day in ``schedule`` is a session (``Problem.in_session``)."""
    days: dict[tuple[str, int], list[tuple[Task, int]]] = defaultdict(list)
    for visit in schedule.visits:
        start = problem.at(day=visit.day, step=visit.start)
        days[visit.patient, visit.day].append((problem.task[visit.id], start))
    outside = {
        patient
        for (patient, day), visits in days.items()
        if not problem.in_session(patient=patient, day=day, visits=visits)
    }
    return frozenset(problem.patients) - outside


LUNCH = Lunch(earliest=16, latest=22, duration=2)  # 30 minutes between 12:00 and 13:30


def _session_of(*, visits: list[Visit], day: int, lunch: Lunch = LUNCH) -> str:
    today = [v for v in visits if v.day == day]
    if max(v.end for v in today) <= lunch.latest - lunch.duration:
        return "morning"
    if min(v.start for v in today) >= lunch.earliest + lunch.duration:
        return "afternoon"
    return "across lunch"


def test_it_first_searches_mornings_and_afternoons_with_tiring_tests_last() -> None:
    clinic = synthetic_clinic(patients=4, seed=3)
    problem = Problem(clinic=clinic)
    # Only the professionals' idle time counts, so nothing but the rule keeps lunch and rest
    # out of the patients' days.
    options = dataclasses.replace(
        OPTIONS, sessions=False, weights=Weights(patient_span=0, professional_idle=1)
    )

    schedule = optimise(
        problem=problem,
        options=options,
        hint=first_fit(problem=problem, best_fit=True, sessions=True),
        started=time_now(),
        sessions=frozenset(problem.patients),
    )

    assert schedule.has_timetable
    assert_valid(clinic, schedule, options.weights)
    assert in_sessions_of(problem=problem, schedule=schedule) == set(problem.patients)
    for itinerary in schedule.itineraries:
        visits = list(itinerary.visits)
        for day in {v.day for v in visits}:
            lunch = clinic.patients[0].lunch
            assert lunch is not None
            session = _session_of(visits=visits, day=day, lunch=lunch)
            assert session != "across lunch", itinerary.patient
            today = [v for v in visits if v.day == day]
            tiring = [v for v in today if v.label == "exercise-test"]
            assert all(v.end == max(o.end for o in today) for v in tiring), itinerary.patient


def test_greedy_lays_out_sessions_and_names_who_did_not_fit_one() -> None:
    problem = Problem(clinic=synthetic_clinic(patients=20, seed=0))

    found = first_fit(problem=problem, best_fit=True, sessions=True)

    assert found.failed is None
    schedule = build_schedule(
        problem=problem,
        status=Status.FEASIBLE,
        method="greedy",
        placements=found.placements,
        lunches=found.lunches,
        weights=Weights(),
    )
    assert_valid(problem.clinic, schedule)
    kept = in_sessions_of(problem=problem, schedule=schedule)
    assert kept >= set(problem.patients) - found.outside_sessions
    assert found.outside_sessions and len(kept) > len(problem.patients) / 2


def test_it_still_finds_the_optimum_when_a_day_must_run_across_lunch() -> None:
    # Twenty steps of appointments on a single day: no morning (08:30-13:00, 18 steps) or
    # afternoon (12:30-15:30) holds them, so only the full model has a timetable.
    patient = alice(
        appointments=(
            *alice().appointments,
            visit("alice", "exercise", "physio", steps=8, room_kind="gym"),
            visit("alice", "review", "endo", steps=6),
        ),
        lunch=LUNCH,
    )
    clinic = clinic_of(patient, days=(Day(opens=2, closes=30),))

    with_sessions = solve(clinic=clinic, options=OPTIONS)
    without = solve(clinic=clinic, options=dataclasses.replace(OPTIONS, sessions=False))

    assert with_sessions.status == without.status == Status.OPTIMAL
    assert with_sessions.objective == without.objective
    visits = list(with_sessions.itinerary(patient="alice").visits)
    assert _session_of(visits=visits, day=0) == "across lunch"


def test_it_solves_what_first_fit_gets_stuck_on() -> None:
    # The nurse is in for one hour; Bob's fasting bloods must start at 08:30, but first-fit
    # gives that slot to Alice, whose review could have waited.
    nurse = Professional(id="nurse", rooms=("bloods", "c1"), hours=(Shift(day=0, start=2, end=6),))
    early = dataclasses.replace(MORNING, fasting_by=2)
    alice_ = Patient(id="alice", appointments=(visit("alice", "review", "nurse"),))
    bob = Patient(id="bob", appointments=(bloods("bob", duration=2),))
    clinic = clinic_of(alice_, bob, days=(early,), professionals=(nurse, *STAFF[1:]))

    greedy = solve_greedy(clinic=clinic)
    schedule = solve(clinic=clinic, options=OPTIONS)

    assert greedy.status == Status.UNKNOWN and not greedy.has_timetable
    assert schedule.status == Status.OPTIMAL
    assert_valid(clinic, schedule)


# --- explanations -----------------------------------------------------------------------------


def test_it_explains_an_appointment_longer_than_the_professional_hours() -> None:
    short = Professional(
        id="endo", name="Dr Endo", rooms=("c1",), hours=(Shift(day=0, start=2, end=3),)
    )
    staff = (short, *(p for p in STAFF if p.id != "endo"))
    clinic = clinic_of(alice(), professionals=staff)

    schedule = solve(clinic=clinic, options=OPTIONS)

    assert schedule.status == Status.INFEASIBLE and not schedule.visits
    assert {e.rule for e in schedule.explanations} == {Rule.PROFESSIONAL_HOURS}
    reason = schedule.explanations[0]
    assert reason.people == ("alice", "endo")
    assert "Dr Endo" in reason.message and "30 min" in reason.message


def test_it_explains_conflicting_rules_naming_just_those_rules_and_the_patient() -> None:
    # Bloods need two hours before the endocrinologist reads them; Alice can stay one hour.
    patient = Patient(
        id="alice",
        name="Alice",
        appointments=(bloods("alice"), visit("alice", "endo", "endo")),
        precedences=(Precedence(before="alice-bloods", after="alice-endo", min_gap=8),),
        max_span=4,
    )

    schedule = solve(clinic=clinic_of(patient), options=OPTIONS)

    assert schedule.status == Status.INFEASIBLE
    assert {e.rule for e in schedule.explanations} == {Rule.PRECEDENCE, Rule.MAX_SPAN}
    assert all(e.people == ("alice",) for e in schedule.explanations)
    precedence = next(e for e in schedule.explanations if e.rule == Rule.PRECEDENCE)
    assert precedence.params == {"before": "alice-bloods", "after": "alice-endo", "min_gap": 8}
    assert explain(clinic=clinic_of(patient), options=OPTIONS) == schedule.explanations


def test_it_explains_a_fasting_test_that_cannot_come_first() -> None:
    patient = Patient(
        id="alice",
        appointments=(
            bloods("alice"),
            visit("alice", "hearing-test", "audio-tech", room_kind="audiology booth"),
        ),
        precedences=(Precedence(before="alice-hearing-test", after="alice-bloods"),),
    )

    schedule = solve(clinic=clinic_of(patient), options=OPTIONS)

    assert {e.rule for e in schedule.explanations} == {Rule.FASTING, Rule.PRECEDENCE}


def test_it_explains_two_patients_competing_for_one_early_slot() -> None:
    early = dataclasses.replace(MORNING, fasting_by=3)
    patients = tuple(
        Patient(id=who, appointments=(bloods(who, duration=2),)) for who in ("alice", "bob")
    )

    schedule = solve(clinic=clinic_of(*patients, days=(early,)), options=OPTIONS)

    assert schedule.status == Status.INFEASIBLE
    assert [(e.rule, e.people) for e in schedule.explanations] == [
        (Rule.FASTING, ("alice",)),
        (Rule.FASTING, ("bob",)),
    ]


def test_it_explains_a_missing_step_free_room() -> None:
    upstairs_only = (Professional(id="endo", rooms=("c3-upstairs",)), *STAFF[2:])
    carol = Patient(id="carol", step_free=True, appointments=(visit("carol", "endo", "endo"),))

    schedule = solve(clinic=clinic_of(carol, professionals=upstairs_only), options=OPTIONS)

    assert [e.rule for e in schedule.explanations] == [Rule.STEP_FREE]


def test_it_rejects_malformed_input() -> None:
    ghost = Patient(id="alice", appointments=(visit("alice", "endo", "nobody"),))

    with pytest.raises(ValueError, match="unknown professional nobody"):
        validate(clinic=clinic_of(ghost))
    with pytest.raises(ValueError, match="duplicate appointment"):
        solve(clinic=clinic_of(alice(), alice(id="alice-again")))


# --- re-planning ------------------------------------------------------------------------------


def two_patients() -> Clinic:
    bob = Patient(
        id="bob",
        appointments=(
            bloods("bob"),
            visit("bob", "endo", "endo"),
            visit("bob", "audiology", "audio", steps=1),
        ),
        precedences=(Precedence(before="bob-bloods", after="bob-endo", min_gap=2),),
    )
    return clinic_of(alice(), bob)


def test_it_replans_a_cancelled_appointment_leaving_everyone_else_in_place() -> None:
    clinic = two_patients()
    before = solve(clinic=clinic, options=OPTIONS)
    changed = cancel_appointment(clinic=clinic, appointment_id="alice-hearing-test")

    after = replan(clinic=changed, previous=before, options=OPTIONS)

    assert_valid(changed, after)
    bob_before = before.itinerary(patient="bob").visits
    assert after.itinerary(patient="bob").visits == bob_before
    assert "alice-hearing-test" not in {v.id for v in after.visits}
    assert after.cost is not None and after.cost.moved == 0


def test_it_replans_a_cancelled_patient_in_no_time() -> None:
    clinic = two_patients()
    before = solve(clinic=clinic, options=OPTIONS)

    after = replan(
        clinic=cancel_patient(clinic=clinic, patient_id="alice"), previous=before, options=OPTIONS
    )

    assert after.visits == before.itinerary(patient="bob").visits
    assert after.moved == ()


def test_it_replans_around_a_late_professional() -> None:
    clinic = two_patients()
    before = solve(clinic=clinic, options=OPTIONS)
    late_from = max(v.end for v in before.visits if "endo" in v.professionals)
    changed = professional_late(
        clinic=clinic, professional_id="endo", day=0, available_from=late_from
    )

    after = replan(clinic=changed, previous=before, options=OPTIONS)

    assert_valid(changed, after)
    assert all(v.start >= late_from for v in after.visits if "endo" in v.professionals)
    still = {v.id: v for v in before.visits if "endo" not in v.professionals}
    moved = [v.id for v in after.visits if v.id in still and v != still[v.id]]
    assert moved == []
    assert set(after.moved) == {"alice-endo", "bob-endo"}


def test_it_moves_unaffected_appointments_only_when_pinning_them_fails() -> None:
    # Alice's morning is full: the audiology review is pinned after the hearing test. When the
    # technician arrives late and the order no longer matters, the review has to give way.
    day = Day(opens=0, closes=4)
    patient = Patient(
        id="alice",
        appointments=(
            visit("alice", "hearing-test", "audio-tech", room_kind="audiology booth"),
            visit("alice", "audiology", "audio"),
        ),
        precedences=(Precedence(before="alice-hearing-test", after="alice-audiology"),),
    )
    clinic = clinic_of(patient, days=(day,))
    before = solve(clinic=clinic, options=OPTIONS)
    changed = professional_late(
        clinic=dataclasses.replace(
            clinic, patients=(dataclasses.replace(patient, precedences=()),)
        ),
        professional_id="audio-tech",
        day=0,
        available_from=2,
    )

    pinned_only = replan(clinic=changed, previous=before, options=OPTIONS, keep=Keep.FIX)
    penalised = replan(clinic=changed, previous=before, options=OPTIONS, keep=Keep.PENALISE)

    for after in (pinned_only, penalised):
        assert_valid(changed, after)
        assert set(after.moved) == {"alice-hearing-test", "alice-audiology"}
        assert after.cost is not None and after.cost.moved == 1


# --- units ------------------------------------------------------------------------------------


def test_it_converts_steps_and_clock_times() -> None:
    clinic = clinic_of(alice())

    assert clinic.clock_at(step=2) == time(8, 30)
    assert clinic.step_at(clock=time(13, 0)) == 20
    assert clinic.steps(minutes=20) == 2
    with pytest.raises(ValueError, match="grid"):
        clinic.step_at(clock=time(9, 10))


def test_it_cuts_breaks_out_of_the_day() -> None:
    # 08:30-10:15 is too short for the two-hour test, so it runs after the 10:15 break.
    day = Day(opens=2, closes=20, breaks=(Window(start=9, end=11),))
    patient = Patient(
        id="alice", appointments=(visit("alice", "physio", "physio", steps=8, room_kind="gym"),)
    )

    schedule = solve(clinic=clinic_of(patient, days=(day,)), options=OPTIONS)

    assert schedule.visit(visit_id="alice-physio").start in (11, 12)
