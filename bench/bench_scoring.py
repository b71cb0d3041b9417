"""Scoring engine throughput: 100,000 generated responses per instrument.

Responses are drawn with a fixed seed from each item's valid range, with 2% of answers left
missing so the missing-item rules run too. Scoring uses each instrument's default options;
heiQ and TEX-Q get a made-up item key (the real keys are licensed or unknown), which only
fixes the layout and does not change the cost.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from run import Benchmark

from rarebridge.engines.scoring import get_scorer, supported_instruments

N_RESPONSES = 100_000
SEED = 1995
MISSING_RATE = 0.02
# Re-scoring every response of a multi-site trial (far fewer than 100,000 per instrument) after
# an algorithm or option change should take seconds: 50 microseconds a response at most.
GOAL_SECONDS = 5.0

SYNTHETIC_OPTIONS: dict[str, dict[str, Any]] = {
    "heiq": {
        "scale_items": {
            "hda": [1, 2, 3, 4],
            "pael": [5, 6, 7, 8, 9],
            "ed": [10, 11, 12, 13, 14, 15],
            "smi": [16, 17, 18, 19, 20, 21],
            "caa": [22, 23, 24, 25, 26],
            "sta": [27, 28, 29, 30],
            "sis": [31, 32, 33, 34, 35],
            "hsn": [36, 37, 38, 39, 40],
        }
    },
    "texq": {
        "scale_items": {
            "treatment_benefit": [1, 2, 3],
            "positive_impact": [4, 5],
            "adverse_events": [6, 7, 8],
            "negative_impact": [9, 10],
            "process": [11, 12, 13],
            "behavioural_control": [14, 15],
        }
    },
}


def _setup(code: str) -> Any:
    def setup() -> tuple[Any, Any, list[dict[str, int | None]]]:
        scorer = get_scorer(code)
        options = scorer.parse_options(SYNTHETIC_OPTIONS.get(code))
        specs = scorer.item_specs(options)
        rng = random.Random(f"{SEED}:{code}")
        responses = [
            {
                spec.code: None
                if rng.random() < MISSING_RATE
                else rng.randint(spec.minimum, spec.maximum)
                for spec in specs
            }
            for _ in range(N_RESPONSES)
        ]
        return scorer, options, responses

    return setup


def _score_all(state: tuple[Any, Any, list[dict[str, int | None]]]) -> None:
    scorer, options, responses = state
    score = scorer.score
    for response in responses:
        score(response, options)


BENCHMARKS = [
    Benchmark(
        name=f"scoring: {N_RESPONSES:,} {code} responses",
        setup=_setup(code),
        run=_score_all,
        repeat=3,
        goal_seconds=GOAL_SECONDS,
    )
    for code in supported_instruments()
]
