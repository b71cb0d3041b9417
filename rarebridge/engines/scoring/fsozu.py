"""F-SozU — Fragebogen zur Sozialen Unterstützung (perceived social support), short forms.

Source: Fydrich, Sommer & Brähler, F-SozU manual (Hogrefe 2007); K-14 norms Fydrich, Sommer,
Tydecks & Brähler, Diagnostica 1999; K-6 Kliem et al., J Clin Epidemiol 2015;68:551-562.
Published by Hogrefe: no item text here.

Two instruments, because the forms have different items (which one a study uses is a study
setting, fact sheet §15.3):

- ``fsozu_k14`` — items ``fsozu_k14-1`` … ``fsozu_k14-14``;
- ``fsozu_k6`` — items ``fsozu_k6-1`` … ``fsozu_k6-6``;

coded 1 (trifft gar nicht zu / not true at all) … 5 (trifft genau zu / exactly true), no
reverse-keyed items. Score ``total``: the mean (1-5) by default, or the sum (14-70 / 6-30).
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import ClassVar

from .base import (
    ItemSpec,
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
class FsozuOptions(ScoringOptions):
    """Per-study F-SozU settings (fact sheet §9 and §15.3; metric and missing rule unconfirmed).

    - ``metric`` — ``"mean"`` (default; the K-14 and S-54 convention, and it keeps K-6 and K-14
      on the same 1-5 scale) or ``"sum"``. Check which metric the norm tables you compare
      against use (Kliem 2015 for K-6).
    - ``max_missing`` (default 0: all items required; up to half the items allowed, the mean
      then uses the answered items and a sum is scaled up to the full item count).
    - ``round_prorated`` (default False: keep a prorated sum exact).
    """

    n_items: ClassVar[int] = 14

    metric: str = "mean"
    max_missing: int = 0
    round_prorated: bool = False

    def __post_init__(self) -> None:
        check_choice("metric", self.metric, ("mean", "sum"))
        check_int("max_missing", self.max_missing, 0, self.n_items // 2)
        check_bool("round_prorated", self.round_prorated)


@dataclass(frozen=True)
class FsozuK14Options(FsozuOptions):
    n_items: ClassVar[int] = 14


@dataclass(frozen=True)
class FsozuK6Options(FsozuOptions):
    n_items: ClassVar[int] = 6


class _FsozuScorer(Scorer[FsozuOptions]):
    version = "1"
    options_type: type[FsozuOptions]

    def _compute(
        self, values: list[int | None], options: FsozuOptions, not_applicable: AbstractSet[str]
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


class FsozuK14Scorer(_FsozuScorer):
    code = "fsozu_k14"
    title = "F-SozU short form K-14"
    source = "Fydrich, Sommer & Brähler (F-SozU manual, Hogrefe 2007); Fydrich et al. 1999"
    options_type = FsozuK14Options
    items: tuple[ItemSpec, ...] = numbered_items("fsozu_k14", 14, 1, 5)


class FsozuK6Scorer(_FsozuScorer):
    code = "fsozu_k6"
    title = "F-SozU short form K-6"
    source = "Kliem et al. 2015 (J Clin Epidemiol 68:551)"
    options_type = FsozuK6Options
    items: tuple[ItemSpec, ...] = numbered_items("fsozu_k6", 6, 1, 5)
