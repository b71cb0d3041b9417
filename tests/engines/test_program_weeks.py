from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from rarebridge.engines.program_weeks import UnlockRule, local_midnight, week_opens_at, weeks_state

BERLIN = ZoneInfo("Europe/Berlin")
TORONTO = ZoneInfo("America/Toronto")


def test_it_opens_each_week_at_local_midnight_across_the_spring_clock_change():
    # Start Monday 16 March 2026; Europe moves clocks forward on 29 March.
    opens = [week_opens_at(start=date(2026, 3, 16), week=n, zone=BERLIN) for n in (1, 2, 3)]
    assert opens == [
        datetime(2026, 3, 15, 23, 0, tzinfo=UTC),  # CET, UTC+1
        datetime(2026, 3, 22, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 22, 0, tzinfo=UTC),  # CEST, UTC+2
    ]


def test_it_follows_each_patients_own_zone():
    assert week_opens_at(start=date(2026, 11, 2), week=1, zone=TORONTO) == datetime(
        2026, 11, 2, 5, 0, tzinfo=UTC
    )
    assert week_opens_at(start=date(2026, 11, 2), week=1, zone=BERLIN) == datetime(
        2026, 11, 1, 23, 0, tzinfo=UTC
    )


def test_it_opens_everything_at_the_start_when_the_program_says_so():
    states = weeks_state(
        start=date(2026, 1, 5),
        weeks=6,
        zone=BERLIN,
        now=datetime(2026, 1, 5, 9, tzinfo=UTC),
        rule=UnlockRule.ALL_AT_ONCE,
    )
    assert all(s.is_open for s in states)


def test_it_knows_the_current_week_and_what_is_still_closed():
    now = datetime(2026, 1, 20, 12, tzinfo=UTC)  # day 16 of a program started 5 January
    states = weeks_state(start=date(2026, 1, 5), weeks=6, zone=BERLIN, now=now)
    assert [s.is_open for s in states] == [True, True, True, False, False, False]
    assert [s.number for s in states if s.is_current] == [3]


def test_it_has_no_current_week_before_the_start():
    states = weeks_state(
        start=date(2026, 1, 5), weeks=6, zone=BERLIN, now=datetime(2026, 1, 4, 12, tzinfo=UTC)
    )
    assert not any(s.is_open or s.is_current for s in states)


def test_it_starts_at_the_first_real_time_when_midnight_does_not_exist():
    # America/Havana moves clocks forward at midnight (00:00 → 01:00) on 8 March 2026.
    havana = ZoneInfo("America/Havana")
    start = local_midnight(day=date(2026, 3, 8), zone=havana)
    assert start.astimezone(havana).hour == 1


@given(
    start=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    zone=st.sampled_from(
        ["Europe/Berlin", "America/Toronto", "Europe/Budapest", "Europe/Warsaw", "Europe/Brussels"]
    ),
    week=st.integers(min_value=1, max_value=6),
)
def test_it_always_opens_a_week_at_local_midnight_seven_days_apart(start, zone, week):
    tz = ZoneInfo(zone)
    opens = week_opens_at(start=start, week=week, zone=tz).astimezone(tz)
    assert (opens.hour, opens.minute) == (0, 0)
    assert opens.date() == start + timedelta(days=7 * (week - 1))
