"""Plain data in and out of the matching engine: people, weights, the call plan, results.

Everything here is a frozen dataclass or a string enum, so the ``counselling`` app can build
inputs from querysets, store results as JSON, and compare two runs with ``==``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_PLAN",
    "DEFAULT_WAKING_HOURS",
    "DEFAULT_WEIGHTS",
    "HARD_CRITERIA",
    "MINUTES_PER_DAY",
    "MINUTES_PER_WEEK",
    "PREFERENCE_CRITERIA",
    "Assignment",
    "BatchResult",
    "BookedSlot",
    "CallPlan",
    "Counsellor",
    "Criterion",
    "Fix",
    "FixCode",
    "FunnelStep",
    "MatchWeights",
    "MatchingError",
    "Objective",
    "PairReport",
    "ParamValue",
    "Params",
    "Patient",
    "Reason",
    "ReasonCode",
    "Requirement",
    "Suggestion",
    "SuggestionList",
    "TimeRange",
    "Unmatched",
    "WakingHours",
    "WeeklySlot",
    "minute_to_datetime",
    "params",
    "utc_minute",
]

MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MINUTE = timedelta(minutes=1)


class MatchingError(ValueError):
    """An input the engine refuses. ``code`` is stable and machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------------------------------------
# Time: absolute UTC minutes
# ---------------------------------------------------------------------------------------------


def utc_minute(moment: datetime, *, round_up: bool = False) -> int:
    """Whole minutes from 1970-01-01T00:00Z to an aware ``moment`` (rounded down, or up).

    This is the engine's only clock unit. Naive datetimes are refused: a naive 18:00 is a
    different instant in Warsaw and in Toronto, and guessing is how calls end up an hour off.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise MatchingError("naive_datetime", f"{moment!r} has no time zone")
    whole, rest = divmod(moment - _EPOCH, _MINUTE)
    return whole + (1 if round_up and rest else 0)


def minute_to_datetime(minute: int) -> datetime:
    """The aware UTC datetime of an engine minute (for booking proposed calls)."""
    return _EPOCH + minute * _MINUTE


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A half-open span ``[start, end)`` of absolute time, in UTC minutes (see ``utc_minute``).

    The caller expands each person's recurring weekly availability, written in their own time
    zone, into concrete ranges for the weeks ahead with ``zoneinfo``; that is where daylight
    saving time is handled, once, by the one library that knows the rules. Ranges may overlap
    or touch; the engine merges them.
    """

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise MatchingError("empty_range", f"range ends at {self.end}, before {self.start}")

    @classmethod
    def between(cls, start: datetime, end: datetime) -> TimeRange:
        """The range between two aware datetimes, shrunk to whole minutes inside it."""
        return cls(utc_minute(start, round_up=True), utc_minute(end))


@dataclass(frozen=True, slots=True)
class CallPlan:
    """The shape of the calls a match must leave room for, in minutes.

    A series fits a pair when ``calls`` calls of ``call_minutes`` each lie inside both the
    counsellor's free time and the patient's preferred call times; the first call starts at or
    after ``now`` and before ``now + first_call_within_minutes``; call ``k`` (counting from 0)
    starts within ``tolerance_minutes`` of ``first + k * interval_minutes``. Anchoring every call
    to the first keeps the weekly rhythm (no drift), while the tolerance absorbs a daylight
    saving change (one hour) and a coordinator's ordinary give-and-take. Calls start on a grid
    of ``grain_minutes`` counted from the epoch; 15 suits every real UTC offset.
    """

    calls: int = 6
    call_minutes: int = 30
    first_call_within_minutes: int = 14 * MINUTES_PER_DAY
    interval_minutes: int = MINUTES_PER_WEEK
    tolerance_minutes: int = MINUTES_PER_DAY
    grain_minutes: int = 15

    def __post_init__(self) -> None:
        grain = self.grain_minutes
        if grain <= 0 or MINUTES_PER_DAY % grain:
            raise MatchingError("bad_plan", "grain_minutes must divide a day")
        if self.calls < 1:
            raise MatchingError("bad_plan", "a plan has at least one call")
        for name in ("call_minutes", "interval_minutes"):
            value = getattr(self, name)
            if value <= 0 or value % grain:
                raise MatchingError("bad_plan", f"{name} must be a positive multiple of the grain")
        if self.first_call_within_minutes < grain:
            raise MatchingError("bad_plan", "the first-call window is shorter than one grain")
        if self.tolerance_minutes < 0:
            raise MatchingError("bad_plan", "tolerance_minutes cannot be negative")
        # Two neighbouring calls, each moved by the tolerance towards the other, must still
        # not overlap; otherwise "six weekly calls" could be two calls back to back.
        if 2 * self.tolerance_minutes + self.call_minutes > self.interval_minutes:
            raise MatchingError("bad_plan", "tolerance too wide for the interval between calls")


