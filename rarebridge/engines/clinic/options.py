"""How to solve: the objective's weights, limits, and determinism."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, kw_only=True)
class Weights:
    """The objective is one weighted sum, in steps:

        patient_span * (patients' time on site: first arrival to last departure, summed
                        over patients and days)
      + professional_idle * (professionals' steps between their first and last visit of a
                             day not spent in a visit)
      + moved * (unaffected appointments moved from the previous timetable; re-planning)

    A patient's time in appointments is fixed, so the span term is that constant plus their
    waiting plus any lunch break taken mid-visit: minimising it minimises waiting, and sends
    patients home before lunch when they can be. The constant stays in the objective (it is
    the "total span" people care about), so ``Schedule.gap`` is measured against the whole
    visit and looks small; ``Schedule.changeable_gap`` is measured against the part a
    timetable can change (``Schedule.fixed_part`` removed), and ``Cost`` and
    ``Schedule.summary`` report waiting and idle on their own.

    One weighted sum rather than a lexicographic pair keeps a single proven bound and gap. The
    default 10:1 makes a step of a patient's time (a tired, often disabled patient) cost as
    much as ten steps of a professional's idle time; raise it for a stricter priority. ``moved``
    is large so re-planning moves an unaffected appointment only when nothing else works.
    """

    patient_span: int = 10
    professional_idle: int = 1
    moved: int = 1000


class Keep(StrEnum):
    """How re-planning treats appointments the change did not touch."""

    # Pin them where they were; if that is impossible, fall back to PENALISE.
    FIX = "fix"
    # Let them move, at ``Weights.moved`` per moved appointment.
    PENALISE = "penalise"


@dataclass(frozen=True, kw_only=True)
class SolveOptions:
    """How to solve. The search is limited by *work*, not by the clock: CP-SAT's deterministic
    time (``deterministic_time_limit``, a machine-independent count of work, roughly a second
    of one core), split between the phases; the large-neighbourhood search adds up the
    deterministic time of its steps. With a fixed seed and worker count the same clinic then
    gives the same plan on any machine and under any load. ``time_limit_seconds`` is only a
    safety cap on the wall clock; a run it stopped says so (``Schedule.deterministic``)."""

    weights: Weights = field(default_factory=Weights)
    # Wall-clock safety cap on the whole call. With ``deterministic`` the work limit normally
    # ends the search well before it; without, it is the limit (the old, load-dependent way).
    time_limit_seconds: float = 10.0
    # Stop once the timetable is proven within this fraction of the best possible (0.02: 2%).
    # Measured on the whole objective (``Schedule.gap``), appointment time included: 2 % of
    # it can be all of the waiting and idle time (``Schedule.changeable_gap``).
    gap_limit: float = 0.0
    # CP-SAT's deterministic time for the whole solve. None: ``work_per_second`` times
    # ``time_limit_seconds`` (when ``deterministic``).
    deterministic_time_limit: float | None = None
    # Default work per second of ``time_limit_seconds``: low enough that a loaded machine
    # still finishes the work before the wall-clock cap. Measured on the 20-patient bench on
    # two shared, busy cores: one unit of deterministic time took 4 to 5 s of wall time (the
    # neighbourhood search's model copies are work CP-SAT does not count).
    work_per_second: float = 0.1
    # Limit by work (reproducible) rather than by wall-clock time. With several workers CP-SAT
    # then interleaves its strategies deterministically and the neighbourhood search solves
    # its steps in rounds of ``num_workers``, taken in order.
    deterministic: bool = True
    # Clinics of at most this many tasks (appointments and round tables) are solved directly
    # with the full model and the whole budget, without the session and neighbourhood phases:
    # small clinics are proven optimal quickly that way, and the same way every time.
    exact_up_to_tasks: int = 30
    # Search only one order of interchangeable patients (``symmetry.py``) in the full model.
    break_symmetry: bool = True
    # A fixed worker count and seed.
    num_workers: int = 1
    random_seed: int = 0
    # Start the search from the greedy timetable, so the result is never worse than greedy's.
    greedy_hint: bool = True
    # Search first among timetables where each patient's day is a morning or an afternoon
    # (it ends before their lunch break or starts after it, so lunch never lengthens a visit)
    # and a tiring test ends the day (its rest is not spent waiting): how clinics usually run,
    # and a far smaller space. ``sessions_share`` of the time goes to that search: a short
    # CP-SAT search from greedy's timetable (``sessions_start_share``), then the
    # large-neighbourhood search (``lns``), which re-plans a few related patients at a time,
    # each step for at most ``lns_step_seconds``. The rest goes to the full model from
    # there. Any of these timetables keeps every rule; the bound reported is always the full
    # model's.
    sessions: bool = True
    sessions_share: float = 0.9
    sessions_start_share: float = 0.06
    lns_step_seconds: float = 0.3
    # Patients greedy could not fit into mornings and afternoons start outside that rule.
    # While the search runs, bringing one of them into it is worth this many steps of a
    # patient's time, so the search accepts a little waiting on the way there (the waiting
    # goes again as the neighbours are re-planned); the answer is judged by the true cost.
    sessions_pull: float = 10.0
    # The full model's phase needs only this long to load the timetable found and prove its
    # bound (about 0.6 s on the 20-patient bench), so under long limits the search keeps the
    # rest of ``1 - sessions_share``: it still improves then, the full model rarely does.
    full_model_seconds: float = 1.5
    # Off: CP-SAT alone searches the sessions model for the whole ``sessions_share`` (for
    # comparison; the neighbourhood search finds far better timetables in the same time).
    lns: bool = True
    # When the plan is impossible: time for finding and shrinking the set of conflicting rules.
    explain_time_limit_seconds: float = 5.0
    log_search: bool = False


def resolved(options: SolveOptions) -> SolveOptions:
    """``options`` with the work limit spelled out (``deterministic_time_limit`` set when
    ``deterministic``)."""
    if options.deterministic and options.deterministic_time_limit is None:
        return dataclasses.replace(
            options,
            deterministic_time_limit=options.work_per_second * options.time_limit_seconds,
        )
    return options
