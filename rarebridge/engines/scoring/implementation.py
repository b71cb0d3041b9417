"""AIM, IAM and FIM — Acceptability of Intervention, Intervention Appropriateness and
Feasibility of Intervention Measures.

Source: Weiner, Lewis, Stanick, Powell, Dorsey, Clary, Boynton & Halko, Implement Sci
2017;12:108 (open access). Asked of patients, counsellors and providers.

Three instruments of four items each, coded 1 (completely disagree) … 5 (completely agree):

- ``aim`` — items ``aim-1`` … ``aim-4``;
- ``iam`` — items ``iam-1`` … ``iam-4``;
- ``fim`` — items ``fim-1`` … ``fim-4``.

Score ``mean`` (1-5) per measure; higher = more acceptable / appropriate / feasible. There is
no total across the measures and no band.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from .base import (
    ItemSpec,
    Score,
    Scorer,
    ScoringOptions,
    aggregate,
    check_int,
    missing_rule_id,
    numbered_items,
)


@dataclass(frozen=True)
class ImplementationMeasureOptions(ScoringOptions):
    """Per-study settings shared by AIM, IAM and FIM.

    - ``max_missing`` (default 0: all four items required; no published rule. Up to 2 allowed:
      the mean then uses the answered items).
    """

    max_missing: int = 0

    def __post_init__(self) -> None:
        check_int("max_missing", self.max_missing, 0, 2)


class _ImplementationMeasureScorer(Scorer[ImplementationMeasureOptions]):
    version = "1"
    source = "Weiner et al. 2017 (Implement Sci 12:108)"
    options_type = ImplementationMeasureOptions

    def _compute(
        self,
        values: list[int | None],
        options: ImplementationMeasureOptions,
        not_applicable: AbstractSet[str],
    ) -> tuple[dict[str, Score], frozenset[str]]:
        value, status = aggregate(values, mean=True, max_missing=options.max_missing)
        return {"mean": Score(value, status, missing_rule_id(options.max_missing))}, frozenset()


class AimScorer(_ImplementationMeasureScorer):
    code = "aim"
    title = "Acceptability of Intervention Measure"
    items: tuple[ItemSpec, ...] = numbered_items("aim", 4, 1, 5)


class IamScorer(_ImplementationMeasureScorer):
    code = "iam"
    title = "Intervention Appropriateness Measure"
    items: tuple[ItemSpec, ...] = numbered_items("iam", 4, 1, 5)


class FimScorer(_ImplementationMeasureScorer):
    code = "fim"
    title = "Feasibility of Intervention Measure"
    items: tuple[ItemSpec, ...] = numbered_items("fim", 4, 1, 5)
