"""The matching engine: which peer counsellor for which patient, and why.

A patient starting the six-week program needs a counsellor for six weekly 30-minute calls.
Plain data in (``Patient``, ``Counsellor``, ``MatchWeights``, ``CallPlan``), plain data out;
no Django. The ``counselling`` app builds the inputs, stores the results and translates the
reason and fix codes.

Hard constraints (a pair failing one is never proposed): the counsellor is certified and
active; the two share a language; the pair was not declined before; the patient's own
requirements (``Requirement``) hold; the counsellor has capacity left
(``max_patients - active_patients``); and a whole series of calls (``CallPlan``: six calls, the
first within two weeks, the rest a week apart give or take the tolerance) fits inside both the
counsellor's free time and the patient's preferred call times.

Time is absolute: every ``TimeRange`` is ``[start, end)`` in whole UTC minutes since the epoch
(``utc_minute`` converts an aware datetime). The caller expands each person's weekly
availability, written in their own time zone, into concrete ranges for the horizon (two weeks
for the first call plus five intervals and the tolerance: about seven weeks) with
``zoneinfo``, and takes booked calls out of counsellors' free time. The engine never sees a
time zone, so a daylight saving change is just a range that moved by an hour, which the
tolerance absorbs.

Preferences add points (``MatchWeights``): same condition, else same condition group (else
transdiagnostic, no points); same country; the patient's preferred gender; same or adjacent age
band; keeping the current counsellor; minus a caseload penalty that grows with the caseload.

* ``match_batch`` matches all waiting patients to proven optimality (min-cost flow): as many
  patients as possible, then the highest total score.
* ``match_greedy`` is the baseline the benchmark compares against.
* ``suggest_counsellors`` ranks counsellors for one patient, for everyday use.
* ``explain_pair`` gives every reason for one pair, including the hard constraints it misses.

Every suggestion and assignment carries one ``Reason`` per ``Criterion`` (code, met, points,
params); the points add up to its score. Each patient left without a counsellor gets an
``Unmatched`` report: the filter funnel, the constraint that left nobody, and ``Fix`` codes.

Known limit: the batch checks that each pair's series fits on its own. Two new patients of one
counsellor may want the same free slot; proposed schedules avoid each other where they can,
and ``Assignment.schedule_clash`` flags where they cannot, for the booking step to resolve.
Same input, same answer: inputs are sorted by id before anything else, ties go to the
smaller id, and the solver is deterministic.
"""

from .model import (
    DEFAULT_PLAN,
    DEFAULT_WAKING_HOURS,
    DEFAULT_WEIGHTS,
    HARD_CRITERIA,
    MINUTES_PER_DAY,
    MINUTES_PER_WEEK,
    PREFERENCE_CRITERIA,
    Assignment,
    BatchResult,
    BookedSlot,
    CallPlan,
    Counsellor,
    Criterion,
    Fix,
    FixCode,
    FunnelStep,
    MatchingError,
    MatchWeights,
    Objective,
    PairReport,
    Params,
    ParamValue,
    Patient,
    Reason,
    ReasonCode,
    Requirement,
    Suggestion,
    SuggestionList,
    TimeRange,
    Unmatched,
    WakingHours,
    WeeklySlot,
    minute_to_datetime,
    params,
    utc_minute,
)
from .slots import expand_weekly_slots
from .solve import explain_pair, match_batch, match_greedy, suggest_counsellors

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
    "expand_weekly_slots",
    "explain_pair",
    "match_batch",
    "match_greedy",
    "minute_to_datetime",
    "params",
    "suggest_counsellors",
    "utc_minute",
]
