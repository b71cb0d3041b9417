"""SSD-12 — Somatic Symptom Disorder - B Criteria Scale.

Source: Toussaint et al., Psychosom Med 2016;78:5-12 (development); cut-off ≥23 suggested by
Toussaint et al., Psychol Med 2020 ("Detecting DSM-5 somatic symptom disorder…"); population
norms Toussaint et al., J Psychosom Res 2017;97:9-17. Subscale key after the MII PROMs
implementation guide and the item order (cognitive, affective, behavioural, repeating).
Redistribution of the wording is unclear: no item text here.

Items ``ssd12-1`` … ``ssd12-12`` coded 0 (never) … 4 (very often).

Scores: ``total`` 0-48; ``cognitive`` (items 1, 4, 7, 10), ``affective`` (2, 5, 8, 11) and
``behavioural`` (3, 6, 9, 12), 0-16 each. With ``cutoff`` set, the total's band is
``at_or_above_cutoff`` or ``below_cutoff``; without it there is no band.
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
    check_int,
    missing_rule_id,
    numbered_items,
)

SUBSCALES = {
    "cognitive": (1, 4, 7, 10),
    "affective": (2, 5, 8, 11),
    "behavioural": (3, 6, 9, 12),
}


@dataclass(frozen=True)
class Ssd12Options(ScoringOptions):
    """Per-study SSD-12 settings (fact sheet §15.4: no published missing rule; cut-off optional).

    - ``cutoff`` (default None: no band; the MII guide declined to document one). Set it to 23
      to use the Toussaint 2020 suggestion.
    - ``max_missing`` (default 0: all 12 items required for the total; up to 6 allowed).
    - ``max_missing_per_subscale`` (default 0: all four items required; up to 2 allowed).
    - ``round_prorated`` (default True): round prorated sums half-up, so a total meets the
      integer cut-off as published.
    """

    cutoff: int | None = None
    max_missing: int = 0
    max_missing_per_subscale: int = 0
    round_prorated: bool = True

    def __post_init__(self) -> None:
        if self.cutoff is not None:
            check_int("cutoff", self.cutoff, 1, 48)
        check_int("max_missing", self.max_missing, 0, 6)
        check_int("max_missing_per_subscale", self.max_missing_per_subscale, 0, 2)
        check_bool("round_prorated", self.round_prorated)


class Ssd12Scorer(Scorer[Ssd12Options]):
    code = "ssd12"
    title = "Somatic Symptom Disorder - B Criteria Scale (SSD-12)"
    version = "1"
    source = "Toussaint et al. 2016 (Psychosom Med 78:5); cut-off Toussaint et al. 2020"
    options_type = Ssd12Options
    items = numbered_items("ssd12", 12, 0, 4)

    def _compute(
        self, values: list[int | None], options: Ssd12Options, not_applicable: AbstractSet[str]
    ) -> tuple[dict[str, Score], frozenset[str]]:
        rounding = options.round_prorated
        total, status = aggregate(
            values, mean=False, max_missing=options.max_missing, round_prorated=rounding
        )
        band = None
        if total is not None and options.cutoff is not None:
            band = "at_or_above_cutoff" if total >= options.cutoff else "below_cutoff"
        scores = {
            "total": Score(
                total, status, missing_rule_id(options.max_missing, round_prorated=rounding), band
            )
        }
        sub_rule = missing_rule_id(options.max_missing_per_subscale, round_prorated=rounding)
        for name, numbers in SUBSCALES.items():
            value, sub_status = aggregate(
                [values[n - 1] for n in numbers],
                mean=False,
                max_missing=options.max_missing_per_subscale,
                round_prorated=rounding,
            )
            scores[name] = Score(value, sub_status, sub_rule)
        return scores, frozenset()
