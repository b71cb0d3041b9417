"""SWE — Allgemeine Selbstwirksamkeitserwartung / General Self-Efficacy Scale (GSE).

Source: Schwarzer & Jerusalem 1995 (in Weinman, Wright & Johnston, Measures in health
psychology); Jerusalem & Schwarzer (German SWE). Scoring and the missing-item rule per the
authors' FAQ (FU Berlin): "calculate a score as long as no more than three items … are
missing". Free to use with citation; the developers reject cut-offs, so there are no bands.

Items ``swe-1`` … ``swe-10`` coded 1 (not at all true) … 4 (exactly true), no reverse items.

Score ``total``: the sum 10-40 (default) or the item mean 1-4. With 1-3 missing items the
mean of the answered items is used, and the sum is that mean x 10.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from .base import (
    Score,
    Scorer,
    ScoringOptions,
    aggregate,
    check_bool,
    check_choice,
    check_int,
    missing_rule_id,
    numbered_items,
)


@dataclass(frozen=True)
class SweOptions(ScoringOptions):
    """Per-study SWE settings.

    - ``metric`` — ``"sum"`` (default, 10-40, the FAQ's first choice) or ``"mean"`` (1-4).
    - ``max_missing`` (default 3, the authors' rule; 0-3 allowed).
    - ``round_prorated`` (default False: a prorated sum stays exact, e.g. 31.25).
    """

    metric: str = "sum"
    max_missing: int = 3
    round_prorated: bool = False

    def __post_init__(self) -> None:
        check_choice("metric", self.metric, ("sum", "mean"))
        check_int("max_missing", self.max_missing, 0, 3)
        check_bool("round_prorated", self.round_prorated)


class SweScorer(Scorer[SweOptions]):
    code = "swe"
    title = "General Self-Efficacy Scale (SWE / GSE)"
    version = "1"
    source = "Schwarzer & Jerusalem 1995; scoring FAQ, Freie Universität Berlin"
    options_type = SweOptions
    items = numbered_items("swe", 10, 1, 4)

    def _compute(
        self, values: list[int | None], options: SweOptions, not_applicable: AbstractSet[str]
    ) -> tuple[dict[str, Score], frozenset[str]]:
        value, status = aggregate(
            values,
            mean=options.metric == "mean",
            max_missing=options.max_missing,
            round_prorated=options.round_prorated,
        )
        rule = missing_rule_id(
            options.max_missing,
            round_prorated=options.round_prorated and options.metric == "sum",
        )
        return {"total": Score(value, status, rule)}, frozenset()
