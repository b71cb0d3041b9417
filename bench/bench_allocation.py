"""Randomisation engine: concealed sequences, allocation in sequence, minimisation, table import.

Pure engine work only: no database. A study of the Q.RARE.LI kind has five sites and three
diagnoses (15 strata) and a few hundred participants; 10,000 gives headroom for registries and
platform trials.
"""

from __future__ import annotations

import csv
import io
import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from run import Benchmark

from rarebridge.engines.allocation import (
    AllocationRatio,
    BlockDesign,
    Imbalance,
    MinimisationDesign,
    Slot,
    allocation_table_import,
    generate_sequence,
    minimise,
    next_slot,
    stratum_key,
)

PARTICIPANTS = 10_000
SITES = ("HH", "TO", "GH", "WA", "DE")
DISEASES = ("AIH", "PSC")  # 5 sites x 2 diagnoses = 10 strata
SECRET = b"bench-allocation-secret-0123456789"
DESIGN = BlockDesign(ratio=AllocationRatio.from_weights({"intervention": 1, "control": 1}))


def _participants(seed: int = 1) -> list[dict[str, str]]:
    rng = random.Random(seed)
    return [
        {"site": rng.choice(SITES), "disease": rng.choice(DISEASES), "sex": rng.choice("fm")}
        for _ in range(PARTICIPANTS)
    ]


def _generate(_: Any) -> None:
    for site in SITES:
        for disease in DISEASES:
            key = stratum_key(factors={"site": site, "disease": disease})
            generate_sequence(secret=SECRET, stratum_key=key, design=DESIGN, length=1_000)


ALLOCATE_NOTES: dict[str, Any] = {}


def _allocate_in_sequence(participants: list[dict[str, str]]) -> None:
    # What randomising costs the engine: the stratum's sequence (generated once per stratum when
    # the study opens, with twice the expected need) and the next unused slot for each arrival.
    sequences: dict[str, list[Slot]] = {}
    used: Counter[str] = Counter()
    arms: Counter[str] = Counter()
    for person in participants:
        key = stratum_key(factors={"site": person["site"], "disease": person["disease"]})
        if key not in sequences:
            sequences[key] = generate_sequence(
                secret=SECRET, stratum_key=key, design=DESIGN, length=2 * PARTICIPANTS // 10
            )
        slot = next_slot(sequence=sequences[key], used=used[key])
        used[key] += 1
        arms[slot.arm] += 1
    ALLOCATE_NOTES["arms"] = dict(arms)


def _minimisation(imbalance: Imbalance) -> Benchmark:
    notes: dict[str, Any] = {}
    design = MinimisationDesign(
        ratio=DESIGN.ratio,
        factor_weights={"site": 1, "disease": 1, "sex": 1},
        p=0.8,
        imbalance=imbalance,
    )

    def run(participants: list[dict[str, str]]) -> None:
        rng = random.Random(2)
        counts: Counter[tuple[str, str, str]] = Counter()
        for person in participants:
            arm = minimise(factors=person, counts=counts, design=design, rng=rng).arm
            for factor, level in person.items():
                counts[(factor, level, arm)] += 1
        worst = max(
            abs(counts[(f, lvl, "intervention")] - counts[(f, lvl, "control")])
            for f, lvl, _ in counts
        )
        notes["largest level imbalance"] = worst

    return Benchmark(
        name=f"allocation: minimise 10k participants, 3 factors, {imbalance.value}",
        setup=_participants,
        run=run,
        goal_seconds=0.5,
        notes=notes,
    )


def _table_text() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["rand_group", "site", "disease"])
    for site in SITES:
        for disease in DISEASES:
            key = stratum_key(factors={"site": site, "disease": disease})
            slots = generate_sequence(
                secret=SECRET, stratum_key=key, design=DESIGN, length=PARTICIPANTS // 10
            )
            writer.writerows([slot.arm, site, disease] for slot in slots)
    return out.getvalue()


def _import(text: str) -> None:
    allocation_table_import(
        text=text,
        arm_column="rand_group",
        arms=("intervention", "control"),
        factors={"site": SITES, "disease": DISEASES},
    )


BENCHMARKS = [
    Benchmark(
        name="allocation: generate 10 strata x 1,000 concealed slots",
        run=_generate,
        goal_seconds=0.2,
    ),
    Benchmark(
        name="allocation: sequences + allocate 10k participants, 10 strata",
        setup=_participants,
        run=_allocate_in_sequence,
        goal_seconds=0.5,
        notes=ALLOCATE_NOTES,
    ),
    _minimisation(Imbalance.RANGE),
    _minimisation(Imbalance.VARIANCE),
    Benchmark(
        name="allocation: import a 10,000-row allocation table",
        setup=_table_text,
        run=_import,
        goal_seconds=0.2,
    ),
]
