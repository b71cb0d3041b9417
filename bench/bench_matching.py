"""Matching engine: the optimal batch, its gap to greedy, and one everyday suggestion.

The population is synthetic and the same on every run (seeded): six sites with their own
languages and time zones, weekly availability written in local time and expanded to UTC with
zoneinfo over a horizon that crosses the EU's daylight saving change (29 March 2026), and a
counsellor pool that is short of Hungarian speakers and has no Ukrainian speaker at all.

Two models are measured on the same people. Slot capacity (the default for booking): each
counsellor's weekly windows are cut into half-hour recurring slots (``expand_weekly_slots``),
every match reserves one, waking hours (08:00-21:00 in both zones) and the coordinators'
sites are hard rules. Legacy: pairs checked one at a time (``schedule_clash`` flags). Each
result is checked independently: a match is bookable when its six calls lie in the
patient's call times, in both people's waking hours, and overlap no other match's calls of
the same counsellor (legacy: and are not flagged).
"""

from __future__ import annotations

import functools
import itertools
import os
import random
import sys
import time as time_module
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).parent))
from run import Benchmark

from rarebridge.engines.matching import (
    DEFAULT_PLAN,
    DEFAULT_WAKING_HOURS,
    BatchResult,
    Counsellor,
    Patient,
    Requirement,
    TimeRange,
    expand_weekly_slots,
    match_batch,
    match_greedy,
    minute_to_datetime,
    suggest_counsellors,
    utc_minute,
)

NOW = datetime(2026, 3, 23, 8, 0, tzinfo=UTC)
HORIZON_DAYS = 8 * 7
PATIENTS = 5_000
COUNSELLORS = 500
SEED = 20260323


# A NamedTuple, not a dataclass: run.py loads this file without registering it as a module,
# and dataclasses look their module up to resolve string annotations.
class Site(NamedTuple):
    country: str
    zone: str
    languages: tuple[str, ...]
    patient_share: float
    counsellor_share: float


SITES = (
    Site("DE", "Europe/Berlin", ("de",), 0.28, 0.30),
    Site("CA", "America/Toronto", ("en", "fr"), 0.15, 0.16),
    Site("BE", "Europe/Brussels", ("nl", "fr"), 0.14, 0.15),
    Site("PL", "Europe/Warsaw", ("pl",), 0.14, 0.15),
    Site("HU", "Europe/Budapest", ("hu",), 0.12, 0.06),
    Site("GB", "Europe/London", ("en",), 0.17, 0.18),
)
# Eight groups of six conditions; the first group stands for the autoimmune liver diseases.
GROUPS = tuple(f"group-{g}" for g in range(8))
CONDITIONS = tuple((f"ORPHA:{1000 + 10 * g + c}", GROUPS[g]) for g in range(8) for c in range(6))


Pattern = list[tuple[int, time, int]]


def _pattern(rng: random.Random, windows: int, hours: tuple[int, int]) -> Pattern:
    pattern = []
    for _ in range(windows):
        weekday = rng.randrange(7)
        start = time(rng.randrange(*hours), rng.choice((0, 15, 30, 45)))
        pattern.append((weekday, start, rng.choice((60, 90, 120, 180))))
    return pattern


def _expand(zone: ZoneInfo, pattern: Pattern) -> tuple[TimeRange, ...]:
    """Recurring local windows expanded into UTC ranges for the horizon (DST-correct)."""
    ranges = []
    first_day: date = NOW.astimezone(zone).date()
    for offset in range(HORIZON_DAYS):
        day = first_day + timedelta(days=offset)
        for weekday, start, minutes in pattern:
            if day.weekday() == weekday:
                begin = datetime.combine(day, start, tzinfo=zone)
                ranges.append(TimeRange.between(begin, begin + timedelta(minutes=minutes)))
    return tuple(ranges)


def _weekly(
    rng: random.Random, zone: ZoneInfo, windows: int, hours: tuple[int, int]
) -> tuple[TimeRange, ...]:
    return _expand(zone, _pattern(rng, windows, hours))


def _site(rng: random.Random, share: str) -> Site:
    return rng.choices(SITES, weights=[getattr(site, share) for site in SITES])[0]


def _counsellor(rng: random.Random, number: int) -> Counsellor:
    site = _site(rng, "counsellor_share")
    languages = set(rng.sample(site.languages, k=rng.randint(1, len(site.languages))))
    if site.country != "GB" and rng.random() < 0.35:
        languages.add("en")
    condition, group = rng.choice(CONDITIONS)
    max_patients = rng.randint(6, 14)
    certified = rng.random() < 0.96
    active = rng.random() < 0.96
    gender = rng.choice(("female", "female", "male", None))
    age_band = rng.randrange(6)
    active_patients = rng.randint(0, 3)
    pattern = _pattern(rng, rng.randint(3, 6), (8, 20))
    windows = [
        (weekday, start.hour * 60 + start.minute, start.hour * 60 + start.minute + minutes)
        for weekday, start, minutes in pattern
    ]
    return Counsellor(
        id=f"c{number:04d}",
        languages=frozenset(languages),
        country=site.country,
        certified=certified,
        active=active,
        conditions=frozenset({condition}),
        condition_groups=frozenset({group}),
        gender=gender,
        age_band=age_band,
        max_patients=max_patients,
        active_patients=active_patients,
        free=_expand(ZoneInfo(site.zone), pattern),
        slots=expand_weekly_slots(
            time_zone=site.zone, windows=windows, now=utc_minute(NOW), plan=DEFAULT_PLAN
        ),
        time_zone=site.zone,
        site=site.country,
    )


