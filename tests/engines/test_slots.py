from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from rarebridge.engines.slots import Exception_, WeeklyRule, free_slots

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_EVENING = WeeklyRule(weekday=0, start=time(17, 0), end=time(18, 0))


def _slots(**kw):
    base = dict(
        rules=[MONDAY_EVENING],
        exceptions=[],
        busy=[],
        zone=BERLIN,
        start=datetime(2026, 3, 20, tzinfo=UTC),
        end=datetime(2026, 4, 7, tzinfo=UTC),
    )
    base.update(kw)
    return free_slots(**base)


def test_it_keeps_local_time_when_the_clocks_change():
    # Monday 23 March (CET) and Monday 30 March (CEST): 17:00 local is 16:00 then 15:00 UTC.
    assert _slots() == [
        datetime(2026, 3, 23, 16, 0, tzinfo=UTC),
        datetime(2026, 3, 23, 16, 30, tzinfo=UTC),
        datetime(2026, 3, 30, 15, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 15, 30, tzinfo=UTC),
        datetime(2026, 4, 6, 15, 0, tzinfo=UTC),
        datetime(2026, 4, 6, 15, 30, tzinfo=UTC),
    ]


def test_it_removes_exception_days_hours_and_booked_calls():
    slots = _slots(
        exceptions=[
            Exception_(day=date(2026, 3, 23)),
            Exception_(day=date(2026, 3, 30), start=time(17, 30), end=time(18, 0)),
        ],
        busy=[(datetime(2026, 4, 6, 15, 0, tzinfo=UTC), datetime(2026, 4, 6, 15, 30, tzinfo=UTC))],
    )
    assert slots == [
        datetime(2026, 3, 30, 15, 0, tzinfo=UTC),
        datetime(2026, 4, 6, 15, 30, tzinfo=UTC),
    ]


def test_it_offers_a_slot_only_when_an_hour_off_leaves_the_whole_call_free():
    # Monday 30 March, off 17:15-17:45: both the 17:00 and the 17:30 call would overlap it.
    slots = _slots(
        exceptions=[Exception_(day=date(2026, 3, 30), start=time(17, 15), end=time(17, 45))]
    )
    assert [s for s in slots if s.date() == date(2026, 3, 30)] == []
    # Off 17:30-18:00 touches the 17:00 call only at its end: 17:00 stays.
    slots = _slots(
        exceptions=[Exception_(day=date(2026, 3, 30), start=time(17, 30), end=time(18, 0))]
    )
    assert [s for s in slots if s.date() == date(2026, 3, 30)] == [
        datetime(2026, 3, 30, 15, 0, tzinfo=UTC)
    ]


def test_it_respects_a_rules_validity_dates():
    rule = WeeklyRule(weekday=0, start=time(17, 0), end=time(17, 30), valid_from=date(2026, 3, 30))
    assert [s.date() for s in _slots(rules=[rule])] == [date(2026, 3, 30), date(2026, 4, 6)]


def test_it_skips_a_wall_time_that_does_not_exist():
    # Sunday 29 March 2026, 02:00-03:00 does not exist in Berlin.
    rule = WeeklyRule(weekday=6, start=time(2, 0), end=time(3, 30))
    slots = _slots(
        rules=[rule], start=datetime(2026, 3, 28, tzinfo=UTC), end=datetime(2026, 3, 30, tzinfo=UTC)
    )
    assert [s.astimezone(BERLIN).time() for s in slots] == [time(3, 0)]


@given(
    weekday=st.integers(0, 6),
    hour=st.integers(6, 20),
    length=st.integers(1, 4),
    zone=st.sampled_from(["Europe/Berlin", "America/Toronto", "Europe/Warsaw"]),
    offset=st.integers(0, 400),
)
def test_it_always_offers_slots_inside_the_local_window(weekday, hour, length, zone, offset):
    tz = ZoneInfo(zone)
    rule = WeeklyRule(weekday=weekday, start=time(hour, 0), end=time(hour + length // 2 + 1, 0))
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=offset)
    for slot in free_slots(
        rules=[rule], exceptions=[], busy=[], zone=tz, start=start, end=start + timedelta(days=28)
    ):
        local = slot.astimezone(tz)
        assert (
            local.weekday() == weekday
            and rule.start <= local.time()
            and (local + timedelta(minutes=30)).time() <= rule.end
        ) or (local + timedelta(minutes=30)).time() == time(0, 0)
