"""Slot capacity: every match reserves a recurring weekly slot both people can keep.

"Now" is Monday 12 October 2026: the EU moves its clocks back on Sunday 25 October and
North America on Sunday 1 November, both inside a six-week series, so every series here
crosses a daylight saving change.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rarebridge.engines.matching import (
    DEFAULT_PLAN,
    BatchResult,
    Counsellor,
    Criterion,
    FixCode,
    MatchingError,
    MatchWeights,
    Objective,
    Patient,
    ReasonCode,
    TimeRange,
    WakingHours,
    WeeklySlot,
    expand_weekly_slots,
    explain_pair,
    match_batch,
    match_greedy,
    minute_to_datetime,
    suggest_counsellors,
    utc_minute,
)

NOW = utc_minute(datetime(2026, 10, 12, 6, 0, tzinfo=UTC))
BERLIN = ZoneInfo("Europe/Berlin")
TORONTO = ZoneInfo("America/Toronto")
TUESDAY = 1
PLAN = DEFAULT_PLAN


def weekly(
    zone: ZoneInfo, weekday: int, start: time, minutes: int, *, skip: Sequence[int] = ()
) -> tuple[TimeRange, ...]:
    """A local weekly window over eight weeks, in UTC ranges (as the counselling app does)."""
    first = date(2026, 10, 12)
    ranges = []
    for week in range(8):
        if week in skip:
            continue
        day = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * week)
        begin = datetime.combine(day, start, tzinfo=zone)
        ranges.append(TimeRange.between(begin, begin + timedelta(minutes=minutes)))
    return tuple(ranges)


def slots(zone: str, *windows: tuple[int, int, int]) -> tuple[WeeklySlot, ...]:
    return expand_weekly_slots(time_zone=zone, windows=windows, now=NOW, plan=PLAN, start_weeks=1)


def tuesday(hour: int, minute: int, minutes: int = 30) -> tuple[int, int, int]:
    start = hour * 60 + minute
    return (TUESDAY, start, start + minutes)


EVENING = weekly(BERLIN, TUESDAY, time(18, 0), 30)
ANNA = Counsellor(
    id="a",
    languages=frozenset({"de"}),
    country="DE",
    max_patients=5,
    time_zone="Europe/Berlin",
    site="DE",
    slots=slots("Europe/Berlin", tuesday(18, 0)),
)
BERND = replace(ANNA, id="b")
PAUL = Patient(
    id="paul",
    languages=frozenset({"de"}),
    country="DE",
    call_times=EVENING,
    time_zone="Europe/Berlin",
)
PIA = replace(PAUL, id="pia")


def local(minute: int, zone: ZoneInfo) -> datetime:
    return minute_to_datetime(minute).astimezone(zone)


# --- the smallest clash ---------------------------------------------------------------------


def test_two_patients_who_want_the_only_slot_get_one_counsellor_each() -> None:
    result = match_batch(
        patients=[PAUL, PIA], counsellors=[ANNA, BERND], now=NOW, slot_capacity=True
    )

    assert result.proven_optimal
    assert sorted(a.counsellor_id for a in result.assignments) == ["a", "b"]
    assert not any(a.schedule_clash for a in result.assignments)
    for assignment in result.assignments:
        assert assignment.slot is not None
        assert assignment.slot.calls == assignment.schedule
        assert assignment.slot.label == "Tue 18:00 (Europe/Berlin)"


def test_the_legacy_path_puts_both_on_one_counsellor_and_only_flags_it() -> None:
    # The product owner's smallest case: with no caseload penalty, ties go to the smaller id.
    weights = MatchWeights(load_spread=0)
    counsellors = [replace(c, free=EVENING) for c in (ANNA, BERND)]

    legacy = match_batch(patients=[PAUL, PIA], counsellors=counsellors, now=NOW, weights=weights)
    slotted = match_batch(
        patients=[PAUL, PIA], counsellors=counsellors, now=NOW, weights=weights, slot_capacity=True
    )

    assert [(a.counsellor_id, a.schedule_clash) for a in legacy.assignments] == [
        ("a", False),
        ("a", True),
    ]
    assert sorted((a.counsellor_id, a.schedule_clash) for a in slotted.assignments) == [
        ("a", False),
        ("b", False),
    ]


def test_one_counsellor_with_one_slot_takes_one_patient() -> None:
    result = match_batch(patients=[PAUL, PIA], counsellors=[ANNA], now=NOW, slot_capacity=True)

    assert [a.patient_id for a in result.assignments] == ["paul"]
    (left,) = result.unmatched
    assert left.blocking is None
    assert left.reasons[0].code is ReasonCode.CAPACITY_TAKEN


def test_the_caseload_limit_holds_with_slots_to_spare() -> None:
    anna = replace(
        ANNA, max_patients=2, active_patients=1, slots=slots("Europe/Berlin", tuesday(18, 0, 90))
    )
    patients = [
        replace(PAUL, id=f"p{n}", call_times=weekly(BERLIN, TUESDAY, time(18, 0), 90))
        for n in range(3)
    ]

    result = match_batch(patients=patients, counsellors=[anna], now=NOW, slot_capacity=True)

    assert len(result.assignments) == 1


def test_a_patient_who_can_only_make_one_time_gets_it() -> None:
    anna = replace(ANNA, slots=slots("Europe/Berlin", tuesday(18, 0, 60)))
    flexible = replace(PAUL, call_times=weekly(BERLIN, TUESDAY, time(18, 0), 60))

    result = match_batch(patients=[flexible, PIA], counsellors=[anna], now=NOW, slot_capacity=True)

    times = {a.patient_id: a.slot.local_time for a in result.assignments if a.slot}
    assert times == {"paul": "18:30", "pia": "18:00"}


# --- daylight saving ------------------------------------------------------------------------


def test_a_series_keeps_the_counsellors_local_time_across_the_october_change() -> None:
    (slot,) = slots("Europe/Berlin", tuesday(18, 0))
    result = match_batch(patients=[PAUL], counsellors=[ANNA], now=NOW, slot_capacity=True)

    (assignment,) = result.assignments
    assert assignment.schedule == slot.calls
    calls = [local(t, BERLIN) for t in assignment.schedule]
    assert [(c.weekday(), c.time()) for c in calls] == [(TUESDAY, time(18, 0))] * PLAN.calls
    assert {c.utcoffset() for c in calls} == {timedelta(hours=2), timedelta(hours=1)}
    # Before 25 October 18:00 Berlin is 16:00 UTC, after it 17:00 UTC: one week plus an hour.
    gaps = {b - a for a, b in itertools.pairwise(assignment.schedule)}
    assert gaps == {PLAN.interval_minutes, PLAN.interval_minutes + 60}


def test_a_patient_free_at_the_same_utc_time_loses_the_slot_after_the_change() -> None:
    # Free 16:00-16:30 UTC every Tuesday: 18:00 Berlin only until the clocks go back.
    utc_evening = weekly(ZoneInfo("UTC"), TUESDAY, time(16, 0), 30)
    paul = replace(PAUL, call_times=utc_evening, time_zone="UTC")

    report = explain_pair(patient=paul, counsellor=ANNA, now=NOW, slot_capacity=True)

    assert not report.eligible
    (time_reason,) = [r for r in report.reasons if r.criterion is Criterion.CALL_TIMES]
    assert time_reason.code is ReasonCode.NO_BOOKABLE_SLOT


def test_waking_hours_hold_in_both_zones() -> None:
    # 14:00 Berlin is 08:00 in Toronto; 13:30 Berlin is 07:30 there, before waking hours.
    anna = replace(ANNA, slots=slots("Europe/Berlin", tuesday(13, 30, 60)))
    tom = replace(
        PAUL,
        id="tom",
        time_zone="America/Toronto",
        call_times=weekly(TORONTO, TUESDAY, time(6, 0), 240),
    )

    result = match_batch(patients=[tom], counsellors=[anna], now=NOW, slot_capacity=True)

    (assignment,) = result.assignments
    assert assignment.slot is not None and assignment.slot.local_time == "14:00"
    # Toronto changes a week after Berlin: 14:00 Berlin is 08:00, then 09:00, then 08:00 there.
    for t in assignment.schedule:
        start = local(t, TORONTO)
        assert start.time() >= time(8, 0)


def test_a_narrower_waking_window_is_an_input() -> None:
    late = replace(ANNA, slots=slots("Europe/Berlin", tuesday(20, 30)))
    paul = replace(PAUL, call_times=weekly(BERLIN, TUESDAY, time(20, 0), 120))

    default = match_batch(patients=[paul], counsellors=[late], now=NOW, slot_capacity=True)
    strict = match_batch(
        patients=[paul],
        counsellors=[late],
        now=NOW,
        slot_capacity=True,
        waking_hours=WakingHours(8 * 60, 20 * 60 + 30),
    )

    assert len(default.assignments) == 1
    assert strict.assignments == ()
    assert strict.unmatched[0].blocking is Criterion.CALL_TIMES


# --- sites ----------------------------------------------------------------------------------


def test_cross_border_only_where_the_coordinators_allow_it() -> None:
    zofia = replace(ANNA, id="zofia", site="PL")
    paul = replace(PAUL, allowed_sites=frozenset({"PL"}))
    home_only = replace(PAUL, allowed_sites=frozenset({"AT"}))

    allowed = match_batch(patients=[paul], counsellors=[ANNA, zofia], now=NOW, slot_capacity=True)
    nowhere = match_batch(patients=[home_only], counsellors=[ANNA], now=NOW, slot_capacity=True)

    assert [a.counsellor_id for a in allowed.assignments] == ["zofia"]
    (unmatched,) = nowhere.unmatched
    assert unmatched.blocking is Criterion.SITE
    assert unmatched.reasons[0].code is ReasonCode.SITE_NOT_ALLOWED
    assert FixCode.ALLOW_CROSS_BORDER in {fix.code for fix in unmatched.fixes}


# --- suggestions and explanations -----------------------------------------------------------


def test_a_suggestion_proposes_the_earliest_slot_the_patient_can_keep() -> None:
    anna = replace(ANNA, slots=slots("Europe/Berlin", tuesday(17, 0, 120)))

    ranked = suggest_counsellors(patient=PAUL, counsellors=[anna], now=NOW, slot_capacity=True)

    (suggestion,) = ranked.suggestions
    assert suggestion.slot is not None and suggestion.slot.local_time == "18:00"
    assert suggestion.schedule == suggestion.slot.calls


def test_alternatives_for_one_weekly_time_share_its_capacity() -> None:
    both = expand_weekly_slots(
        time_zone="Europe/Berlin", windows=[tuesday(18, 0)], now=NOW, plan=PLAN, start_weeks=2
    )
    assert len(both) == 2 and both[0].key == both[1].key
    anna = replace(ANNA, slots=both)
    late = replace(PIA, call_times=weekly(BERLIN, TUESDAY, time(18, 0), 30, skip=(0,)))

    result = match_batch(patients=[PAUL, late], counsellors=[anna], now=NOW, slot_capacity=True)

    assert len(result.assignments) == 1


def test_busy_calls_take_series_out_of_the_offer() -> None:
    (slot,) = slots("Europe/Berlin", tuesday(18, 0))
    busy = (TimeRange(slot.calls[3], slot.calls[3] + 30),)

    offer = expand_weekly_slots(
        time_zone="Europe/Berlin",
        windows=[tuesday(18, 0)],
        now=NOW,
        plan=PLAN,
        busy=busy,
        start_weeks=1,
    )

    assert offer == ()


def test_a_series_outside_the_free_time_is_not_offered() -> None:
    (slot,) = slots("Europe/Berlin", tuesday(18, 0))
    # Free every Tuesday 18:00-19:00 except in the fourth week (an exception, a booked call).
    free = weekly(BERLIN, TUESDAY, time(18, 0), 60, skip=(3,))
    whole = weekly(BERLIN, TUESDAY, time(17, 0), 120)

    def offer(ranges: tuple[TimeRange, ...]) -> tuple[WeeklySlot, ...]:
        return expand_weekly_slots(
            time_zone="Europe/Berlin",
            windows=[tuesday(18, 0, 60)],
            now=NOW,
            plan=PLAN,
            free=ranges,
            start_weeks=1,
        )

    assert offer(free) == ()
    assert [s.calls for s in offer(whole)] == [
        slot.calls,
        tuple(t + 30 for t in slot.calls),
    ]


# --- input checks ---------------------------------------------------------------------------


def test_it_refuses_overlapping_slots_of_one_counsellor() -> None:
    (slot,) = slots("Europe/Berlin", tuesday(18, 0))
    shifted = WeeklySlot(calls=tuple(t + 15 for t in slot.calls))
    with pytest.raises(MatchingError) as error:
        match_batch(
            patients=[PAUL],
            counsellors=[replace(ANNA, slots=(slot, shifted))],
            now=NOW,
            slot_capacity=True,
        )
    assert error.value.code == "overlapping_slots"


def test_it_refuses_a_slot_that_is_not_a_weekly_series() -> None:
    (slot,) = slots("Europe/Berlin", tuesday(18, 0))
    short = WeeklySlot(calls=slot.calls[:5])
    with pytest.raises(MatchingError) as error:
        match_batch(
            patients=[PAUL],
            counsellors=[replace(ANNA, slots=(short,))],
            now=NOW,
            slot_capacity=True,
        )
    assert error.value.code == "bad_slot"


def test_it_refuses_a_weekly_window_past_midnight() -> None:
    with pytest.raises(MatchingError) as error:
        expand_weekly_slots(
            time_zone="Europe/Berlin", windows=[(TUESDAY, 23 * 60, 25 * 60)], now=NOW, plan=PLAN
        )
    assert error.value.code == "bad_window"


def test_slot_mode_needs_every_zone() -> None:
    with pytest.raises(MatchingError) as error:
        match_batch(
            patients=[replace(PAUL, time_zone=None)],
            counsellors=[ANNA],
            now=NOW,
            slot_capacity=True,
        )
    assert error.value.code == "missing_time_zone"


# --- properties: brute force on small instances ---------------------------------------------

ZONES = ("Europe/Berlin", "America/Toronto", "UTC")
# Local weekly windows (weekday, start, end) a counsellor may offer; some are outside waking
# hours, some straddle them, some are shared by all so that patients compete.
OFFERS = (
    tuesday(18, 0),
    tuesday(18, 0, 60),
    tuesday(7, 30, 60),
    tuesday(20, 30, 60),
    (2, 12 * 60, 13 * 60),
    tuesday(12, 0),
)
# Local weekly windows a patient may give (weekday, hh, mm, minutes).
WANTS = ((TUESDAY, 18, 0, 60), (TUESDAY, 12, 0, 60), (TUESDAY, 6, 0, 180), (2, 12, 0, 60))
WAKING = WakingHours()


@dataclass(frozen=True)
class Case:
    patients: list[Patient]
    counsellors: list[Counsellor]
    weights: MatchWeights


@st.composite
def cases(draw: st.DrawFn) -> Case:
    counsellors = []
    for n in range(draw(st.integers(0, 3))):
        zone = draw(st.sampled_from(ZONES))
        offers = draw(st.lists(st.sampled_from(OFFERS), min_size=0, max_size=2, unique=True))
        # Two start weeks: alternatives for one weekly time that share its capacity.
        offered = expand_weekly_slots(
            time_zone=zone,
            windows=offers,
            now=NOW,
            plan=PLAN,
            start_weeks=draw(st.sampled_from((1, 1, 2))),
        )[:3]
        counsellors.append(
            Counsellor(
                id=f"c{n}",
                languages=frozenset({draw(st.sampled_from(("de", "de", "en")))}),
                country="DE",
                certified=draw(st.sampled_from((True, True, True, False))),
                conditions=draw(st.sampled_from((frozenset(), frozenset({"X"})))),
                age_band=draw(st.sampled_from((None, 0, 1))),
                max_patients=draw(st.integers(0, 3)),
                active_patients=draw(st.integers(0, 1)),
                time_zone=zone,
                site=draw(st.sampled_from(("DE", "PL"))),
                slots=offered,
            )
        )
    patients = []
    for n in range(draw(st.integers(0, 4))):
        zone = draw(st.sampled_from(ZONES))
        tz = ZoneInfo(zone)
        ranges: list[TimeRange] = []
        for weekday, hour, minute, minutes in draw(
            st.lists(st.sampled_from(WANTS), min_size=1, max_size=2, unique=True)
        ):
            skip = draw(st.sampled_from(((), (), (), (3,))))
            ranges.extend(weekly(tz, weekday, time(hour, minute), minutes, skip=skip))
        patients.append(
            Patient(
                id=f"p{n}",
                languages=frozenset({draw(st.sampled_from(("de", "de", "en")))}),
                country="DE",
                conditions=draw(st.sampled_from((frozenset(), frozenset({"X"})))),
                age_band=draw(st.sampled_from((None, 0, 1))),
                call_times=tuple(ranges),
                time_zone=zone,
                allowed_sites=draw(st.sampled_from((None, None, frozenset({"DE"})))),
                declined_counsellor_ids=draw(st.sampled_from((frozenset(), frozenset({"c0"})))),
            )
        )
    weights = MatchWeights(
        same_condition=draw(st.integers(0, 30)),
        same_age_band=draw(st.integers(0, 30)),
        adjacent_age_band=draw(st.integers(0, 10)),
        load_spread=draw(st.integers(0, 10)),
    )
    return Case(patients, counsellors, weights)


def covered(start: int, ranges: Sequence[TimeRange]) -> bool:
    reached = start
    while reached < start + PLAN.call_minutes:
        ends = [r.end for r in ranges if r.start <= reached < r.end]
        if not ends:
            return False
        reached = max(ends)
    return True


def awake(start: int, zone: str) -> bool:
    begin = local(start, ZoneInfo(zone))
    end = local(start + PLAN.call_minutes, ZoneInfo(zone))
    minutes = begin.hour * 60 + begin.minute
    until = end.hour * 60 + end.minute if end.date() == begin.date() else 24 * 60
    return WAKING.start <= minutes and until <= WAKING.end


def bookable(slot: WeeklySlot, patient: Patient, counsellor: Counsellor) -> bool:
    assert patient.time_zone and counsellor.time_zone
    return (
        NOW <= slot.calls[0] < NOW + PLAN.first_call_within_minutes
        and all(covered(t, patient.call_times) for t in slot.calls)
        and all(awake(t, patient.time_zone) and awake(t, counsellor.time_zone) for t in slot.calls)
    )


def pair_ok(patient: Patient, counsellor: Counsellor) -> bool:
    return (
        counsellor.certified
        and counsellor.active
        and (patient.allowed_sites is None or counsellor.site in patient.allowed_sites)
        and bool(patient.languages & counsellor.languages)
        and counsellor.id not in patient.declined_counsellor_ids
        and counsellor.max_patients > counsellor.active_patients
    )


def points(patient: Patient, counsellor: Counsellor, w: MatchWeights) -> int:
    total = w.same_condition if patient.conditions & counsellor.conditions else 0
    total += w.same_country
    if patient.age_band is not None and counsellor.age_band is not None:
        total += {0: w.same_age_band, 1: w.adjacent_age_band}.get(
            abs(patient.age_band - counsellor.age_band), 0
        )
    return total


def brute_force(case: Case) -> Objective:
    options: list[list[tuple[Counsellor, WeeklySlot] | None]] = []
    for patient in case.patients:
        row: list[tuple[Counsellor, WeeklySlot] | None] = [None]
        for counsellor in case.counsellors:
            if pair_ok(patient, counsellor):
                row.extend(
                    (counsellor, slot)
                    for slot in counsellor.slots
                    if bookable(slot, patient, counsellor)
                )
        options.append(row)
    best = Objective(0, 0)
    for choice in itertools.product(*options):
        taken = [(p, pick) for p, pick in zip(case.patients, choice, strict=True) if pick]
        resources = [(c.id, s.key) for _, (c, s) in taken]
        if len(set(resources)) < len(resources):
            continue
        load: dict[str, int] = {}
        for _, (c, _) in taken:
            load[c.id] = load.get(c.id, 0) + 1
        by_id = {c.id: c for c in case.counsellors}
        if any(n > by_id[c].max_patients - by_id[c].active_patients for c, n in load.items()):
            continue
        score = sum(points(p, c, case.weights) for p, (c, _) in taken)
        score -= sum(
            case.weights.load_spread * (by_id[c].active_patients + k)
            for c, n in load.items()
            for k in range(n)
        )
        best = max(best, Objective(len(taken), score))
    return best


SETTINGS = settings(max_examples=40, deadline=None)


def solve(solver: Callable[..., BatchResult], case: Case) -> BatchResult:
    return solver(
        patients=case.patients,
        counsellors=case.counsellors,
        now=NOW,
        weights=case.weights,
        slot_capacity=True,
    )


@SETTINGS
@given(cases())
def test_it_equals_the_brute_force_over_bookable_assignments(case: Case) -> None:
    result = solve(match_batch, case)

    assert result.proven_optimal
    assert result.objective == brute_force(case)


@SETTINGS
@given(cases())
def test_every_match_is_bookable_at_its_proposed_weekly_time(case: Case) -> None:
    patients = {p.id: p for p in case.patients}
    counsellors = {c.id: c for c in case.counsellors}
    best = solve(match_batch, case)
    greedy = solve(match_greedy, case)

    assert best.objective >= greedy.objective
    for result in (best, greedy):
        for assignment in result.assignments:
            patient = patients[assignment.patient_id]
            counsellor = counsellors[assignment.counsellor_id]
            slot = assignment.slot
            assert slot is not None and not assignment.schedule_clash
            assert pair_ok(patient, counsellor)
            (offered,) = [s for s in counsellor.slots if s.calls == slot.calls]
            assert bookable(offered, patient, counsellor)
            zone = ZoneInfo(slot.time_zone)
            assert slot.time_zone == counsellor.time_zone
            # The same local weekday and time in the counsellor's zone, call after call.
            for t in slot.calls:
                moment = local(t, zone)
                assert moment.weekday() == slot.weekday
                assert f"{moment.hour:02d}:{moment.minute:02d}" == slot.local_time
        for counsellor in case.counsellors:
            mine = [a for a in result.assignments if a.counsellor_id == counsellor.id]
            assert len(mine) <= max(counsellor.max_patients - counsellor.active_patients, 0)
            calls = sorted(t for a in mine for t in a.schedule)
            assert all(b - a >= PLAN.call_minutes for a, b in itertools.pairwise(calls))
        assert sorted(
            [a.patient_id for a in result.assignments] + [u.patient_id for u in result.unmatched]
        ) == sorted(patients)


@SETTINGS
@given(cases())
def test_explanations_and_suggestions_agree_with_the_reference(case: Case) -> None:
    for patient in case.patients:
        ranked = suggest_counsellors(
            patient=patient,
            counsellors=case.counsellors,
            now=NOW,
            weights=case.weights,
            slot_capacity=True,
            limit=None,
        )
        expected = sorted(
            c.id
            for c in case.counsellors
            if pair_ok(patient, c) and any(bookable(s, patient, c) for s in c.slots)
        )
        assert sorted(s.counsellor_id for s in ranked.suggestions) == expected
        for counsellor in case.counsellors:
            report = explain_pair(
                patient=patient,
                counsellor=counsellor,
                now=NOW,
                weights=case.weights,
                slot_capacity=True,
            )
            assert report.eligible == (counsellor.id in expected)
            fits = any(bookable(s, patient, counsellor) for s in counsellor.slots)
            assert (report.slot is not None) == fits