DEFAULT_PLAN = CallPlan()


@dataclass(frozen=True, slots=True)
class MatchWeights:
    """How much each preference is worth, in points; one set per organisation.

    Points add up to a pair's score, and the batch maximises the total score once it has
    matched as many patients as it can. The defaults put continuity first (changing a
    patient's counsellor mid-program costs trust), then lived experience of the same condition,
    then the patient's own stated wish about gender, then country, then age; the caseload
    penalty is small enough to break ties between similar counsellors, not to override fit.
    """

    same_condition: int = 40
    # Same group of conditions (e.g. autoimmune liver diseases) when the condition differs.
    same_condition_group: int = 20
    same_country: int = 10
    preferred_gender: int = 15
    same_age_band: int = 8
    adjacent_age_band: int = 4
    keep_current_counsellor: int = 50
    # The n-th patient on a counsellor's caseload (n = 1, 2, …) costs load_spread * (n - 1).
    # Rising marginal cost is what spreads the load: the flow fills cheap places first.
    load_spread: int = 2

    def __post_init__(self) -> None:
        for item in fields(self):
            if getattr(self, item.name) < 0:
                raise MatchingError("bad_weights", f"{item.name} cannot be negative")

    @property
    def max_pair_points(self) -> int:
        """The most points a pair can score before the caseload penalty."""
        return (
            max(self.same_condition, self.same_condition_group)
            + self.same_country
            + self.preferred_gender
            + max(self.same_age_band, self.adjacent_age_band)
            + self.keep_current_counsellor
        )


DEFAULT_WEIGHTS = MatchWeights()


@dataclass(frozen=True, slots=True)
class WakingHours:
    """The policy window for calls, in minutes after local midnight: ``[start, end)``.

    In slot mode no call may start before ``start`` or end after ``end`` in the local time of
    either person (each in their own ``time_zone``). The default is 08:00 to 21:00.
    """

    start: int = 8 * 60
    end: int = 21 * 60

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise MatchingError("bad_waking_hours", "waking hours must be 0 <= start < end <= 1440")


DEFAULT_WAKING_HOURS = WakingHours()


def _check_zone(name: str | None) -> None:
    if name is not None:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise MatchingError("bad_time_zone", f"unknown zone {name!r}") from error


@dataclass(frozen=True, slots=True)
class WeeklySlot:
    """One recurring weekly call time a counsellor offers: the whole series, in UTC minutes.

    ``calls`` are the starts of the plan's calls (six by default), each ``call_minutes`` long:
    the same local weekday and time in the counsellor's zone, week after week, expanded with
    ``zoneinfo`` by the caller (``expand_weekly_slots`` does it), so across a daylight saving
    change the UTC minutes move by an hour while the local time stays. The caller offers only
    series that are wholly free (booked calls taken out); the slots of one counsellor must not
    overlap one another, which is what makes each slot a resource of capacity one.
    """

    calls: tuple[int, ...]
    # Slots with the same key are alternatives for one weekly time (say, Tuesdays 18:00 from
    # this week or from next week) and share its capacity of one; None: a key of its own.
    key: str | None = None

    def __post_init__(self) -> None:
        if not self.calls or any(b <= a for a, b in itertools.pairwise(self.calls)):
            raise MatchingError("bad_slot", "a slot's calls must be increasing UTC minutes")


