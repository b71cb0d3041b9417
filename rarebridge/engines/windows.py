"""The assessment schedule: when each timepoint opens, falls due and closes, in local days.

A participant answers questionnaires at baseline (T0), after the program (T1) and at follow-up
(T2). Each timepoint has a target date and a window of whole days around it, counted in the
participant's own time zone: a window that "opens on 3 March" opens at midnight in Berlin, which
is 23:00 UTC in winter and 22:00 UTC in summer. Everything returned is an aware UTC datetime,
computed with zoneinfo, so windows and reminders stay right across daylight-saving changes.

Windows are half-open: ``opens_at <= instant < closes_at``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_RULES",
    "ScheduleRules",
    "Send",
    "TimepointStatus",
    "TimepointWindow",
    "WindowRule",
    "add_months",
    "assessment_schedule",
    "invitation_times",
    "local_day_start",
    "timepoint_status",
]


@dataclass(frozen=True, slots=True)
class WindowRule:
    """How many whole local days before and after its target date a timepoint may be answered."""

    opens_days_before: int = 7
    closes_days_after: int = 21

    def __post_init__(self) -> None:
        if self.opens_days_before < 0 or self.closes_days_after < 0:
            raise ValueError("Window days cannot be negative.")


@dataclass(frozen=True, slots=True)
class ScheduleRules:
    """The study's timepoint definitions. Every number is here, with the protocol's defaults.

    T0 (baseline) opens ``baseline_days_before`` local days before the randomisation date and
    closes at the instant of randomisation: baseline must be complete before allocation.

    T1 (post) targets the end of program week ``program_weeks``: the program start plus that
    many weeks. The control arm has no program start, so it uses the randomisation date plus
    ``planned_start_delay_days``, the same offset from randomisation the intervention arm is
    planned to have (matching a counsellor takes about a week).

    T2 (follow-up) targets ``follow_up_months`` calendar months after the T1 target date.

    Invitations go out ``invite_days_before_target`` days before a target date (never before
    the window opens), then up to ``max_reminders`` reminders every ``reminder_every_days``
    days while the window is open, all at the participant's chosen local time.
    """

    baseline_days_before: int = 7
    program_weeks: int = 6
    planned_start_delay_days: int = 7
    post_window: WindowRule = WindowRule()
    follow_up_months: int = 3
    follow_up_window: WindowRule = WindowRule()
    invite_days_before_target: int = 0
    reminder_every_days: int = 3
    max_reminders: int = 3

    def __post_init__(self) -> None:
        for name in (
            "baseline_days_before",
            "planned_start_delay_days",
            "invite_days_before_target",
            "max_reminders",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative.")
        for name in ("program_weeks", "follow_up_months", "reminder_every_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1.")


DEFAULT_RULES = ScheduleRules()


@dataclass(frozen=True, slots=True)
class TimepointWindow:
    """One timepoint of one participant. Instants are aware UTC datetimes."""

    code: str  # "T0", "T1", "T2"
    target: date  # the participant's local date the timepoint aims at
    opens_at: datetime  # first instant of the first local day of the window
    due_at: datetime  # end of the target day; an unanswered timepoint is overdue from here
    closes_at: datetime  # end of the last local day of the window (exclusive)

    def contains(self, instant: datetime) -> bool:
        return self.opens_at <= _as_utc(instant, "instant") < self.closes_at


class TimepointStatus(StrEnum):
    NOT_YET_OPEN = "not_yet_open"
    OPEN = "open"
    OVERDUE = "overdue"  # past the target day, window still open: time to chase
    MISSED = "missed"  # window closed without an answer
    COMPLETED = "completed"


@dataclass(frozen=True, slots=True)
class Send:
    """One message to send: the invitation (number 0) or a reminder (1, 2, ...).

    The number is stable for a given window, so ``(participant, timepoint, number)`` can key
    the task that sends it and a reminder is never sent twice.
    """

    kind: Literal["invitation", "reminder"]
    number: int
    at: datetime  # aware UTC


def _zone(time_zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"Unknown time zone {time_zone!r}.") from error


def _as_utc(instant: datetime, name: str) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime.")
    return instant.astimezone(UTC)


def local_day_start(*, day: date, zone: tzinfo) -> datetime:
    """The first instant of ``day`` in ``zone``, as aware UTC.

    Usually local midnight. Where a zone springs forward at midnight (Santiago, Havana) midnight
    does not exist and the day starts at 01:00; ``fold=0`` gives exactly that instant. Where it
    falls back at midnight, ``fold=0`` picks the first of the two midnights.
    """
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def add_months(*, day: date, months: int) -> date:
    """The same day ``months`` calendar months later, clamped to the month's end.

    31 January plus one month is 28 (or 29) February, never 3 March.
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _window(code: str, target: date, rule: WindowRule, zone: tzinfo) -> TimepointWindow:
    return TimepointWindow(
        code=code,
        target=target,
        opens_at=local_day_start(day=target - timedelta(days=rule.opens_days_before), zone=zone),
        due_at=local_day_start(day=target + timedelta(days=1), zone=zone),
        closes_at=local_day_start(
            day=target + timedelta(days=rule.closes_days_after + 1), zone=zone
        ),
    )