# Cross-border care the coordinators allow: Belgian and German sites share patients, and
# the Canadian site takes English or French speakers from nowhere else.
CROSS_BORDER = {"BE": {"DE"}, "DE": {"BE"}}


def _patient(rng: random.Random, number: int, counsellor_ids: list[str]) -> Patient:
    site = _site(rng, "patient_share")
    languages = frozenset(rng.sample(site.languages, k=rng.randint(1, len(site.languages))))
    if site.country in ("DE", "PL") and rng.random() < 0.03:
        # Recent arrivals who speak only Ukrainian: no counsellor in the pool does.
        languages = frozenset({"uk"})
    condition, group = rng.choice(CONDITIONS)
    wish = rng.random()
    gender = "female" if wish < 0.2 else "male" if wish < 0.27 else None
    requirements: set[Requirement] = set()
    if gender and rng.random() < 0.3:
        requirements.add(Requirement.PREFERRED_GENDER)
    if rng.random() < 0.03:
        requirements.add(Requirement.SAME_COUNTRY)
    return Patient(
        id=f"p{number:05d}",
        languages=languages,
        country=site.country,
        conditions=frozenset({condition}),
        condition_groups=frozenset({group}),
        preferred_gender=gender,
        age_band=rng.randrange(6),
        call_times=_weekly(rng, ZoneInfo(site.zone), rng.randint(2, 5), (9, 20)),
        current_counsellor_id=rng.choice(counsellor_ids) if rng.random() < 0.05 else None,
        declined_counsellor_ids=(
            frozenset({rng.choice(counsellor_ids)}) if rng.random() < 0.03 else frozenset()
        ),
        requirements=frozenset(requirements),
        time_zone=site.zone,
        allowed_sites=frozenset({site.country, *CROSS_BORDER.get(site.country, ())})
        if rng.random() < 0.9
        else None,
    )


@functools.cache
def population() -> tuple[tuple[Patient, ...], tuple[Counsellor, ...]]:
    rng = random.Random(SEED)
    counsellors = tuple(_counsellor(rng, number) for number in range(COUNSELLORS))
    ids = [counsellor.id for counsellor in counsellors]
    patients = tuple(_patient(rng, number, ids) for number in range(PATIENTS))
    return patients, counsellors


def _solve(solver: Any, *, slot_capacity: bool) -> BatchResult:
    patients, counsellors = population()
    result: BatchResult = solver(
        patients=patients,
        counsellors=counsellors,
        now=utc_minute(NOW),
        slot_capacity=slot_capacity,
    )
    return result


def _awake(minute: int, zone: ZoneInfo) -> bool:
    begin = minute_to_datetime(minute).astimezone(zone)
    end = minute_to_datetime(minute + DEFAULT_PLAN.call_minutes).astimezone(zone)
    waking = DEFAULT_WAKING_HOURS
    return (
        begin.date() == end.date()
        and begin.hour * 60 + begin.minute >= waking.start
        and end.hour * 60 + end.minute <= waking.end
    )


def _inside(minute: int, ranges: tuple[TimeRange, ...]) -> bool:
    """Whether the call starting at ``minute`` lies inside the union of ``ranges``."""
    reached, end = minute, minute + DEFAULT_PLAN.call_minutes
    while reached < end:
        ends = [r.end for r in ranges if r.start <= reached < r.end]
        if not ends:
            return False
        reached = max(ends)
    return True


def bookable(result: BatchResult) -> int:
    """Matches whose six calls can all be booked as proposed (checked without the engine)."""
    patients, counsellors = population()
    patient_of = {p.id: p for p in patients}
    counsellor_of = {c.id: c for c in counsellors}
    by_counsellor: dict[str, list[tuple[int, str]]] = {}
    for a in result.assignments:
        for t in a.schedule:
            by_counsellor.setdefault(a.counsellor_id, []).append((t, a.patient_id))
    overlapping: set[str] = set()
    for calls in by_counsellor.values():
        calls.sort()
        for (t, p), (u, q) in itertools.pairwise(calls):
            if u < t + DEFAULT_PLAN.call_minutes and p != q:
                overlapping.update((p, q))
    good = 0
    for a in result.assignments:
        patient, counsellor = patient_of[a.patient_id], counsellor_of[a.counsellor_id]
        assert patient.time_zone and counsellor.time_zone
        zones = (ZoneInfo(patient.time_zone), ZoneInfo(counsellor.time_zone))
        good += (
            not a.schedule_clash
            and a.patient_id not in overlapping
            and all(_inside(t, patient.call_times) for t in a.schedule)
            and all(_awake(t, zone) for t in a.schedule for zone in zones)
        )
    return good


