"""Which weeks of a program are open for a patient, in the patient's own time zone.

Week n opens at local midnight of ``start + 7*(n-1)`` days in the patient's zone, so a week
always begins on the same weekday and clock time for the patient, whatever daylight-saving
changes happen in between. Everything here is pure: dates and zones in, instants out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo


class UnlockRule(StrEnum):
    WEEKLY = "weekly"
    ALL_AT_ONCE = "all_at_once"


@dataclass(frozen=True, slots=True)
class WeekState:
    number: int
    opens_at: datetime  # aware UTC instant of the local midnight that opens the week
    is_open: bool
    is_current: bool


def local_midnight(*, day: date, zone: tzinfo) -> datetime:
    """The instant the local day begins, in UTC. A zone whose clocks jump at midnight
    (no 00:00 that day) begins at the first valid local time after it."""
    naive = datetime.combine(day, time(0, 0))
    aware = naive.replace(tzinfo=zone)
    utc = aware.astimezone(ZoneInfo("UTC"))
    # A non-existent local time round-trips to a different wall time; step to the first real one.
    if utc.astimezone(zone).replace(tzinfo=None) != naive:
        for minutes in range(15, 24 * 60, 15):
            candidate = (naive + timedelta(minutes=minutes)).replace(tzinfo=zone)
            back = candidate.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
            if back == naive + timedelta(minutes=minutes):
                return candidate.astimezone(ZoneInfo("UTC"))
    return utc


def week_opens_at(
    *, start: date, week: int, zone: tzinfo, rule: UnlockRule = UnlockRule.WEEKLY
) -> datetime:
    offset = 0 if rule == UnlockRule.ALL_AT_ONCE else 7 * (week - 1)
    return local_midnight(day=start + timedelta(days=offset), zone=zone)


def weeks_state(
    *, start: date, weeks: int, zone: tzinfo, now: datetime, rule: UnlockRule = UnlockRule.WEEKLY
) -> list[WeekState]:
    """The state of every week at ``now`` (aware). The current week is the last open one by
    calendar, before the program starts none is current."""
    if now.tzinfo is None:
        raise ValueError("now must be aware")
    calendar_week = _calendar_week(start=start, weeks=weeks, zone=zone, now=now)
    states = []
    for number in range(1, weeks + 1):
        opens = week_opens_at(start=start, week=number, zone=zone, rule=rule)
        states.append(
            WeekState(
                number=number,
                opens_at=opens,
                is_open=opens <= now,
                is_current=number == calendar_week,
            )
        )
    return states


def _calendar_week(*, start: date, weeks: int, zone: tzinfo, now: datetime) -> int | None:
    today = now.astimezone(zone).date()
    if today < start:
        return None
    return min(weeks, (today - start).days // 7 + 1)