@dataclass(frozen=True, slots=True)
class BookedSlot:
    """The recurring slot a match proposes; accepting the match books these calls.

    ``calls`` are the UTC minute starts of the series; ``weekday`` (0 = Monday) and
    ``local_time`` ("18:00") are the first call in the counsellor's ``time_zone``, which every
    call of the series keeps.
    """

    calls: tuple[int, ...]
    time_zone: str
    weekday: int
    local_time: str

    @property
    def label(self) -> str:
        day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[self.weekday]
        return f"{day} {self.local_time} ({self.time_zone})"


# ---------------------------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------------------------


class Requirement(StrEnum):
    """A preference the patient has made a must; it then filters like a hard constraint."""

    SAME_CONDITION = "same_condition"
    # Same condition or same condition group.
    SAME_CONDITION_GROUP = "same_condition_group"
    SAME_COUNTRY = "same_country"
    PREFERRED_GENDER = "preferred_gender"


@dataclass(frozen=True, slots=True)
class Counsellor:
    """A peer counsellor as the matching engine sees them.

    ``active_patients`` counts the patients currently in the program with this counsellor; when
    a patient is re-matched, the caller leaves that patient out of the count. ``free`` is the
    counsellor's free time over the horizon (about two weeks plus six), with calls already
    booked taken out. ``age_band`` is an index into the organisation's ordered age bands.
    """

    id: str
    languages: frozenset[str]
    country: str
    certified: bool = True
    active: bool = True
    conditions: frozenset[str] = frozenset()
    condition_groups: frozenset[str] = frozenset()
    gender: str | None = None
    age_band: int | None = None
    max_patients: int = 0
    active_patients: int = 0
    free: tuple[TimeRange, ...] = ()
    # Slot mode (``slot_capacity=True``): the recurring call times on offer, replacing ``free``.
    slots: tuple[WeeklySlot, ...] = ()
    # IANA name of the counsellor's zone: waking hours and slot labels (slot mode needs it).
    time_zone: str | None = None
    # The coordinating site; a patient with ``allowed_sites`` may only get these counsellors.
    site: str | None = None

    def __post_init__(self) -> None:
        _check_zone(self.time_zone)

    @property
    def capacity_left(self) -> int:
        return max(self.max_patients - self.active_patients, 0)


@dataclass(frozen=True, slots=True)
class Patient:
    """A patient waiting for a counsellor.

    ``conditions`` are ORPHAcodes; ``condition_groups`` the organisation's grouping of them.
    ``call_times`` are the patient's preferred call times over the same horizon as the
    counsellors' free time. ``declined_counsellor_ids`` holds every counsellor declined before,
    by either side, so the pair is never proposed again.
    """

    id: str
    languages: frozenset[str]
    country: str
    conditions: frozenset[str] = frozenset()
    condition_groups: frozenset[str] = frozenset()
    preferred_gender: str | None = None
    age_band: int | None = None
    call_times: tuple[TimeRange, ...] = ()
    current_counsellor_id: str | None = None
    declined_counsellor_ids: frozenset[str] = frozenset()
    requirements: frozenset[Requirement] = frozenset()
    # IANA name; only keeps proposed calls at the patient's same local time across a clock
    # change. Whether a pair fits never depends on it: that is decided in UTC minutes.
    time_zone: str | None = None
    # The sites whose counsellors this patient may have (their own, plus cross-border sites
    # where the coordinators allow it); None means any site. A hard constraint.
    allowed_sites: frozenset[str] | None = None

    def __post_init__(self) -> None:
        _check_zone(self.time_zone)

    @property
    def zone(self) -> ZoneInfo | None:
        return ZoneInfo(self.time_zone) if self.time_zone is not None else None


# ---------------------------------------------------------------------------------------------
# Reasons, fixes and results
# ---------------------------------------------------------------------------------------------

ParamValue = str | int | tuple[str, ...] | tuple[int, ...]
Params = tuple[tuple[str, ParamValue], ...]


def params(**values: ParamValue) -> Params:
    """Parameters of a reason or fix as sorted pairs: hashable, and the same on every run."""
    return tuple(sorted(values.items()))


class Criterion(StrEnum):
    """What a reason is about. Each suggestion carries exactly one reason per criterion."""

    # Hard constraints, in the order the unmatchable report filters by them.
    CERTIFIED = "certified"
    ACTIVE = "active"
    SITE = "site"
    LANGUAGE = "language"
    NOT_DECLINED = "not_declined"
    REQUIREMENTS = "requirements"
    CAPACITY = "capacity"
    CALL_TIMES = "call_times"
    # Preferences.
    CONDITION = "condition"
    COUNTRY = "country"
    GENDER = "gender"
    AGE = "age"
    CASELOAD = "caseload"
    CONTINUITY = "continuity"