def _batch_setup() -> dict[str, BatchResult]:
    return {"greedy": _solve(match_greedy, slot_capacity=True)}


CPU: list[float] = []


def _batch_run(state: dict[str, BatchResult]) -> None:
    # Timed: the solve alone. The independent check runs untimed, in CHECK below.
    started = time_module.process_time()
    state["optimal"] = _solve(match_batch, slot_capacity=True)
    CPU.append(time_module.process_time() - started)
    # Wall time depends on what else runs on the machine; this process's CPU time does not.
    BATCH.notes["CPU seconds of this process per solve (median)"] = round(
        sorted(CPU)[len(CPU) // 2], 2
    )
    BATCH.notes["machine load average (1 min) after the solve"] = round(os.getloadavg()[0], 1)


def _check_setup() -> dict[str, BatchResult]:
    return BATCH_STATE


def _check_run(state: dict[str, BatchResult]) -> None:
    result, greedy = state["optimal"], state["greedy"]
    best, base = result.objective, greedy.objective
    blocking: dict[str, int] = {}
    for item in result.unmatched:
        key = str(item.blocking or "taken_in_batch")
        blocking[key] = blocking.get(key, 0) + 1
    CHECK.notes.update(
        {
            "optimal (matched, score), proven": (best.matched, best.score, result.proven_optimal),
            "optimal: bookable matches (independent check)": bookable(result),
            "greedy (matched, score)": (base.matched, base.score),
            "greedy: bookable matches": bookable(greedy),
            "gap: extra patients matched": best.matched - base.matched,
            "gap: score over greedy": (
                f"{best.score - base.score:+d} ({(best.score - base.score) / base.score:+.1%})"
            ),
            "unmatched by blocking constraint": dict(sorted(blocking.items())),
            "slots reserved twice": len(result.assignments)
            - len({(a.counsellor_id, a.schedule) for a in result.assignments}),
        }
    )


def _legacy_setup() -> BatchResult:
    return _solve(match_greedy, slot_capacity=False)


def _legacy_run(greedy: BatchResult) -> None:
    result = _solve(match_batch, slot_capacity=False)
    LEGACY.notes.update(
        {
            "optimal (matched, score)": (result.objective.matched, result.objective.score),
            "schedule clashes": sum(item.schedule_clash for item in result.assignments),
            "bookable matches (no clash, waking hours)": bookable(result),
            "greedy (matched, score)": (greedy.objective.matched, greedy.objective.score),
        }
    )


def _greedy_run(_: object) -> None:
    result = _solve(match_greedy, slot_capacity=True)
    GREEDY.notes["matched"] = result.objective.matched


def _suggest_setup() -> dict[str, Any]:
    patients, counsellors = population()
    return {"patients": patients[:20], "counsellors": counsellors, "next": 0, "counts": []}


def _suggest_run(state: dict[str, Any]) -> None:
    patient = state["patients"][state["next"] % len(state["patients"])]
    state["next"] += 1
    result = suggest_counsellors(
        patient=patient, counsellors=state["counsellors"], now=utc_minute(NOW), slot_capacity=True
    )
    state["counts"].append(len(result.suggestions))
    counts = sorted(state["counts"])
    SUGGEST.notes["suggestions returned (min, median, max; limit 10)"] = (
        counts[0],
        counts[len(counts) // 2],
        counts[-1],
    )


BATCH_STATE: dict[str, BatchResult] = {}


def _batch_state() -> dict[str, BatchResult]:
    BATCH_STATE.update(_batch_setup())
    return BATCH_STATE


BATCH = Benchmark(
    name="matching: 5,000 x 500 with slot capacity, optimal",
    setup=_batch_state,
    run=_batch_run,
    repeat=3,
    goal_seconds=10.0,
)
GREEDY = Benchmark(
    name="matching: greedy with slot capacity, same population",
    setup=population,
    run=_greedy_run,
    repeat=1,
)
LEGACY = Benchmark(
    name="matching: legacy model (no slot capacity), for comparison",
    setup=_legacy_setup,
    run=_legacy_run,
    repeat=1,
)
SUGGEST = Benchmark(
    name="matching: suggestion (slot capacity) among 500 counsellors",
    setup=_suggest_setup,
    run=_suggest_run,
    repeat=20,
    goal_seconds=0.1,
)
CHECK = Benchmark(
    name="matching: slot capacity, optimal vs greedy, checked",
    setup=_check_setup,
    run=_check_run,
    repeat=1,
)
BENCHMARKS = [BATCH, CHECK, GREEDY, LEGACY, SUGGEST]
