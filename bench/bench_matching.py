"""Matching engine: the optimal batch, its gap to greedy, and one everyday suggestion.

The population is synthetic and the same on every run (seeded): six sites with their own
languages and time zones, weekly availability written in local time and expanded to UTC with
zoneinfo over a horizon that crosses the EU's daylight saving change (29 March 2026), and a
counsellor pool that is short of Hungarian speakers and has no Ukrainian speaker at all.
"""

from __future__ import annotations

import functools
import random
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).parent))
from run import Benchmark

from rarebridge.engines.matching import (
    BatchResult,
    Counsellor,
    Patient,
    Requirement,
    TimeRange,
    match_batch,
    match_greedy,
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


def _weekly(
    rng: random.Random, zone: ZoneInfo, windows: int, hours: tuple[int, int]
) -> tuple[TimeRange, ...]:
    """Recurring local windows expanded into UTC ranges for the horizon (DST-correct)."""
    pattern = []
    for _ in range(windows):
        weekday = rng.randrange(7)
        start = time(rng.randrange(*hours), rng.choice((0, 15, 30, 45)))
        pattern.append((weekday, start, rng.choice((60, 90, 120, 180))))
    ranges = []
    first_day: date = NOW.astimezone(zone).date()
    for offset in range(HORIZON_DAYS):
        day = first_day + timedelta(days=offset)
        for weekday, start, minutes in pattern:
            if day.weekday() == weekday:
                begin = datetime.combine(day, start, tzinfo=zone)
                ranges.append(TimeRange.between(begin, begin + timedelta(minutes=minutes)))
    return tuple(ranges)


def _site(rng: random.Random, share: str) -> Site:
    return rng.choices(SITES, weights=[getattr(site, share) for site in SITES])[0]


def _counsellor(rng: random.Random, number: int) -> Counsellor:
    site = _site(rng, "counsellor_share")
    languages = set(rng.sample(site.languages, k=rng.randint(1, len(site.languages))))
    if site.country != "GB" and rng.random() < 0.35:
        languages.add("en")
    condition, group = rng.choice(CONDITIONS)
    max_patients = rng.randint(6, 14)
    return Counsellor(
        id=f"c{number:04d}",
        languages=frozenset(languages),
        country=site.country,
        certified=rng.random() < 0.96,
        active=rng.random() < 0.96,
        conditions=frozenset({condition}),
        condition_groups=frozenset({group}),
        gender=rng.choice(("female", "female", "male", None)),
        age_band=rng.randrange(6),
        max_patients=max_patients,
        active_patients=rng.randint(0, 3),
        free=_weekly(rng, ZoneInfo(site.zone), rng.randint(3, 6), (8, 20)),
    )


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
    )


@functools.cache
def population() -> tuple[tuple[Patient, ...], tuple[Counsellor, ...]]:
    rng = random.Random(SEED)
    counsellors = tuple(_counsellor(rng, number) for number in range(COUNSELLORS))
    ids = [counsellor.id for counsellor in counsellors]
    patients = tuple(_patient(rng, number, ids) for number in range(PATIENTS))
    return patients, counsellors


def _solve(solver: Any) -> BatchResult:
    patients, counsellors = population()
    result: BatchResult = solver(patients=patients, counsellors=counsellors, now=utc_minute(NOW))
    return result


def _batch_setup() -> BatchResult:
    return _solve(match_greedy)


def _batch_run(greedy: BatchResult) -> None:
    result = _solve(match_batch)
    best, base = result.objective, greedy.objective
    blocking: dict[str, int] = {}
    for item in result.unmatched:
        key = str(item.blocking or "taken_in_batch")
        blocking[key] = blocking.get(key, 0) + 1
    BATCH.notes.update(
        {
            "optimal (matched, score)": (best.matched, best.score),
            "greedy (matched, score)": (base.matched, base.score),
            "gap: extra patients matched": best.matched - base.matched,
            "gap: score over greedy": (
                f"{best.score - base.score:+d} ({(best.score - base.score) / base.score:+.1%})"
            ),
            "unmatched by blocking constraint": dict(sorted(blocking.items())),
            "schedule clashes": sum(item.schedule_clash for item in result.assignments),
        }
    )


def _greedy_run(_: object) -> None:
    result = _solve(match_greedy)
    GREEDY.notes["matched"] = result.objective.matched


def _suggest_setup() -> dict[str, Any]:
    patients, counsellors = population()
    return {"patients": patients[:20], "counsellors": counsellors, "next": 0, "counts": []}


def _suggest_run(state: dict[str, Any]) -> None:
    patient = state["patients"][state["next"] % len(state["patients"])]
    state["next"] += 1
    result = suggest_counsellors(
        patient=patient, counsellors=state["counsellors"], now=utc_minute(NOW)
    )
    state["counts"].append(len(result.suggestions))
    counts = sorted(state["counts"])
    SUGGEST.notes["suggestions returned (min, median, max; limit 10)"] = (
        counts[0],
        counts[len(counts) // 2],
        counts[-1],
    )


BATCH = Benchmark(
    name="matching: batch 5,000 patients x 500 counsellors, optimal",
    setup=_batch_setup,
    run=_batch_run,
    repeat=3,
    goal_seconds=10.0,
)
GREEDY = Benchmark(
    name="matching: greedy baseline, same population",
    setup=population,
    run=_greedy_run,
    repeat=1,
)
SUGGEST = Benchmark(
    name="matching: suggestion for one patient among 500 counsellors",
    setup=_suggest_setup,
    run=_suggest_run,
    repeat=20,
    goal_seconds=0.1,
)
BENCHMARKS = [BATCH, GREEDY, SUGGEST]
