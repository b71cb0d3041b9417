"""Assessment schedule: windows in the participant's local days, reminders, statuses."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rarebridge.engines.windows import (
    DEFAULT_RULES,
    ScheduleRules,
    Send,
    TimepointStatus,
    TimepointWindow,
    WindowRule,
    add_months,
    assessment_schedule,
    invitation_times,
    local_day_start,
    timepoint_status,
)

# Trial sites, plus zones that change clocks at midnight (Santiago, Havana, Tehran), by half an
# hour (Lord Howe), at odd offsets (St John's, Chatham) or several times a year (Casablanca).
ZONES = [
    "Europe/Berlin",
    "Europe/Budapest",
    "Europe/Warsaw",
    "Europe/Brussels",
    "America/Toronto",
    "America/Santiago",
    "America/Havana",
    "Asia/Tehran",
    "Australia/Lord_Howe",
    "America/St_Johns",
    "Pacific/Chatham",
    "Africa/Casablanca",
    "Asia/Kolkata",
    "UTC",
]


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone))


def _starts_local_day(instant: datetime, zone: str, day: date) -> bool:
    """``instant`` is the first instant of ``day`` in ``zone``: on it, and a moment before not."""
    before = instant - timedelta(microseconds=1)
    return _local(instant, zone).date() == day and _local(before, zone).date() == day - timedelta(
        days=1
    )


# --- windows across time zones and daylight-saving changes ------------------------------------


def test_it_opens_berlin_windows_at_23_utc_in_winter_and_22_utc_in_summer() -> None:
    baseline, post, follow_up = assessment_schedule(
        randomised_at=utc(2025, 1, 10, 10, 0),
        program_start=date(2025, 2, 10),
        time_zone="Europe/Berlin",
    )

    assert (baseline.opens_at, baseline.closes_at) == (utc(2025, 1, 2, 23), utc(2025, 1, 10, 10))
    # Week 6 ends 24 March; the window runs 17 March to 14 April and spans the change on 30 March.
    assert post.target == date(2025, 3, 24)
    assert post.opens_at == utc(2025, 3, 16, 23)
    assert post.due_at == utc(2025, 3, 24, 23)
    assert post.closes_at == utc(2025, 4, 14, 22)
    assert post.closes_at - post.opens_at == timedelta(days=29) - timedelta(hours=1)
    assert follow_up.target == date(2025, 6, 24)
    assert (follow_up.opens_at, follow_up.closes_at) == (utc(2025, 6, 16, 22), utc(2025, 7, 15, 22))


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Europe/Budapest"])
def test_it_closes_an_autumn_window_an_hour_later_in_utc(zone: str) -> None:
    _, post, follow_up = assessment_schedule(
        randomised_at=utc(2025, 9, 1, 8), program_start=date(2025, 9, 8), time_zone=zone
    )

    # Clocks go back on 26 October: opens in summer time, closes in winter time.
    assert post.target == date(2025, 10, 20)
    assert post.opens_at == utc(2025, 10, 12, 22)
    assert post.closes_at == utc(2025, 11, 10, 23)
    assert post.closes_at - post.opens_at == timedelta(days=29, hours=1)
    assert follow_up.target == date(2026, 1, 20)
    assert follow_up.opens_at == utc(2026, 1, 12, 23)


def test_it_follows_toronto_days_across_its_own_change_dates() -> None:
    _, post, _ = assessment_schedule(
        randomised_at=utc(2025, 1, 20, 15),
        program_start=date(2025, 1, 27),
        time_zone="America/Toronto",
    )

    # Toronto springs forward on 9 March, three weeks before Europe.
    assert post.target == date(2025, 3, 10)
    assert post.opens_at == utc(2025, 3, 3, 5)
    assert post.due_at == utc(2025, 3, 11, 4)
    assert post.closes_at == utc(2025, 4, 1, 4)


def test_it_counts_days_from_the_participants_date_of_randomisation() -> None:
    late_evening_utc = utc(2025, 3, 29, 23, 30)

    berlin = assessment_schedule(
        randomised_at=late_evening_utc, program_start=None, time_zone="Europe/Berlin"
    )
    toronto = assessment_schedule(
        randomised_at=late_evening_utc, program_start=None, time_zone="America/Toronto"
    )

    assert berlin[0].target == date(2025, 3, 30)
    assert toronto[0].target == date(2025, 3, 29)
    assert berlin[1].target - toronto[1].target == timedelta(days=1)


def test_it_starts_a_day_at_one_where_midnight_is_skipped() -> None:
    # Santiago springs forward at midnight on 8 September 2024: the day begins at 01:00 (-03).
    start = local_day_start(day=date(2024, 9, 8), zone=ZoneInfo("America/Santiago"))

    assert start == utc(2024, 9, 8, 4)
    assert _local(start, "America/Santiago").time() == time(1, 0)


def test_it_gives_the_control_arm_the_planned_offset_from_randomisation() -> None:
    _, post, follow_up = assessment_schedule(
        randomised_at=utc(2025, 5, 5, 9), program_start=None, time_zone="Europe/Warsaw"
    )

    assert post.target == date(2025, 5, 5) + timedelta(days=7 + 42)
    assert follow_up.target == date(2025, 9, 23)


def test_it_closes_baseline_at_the_instant_of_randomisation() -> None:
    randomised = utc(2025, 5, 5, 9, 17, 3)
    baseline, _, _ = assessment_schedule(
        randomised_at=randomised, program_start=None, time_zone="Europe/Warsaw"
    )

    assert baseline.closes_at == baseline.due_at == randomised
    assert not baseline.contains(randomised)
    assert baseline.contains(randomised - timedelta(seconds=1))


@given(
    zone=st.sampled_from(ZONES),
    randomised_at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2036, 12, 31), timezones=st.just(UTC)
    ),
    start_delay=st.none() | st.integers(0, 40),
    before=st.integers(0, 14),
    after=st.integers(0, 30),
)
def test_it_puts_every_boundary_on_a_local_midnight_in_any_zone(
    zone: str, randomised_at: datetime, start_delay: int | None, before: int, after: int
) -> None:
    rules = ScheduleRules(
        post_window=WindowRule(opens_days_before=before, closes_days_after=after),
        follow_up_window=WindowRule(opens_days_before=before, closes_days_after=after),
    )
    randomised_day = _local(randomised_at, zone).date()
    program_start = None if start_delay is None else randomised_day + timedelta(days=start_delay)

    baseline, post, follow_up = assessment_schedule(
        randomised_at=randomised_at, program_start=program_start, time_zone=zone, rules=rules
    )

    assert baseline.target == randomised_day
    assert _starts_local_day(baseline.opens_at, zone, randomised_day - timedelta(days=7))
    assert baseline.closes_at == randomised_at
    expected_start = program_start or randomised_day + timedelta(days=7)
    assert post.target == expected_start + timedelta(weeks=6)
    assert follow_up.target == add_months(day=post.target, months=3)
    for window in (post, follow_up):
        assert _starts_local_day(window.opens_at, zone, window.target - timedelta(days=before))
        assert _starts_local_day(window.due_at, zone, window.target + timedelta(days=1))
        assert _starts_local_day(window.closes_at, zone, window.target + timedelta(days=after + 1))
    instants = [
        baseline.opens_at,
        baseline.closes_at,
        post.opens_at,
        post.due_at,
        post.closes_at,
        follow_up.opens_at,
        follow_up.due_at,
        follow_up.closes_at,
    ]
    assert instants == sorted(instants)
    assert all(instant.tzinfo is UTC for instant in instants)


# --- months and rules --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2025, 10, 15), 3, date(2026, 1, 15)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
    ],
)
def test_it_adds_calendar_months_clamped_to_the_months_end(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day=day, months=months) == expected


@given(
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1)), months=st.integers(0, 60)
)
def test_it_lands_in_the_right_month_on_the_same_day_or_the_months_last(
    day: date, months: int
) -> None:
    result = add_months(day=day, months=months)

    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == day.day or (result.day < day.day and (result + timedelta(days=1)).day == 1)


def test_it_refuses_naive_datetimes_unknown_zones_and_early_program_starts() -> None:
    with pytest.raises(ValueError, match="aware"):
        assessment_schedule(
            randomised_at=datetime(2025, 1, 1, 12), program_start=None, time_zone="Europe/Berlin"
        )
    with pytest.raises(ValueError, match="time zone"):
        assessment_schedule(
            randomised_at=utc(2025, 1, 1, 12), program_start=None, time_zone="Europe/Hamburg"
        )
    with pytest.raises(ValueError, match="before the randomisation"):
        assessment_schedule(
            randomised_at=utc(2025, 1, 1, 12),
            program_start=date(2024, 12, 31),
            time_zone="Europe/Berlin",
        )


def test_it_refuses_rules_that_make_windows_overlap() -> None:
    rules = ScheduleRules(post_window=WindowRule(opens_days_before=7, closes_days_after=90))

    with pytest.raises(ValueError, match="overlap"):
        assessment_schedule(
            randomised_at=utc(2025, 1, 1, 12), program_start=None, time_zone="UTC", rules=rules
        )


@pytest.mark.parametrize(
    "change",
    [
        {"program_weeks": 0},
        {"follow_up_months": 0},
        {"reminder_every_days": 0},
        {"max_reminders": -1},
        {"baseline_days_before": -1},
    ],
)
def test_it_refuses_impossible_rules(change: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        replace(DEFAULT_RULES, **change)


def test_it_refuses_a_negative_window() -> None:
    with pytest.raises(ValueError):
        WindowRule(opens_days_before=-1)


# --- status ------------------------------------------------------------------------------------


@pytest.fixture
def post() -> TimepointWindow:
    return assessment_schedule(
        randomised_at=utc(2025, 1, 10, 10),
        program_start=date(2025, 2, 10),
        time_zone="Europe/Berlin",
    )[1]


def test_it_reports_each_status_at_its_boundaries(post: TimepointWindow) -> None:
    tick = timedelta(microseconds=1)

    def status(at: datetime) -> TimepointStatus:
        return timepoint_status(window=post, at=at)

    assert status(post.opens_at - tick) is TimepointStatus.NOT_YET_OPEN
    assert status(post.opens_at) is TimepointStatus.OPEN
    assert status(post.due_at - tick) is TimepointStatus.OPEN
    assert status(post.due_at) is TimepointStatus.OVERDUE
    assert status(post.closes_at - tick) is TimepointStatus.OVERDUE
    assert status(post.closes_at) is TimepointStatus.MISSED


def test_it_counts_an_answer_from_its_own_instant_on(post: TimepointWindow) -> None:
    answered = post.due_at + timedelta(days=2)

    assert (
        timepoint_status(window=post, at=answered - timedelta(seconds=1), completed_at=answered)
        is TimepointStatus.OVERDUE
    )
    assert (
        timepoint_status(window=post, at=answered, completed_at=answered)
        is TimepointStatus.COMPLETED
    )
    late = post.closes_at + timedelta(days=1)
    assert timepoint_status(window=post, at=late, completed_at=late) is TimepointStatus.COMPLETED
    assert not post.contains(late)


@given(offsets=st.lists(st.integers(-40 * 86400, 70 * 86400), min_size=2, max_size=20))
def test_it_only_moves_forward_through_the_statuses(offsets: list[int]) -> None:
    window = assessment_schedule(
        randomised_at=utc(2025, 1, 10, 10),
        program_start=date(2025, 2, 10),
        time_zone="Europe/Berlin",
    )[1]
    order = [
        TimepointStatus.NOT_YET_OPEN,
        TimepointStatus.OPEN,
        TimepointStatus.OVERDUE,
        TimepointStatus.MISSED,
    ]

    statuses = [
        timepoint_status(window=window, at=window.opens_at + timedelta(seconds=s))
        for s in sorted(offsets)
    ]

    ranks = [order.index(s) for s in statuses]
    assert ranks == sorted(ranks)


def test_it_refuses_a_naive_instant(post: TimepointWindow) -> None:
    with pytest.raises(ValueError, match="aware"):
        timepoint_status(window=post, at=datetime(2025, 3, 20, 12))


# --- invitations and reminders -----------------------------------------------------------------


def test_it_keeps_reminders_at_six_in_the_evening_across_the_spring_change(
    post: TimepointWindow,
) -> None:
    sends = invitation_times(window=post, time_zone="Europe/Berlin", send_time=time(18, 0))

    assert sends == (
        Send(kind="invitation", number=0, at=utc(2025, 3, 24, 17)),
        Send(kind="reminder", number=1, at=utc(2025, 3, 27, 17)),
        Send(kind="reminder", number=2, at=utc(2025, 3, 30, 16)),
        Send(kind="reminder", number=3, at=utc(2025, 4, 2, 16)),
    )


def test_it_keeps_toronto_reminders_at_local_time_across_the_autumn_change() -> None:
    _, post, _ = assessment_schedule(
        randomised_at=utc(2025, 9, 10, 15),
        program_start=date(2025, 9, 18),
        time_zone="America/Toronto",
    )

    sends = invitation_times(window=post, time_zone="America/Toronto", send_time=time(18, 0))

    assert post.target == date(2025, 10, 30)
    assert [s.at for s in sends] == [
        utc(2025, 10, 30, 22),
        utc(2025, 11, 2, 23),
        utc(2025, 11, 5, 23),
        utc(2025, 11, 8, 23),
    ]


def test_it_moves_a_send_time_that_does_not_exist_forward_and_sends_a_doubled_one_once() -> None:
    rules = ScheduleRules(max_reminders=0)
    spring = TimepointWindow(
        code="T1",
        target=date(2025, 3, 30),
        opens_at=utc(2025, 3, 22, 23),
        due_at=utc(2025, 3, 30, 22),
        closes_at=utc(2025, 4, 20, 22),
    )
    autumn = TimepointWindow(
        code="T1",
        target=date(2025, 10, 26),
        opens_at=utc(2025, 10, 18, 22),
        due_at=utc(2025, 10, 26, 23),
        closes_at=utc(2025, 11, 16, 23),
    )

    [spring_send] = invitation_times(
        window=spring, time_zone="Europe/Berlin", send_time=time(2, 30), rules=rules
    )
    [autumn_send] = invitation_times(
        window=autumn, time_zone="Europe/Berlin", send_time=time(2, 30), rules=rules
    )

    assert spring_send.at == utc(2025, 3, 30, 1, 30)  # 03:30 summer time
    assert autumn_send.at == utc(2025, 10, 26, 0, 30)  # the first 02:30, still summer time


def test_it_sends_no_reminder_after_the_window_closes() -> None:
    rules = ScheduleRules(post_window=WindowRule(opens_days_before=7, closes_days_after=5))
    _, post, _ = assessment_schedule(
        randomised_at=utc(2025, 1, 10, 10),
        program_start=date(2025, 2, 10),
        time_zone="Europe/Berlin",
        rules=rules,
    )

    sends = invitation_times(
        window=post, time_zone="Europe/Berlin", send_time=time(18), rules=rules
    )

    assert [(s.kind, s.number) for s in sends] == [("invitation", 0), ("reminder", 1)]


def test_it_never_invites_before_the_window_opens(post: TimepointWindow) -> None:
    rules = ScheduleRules(invite_days_before_target=10)

    sends = invitation_times(window=post, time_zone="Europe/Berlin", send_time=time(9), rules=rules)

    assert sends[0].at == utc(2025, 3, 17, 8)  # first day of the window, 09:00 in Berlin


def test_it_drops_sends_before_not_before_but_keeps_their_numbers(post: TimepointWindow) -> None:
    sends = invitation_times(
        window=post,
        time_zone="Europe/Berlin",
        send_time=time(18),
        not_before=utc(2025, 3, 28),
    )

    assert [s.number for s in sends] == [2, 3]


def test_it_sends_nothing_for_a_baseline_that_closed_at_randomisation() -> None:
    baseline, _, _ = assessment_schedule(
        randomised_at=utc(2025, 1, 10, 10), program_start=None, time_zone="Europe/Berlin"
    )

    assert invitation_times(window=baseline, time_zone="Europe/Berlin", send_time=time(18)) == ()


@given(
    zone=st.sampled_from(ZONES),
    randomised_at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2036, 12, 31), timezones=st.just(UTC)
    ),
    send_time=st.times(),
    every=st.integers(1, 7),
    reminders=st.integers(0, 6),
)
def test_it_sends_at_the_chosen_local_time_every_k_days_inside_the_window(
    zone: str, randomised_at: datetime, send_time: time, every: int, reminders: int
) -> None:
    rules = ScheduleRules(reminder_every_days=every, max_reminders=reminders)
    schedule = assessment_schedule(
        randomised_at=randomised_at, program_start=None, time_zone=zone, rules=rules
    )

    for window in schedule[1:]:
        sends = invitation_times(window=window, time_zone=zone, send_time=send_time, rules=rules)

        assert sends[0] == Send(kind="invitation", number=0, at=sends[0].at)
        assert [s.number for s in sends] == list(range(len(sends)))
        assert len(sends) <= reminders + 1
        assert all(window.contains(s.at) for s in sends)
        local = [_local(s.at, zone) for s in sends]
        assert local[0].date() == window.target
        for previous, current in itertools.pairwise(local):
            assert (current.date() - previous.date()).days == every
        for moment in local:
            wall = moment.replace(tzinfo=None).time()
            # Only a time swallowed by a spring-forward gap may move.
            naive = datetime.combine(moment.date(), send_time)
            exists = (
                naive.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).astimezone(ZoneInfo(zone))
            ).replace(tzinfo=None) == naive
            assert wall == send_time or not exists
        # Every reminder the window has room for is there: a missing one would fall after it.
        if len(sends) <= reminders:
            next_day = window.target + timedelta(days=len(sends) * every)
            next_send = datetime.combine(next_day, send_time, tzinfo=ZoneInfo(zone))
            assert next_send.astimezone(UTC) >= window.closes_at


def test_it_uses_the_documented_defaults() -> None:
    documented = ScheduleRules(
        baseline_days_before=7,
        program_weeks=6,
        planned_start_delay_days=7,
        post_window=WindowRule(opens_days_before=7, closes_days_after=21),
        follow_up_months=3,
        follow_up_window=WindowRule(opens_days_before=7, closes_days_after=21),
        invite_days_before_target=0,
        reminder_every_days=3,
        max_reminders=3,
    )

    assert documented == DEFAULT_RULES
