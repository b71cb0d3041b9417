"""Free call slots from weekly availability in the counsellor's own time zone.

A counsellor says "Mondays 17:00-20:00" in their zone; that means 17:00 local on every Monday,
whatever the daylight-saving state, so the UTC instants move with the clocks. Exceptions remove
whole days or hours; booked calls remove their slot. Everything is pure: rules in, aware UTC
instants out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo


@dataclass(frozen=True, slots=True)
class WeeklyRule:
    weekday: int  # Monday = 0
    start: time
    end: time
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True, slots=True)
class Exception_:
    day: date
    start: time | None = None  # None with end None: the whole day
    end: time | None = None


def _local(day: date, at: time, zone: tzinfo) -> datetime | None:
    """The instant of a local wall time, or None when that time does not exist (spring gap)."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=zone)
    back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != naive:
        return None
    return aware.astimezone(UTC)


def free_slots(
    *,
    rules: Iterable[WeeklyRule],
    exceptions: Iterable[Exception_],
    busy: Iterable[tuple[datetime, datetime]],
    zone: tzinfo,
    start: datetime,
    end: datetime,
    minutes: int = 30,
) -> list[datetime]:
    """Start instants (UTC) of free slots of ``minutes`` between ``start`` and ``end``."""
    rules = list(rules)
    blocked_days = {e.day for e in exceptions if e.start is None}
    blocked_hours = [
        (e.day, e.start, e.end) for e in exceptions if e.start is not None and e.end is not None
    ]
    busy_list = sorted(busy)
    step = timedelta(minutes=minutes)
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    found: set[datetime] = set()
    day = first_day
    while day <= last_day:
        if day not in blocked_days:
            for rule in rules:
                if rule.weekday != day.weekday():
                    continue
                if (rule.valid_from and day < rule.valid_from) or (
                    rule.valid_until and day > rule.valid_until
                ):
                    continue
                wall = datetime.combine(day, rule.start)
                wall_end = datetime.combine(day, rule.end)
                while wall + step <= wall_end:
                    # The whole call must fit: an hour off that overlaps any part of it
                    # (17:15-17:45 and a call at 17:00) blocks the slot, not only its start.
                    if not any(
                        d == day
                        and datetime.combine(d, s) < wall + step
                        and wall < datetime.combine(d, e)
                        for d, s, e in blocked_hours
                    ):
                        instant = _local(day, wall.time(), zone)
                        if instant is not None and start <= instant and instant + step <= end:
                            found.add(instant)
                    wall += step
        day += timedelta(days=1)
    return sorted(s for s in found if not any(b0 < s + step and s < b1 for b0, b1 in busy_list))