HARD_CRITERIA: tuple[Criterion, ...] = (
    Criterion.CERTIFIED,
    Criterion.ACTIVE,
    Criterion.SITE,
    Criterion.LANGUAGE,
    Criterion.NOT_DECLINED,
    Criterion.REQUIREMENTS,
    Criterion.CAPACITY,
    Criterion.CALL_TIMES,
)
PREFERENCE_CRITERIA: tuple[Criterion, ...] = (
    Criterion.CONDITION,
    Criterion.COUNTRY,
    Criterion.GENDER,
    Criterion.AGE,
    Criterion.CASELOAD,
    Criterion.CONTINUITY,
)


class ReasonCode(StrEnum):
    """The outcome of one criterion; the Django side keeps one translated sentence per code.

    The comments name each code's params. In an unmatchable report a hard-constraint code
    also carries ``counsellors``: how many were still possible before that constraint.
    """

    CERTIFIED = "certified.yes"
    NOT_CERTIFIED = "certified.no"
    ACTIVE = "active.yes"
    INACTIVE = "active.no"
    SITE_ALLOWED = "site.allowed"  # site (the counsellor's)
    SITE_UNRESTRICTED = "site.unrestricted"  # the patient may have any site's counsellor
    SITE_NOT_ALLOWED = "site.not_allowed"  # site (the counsellor's, "" if none), sites (allowed)
    LANGUAGE_SHARED = "language.shared"  # languages (shared)
    NO_SHARED_LANGUAGE = "language.none_shared"  # languages (the patient's)
    NOT_DECLINED = "not_declined.yes"
    DECLINED_BEFORE = "not_declined.no"  # report: counsellor_ids
    REQUIREMENTS_MET = "requirements.met"  # requirements (all the patient's)
    REQUIREMENTS_UNMET = "requirements.unmet"  # requirements (the ones missed)
    CAPACITY_LEFT = "capacity.left"  # left
    NO_CAPACITY = "capacity.none"  # left (0)
    # Report only: possible counsellors existed, and the batch gave their places away.
    CAPACITY_TAKEN = "capacity.taken_in_batch"  # counsellors, counsellor_ids
    CALL_TIMES_FIT = "call_times.fit"  # first_call (UTC minute), calls
    NO_CALL_TIMES = "call_times.none_given"  # the patient has no call-length slot at all
    NO_COMMON_SLOT = "call_times.no_common_slot"  # calls, days (first-call window)
    NO_FIRST_CALL_IN_WINDOW = "call_times.no_first_call_in_window"  # calls, days
    NO_WEEKLY_SERIES = "call_times.no_weekly_series"  # calls, days
    # Slot mode: none of the counsellor's free recurring slots fits the patient's call times
    # and both people's waking hours.
    NO_BOOKABLE_SLOT = "call_times.no_bookable_slot"  # calls, days
    SAME_CONDITION = "condition.same"  # conditions
    SAME_CONDITION_GROUP = "condition.same_group"  # condition_groups
    TRANSDIAGNOSTIC = "condition.transdiagnostic"
    SAME_COUNTRY = "country.same"  # country
    OTHER_COUNTRY = "country.other"  # country (the counsellor's)
    GENDER_PREFERRED = "gender.preferred"  # gender
    GENDER_NOT_PREFERRED = "gender.not_preferred"  # gender (the preferred one)
    NO_GENDER_PREFERENCE = "gender.no_preference"
    SAME_AGE_BAND = "age.same_band"
    ADJACENT_AGE_BAND = "age.adjacent_band"
    DISTANT_AGE_BAND = "age.distant_band"  # bands_apart
    AGE_UNKNOWN = "age.unknown"
    NO_CASELOAD = "caseload.none"
    CASELOAD = "caseload.some"  # caseload (patients before this one), max_patients
    KEEPS_COUNSELLOR = "continuity.kept"
    CHANGES_COUNSELLOR = "continuity.changed"
    NEW_PAIRING = "continuity.new"


