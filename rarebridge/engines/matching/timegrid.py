"""Does a six-call weekly series fit both people's time? Answered with bitmasks.

The horizon (from ``now`` to the last possible call) is cut into grains of the plan's
``grain_minutes``, aligned to the epoch so every person's grains line up. A person's time
becomes one Python int: bit ``i`` is set when a call may start at grain ``i`` (all the call's
grains are free). A pair's common starts are then a single ``&``, which is what makes 2.5
million pairs affordable; Python ints are arbitrary-precision bitsets with C-speed bit logic.

Anchors: bit ``i`` of the anchors of a start mask ``S`` is set when a series can begin at
grain ``i``: ``i`` is in the first-call window, ``i`` is in ``S``, and for every later call
``k`` some start of ``S`` lies within ``slack`` grains of ``i + k * week``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta, tzinfo

from .model import CallPlan, ReasonCode, TimeRange, minute_to_datetime, utc_minute

__all__ = ["Grid", "Timing"]


def _dilate(mask: int, radius: int) -> int:
    """Bit ``i`` of the result is set when ``mask`` has a bit within ``radius`` of ``i``."""
    width = 2 * radius + 1
    spread = mask
    covered = 1
    # Doubling: after each step ``spread`` holds every shift of ``mask`` by 0..covered-1.
    while covered < width:
        step = min(covered, width - covered)
        spread |= spread << step
        covered += step
    return spread >> radius


def _lowest_bit(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


@dataclass(frozen=True, slots=True)
class Timing:
    """One person's time on the grid, with two summaries that settle most pairs in one ``&``.

    ``weekly``: anchors of a series at exactly one interval apart, for this person alone. If
    two people's ``weekly`` masks share a bit, the pair fits (a sufficient test).
    ``loose``: anchors of this person alone with the tolerance. A pair's anchors are always a
    subset of both people's ``loose`` masks, so if those share no bit the pair cannot fit
    (a necessary test). Only pairs between the two tests need the exact computation.
    """

    starts: int
    weekly: int
    loose: int


@dataclass(frozen=True, slots=True)
class Grid:
    """The horizon of one matching run, cut into grains; built from ``now`` and the plan."""

    origin: int  # UTC minute of grain 0: the first grain boundary at or after ``now``
    grain: int  # minutes per grain
    first: int  # grains in which the first call may start
    week: int  # grains between the anchors of consecutive calls
    slack: int  # tolerance, in grains
    call: int  # grains per call
    calls: int
    span: int  # start grains in the horizon
    first_mask: int

    @classmethod
    def build(cls, *, now: int, plan: CallPlan) -> Grid:
        grain = plan.grain_minutes
        origin = -(-now // grain) * grain
        first = -(-(now + plan.first_call_within_minutes - origin) // grain)
        week = plan.interval_minutes // grain
        slack = plan.tolerance_minutes // grain
        span = first + (plan.calls - 1) * week + slack
        return cls(
            origin=origin,
            grain=grain,
            first=first,
            week=week,
            slack=slack,
            call=plan.call_minutes // grain,
            calls=plan.calls,
            span=span,
            first_mask=(1 << first) - 1,
        )

    def start_mask(self, ranges: Iterable[TimeRange]) -> int:
        """Grains at which a whole call fits inside the union of ``ranges``."""
        grains = self.span + self.call - 1
        free = 0
        # Merge first: two ranges that touch between grain boundaries still cover the grain.
        for start, end in _merged(ranges):
            low = max(-(-(start - self.origin) // self.grain), 0)
            high = min((end - self.origin) // self.grain, grains)
            if high > low:
                free |= ((1 << (high - low)) - 1) << low
        starts = free
        for offset in range(1, self.call):
            starts &= free >> offset
        return starts & ((1 << self.span) - 1)

    def timing(self, ranges: Iterable[TimeRange]) -> Timing:
        starts = self.start_mask(ranges)
        weekly = starts & self.first_mask
        for k in range(1, self.calls):
            if not weekly:
                break
            weekly &= starts >> (k * self.week)
        return Timing(starts=starts, weekly=weekly, loose=self.anchors(starts))

    def anchors(self, starts: int) -> int:
        """Grains at which a whole series can begin, given common call starts."""
        anchors = starts & self.first_mask
        if not anchors or self.calls == 1:
            return anchors
        near = _dilate(starts, self.slack)
        for k in range(1, self.calls):
            anchors &= near >> (k * self.week)
            if not anchors:
                break
        return anchors

    def fits(self, a: Timing, b: Timing) -> bool:
        """Whether a whole series fits the common time of two people."""
        if a.weekly & b.weekly:
            return True
        if not a.loose & b.loose:
            return False
        return bool(self.anchors(a.starts & b.starts))

    def series(self, starts: int, zone: tzinfo | None = None) -> tuple[int, ...] | None:
        """The proposed call starts (UTC minutes), or None when no series fits.

        The earliest possible first call; each later call as close to the rhythm as the
        common time allows, the earlier one on a tie. The rhythm is kept in ``zone`` (the
        patient's) when given, so "Tuesdays at 18:00" stays 18:00 after the clocks change
        whenever both people are free then; without a zone it is kept in UTC.
        """
        anchors = self.anchors(starts)
        if not anchors:
            return None
        anchor = _lowest_bit(anchors)
        chosen = [anchor]
        first = minute_to_datetime(self.origin + anchor * self.grain)
        local = first.astimezone(zone) if zone is not None else None
        width_mask = (1 << (2 * self.slack + 1)) - 1
        for k in range(1, self.calls):
            # The anchor test guarantees a start within the slack of this target; low >= 0
            # because CallPlan keeps the tolerance under half an interval.
            low = anchor + k * self.week - self.slack
            window = (starts >> low) & width_mask
            aim = self.slack
            if local is not None:
                # Wall-clock arithmetic: an aware datetime plus a timedelta keeps local time.
                wall = local + timedelta(minutes=k * self.week * self.grain)
                offset = (utc_minute(wall) - self.origin + self.grain // 2) // self.grain - low
                aim = min(max(offset, 0), 2 * self.slack)
            before = window & ((1 << (aim + 1)) - 1)
            after = window >> aim
            back = aim - (before.bit_length() - 1) if before else None
            ahead = _lowest_bit(after) if after else None
            if back is not None and (ahead is None or back <= ahead):
                chosen.append(low + aim - back)
            else:
                assert ahead is not None, "the anchor test guarantees a start in the window"
                chosen.append(low + aim + ahead)
        return tuple(self.origin + index * self.grain for index in chosen)

    def without(self, starts: int, schedule: Iterable[int]) -> int:
        """``starts`` minus every start that would overlap a call of ``schedule``."""
        for minute in schedule:
            index = (minute - self.origin) // self.grain
            low = max(index - self.call + 1, 0)
            starts &= ~(((1 << (index + self.call - low)) - 1) << low)
        return starts

    def shortfall(self, starts: int) -> ReasonCode:
        """Which part of the series test a pair's common starts fail (for reasons)."""
        if not starts:
            return ReasonCode.NO_COMMON_SLOT
        if not starts & self.first_mask:
            return ReasonCode.NO_FIRST_CALL_IN_WINDOW
        return ReasonCode.NO_WEEKLY_SERIES


def _merged(ranges: Iterable[TimeRange]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for item in sorted(ranges, key=lambda r: (r.start, r.end)):
        if merged and item.start <= merged[-1][1]:
            if item.end > merged[-1][1]:
                merged[-1] = (merged[-1][0], item.end)
        else:
            merged.append((item.start, item.end))
    return merged