def assessment_schedule(
    *,
    randomised_at: datetime,
    program_start: date | None,
    time_zone: str,
    rules: ScheduleRules = DEFAULT_RULES,
) -> tuple[TimepointWindow, TimepointWindow, TimepointWindow]:
    """T0, T1 and T2 for one participant.

    ``program_start`` is the local date of the first program week; ``None`` for the control
    arm (or before the intervention has started), which then uses the planned offset.
    """
    zone = _zone(time_zone)
    randomised_utc = _as_utc(randomised_at, "randomised_at")
    # Days are the participant's: 23:30 UTC on 29 March is already 30 March in Berlin.
    randomised_day = randomised_utc.astimezone(zone).date()
    if program_start is not None and program_start < randomised_day:
        raise ValueError("The program cannot start before the randomisation date.")

    baseline = TimepointWindow(
        code="T0",
        target=randomised_day,
        opens_at=local_day_start(
            day=randomised_day - timedelta(days=rules.baseline_days_before), zone=zone
        ),
        due_at=randomised_utc,
        closes_at=randomised_utc,
    )
    if program_start is None:
        start = randomised_day + timedelta(days=rules.planned_start_delay_days)
    else:
        start = program_start
    post = _window("T1", start + timedelta(weeks=rules.program_weeks), rules.post_window, zone)
    follow_up = _window(
        "T2",
        add_months(day=post.target, months=rules.follow_up_months),
        rules.follow_up_window,
        zone,
    )
    # Overlapping windows would make an answer's timepoint ambiguous; refuse such rules.
    if not baseline.closes_at <= post.opens_at or not post.closes_at <= follow_up.opens_at:
        raise ValueError("These rules make the timepoint windows overlap.")
    return baseline, post, follow_up


def invitation_times(
    *,
    window: TimepointWindow,
    time_zone: str,
    send_time: time,
    rules: ScheduleRules = DEFAULT_RULES,
    not_before: datetime | None = None,
) -> tuple[Send, ...]:
    """When to send the invitation and reminders for a window, at ``send_time`` local time.

    Reminders fall on the same local wall-clock time every ``reminder_every_days`` days, not
    every so many hours, so they do not drift by an hour across a daylight-saving change. A
    send time that does not exist on a spring-forward day moves forward by the gap (02:30
    becomes 03:30); one that happens twice on a fall-back day is sent the first time.
    Sends outside the window are dropped, as are those before ``not_before`` (for a schedule
    computed late); the numbers of the others do not change.
    """
    zone = _zone(time_zone)
    wall = send_time.replace(tzinfo=None, fold=0)
    floor = _as_utc(not_before, "not_before") if not_before is not None else None

    def at(day: date) -> datetime:
        return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)

    first = window.target - timedelta(days=rules.invite_days_before_target)
    # Never invite before the window opens: move to its first local day with a usable time.
    while at(first) < window.opens_at:
        first += timedelta(days=1)
    sends: list[Send] = []
    for number in range(rules.max_reminders + 1):
        instant = at(first + timedelta(days=number * rules.reminder_every_days))
        if instant >= window.closes_at:
            break
        if floor is not None and instant < floor:
            continue
        kind: Literal["invitation", "reminder"] = "invitation" if number == 0 else "reminder"
        sends.append(Send(kind=kind, number=number, at=instant))
    return tuple(sends)


def timepoint_status(
    *, window: TimepointWindow, at: datetime, completed_at: datetime | None = None
) -> TimepointStatus:
    """The status of a timepoint at instant ``at``.

    An answer counts from its own instant on, so asking about an earlier instant shows the
    status as it was then. An answer outside the window still counts as completed; whether it
    is a protocol deviation is ``window.contains(completed_at)``.
    """
    now = _as_utc(at, "at")
    if completed_at is not None and _as_utc(completed_at, "completed_at") <= now:
        return TimepointStatus.COMPLETED
    if now < window.opens_at:
        return TimepointStatus.NOT_YET_OPEN
    if now >= window.closes_at:
        return TimepointStatus.MISSED
    if now >= window.due_at:
        return TimepointStatus.OVERDUE
    return TimepointStatus.OPEN