@dataclass(frozen=True, slots=True)
class Reason:
    """One criterion's outcome for a pair (or, in a report, for a patient).

    ``met`` is None where the criterion does not apply (no gender preference, age unknown, no
    current counsellor). ``points`` is this criterion's share of the score: 0 for hard
    constraints, negative for the caseload penalty.
    """

    criterion: Criterion
    code: ReasonCode
    met: bool | None
    points: int = 0
    params: Params = ()


class FixCode(StrEnum):
    """Something a coordinator can do so an unmatchable patient becomes matchable."""

    RECRUIT_COUNSELLOR = "recruit_counsellor"  # languages, country
    CERTIFY_COUNSELLORS = "certify_counsellors"  # counsellors, counsellor_ids
    REACTIVATE_COUNSELLORS = "reactivate_counsellors"  # counsellors, counsellor_ids
    ALLOW_CROSS_BORDER = "allow_cross_border"  # counsellors, counsellor_ids
    REVIEW_DECLINED = "review_declined"  # counsellors, counsellor_ids
    RELAX_REQUIREMENT = "relax_requirement"  # requirement, counsellors, counsellor_ids
    RAISE_CAPACITY = "raise_capacity"  # counsellors, counsellor_ids
    WIDEN_CALL_TIMES = "widen_call_times"  # counsellors, counsellor_ids


@dataclass(frozen=True, slots=True)
class Fix:
    code: FixCode
    params: Params = ()


@dataclass(frozen=True, slots=True)
class FunnelStep:
    """How many counsellors are still possible after filtering by ``criterion`` and all before."""

    criterion: Criterion
    remaining: int


@dataclass(frozen=True, slots=True)
class Unmatched:
    """Why a patient has no counsellor, and what would change that.

    ``blocking`` is the first hard constraint that left nobody; it is None when some
    counsellors were possible but the batch gave their places to other patients.
    """

    patient_id: str
    blocking: Criterion | None
    reasons: tuple[Reason, ...]
    funnel: tuple[FunnelStep, ...]
    fixes: tuple[Fix, ...]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A possible counsellor for one patient; ``schedule`` holds the proposed call starts."""

    counsellor_id: str
    score: int
    reasons: tuple[Reason, ...]
    schedule: tuple[int, ...]
    # Slot mode: the recurring slot proposed (its calls are ``schedule``); None otherwise.
    slot: BookedSlot | None = None


@dataclass(frozen=True, slots=True)
class SuggestionList:
    patient_id: str
    suggestions: tuple[Suggestion, ...]
    # Set when nobody can be suggested; the same report the batch gives.
    unmatched: Unmatched | None


@dataclass(frozen=True, slots=True)
class PairReport:
    """Every reason for one patient-counsellor pair, met or missed (for "why not Anna?")."""

    patient_id: str
    counsellor_id: str
    eligible: bool
    score: int
    reasons: tuple[Reason, ...]
    schedule: tuple[int, ...] | None
    slot: BookedSlot | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    """One match of a batch.

    Slot mode: ``slot`` is the recurring slot reserved for this match (``schedule`` holds its
    calls); no two assignments share a counsellor's slot, so ``schedule_clash`` is always
    False and accepting the match can book the series as it stands.

    Legacy mode (no slot capacity): ``slot`` is None and ``schedule_clash`` is True when this
    patient's proposed calls could not avoid those proposed for another patient of the same
    counsellor in the same batch: each pair fits on its own, but the booking step has to move
    one series. Such an assignment must not be accepted without rebooking.
    """

    patient_id: str
    counsellor_id: str
    score: int
    reasons: tuple[Reason, ...]
    schedule: tuple[int, ...]
    schedule_clash: bool = False
    slot: BookedSlot | None = None


@dataclass(frozen=True, slots=True, order=True)
class Objective:
    """What a batch maximises, in this order: patients matched, then total score."""

    matched: int
    score: int


@dataclass(frozen=True, slots=True)
class BatchResult:
    assignments: tuple[Assignment, ...]  # by patient id
    unmatched: tuple[Unmatched, ...]  # by patient id
    objective: Objective
    # True when the solver proved the objective optimal (never for the greedy baseline).
    proven_optimal: bool
