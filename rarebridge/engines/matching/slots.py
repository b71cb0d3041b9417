"""Slot capacity: a counsellor's recurring weekly slots as a shared, bookable resource.

A ``WeeklySlot`` is one whole series (six calls at the same local weekday and time in the
counsellor's zone). The engine checks each slot once against the plan (the calls' count,
length, grid, weekly rhythm and first-call window) and against the counsellor's waking hours,
then indexes it on the grid: a patient can keep a slot when every call of it is inside the
patient's call times and the patient's waking hours.

The fit test is bit logic, as in ``timegrid``. Across a daylight saving change a slot's calls
are not exactly a week apart in UTC; the offsets of its calls from the first (in grains) are
its ``pattern``, and a population has only a handful of patterns (one per zone rule and side of
the change). For each pattern, bit ``i`` of a patient's ``anchors`` is set when the patient can
take calls at ``i`` plus every offset; a slot fits when the bit of its first call is set. A
counsellor keeps, per pattern, the mask of its slots' first calls, so a pair's fitting slots are
one ``&`` per pattern.
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .model import (
    BookedSlot,
    CallPlan,
    Counsellor,
    MatchingError,
    TimeRange,
    WakingHours,
    WeeklySlot,
    minute_to_datetime,
    utc_minute,
)
from .timegrid import Grid

__all__ = ["CounsellorSlots", "SlotBook", "expand_weekly_slots"]

Pattern = tuple[int, ...]


def _lowest_bit(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


@dataclass(slots=True)
class CounsellorSlots:
    """One counsellor's usable slots, indexed for the fit test.

    ``resources`` are the keys (slots sharing a key are alternatives with one capacity);
    ``by_first`` maps the grain of a slot's first call to the slot's index, and
    ``resource_of`` a slot's index to its resource;
    ``firsts`` maps each pattern to the mask of the first-call grains of its slots.
    """

    slots: list[WeeklySlot] = field(default_factory=list)
    resource_of: list[int] = field(default_factory=list)
    resources: int = 0
    by_first: dict[int, int] = field(default_factory=dict)
    firsts: dict[Pattern, int] = field(default_factory=dict)
    any_first: int = 0  # the union of ``firsts``: a quick test that rejects most pairs


class SlotBook:
    """Slots of every counsellor and the waking-hour masks of every zone, for one run."""

    def __init__(
        self, *, grid: Grid, plan: CallPlan, waking: WakingHours, cache: bool = False
    ) -> None:
        self.grid = grid
        self.plan = plan
        self.waking = waking
        # Single-patient paths (a suggestion, an explanation) reuse the checked and indexed
        # slots of the same counsellor offer on the same grid (the grid moves every grain).
        self.cache = cache
        self.patterns: dict[Pattern, int] = {}  # pattern -> its number

    def waking_mask(self, zone: str) -> int:
        """Grains at which a whole call lies inside waking hours, local time in ``zone``."""
        return _waking_mask(zone, self.grid, self.waking)

    def pattern_number(self, pattern: Pattern) -> int:
        return self.patterns.setdefault(pattern, len(self.patterns))

    def index(self, counsellor: Counsellor) -> CounsellorSlots:
        """Check and index a counsellor's slots; slots that cannot be booked are left out.

        Refused (``MatchingError``): a slot of the wrong shape for the plan, off the grid, or
        overlapping a slot with another key. Left out quietly: a slot whose first call is not
        in the first-call window (stale or too far ahead), or with a call outside the
        counsellor's waking hours.
        """
        if not counsellor.slots:
            return CounsellorSlots()
        if counsellor.time_zone is None:
            raise MatchingError(
                "missing_time_zone", f"counsellor {counsellor.id!r} offers slots but has no zone"
            )
        build = _cached_index if self.cache else _index
        try:
            indexed = build(
                counsellor.slots, counsellor.time_zone, self.grid, self.plan, self.waking
            )
        except MatchingError as error:
            raise MatchingError(error.code, f"counsellor {counsellor.id!r}: {error}") from error
        for pattern in indexed.firsts:
            self.pattern_number(pattern)
        return indexed

    @staticmethod
    def earliest(hits: int, slots: CounsellorSlots) -> WeeklySlot | None:
        return slots.slots[slots.by_first[_lowest_bit(hits)]] if hits else None


@functools.lru_cache(maxsize=256)
def _waking_mask(zone: str, grid: Grid, waking: WakingHours) -> int:
    tz = ZoneInfo(zone)
    first = minute_to_datetime(grid.origin).astimezone(tz).date() - timedelta(days=1)
    last = minute_to_datetime(grid.origin + (grid.span + grid.call) * grid.grain)
    days = (last.astimezone(tz).date() - first).days + 2
    ranges = []
    for offset in range(days):
        midnight = datetime.combine(first + timedelta(days=offset), time(0), tzinfo=tz)
        # Wall-clock arithmetic: an aware datetime plus a timedelta keeps local time.
        begin = utc_minute(midnight + timedelta(minutes=waking.start))
        end = utc_minute(midnight + timedelta(minutes=waking.end))
        if end > begin:
            ranges.append(TimeRange(begin, end))
    return grid.start_mask(ranges)


def _index(
    slots: tuple[WeeklySlot, ...], zone: str, grid: Grid, plan: CallPlan, waking: WakingHours
) -> CounsellorSlots:
    """One counsellor's slots checked and indexed (see ``SlotBook.index``).

    The first-call window is read on the grid: calls are on grid lines, so "at or after now"
    is "at or after the grid's origin" and "before now plus the window" is "before grain
    ``grid.first``". That makes the result depend on the grid alone, not on ``now``.
    """
    indexed = CounsellorSlots()
    _check_disjoint(slots, plan.call_minutes)
    awake = _waking_mask(zone, grid, waking)
    keys: dict[str, int] = {}
    for slot in slots:
        calls = slot.calls
        if len(calls) != plan.calls or any(
            (t - grid.origin) % grid.grain
            or abs(t - (calls[0] + k * plan.interval_minutes)) > plan.tolerance_minutes
            for k, t in enumerate(calls)
        ):
            raise MatchingError("bad_slot", f"a slot is not {plan.calls} weekly calls on the grid")
        grains = [(t - grid.origin) // grid.grain for t in calls]
        if not 0 <= grains[0] < grid.first:
            continue
        if any(not awake >> g & 1 for g in grains):
            continue
        if slot.key is None:
            resource = indexed.resources
            indexed.resources += 1
        else:
            resource = keys.setdefault(slot.key, indexed.resources)
            if resource == indexed.resources:
                indexed.resources += 1
        pattern = tuple(g - grains[0] for g in grains)
        number = len(indexed.slots)
        indexed.slots.append(slot)
        indexed.resource_of.append(resource)
        indexed.by_first[grains[0]] = number
        indexed.firsts[pattern] = indexed.firsts.get(pattern, 0) | (1 << grains[0])
        indexed.any_first |= 1 << grains[0]
    return indexed


# The indexed result is shared between calls: nothing mutates a CounsellorSlots once built.
_cached_index = functools.lru_cache(maxsize=4096)(_index)


def booked(slot: WeeklySlot, zone: str) -> BookedSlot:
    """The output form of a slot: its calls plus its weekday and time in ``zone``."""
    local = minute_to_datetime(slot.calls[0]).astimezone(ZoneInfo(zone))
    return BookedSlot(
        calls=slot.calls,
        time_zone=zone,
        weekday=local.weekday(),
        local_time=f"{local.hour:02d}:{local.minute:02d}",
    )


def _check_disjoint(slots: tuple[WeeklySlot, ...], call_minutes: int) -> None:
    calls = sorted(
        (start, slot.key if slot.key is not None else number)
        for number, slot in enumerate(slots)
        for start in slot.calls
    )
    for index, (start, key) in enumerate(calls):
        for later, other in itertools.islice(calls, index + 1, None):
            if later >= start + call_minutes:
                break
            if other != key:
                raise MatchingError("overlapping_slots", f"two slots overlap at UTC minute {later}")


def _merge(ranges: Iterable[TimeRange]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for item in sorted(ranges, key=lambda r: (r.start, r.end)):
        if merged and item.start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], item.end))
        else:
            merged.append((item.start, item.end))
    return merged


def _covered(merged: list[tuple[int, int]], start: int, end: int) -> bool:
    at = bisect.bisect_right(merged, (start, 1 << 62)) - 1
    return at >= 0 and merged[at][0] <= start and end <= merged[at][1]


def expand_weekly_slots(
    *,
    time_zone: str,
    windows: Iterable[tuple[int, int, int]],
    now: int,
    plan: CallPlan,
    busy: Sequence[TimeRange] = (),
    free: Sequence[TimeRange] | None = None,
    start_weeks: int = 2,
) -> tuple[WeeklySlot, ...]:
    """A counsellor's weekly availability cut into bookable recurring slots (for the caller).

    ``windows`` are ``(weekday, start, end)`` in the counsellor's local time (weekday 0 is
    Monday, start and end in minutes after midnight). Each window is cut into calls on a grid
    of ``call_minutes`` from local midnight, so slots never overlap; each local weekly time
    becomes a series of ``plan.calls`` calls at that same local time, starting in each of the
    next ``start_weeks`` weeks whose first call is in the first-call window (alternatives with
    one key, so they share one capacity). A series that touches a ``busy`` range (calls
    already booked), has a call outside ``free`` (when given: the counsellor's free time with
    exceptions and booked calls already taken out, as the legacy ``Counsellor.free``), or
    falls on a local time that does not exist (a clock change) is left out.
    """
    tz = ZoneInfo(time_zone)
    step = plan.call_minutes
    times: set[tuple[int, int]] = set()
    for weekday, start, end in windows:
        if not (0 <= weekday < 7 and 0 <= start < end <= 24 * 60):
            raise MatchingError(
                "bad_window",
                f"a weekly window is (weekday 0-6, start, end) within one day: "
                f"{(weekday, start, end)!r}",
            )
        first = -(-start // step) * step
        for minute in range(first, end - step + 1, step):
            times.add((weekday, minute))
    taken = sorted((item.start, item.end) for item in busy)
    open_ranges = _merge(free) if free is not None else None
    today: date = minute_to_datetime(now).astimezone(tz).date()
    slots: list[WeeklySlot] = []
    for weekday, minute in sorted(times):
        key = f"{weekday}:{minute // 60:02d}:{minute % 60:02d}"
        first_day = today + timedelta(days=(weekday - today.weekday()) % 7)
        offered = 0
        for week in range(start_weeks + 1):
            calls: list[int] = []
            for k in range(plan.calls):
                day = first_day + timedelta(days=7 * (week + k))
                local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
                # A local time skipped by the clock change does not survive the round trip.
                back = minute_to_datetime(utc_minute(local)).astimezone(tz)
                if back.replace(tzinfo=None) != local.replace(tzinfo=None):
                    break
                calls.append(utc_minute(local))
            if len(calls) != plan.calls:
                continue
            if not now <= calls[0] < now + plan.first_call_within_minutes:
                continue
            if any(s < t + step and t < e for t in calls for s, e in taken):
                continue
            if open_ranges is not None and not all(
                _covered(open_ranges, t, t + step) for t in calls
            ):
                continue
            slots.append(WeeklySlot(calls=tuple(calls), key=key))
            offered += 1
            if offered >= start_weeks:
                break
    return tuple(slots)
