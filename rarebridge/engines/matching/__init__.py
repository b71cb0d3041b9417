"""The matching engine: which peer counsellor for which patient, and why.

A patient starting the six-week program needs a counsellor for six weekly 30-minute calls.
Plain data in (``Patient``, ``Counsellor``, ``MatchWeights``, ``CallPlan``), plain data out;
no Django. The ``counselling`` app builds the inputs, stores the results and translates the
reason and fix codes.

Hard constraints (a pair failing one is never proposed): the counsellor is certified and
active; the patient may have a counsellor of that site; the two share a language; the pair
was not declined before; the patient's own requirements (``Requirement``) hold; the
counsellor has capacity left (``max_patients - active_patients``); and a whole series of calls
(``CallPlan``: six calls, the first within two weeks, the rest a week apart give or take the
tolerance) fits inside both the counsellor's free time and the patient's preferred call times
(in slot mode: one of the counsellor's free recurring slots fits the patient, see below).

Time is absolute: every ``TimeRange`` is ``[start, end)`` in whole UTC minutes since the epoch
(``utc_minute`` converts an aware datetime). The caller expands each person's weekly
availability, written in their own time zone, into concrete ranges for the horizon (two weeks
for the first call plus five intervals and the tolerance: about seven weeks) with
``zoneinfo``, and takes booked calls out of counsellors' free time. The fit test never uses a
time zone (only waking hours in slot mode do), so a daylight saving change is just a range
that moved by an hour, which the tolerance absorbs.

Preferences add points (``MatchWeights``): same condition, else same condition group (else
transdiagnostic, no points); same country; the patient's preferred gender; same or adjacent age
band; keeping the current counsellor; minus a caseload penalty that grows with the caseload.

* ``match_batch`` matches all waiting patients to proven optimality (min-cost flow): as many
  patients as possible, then the highest total score; with ``slot_capacity`` over bookable
  assignments (each reserves a recurring slot).
* ``match_greedy`` is the baseline the benchmark compares against.
* ``suggest_counsellors`` ranks counsellors for one patient, for everyday use.
* ``explain_pair`` gives every reason for one pair, including the hard constraints it misses.

Every suggestion and assignment carries one ``Reason`` per ``Criterion`` (code, met, points,
params); the points add up to its score. Each patient left without a counsellor gets an
``Unmatched`` report: the filter funnel, the constraint that left nobody, and ``Fix`` codes.

Slot capacity (``slot_capacity=True``; the mode for matches that will be booked)
--------------------------------------------------------------------------------
A counsellor's weekly call times are a shared resource. The caller passes, per counsellor,
``slots``: recurring weekly slots (``WeeklySlot``), each the whole series of six concrete UTC
call starts at one local weekday and time in the counsellor's zone, expanded with ``zoneinfo``
(``expand_weekly_slots`` does it from weekly local windows and already-booked calls), so a
daylight saving change inside the six weeks is already in the minutes and the engine stays
free of zone arithmetic for the series. Slots of one counsellor never overlap, except
alternatives for the same weekly time (the same ``key``: "Tuesdays 18:00 from this week" or
"from next week"), which share one capacity. A match then reserves one slot that the patient
can keep too: every call inside the patient's ``call_times``, and inside ``WakingHours``
(default 08:00-21:00, an input) in both people's local time (``time_zone`` on both, needed in
this mode). ``free`` is not used in this mode.

The model is an exact min-cost flow, not CP-SAT:

    patient ──(top - points)──► (counsellor, weekly time) ──(cap 1)──► counsellor ──► sink

with the caseload arcs and the unmatched arc of the legacy flow. Why a flow: once slots are
disjoint resources, "each weekly time at most once, each counsellor at most its caseload,
each patient at most once" is a network (a bipartite b-matching with a capacity node per
counsellor), so the LP is integral and min-cost flow returns a proven optimum over bookable
assignments in polynomial time (a few seconds for 5,000 x 500, see the bench): matched
patients first, then total score, exactly as before. A pair links only to the earliest
``capacity_left`` of its counsellor's fitting weekly times, which is exact (Hall's condition,
see ``solve._solve_slot_flow``) and keeps the flow small. CP-SAT would be needed only for non-network rules
(overlapping slots of different lengths, pairs of patients who must not share a day); it
would solve the same optimum slower and with a time limit, so a gap could appear. The price
of the flow is that slots must be cut on a fixed grid (the half hour from local midnight
in ``expand_weekly_slots``), so a patient free only 18:15-18:45 does not get 18:00 or 18:30.
Every ``Assignment`` carries its ``slot`` (``BookedSlot``: the six calls, the counsellor's
zone, local weekday and time); ``schedule_clash`` is always False in this mode.

What a caller passes in slot mode: per counsellor ``time_zone``, ``site`` and ``slots``
(``expand_weekly_slots(time_zone=..., windows=[(weekday, start, end) in local minutes],
now=..., plan=..., free=<the counsellor's free ranges, exceptions and booked calls out>)``);
per patient ``time_zone``, ``call_times`` and ``allowed_sites``; and ``slot_capacity=True``
(with ``waking_hours`` if not 08:00-21:00) to ``match_batch``, ``match_greedy``,
``suggest_counsellors`` and ``explain_pair``. Accepting a match books ``slot.calls``.
New refusals (``MatchingError.code``): ``missing_time_zone``, ``bad_slot``,
``overlapping_slots``, ``bad_window``, ``bad_waking_hours``.

Coordinator sites are a hard constraint in both modes (``Criterion.SITE``): a patient with
``allowed_sites`` (their own site plus any cross-border site the coordinators allow) gets only
counsellors whose ``site`` is in it; None means any site.

Legacy mode (the default, ``slot_capacity=False``): the batch checks that each pair's series
fits on its own. Two new patients of one counsellor may want the same free slot; proposed
schedules avoid each other where they can, and ``Assignment.schedule_clash`` flags where they
cannot. Such a match is not bookable as proposed: callers that accept matches in bulk should
use slot mode. Waking hours are not checked in legacy mode.

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
