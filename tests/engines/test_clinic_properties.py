"""The clinic scheduling engine on small random clinics, against an independent checker.

``assert_valid`` re-reads every rule from the input dataclasses alone (it shares no code with
the engine: no task list, no global time line, no allowed-start sets) and checks a returned
timetable visit by visit, then recomputes the cost. The properties: no timetable the engine
returns breaks a rule, CP-SAT is never worse than greedy, a plan declared impossible comes
with an explanation (and greedy cannot lay it out either), and re-planning after a
cancellation leaves every other patient exactly where they were; after a professional
arrives late, the timetable is valid again and, when nothing unaffected had to move, nothing
did.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rarebridge.engines.clinic import (
    Appointment,
    Clinic,
    Day,
    Group,
    Lunch,
    Patient,
    Precedence,
    Professional,
    Room,
    RoundTable,
    Schedule,
    Shift,
    SolveOptions,
    Status,
    Visit,
    Weights,
    Window,
    cancel_appointment,
    professional_late,
    replan,
    solve,
    solve_greedy,
)

# The work limit decides; the wall clock is only a generous safety cap, so a loaded machine
# gives the same plans as an idle one.
OPTIONS = SolveOptions(
    time_limit_seconds=60.0,
    deterministic_time_limit=0.5,
    explain_time_limit_seconds=1.0,
    num_workers=1,
)
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- the independent checker ------------------------------------------------------------------


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _after(first: Visit, then: Visit, gap: int) -> bool:
    """``then`` starts after ``first`` ends: by ``gap`` steps on the same day, on any later day."""
    if then.day != first.day:
        return then.day > first.day
    return then.start >= first.end + gap


def assert_valid(clinic: Clinic, schedule: Schedule, weights: Weights | None = None) -> None:
    """Fail with the broken rule when ``schedule`` breaks any rule of ``clinic``."""
    weights = weights or Weights()
    assert schedule.status in (Status.OPTIMAL, Status.FEASIBLE)
    rooms = {r.id: r for r in clinic.rooms}
    staff = {p.id: p for p in clinic.professionals}
    visits = {v.id: v for v in schedule.visits}
    assert len(visits) == len(schedule.visits), "a visit is listed twice"
    expected: dict[str, tuple[Patient, Appointment | RoundTable]] = {}
    for patient in clinic.patients:
        for appointment in patient.appointments:
            expected[appointment.id] = (patient, appointment)
        if patient.round_table:
            expected[patient.round_table.id] = (patient, patient.round_table)
    assert set(visits) == set(expected), "every appointment exactly once, nothing else"

    for visit_id, (patient, item) in expected.items():
        visit = visits[visit_id]
        day = clinic.days[visit.day]
        assert visit.patient == patient.id
        # Opening hours, breaks, duration, patient's days.
        assert visit.end - visit.start == item.duration, visit_id
        assert day.opens <= visit.start and visit.end <= day.closes, f"{visit_id} outside hours"
        for window in day.breaks:
            assert not _overlap((visit.start, visit.end), (window.start, window.end)), visit_id
        if patient.days is not None:
            assert visit.day in patient.days, f"{visit_id} on a day {patient.id} does not come"
        assert visit.starts_at == clinic.clock_at(step=visit.start)
        # Who runs it.
        if isinstance(item, RoundTable):
            assert visit.professionals == item.team, "the whole team at the round table"
            others = [visits[a.id] for a in patient.appointments]
            assert all(_after(o, visit, 0) for o in others), "round table after everything"
        else:
            assert len(visit.professionals) == 1
            assert visit.professionals[0] in item.professionals, visit_id
        # Professionals' hours.
        for pro_id in visit.professionals:
            hours = staff[pro_id].hours
            if hours is not None:
                # Every step of the visit inside some shift: touching shifts are one stretch.
                assert all(
                    any(s.day == visit.day and s.start <= t < s.end for s in hours)
                    for t in range(visit.start, visit.end)
                ), f"{visit_id} outside {pro_id}'s hours"
        # The room.
        room = rooms[visit.room]
        kind = item.room_kind
        if kind is not None:
            assert room.kind == kind, f"{visit_id} in a {room.kind} room"
        if isinstance(item, Appointment) or kind is None:
            usable = [staff[p].rooms for p in visit.professionals]
            assert any(r is None or room.id in r for r in usable), f"{visit_id} room not usable"
        if patient.step_free:
            assert room.step_free, f"{visit_id} not step-free"
        # Fasting.
        if isinstance(item, Appointment) and item.fasting:
            deadline = day.fasting_by
            if deadline is None:
                deadline = day.opens + math.ceil(120 / clinic.step_minutes)
            assert visit.start <= deadline, f"{visit_id} fasting too late"
            for other in patient.appointments:
                seen = visits[other.id]
                if not other.fasting and seen.day == visit.day:
                    assert seen.start >= visit.end, f"{other.id} before fasting {visit_id}"
            if patient.round_table:
                seen = visits[patient.round_table.id]
                assert seen.day != visit.day or seen.start >= visit.end

    # One at a time: professionals, rooms.
    for owner_of in (lambda v: v.professionals, lambda v: (v.room,)):
        held: dict[tuple[str, int], list[Visit]] = defaultdict(list)
        for visit in visits.values():
            for owner in owner_of(visit):
                held[owner, visit.day].append(visit)
        for (owner, _), items in held.items():
            for a, b in itertools.combinations(items, 2):
                assert not _overlap((a.start, a.end), (b.start, b.end)), f"{owner}: {a.id}/{b.id}"

    for patient in clinic.patients:
        own = [visits[a.id] for a in patient.appointments]
        rest = {a.id: a.rest_after for a in patient.appointments}
        if patient.round_table:
            own.append(visits[patient.round_table.id])
        # One place at a time, with rest after long tests (rest ends with the day).
        for a, b in itertools.combinations(own, 2):
            if a.day == b.day:
                ra, rb = rest.get(a.id, 0), rest.get(b.id, 0)
                assert not _overlap((a.start, a.end + ra), (b.start, b.end + rb)), (
                    f"{patient.id}: {a.id}/{b.id} overlap or no rest"
                )
        for rule in patient.precedences:
            assert _after(visits[rule.before], visits[rule.after], rule.min_gap), (
                f"{rule.before} before {rule.after}"
            )
        days = sorted({v.day for v in own})
        itinerary = schedule.itinerary(patient=patient.id)
        assert [v.id for v in itinerary.visits] == [
            v.id for v in sorted(own, key=lambda v: (v.day, v.start))
        ]
        for d in days:
            today = [v for v in own if v.day == d]
            first, last = min(v.start for v in today), max(v.end for v in today)
            if patient.max_span is not None:
                assert last - first <= patient.max_span, f"{patient.id} day {d} too long"
            if patient.lunch is not None:
                lunch = patient.lunch
                breaks = [b for b in itinerary.lunches if b.day == d]
                assert len(breaks) == 1, f"{patient.id} has no lunch on day {d}"
                eat = breaks[0]
                assert eat.end - eat.start == lunch.duration
                assert lunch.earliest <= eat.start and eat.end <= lunch.latest
                for v in today:
                    assert not _overlap((eat.start, eat.end), (v.start, v.end)), "lunch clash"

    for group in clinic.groups:
        for block in group.back_to_back:
            placed = sorted((visits[a] for a in block), key=lambda v: v.start)
            assert len({v.professionals for v in placed}) == 1, "one professional per block"
            assert len({v.day for v in placed}) == 1
            for a, b in itertools.pairwise(placed):
                assert b.start == a.end, f"{a.id} and {b.id} not back to back"

    # The cost, recomputed.
    span = waiting = idle = 0
    for patient in clinic.patients:
        itinerary = schedule.itinerary(patient=patient.id)
        for d in {v.day for v in itinerary.visits}:
            today = [v for v in itinerary.visits if v.day == d]
            first, last = min(v.start for v in today), max(v.end for v in today)
            eating = sum(
                max(0, min(last, b.end) - max(first, b.start))
                for b in itinerary.lunches
                if b.day == d
            )
            span += last - first
            waiting += last - first - sum(v.end - v.start for v in today) - eating
    for pro in clinic.professionals:
        for d in range(len(clinic.days)):
            mine = [v for v in visits.values() if pro.id in v.professionals and v.day == d]
            if mine:
                busy = sum(v.end - v.start for v in mine)
                idle += max(v.end for v in mine) - min(v.start for v in mine) - busy
    assert schedule.cost is not None
    assert (schedule.cost.patient_span, schedule.cost.patient_waiting) == (span, waiting)
    assert schedule.cost.professional_idle == idle
    moved = schedule.cost.moved
    objective = weights.patient_span * span + weights.professional_idle * idle
    assert schedule.objective == objective + weights.moved * moved


# --- small random clinics -----------------------------------------------------------------


@st.composite
def clinics(draw: st.DrawFn) -> Clinic:
    day_count = draw(st.integers(1, 2))
    days = []
    for _ in range(day_count):
        opens = draw(st.integers(0, 2))
        closes = opens + draw(st.integers(10, 16))
        breaks = ()
        if draw(st.booleans()):
            at = draw(st.integers(opens + 3, closes - 3))
            breaks = (Window(start=at, end=at + 1),)
        days.append(Day(opens=opens, closes=closes, breaks=breaks))
    rooms = [
        Room(
            id=f"r{i}",
            kind=draw(st.sampled_from(("consulting", "consulting", "booth"))),
            step_free=draw(st.booleans()) or i == 0,
        )
        for i in range(draw(st.integers(2, 4)))
    ]
    room_ids = [r.id for r in rooms]
    staff = []
    for i in range(draw(st.integers(2, 4))):
        usable = None
        if draw(st.booleans()):
            usable = tuple(
                draw(st.lists(st.sampled_from(room_ids), min_size=1, max_size=3, unique=True))
            )
        hours = None
        if draw(st.booleans()):
            shifts = []
            for d, day in enumerate(days):
                if draw(st.integers(0, 3)):
                    start = draw(st.integers(day.opens, day.opens + 4))
                    shifts.append(
                        Shift(day=d, start=start, end=draw(st.integers(start + 3, day.closes)))
                    )
            hours = tuple(shifts)
        staff.append(Professional(id=f"pro{i}", rooms=usable, hours=hours))
    staff_ids = [p.id for p in staff]

    patients = []
    for i in range(draw(st.integers(1, 3))):
        appointments = []
        for j in range(draw(st.integers(1, 4))):
            appointments.append(
                Appointment(
                    id=f"p{i}a{j}",
                    professionals=tuple(
                        draw(
                            st.lists(
                                st.sampled_from(staff_ids), min_size=1, max_size=2, unique=True
                            )
                        )
                    ),
                    duration=draw(st.integers(1, 3)),
                    room_kind=draw(st.sampled_from((None, None, None, "booth"))),
                    fasting=draw(st.integers(0, 6)) == 0,
                    rest_after=draw(st.sampled_from((0, 0, 0, 1, 2))),
                )
            )
        precedences = []
        for a, b in itertools.combinations(range(len(appointments)), 2):
            if draw(st.integers(0, 3)) == 0:
                precedences.append(
                    Precedence(
                        before=f"p{i}a{a}", after=f"p{i}a{b}", min_gap=draw(st.integers(0, 2))
                    )
                )
        lunch = None
        if draw(st.booleans()):
            earliest = draw(st.integers(3, 6))
            lunch = Lunch(earliest=earliest, latest=earliest + 4, duration=draw(st.integers(1, 2)))
        table = None
        if draw(st.integers(0, 2)) == 0:
            team = tuple(
                draw(st.lists(st.sampled_from(staff_ids), min_size=1, max_size=2, unique=True))
            )
            table = RoundTable(id=f"p{i}rt", team=team, duration=1)
        patients.append(
            Patient(
                id=f"p{i}",
                appointments=tuple(appointments),
                precedences=tuple(precedences),
                days=None if day_count == 1 or draw(st.booleans()) else (draw(st.integers(0, 1)),),
                max_span=draw(st.sampled_from((None, None, 8, 12))),
                lunch=lunch,
                step_free=draw(st.integers(0, 4)) == 0,
                round_table=table,
            )
        )
    groups = []
    if len(patients) >= 2 and draw(st.booleans()):
        a, b = patients[0].appointments[0], patients[1].appointments[0]
        if set(a.professionals) & set(b.professionals):
            groups.append(Group(id="family", patients=("p0", "p1"), back_to_back=((a.id, b.id),)))
    return Clinic(
        days=tuple(days),
        rooms=tuple(rooms),
        professionals=tuple(staff),
        patients=tuple(patients),
        groups=tuple(groups),
    )


# --- properties -----------------------------------------------------------------------------


@SETTINGS
@given(clinic=clinics())
def test_it_never_breaks_a_rule_and_never_loses_to_greedy(clinic: Clinic) -> None:
    schedule = solve(clinic=clinic, options=OPTIONS)
    greedy = solve_greedy(clinic=clinic)
    if greedy.has_timetable:
        assert_valid(clinic, greedy)
    if schedule.has_timetable:
        assert_valid(clinic, schedule)
        assert schedule.bound is not None and schedule.objective is not None
        assert schedule.bound <= schedule.objective
        if schedule.status == Status.OPTIMAL:
            assert schedule.gap == 0.0
        if greedy.has_timetable:
            assert greedy.objective is not None
            assert schedule.objective <= greedy.objective
    elif schedule.status == Status.INFEASIBLE:
        assert schedule.explanations, "an impossible plan is explained"
        assert all(e.message for e in schedule.explanations)
        assert not greedy.has_timetable, "greedy laid out a plan the solver called impossible"


@SETTINGS
@given(clinic=clinics(), data=st.data())
def test_it_replans_a_cancellation_without_moving_anyone_else(
    clinic: Clinic, data: st.DataObject
) -> None:
    schedule = solve(clinic=clinic, options=OPTIONS)
    assume(schedule.has_timetable)
    appointments = [a for p in clinic.patients for a in p.appointments]
    gone = data.draw(st.sampled_from(appointments))
    owner = next(p.id for p in clinic.patients if gone in p.appointments)
    changed = cancel_appointment(clinic=clinic, appointment_id=gone.id)

    again = replan(clinic=changed, previous=schedule, options=OPTIONS)

    assert_valid(changed, again)
    before = {v.id: v for v in schedule.visits}
    for visit in again.visits:
        if visit.patient != owner:
            assert visit == before[visit.id], f"{visit.id} moved"
    assert gone.id not in {v.id for v in again.visits}
    assert set(again.moved) <= {v.id for v in again.visits if v.patient == owner}


@SETTINGS
@given(clinic=clinics(), data=st.data())
def test_it_replans_around_a_late_professional_keeping_what_still_fits(
    clinic: Clinic, data: st.DataObject
) -> None:
    schedule = solve(clinic=clinic, options=OPTIONS)
    assume(schedule.has_timetable)
    late = data.draw(st.sampled_from(schedule.visits))
    pro, day = late.professionals[0], late.day
    arrives = late.start + 1
    changed = professional_late(clinic=clinic, professional_id=pro, day=day, available_from=arrives)

    again = replan(clinic=changed, previous=schedule, options=OPTIONS)

    if not again.has_timetable:
        assert again.status != Status.INFEASIBLE or again.explanations
        return
    assert_valid(changed, again)
    assert again.cost is not None
    displaced = {
        v.id
        for v in schedule.visits
        if pro in v.professionals and v.day == day and v.start < arrives
    }
    for group in clinic.groups:  # a back-to-back block moves as one
        for block in group.back_to_back:
            if displaced & set(block):
                displaced |= set(block)
    assert late.id in displaced and late.id in again.moved
    if again.cost.moved == 0:
        before = {v.id: v for v in schedule.visits}
        for visit in again.visits:
            if visit.id not in displaced:
                assert visit == before[visit.id], f"{visit.id} moved"
