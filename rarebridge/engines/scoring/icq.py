"""ICQ — Illness Cognition Questionnaire.

Source: Evers, Kraaimaat, van Lankveld, Jongen, Jacobs & Bijlsma, J Consult Clin Psychol
2001;69:1026-1036; coding and scales per http://floriskraaimaat.nl/tests_icq.html. Free for
health professionals and researchers; redistribution is not granted: no item text here.

Items ``icq-1`` … ``icq-18``, always the raw form codes 1 (not at all) … 4 (completely). The
reported metric is an option (``metric``), so raw answers stay comparable whichever metric a
study reports.

Scores (no total): ``helplessness``, ``acceptance``, ``benefits`` — subscale sums, 6-24 each
with the 1-4 metric or 0-18 with the 0-3 metric. Higher helplessness is maladaptive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from .base import (
    ScaleKey,
    Score,
    Scorer,
    ScoringOptions,
    aggregate,
    check_bool,
    check_choice,
    check_int,
    missing_rule_id,
    numbered_items,
    scale_key,
)
from .errors import InvalidOptionsError

SCALES = ("helplessness", "acceptance", "benefits")

# Items 1-11 confirmed by content on the German form; items 12-18 are the commonly cited key,
# unverified against Evers 2001 (fact sheet §6 and §15.4) — hence an option.
DEFAULT_SCALE_ITEMS = ScaleKey(
    {
        "helplessness": (1, 5, 7, 9, 12, 15),
        "acceptance": (2, 3, 10, 14, 17, 18),
        "benefits": (4, 6, 8, 11, 13, 16),
    }
)


@dataclass(frozen=True)
class IcqOptions(ScoringOptions):
    """Per-study ICQ settings (fact sheet §6 and §15.4).

    - ``metric`` — ``"1-4"`` (default; the developers' coding, subscales 6-24) or ``"0-3"``
      (each item minus 1, subscales 0-18, the metric the earlier efficacy trial reported).
    - ``scale_items`` — scale → item numbers; default the commonly cited key
      (helplessness 1, 5, 7, 9, 12, 15; acceptance 2, 3, 10, 14, 17, 18; benefits 4, 6, 8, 11,
      13, 16). A replacement must name all three scales and partition items 1-18.
    - ``max_missing_per_scale`` (default 0: all items of a subscale required; up to 3 allowed:
      the subscale sum is prorated from the answered items).
    - ``round_prorated`` (default False: keep a prorated sum exact; there are no bands).
    """

    metric: str = "1-4"
    scale_items: Mapping[str, Sequence[int]] = DEFAULT_SCALE_ITEMS
    max_missing_per_scale: int = 0
    round_prorated: bool = False

    def __post_init__(self) -> None:
        check_choice("metric", self.metric, ("1-4", "0-3"))
        key = scale_key("scale_items", self.scale_items, n_items=18, scales=SCALES)
        covered = sorted(n for numbers in key.values() for n in numbers)
        if set(key) != set(SCALES) or covered != list(range(1, 19)):
            raise InvalidOptionsError(
                option="scale_items",
                value=repr(self.scale_items),
                expected="all three scales, together holding items 1 to 18 once each",
            )
        object.__setattr__(self, "scale_items", key)
        check_int("max_missing_per_scale", self.max_missing_per_scale, 0, 3)
        check_bool("round_prorated", self.round_prorated)


class IcqScorer(Scorer[IcqOptions]):
    code = "icq"
    title = "Illness Cognition Questionnaire"
    version = "1"
    source = "Evers et al. 2001 (J Consult Clin Psychol 69:1026)"
    options_type = IcqOptions
    items = numbered_items("icq", 18, 1, 4)

    def _compute(
        self, values: list[int | None], options: IcqOptions, not_applicable: AbstractSet[str]
    ) -> tuple[dict[str, Score], frozenset[str]]:
        if options.metric == "0-3":
            values = [None if value is None else value - 1 for value in values]
        rule = missing_rule_id(options.max_missing_per_scale, round_prorated=options.round_prorated)
        scores = {}
        for name in SCALES:
            value, status = aggregate(
                [values[n - 1] for n in options.scale_items[name]],
                mean=False,
                max_missing=options.max_missing_per_scale,
                round_prorated=options.round_prorated,
            )
            scores[name] = Score(value, status, rule)
        return scores, frozenset()
