"""The matching engine, by example: a fixed cast over a fixed week.

The cast: Hanna (a Hungarian patient in Debrecen, free Tuesday evenings), and the
counsellors Bea (Hungarian, Tuesday evenings), Dora (Hungarian, Tuesday mornings), Greta
(German only) and Piotr (Polish only). Monday 23 March 2026 is "now": the EU moves its
clocks on 29 March, inside the first-call window, so every test also crosses that change.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from rarebridge.engines.matching import (
    HARD_CRITERIA,
    PREFERENCE_CRITERIA,
    CallPlan,
    Counsellor,
    Criterion,
    FixCode,
    MatchingError,
    MatchWeights,
    Patient,
    ReasonCode,
    Requirement,
    TimeRange,
    Unmatched,
    explain_pair,
    match_batch,
    match_greedy,
    minute_to_datetime,
    suggest_counsellors,
    utc_minute,
)

NOW = utc_minute(datetime(2026, 3, 23, 8, 0, tzinfo=UTC))
BUDAPEST = ZoneInfo("Europe/Budapest")
BERLIN = ZoneInfo("Europe/Berlin")
TUESDAY = 1


def weekly(
    zone: ZoneInfo,
    weekday: int,
    start: time,
    minutes: int,
    *,
    weeks: range = range(8),
    first: date = date(2026, 3, 23),
) -> tuple[TimeRange, ...]:
    """A local weekly window expanded to UTC ranges, the way the counselling app does it."""
    ranges = []
    for week in weeks:
        day = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * week)
        begin = datetime.combine(day, start, tzinfo=zone)
        ranges.append(TimeRange.between(begin, begin + timedelta(minutes=minutes)))
    return tuple(ranges)


EVENINGS = weekly(BUDAPEST, TUESDAY, time(18, 0), 120)
MORNINGS = weekly(BUDAPEST, TUESDAY, time(8, 0), 120)

HANNA = Patient(
    id="hanna",
    languages=frozenset({"hu"}),
    country="HU",
    conditions=frozenset({"ORPHA:2137"}),
    condition_groups=frozenset({"liver"}),
    age_band=2,
    call_times=EVENINGS,
    time_zone="Europe/Budapest",
)
BEA = Counsellor(
    id="bea",
    languages=frozenset({"hu", "en"}),
    country="HU",
    conditions=frozenset({"ORPHA:171"}),
    condition_groups=frozenset({"liver"}),
    gender="female",
    age_band=3,
    max_patients=5,
    active_patients=1,
    free=EVENINGS,
)
DORA = replace(BEA, id="dora", free=MORNINGS)
GRETA = replace(BEA, id="greta", languages=frozenset({"de"}), country="DE")
PIOTR = replace(BEA, id="piotr", languages=frozenset({"pl"}), country="PL", gender="male")


def only_unmatched(patient: Patient, counsellors: list[Counsellor]) -> Unmatched:
    result = match_batch(patients=[patient], counsellors=counsellors, now=NOW)
    assert result.assignments == ()
    (unmatched,) = result.unmatched
    return unmatched


def fixes(unmatched: Unmatched) -> dict[FixCode, dict[str, object]]:
    return {fix.code: dict(fix.params) for fix in unmatched.fixes}


# --- matching -------------------------------------------------------------------------------


def test_it_matches_a_patient_with_a_counsellor_who_fits() -> None:
    result = match_batch(patients=[HANNA], counsellors=[GRETA, BEA, DORA, PIOTR], now=NOW)

    (assignment,) = result.assignments
    assert assignment.counsellor_id == "bea"
    assert result.unmatched == ()
    assert result.proven_optimal
    assert len(assignment.schedule) == 6


def test_it_proposes_six_weekly_calls_at_the_same_local_time_across_the_clock_change() -> None:
    (assignment,) = match_batch(patients=[HANNA], counsellors=[BEA], now=NOW).assignments

    local = [minute_to_datetime(minute).astimezone(BUDAPEST) for minute in assignment.schedule]
    assert [moment.time() for moment in local] == [time(18, 0)] * 6
    assert [moment.weekday() for moment in local] == [TUESDAY] * 6
    # 24 March is before the change, 31 March after: the UTC times differ by an hour.
    assert local[0].date() == date(2026, 3, 24)
    assert local[1].utcoffset() != local[0].utcoffset()


def test_it_keeps_the_rhythm_in_utc_for_a_patient_without_a_time_zone() -> None:
    no_zone = replace(HANNA, time_zone=None)

    (assignment,) = match_batch(patients=[no_zone], counsellors=[BEA], now=NOW).assignments

    local = [minute_to_datetime(minute).astimezone(BUDAPEST) for minute in assignment.schedule]
    # Still inside both evening windows, but an hour later on the wall clock.
    assert [moment.time() for moment in local] == [time(18, 0)] + [time(19, 0)] * 5


@pytest.mark.parametrize(
    "monday",
    [date(2026, 3, 23), date(2026, 10, 19)],
    ids=["spring-forward", "fall-back"],
)
def test_it_absorbs_a_daylight_saving_change_only_within_the_tolerance(monday: date) -> None:
    now = utc_minute(datetime.combine(monday, time(8, 0), tzinfo=UTC))
    half_hour = weekly(BUDAPEST, TUESDAY, time(18, 0), 30, first=monday)
    patient = replace(HANNA, call_times=half_hour)
    counsellor = replace(BEA, free=half_hour)
    one_week = 7 * 24 * 60

    def fits(tolerance: int) -> bool:
        plan = CallPlan(first_call_within_minutes=one_week, tolerance_minutes=tolerance)
        result = match_batch(patients=[patient], counsellors=[counsellor], now=now, plan=plan)
        return bool(result.assignments)

    # The first call is before the change, the rest an hour off it in UTC.
    assert [fits(tolerance) for tolerance in (0, 45, 60, 90)] == [False, False, True, True]


def test_it_holds_the_first_call_to_its_window_to_the_minute() -> None:
    # Both are free Mondays 07:30-08:30 UTC. "Now" is Monday 08:00, so the first call must
    # start before 08:00 two weeks on; the one-day tolerance must not stretch that.
    def mondays_from_april_6(start: time) -> tuple[TimeRange, ...]:
        first = datetime.combine(date(2026, 4, 6), start, tzinfo=UTC)
        return tuple(
            TimeRange.between(first + timedelta(weeks=n), first + timedelta(weeks=n, hours=1))
            for n in range(6)
        )

    at_half_past_seven = mondays_from_april_6(time(7, 30))
    at_eight = mondays_from_april_6(time(8, 0))

    early = explain_pair(
        patient=replace(HANNA, call_times=at_half_past_seven),
        counsellor=replace(BEA, free=at_half_past_seven),
        now=NOW,
    )
    late = explain_pair(
        patient=replace(HANNA, call_times=at_eight),
        counsellor=replace(BEA, free=at_eight),
        now=NOW,
    )

    assert early.schedule is not None
    assert early.schedule[0] == NOW + 14 * 24 * 60 - 30
    assert late.schedule is None
    assert late.reasons[HARD_CRITERIA.index(Criterion.CALL_TIMES)].code == (
        ReasonCode.NO_FIRST_CALL_IN_WINDOW
    )


def test_it_keeps_later_calls_closest_to_the_weekly_rhythm() -> None:
    def half_hour(day: int, hour: int, minute: int) -> TimeRange:
        begin = datetime(2026, 3, day, hour, minute, tzinfo=UTC)
        return TimeRange.between(begin, begin + timedelta(minutes=30))

    times = (half_hour(24, 17, 0), half_hour(31, 15, 0), half_hour(31, 17, 30))
    patient = replace(HANNA, call_times=times, time_zone=None)

    report = explain_pair(
        patient=patient, counsellor=replace(BEA, free=times), now=NOW, plan=CallPlan(calls=2)
    )

    # Half an hour late beats two hours early.
    assert report.schedule == (times[0].start, times[2].start)


def test_it_refuses_an_unknown_time_zone() -> None:
    with pytest.raises(MatchingError) as error:
        replace(HANNA, time_zone="Europe/Atlantis")

    assert error.value.code == "bad_time_zone"


def test_it_fits_a_call_across_ranges_that_touch_between_grid_lines() -> None:
    start = datetime(2026, 3, 24, 17, 0, tzinfo=UTC)
    split = (
        TimeRange.between(start, start + timedelta(minutes=10)),
        TimeRange.between(start + timedelta(minutes=10), start + timedelta(minutes=30)),
    )
    plan = CallPlan(calls=1)
    patient = replace(HANNA, call_times=split)
    counsellor = replace(BEA, free=(TimeRange.between(start, start + timedelta(hours=1)),))

    report = explain_pair(patient=patient, counsellor=counsellor, now=NOW, plan=plan)

    assert report.schedule == (utc_minute(start),)


def test_it_ignores_free_time_before_now() -> None:
    past = TimeRange(NOW - 600, NOW)
    patient = replace(HANNA, call_times=(past, *HANNA.call_times))
    counsellor = replace(BEA, free=(past,))

    report = explain_pair(patient=patient, counsellor=counsellor, now=NOW)

    assert not report.eligible
    assert report.reasons[HARD_CRITERIA.index(Criterion.CALL_TIMES)].code == (
        ReasonCode.NO_COMMON_SLOT
    )


def test_it_matches_as_many_patients_as_possible_before_scoring_preferences() -> None:
    # Erika fits both; Bea suits her better. Hanna fits only Bea. Both have one place.
    erika = replace(HANNA, id="erika", conditions=frozenset({"ORPHA:171"}))
    kata = replace(BEA, id="kata", max_patients=2, conditions=frozenset(), age_band=None)
    bea = replace(BEA, max_patients=2)
    hanna = replace(HANNA, id="hanna", declined_counsellor_ids=frozenset({"kata"}))

    batch = match_batch(patients=[erika, hanna], counsellors=[bea, kata], now=NOW)
    greedy = match_greedy(patients=[erika, hanna], counsellors=[bea, kata], now=NOW)

    assert {(a.patient_id, a.counsellor_id) for a in batch.assignments} == {
        ("erika", "kata"),
        ("hanna", "bea"),
    }
    assert greedy.objective.matched == 1
    (left_out,) = greedy.unmatched
    assert left_out.blocking is None
    assert left_out.reasons[0].code == ReasonCode.CAPACITY_TAKEN
    assert batch.objective > greedy.objective


def test_it_spreads_new_patients_across_equal_counsellors() -> None:
    twins = [replace(BEA, id="bea-1", active_patients=0), replace(BEA, id="bea-2")]
    patients = [replace(HANNA, id=f"p{n}") for n in range(3)]

    result = match_batch(patients=patients, counsellors=twins, now=NOW)

    new = {twin.id: 0 for twin in twins}
    for assignment in result.assignments:
        new[assignment.counsellor_id] += 1
    # bea-2 already has one patient, so two of the three go to bea-1: caseloads of 2 and 2.
    assert new == {"bea-1": 2, "bea-2": 1}


def test_it_keeps_the_current_counsellor_when_rematching() -> None:
    better = replace(BEA, id="anna", conditions=HANNA.conditions, age_band=2, active_patients=0)
    rematched = replace(HANNA, current_counsellor_id="bea")

    (assignment,) = match_batch(
        patients=[rematched], counsellors=[better, BEA], now=NOW
    ).assignments

    assert assignment.counsellor_id == "bea"
    continuity = assignment.reasons[-1]
    assert (continuity.criterion, continuity.code) == (
        Criterion.CONTINUITY,
        ReasonCode.KEEPS_COUNSELLOR,
    )


# --- the single-patient suggestion ----------------------------------------------------------


def test_it_ranks_same_condition_then_same_group_then_any() -> None:
    same = replace(BEA, id="c-same", conditions=HANNA.conditions)
    group = replace(BEA, id="b-group")
    other = replace(BEA, id="a-other", conditions=frozenset(), condition_groups=frozenset())

    ranked = suggest_counsellors(patient=HANNA, counsellors=[other, group, same], now=NOW)

    assert [s.counsellor_id for s in ranked.suggestions] == ["c-same", "b-group", "a-other"]
    codes = [s.reasons[len(HARD_CRITERIA)].code for s in ranked.suggestions]
    assert codes == [
        ReasonCode.SAME_CONDITION,
        ReasonCode.SAME_CONDITION_GROUP,
        ReasonCode.TRANSDIAGNOSTIC,
    ]


def test_it_breaks_ties_by_counsellor_id_and_honours_the_limit() -> None:
    clones = [replace(BEA, id=name) for name in ("zsofi", "agi", "mari")]

    ranked = suggest_counsellors(patient=HANNA, counsellors=clones, now=NOW, limit=2)

    assert [s.counsellor_id for s in ranked.suggestions] == ["agi", "mari"]
    assert ranked.unmatched is None


def test_it_scores_the_stated_gender_preference() -> None:
    wants_a_man = replace(HANNA, preferred_gender="male")
    laszlo = replace(BEA, id="laszlo", gender="male")

    ranked = suggest_counsellors(patient=wants_a_man, counsellors=[BEA, laszlo], now=NOW)

    assert [s.counsellor_id for s in ranked.suggestions] == ["laszlo", "bea"]
    gender = ranked.suggestions[1].reasons[len(HARD_CRITERIA) + 2]
    assert (gender.code, gender.met, dict(gender.params)) == (
        ReasonCode.GENDER_NOT_PREFERRED,
        False,
        {"gender": "male"},
    )


def test_it_gives_every_reason_with_points_that_add_up_to_the_score() -> None:
    (suggestion,) = suggest_counsellors(patient=HANNA, counsellors=[BEA], now=NOW).suggestions

    assert [r.criterion for r in suggestion.reasons] == [*HARD_CRITERIA, *PREFERENCE_CRITERIA]
    assert all(r.met for r in suggestion.reasons[: len(HARD_CRITERIA)])
    assert sum(r.points for r in suggestion.reasons) == suggestion.score
    # group (20) + country (10) + adjacent age band (4) - one patient on the caseload (2)
    assert suggestion.score == 32


def test_it_explains_why_a_counsellor_was_not_suggested() -> None:
    report = explain_pair(patient=HANNA, counsellor=replace(GRETA, certified=False), now=NOW)

    missed = {r.code for r in report.reasons if r.met is False}
    assert not report.eligible
    assert {ReasonCode.NOT_CERTIFIED, ReasonCode.NO_SHARED_LANGUAGE} <= missed
    assert report.schedule is not None  # the time would fit; the rest does not


# --- hard constraints and the unmatchable report --------------------------------------------


def test_it_reports_that_nobody_speaks_the_patients_language() -> None:
    unmatched = only_unmatched(HANNA, [GRETA, PIOTR])

    assert unmatched.blocking is Criterion.LANGUAGE
    (reason,) = unmatched.reasons
    assert reason.code == ReasonCode.NO_SHARED_LANGUAGE
    assert dict(reason.params) == {"languages": ("hu",), "counsellors": 2}
    assert fixes(unmatched) == {FixCode.RECRUIT_COUNSELLOR: {"languages": ("hu",), "country": "HU"}}


def test_it_reports_speakers_who_have_no_capacity() -> None:
    full = replace(BEA, active_patients=5)

    unmatched = only_unmatched(HANNA, [GRETA, full])

    assert unmatched.blocking is Criterion.CAPACITY
    assert [step.remaining for step in unmatched.funnel] == [2, 2, 2, 1, 1, 1, 0, 0]
    assert fixes(unmatched)[FixCode.RAISE_CAPACITY]["counsellor_ids"] == ("bea",)


def test_it_reports_capacity_without_overlapping_call_times() -> None:
    unmatched = only_unmatched(HANNA, [DORA, GRETA])

    assert unmatched.blocking is Criterion.CALL_TIMES
    assert unmatched.reasons[0].code == ReasonCode.NO_COMMON_SLOT
    assert fixes(unmatched)[FixCode.WIDEN_CALL_TIMES] == {
        "counsellors": 1,
        "counsellor_ids": ("dora",),
    }


def test_it_reports_a_first_call_too_late() -> None:
    later = replace(BEA, free=weekly(BUDAPEST, TUESDAY, time(18, 0), 120, weeks=range(3, 9)))

    unmatched = only_unmatched(HANNA, [later])

    assert unmatched.reasons[0].code == ReasonCode.NO_FIRST_CALL_IN_WINDOW


def test_it_reports_too_few_weeks_for_six_calls() -> None:
    leaving = replace(BEA, free=weekly(BUDAPEST, TUESDAY, time(18, 0), 120, weeks=range(3)))

    unmatched = only_unmatched(HANNA, [leaving])

    assert unmatched.reasons[0].code == ReasonCode.NO_WEEKLY_SERIES


def test_it_reports_a_patient_without_call_times() -> None:
    unmatched = only_unmatched(replace(HANNA, call_times=()), [BEA])

    assert unmatched.reasons[0].code == ReasonCode.NO_CALL_TIMES
    assert FixCode.WIDEN_CALL_TIMES in fixes(unmatched)


def test_it_never_proposes_a_pair_declined_before() -> None:
    declined = replace(HANNA, declined_counsellor_ids=frozenset({"bea"}))

    unmatched = only_unmatched(declined, [BEA])

    assert unmatched.blocking is Criterion.NOT_DECLINED
    assert fixes(unmatched)[FixCode.REVIEW_DECLINED]["counsellor_ids"] == ("bea",)


def test_it_suggests_certifying_or_reactivating_counsellors_who_would_fit() -> None:
    trainee = replace(BEA, id="trainee", certified=False)
    resting = replace(BEA, id="resting", active=False)

    unmatched = only_unmatched(HANNA, [trainee, resting])

    assert unmatched.blocking is Criterion.ACTIVE
    assert fixes(unmatched)[FixCode.CERTIFY_COUNSELLORS]["counsellor_ids"] == ("trainee",)
    assert fixes(unmatched)[FixCode.REACTIVATE_COUNSELLORS]["counsellor_ids"] == ("resting",)


def test_it_treats_a_required_preference_as_hard_and_suggests_relaxing_it() -> None:
    insists = replace(
        HANNA,
        preferred_gender="male",
        requirements=frozenset({Requirement.PREFERRED_GENDER}),
    )

    unmatched = only_unmatched(insists, [BEA])

    assert unmatched.blocking is Criterion.REQUIREMENTS
    assert dict(unmatched.reasons[0].params)["requirements"] == ("preferred_gender",)
    assert fixes(unmatched)[FixCode.RELAX_REQUIREMENT]["requirement"] == "preferred_gender"


def test_it_suggests_nobody_and_says_why() -> None:
    ranked = suggest_counsellors(patient=HANNA, counsellors=[GRETA], now=NOW)

    assert ranked.suggestions == ()
    assert ranked.unmatched is not None
    assert ranked.unmatched.blocking is Criterion.LANGUAGE


# --- proposed schedules within a batch ------------------------------------------------------


def test_it_proposes_series_that_do_not_clash_when_it_can() -> None:
    # Bea has two evening hours; Eva can only make 18:00, so she gets it, Hanna another time.
    eva = replace(HANNA, id="eva", call_times=weekly(BUDAPEST, TUESDAY, time(18, 0), 30))

    result = match_batch(patients=[HANNA, eva], counsellors=[BEA], now=NOW)

    first = {a.patient_id: a.schedule[0] for a in result.assignments}
    assert not any(a.schedule_clash for a in result.assignments)
    assert first["eva"] != first["hanna"]
    assert minute_to_datetime(first["eva"]).astimezone(BUDAPEST).time() == time(18, 0)


def test_it_flags_series_that_cannot_avoid_each_other() -> None:
    half_hour = weekly(BUDAPEST, TUESDAY, time(18, 0), 30)
    counsellor = replace(BEA, free=half_hour)
    patients = [replace(HANNA, id=name, call_times=half_hour) for name in ("eva", "hanna")]

    result = match_batch(patients=patients, counsellors=[counsellor], now=NOW)

    assert [a.schedule_clash for a in result.assignments] == [False, True]


# --- determinism and input checks -----------------------------------------------------------


def test_it_gives_the_same_answer_whatever_the_input_order() -> None:
    counsellors = [replace(BEA, id=f"c{n}", max_patients=2) for n in range(4)] + [DORA, GRETA]
    patients = [replace(HANNA, id=f"p{n}") for n in range(7)]
    first = match_batch(patients=patients, counsellors=counsellors, now=NOW)

    shuffler = random.Random(7)
    for _ in range(3):
        shuffler.shuffle(patients)
        shuffler.shuffle(counsellors)
        assert match_batch(patients=patients, counsellors=counsellors, now=NOW) == first


def test_it_refuses_duplicate_ids() -> None:
    with pytest.raises(MatchingError) as error:
        match_batch(patients=[HANNA, HANNA], counsellors=[BEA], now=NOW)

    assert error.value.code == "duplicate_id"


@pytest.mark.parametrize(
    "changes",
    [
        {"grain_minutes": 7},
        {"call_minutes": 20},
        {"calls": 0},
        {"tolerance_minutes": 4 * 24 * 60},
        {"first_call_within_minutes": 0},
    ],
)
def test_it_refuses_a_plan_it_cannot_honour(changes: dict[str, int]) -> None:
    with pytest.raises(MatchingError):
        CallPlan(**changes)


def test_it_refuses_negative_weights() -> None:
    with pytest.raises(MatchingError):
        MatchWeights(same_country=-1)


def test_it_refuses_naive_datetimes_and_rounds_ranges_inwards() -> None:
    with pytest.raises(MatchingError):
        utc_minute(datetime(2026, 3, 23, 8, 0))

    start = datetime(2026, 3, 23, 8, 0, 30, tzinfo=UTC)
    span = TimeRange.between(start, start + timedelta(minutes=10))
    assert (span.start, span.end) == (NOW + 1, NOW + 10)
    assert minute_to_datetime(NOW) == datetime(2026, 3, 23, 8, 0, tzinfo=UTC)


def test_it_reads_a_berlin_week_the_same_as_a_budapest_one() -> None:
    # Same UTC offset, same DST rules: the ranges, and so the answers, are identical.
    assert weekly(BERLIN, TUESDAY, time(18, 0), 120) == EVENINGS
