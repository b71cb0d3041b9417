"""Brief IPQ — Brief Illness Perception Questionnaire.

Source: Broadbent, Petrie, Main & Weinman, J Psychosom Res 2006;60:631-637, and the authors'
B-IPQ scoring instructions (items 3, 4 and 7 reversed for the optional total). The IPQ is now
licensed on request: no item text here.

Items ``bipq-1`` … ``bipq-8`` coded 0-10. Item 9 (three ranked causes) is free text: it is not
part of the integer response and is rejected as an unknown item if passed.

Scores, one per item (primarily how the B-IPQ is reported): ``consequences``, ``timeline``,
``personal_control``, ``treatment_control``, ``identity``, ``concern``, ``coherence``,
``emotional_response`` (0-10 each, the raw answer; higher control and coherence are *better*).
Optional ``total`` ("illness threat", 0-80, higher = more threatening) = (10 - item 3) +
(10 - item 4) + (10 - item 7) + items 1, 2, 5, 6 and 8. The authors advise checking its
internal consistency in each illness, so it is off by default.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from .base import (
    Score,
    Scorer,
    ScoreStatus,
    ScoringOptions,
    aggregate,
    check_bool,
    check_int,
    missing_rule_id,
    numbered_items,
)

DIMENSIONS = (
    "consequences",
    "timeline",
    "personal_control",
    "treatment_control",
    "identity",
    "concern",
    "coherence",
    "emotional_response",
)
REVERSED_FOR_TOTAL = frozenset({3, 4, 7})
SINGLE_ITEM = "single_item"


@dataclass(frozen=True)
class BipqOptions(ScoringOptions):
    """Per-study Brief IPQ settings (fact sheet §7).

    - ``total`` (default False): also report the 0-80 "illness threat" total.
    - ``max_missing_total`` (default 0: the total needs items 1-8; up to 4 allowed, prorated
      from the answered items).
    - ``round_prorated`` (default False: keep a prorated total exact; there are no bands).
    """

    total: bool = False
    max_missing_total: int = 0
    round_prorated: bool = False

    def __post_init__(self) -> None:
        check_bool("total", self.total)
        check_int("max_missing_total", self.max_missing_total, 0, 4)
        check_bool("round_prorated", self.round_prorated)


class BipqScorer(Scorer[BipqOptions]):
    code = "bipq"
    title = "Brief Illness Perception Questionnaire"
    version = "1"
    source = "Broadbent, Petrie, Main & Weinman 2006 (J Psychosom Res 60:631)"
    options_type = BipqOptions
    items = numbered_items("bipq", 8, 0, 10)

    def _compute(
        self, values: list[int | None], options: BipqOptions, not_applicable: AbstractSet[str]
    ) -> tuple[dict[str, Score], frozenset[str]]:
        scores = {
            name: Score(
                value, ScoreStatus.MISSING if value is None else ScoreStatus.COMPLETE, SINGLE_ITEM
            )
            for name, value in zip(DIMENSIONS, values, strict=True)
        }
        if options.total:
            keyed = [
                None if value is None else (10 - value if n in REVERSED_FOR_TOTAL else value)
                for n, value in enumerate(values, start=1)
            ]
            total, status = aggregate(
                keyed,
                mean=False,
                max_missing=options.max_missing_total,
                round_prorated=options.round_prorated,
            )
            rule = missing_rule_id(options.max_missing_total, round_prorated=options.round_prorated)
            scores["total"] = Score(total, status, rule)
        return scores, frozenset()
