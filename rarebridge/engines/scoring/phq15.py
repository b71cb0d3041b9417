"""PHQ-15 — Patient Health Questionnaire, somatic symptom severity.

Source: Kroenke, Spitzer & Williams, Psychosom Med 2002;64:258-266 (bands 5/10/15); the ≥3
items "bothered a lot" signal per Kroenke et al. 2010. Public domain (Pfizer), like the PHQ.
Prorating option after the APA DSM-5 "Level 2 Somatic Symptom—Adult" instructions (1-3 missing
items: total x 15 / answered) — an adaptation, so it is off by default.

Items ``phq15-1`` … ``phq15-15`` coded 0 (not bothered at all), 1 (a little), 2 (a lot).
Item 4 (menstrual problems) may be passed as *not applicable* (``not_applicable={"phq15-4"}``)
— which is recorded distinctly from a missing answer; see ``Phq15Options.item4_not_applicable``.

Score ``total`` 0-30 (0-28 when item 4 does not apply and is not prorated), band: ``minimal``
0-4, ``low`` 5-9, ``medium`` 10-14, ``high`` 15-30. Flag ``three_items_bothered_a_lot`` when at
least three answered items are 2.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from .base import (
    Score,
    Scorer,
    ScoringOptions,
    aggregate,
    band_for,
    check_bool,
    check_choice,
    check_int,
    missing_rule_id,
    numbered_items,
)

FLAG_THREE_BOTHERED_A_LOT = "three_items_bothered_a_lot"
BANDS = ((5, "low"), (10, "medium"), (15, "high"))
ITEM4 = "phq15-4"


@dataclass(frozen=True)
class Phq15Options(ScoringOptions):
    """Per-study PHQ-15 settings (fact sheet §4 and §15.7).

    - ``item4_not_applicable`` — how to score a respondent for whom item 4 does not apply:
      ``"sum_14"`` (default; sum of the other 14 items, as CamCOPS does, maximum 28) or
      ``"prorate"`` (that sum x 15 / 14, on the full 0-30 metric).
    - ``max_missing`` (default 0: every applicable item required). 1-3 applies the APA rule:
      the sum of the answered items scaled to the full item count.
    - ``round_prorated`` (default True): round a prorated total half-up before banding.
    """

    item4_not_applicable: str = "sum_14"
    max_missing: int = 0
    round_prorated: bool = True

    def __post_init__(self) -> None:
        check_choice("item4_not_applicable", self.item4_not_applicable, ("sum_14", "prorate"))
        check_int("max_missing", self.max_missing, 0, 3)
        check_bool("round_prorated", self.round_prorated)


class Phq15Scorer(Scorer[Phq15Options]):
    code = "phq15"
    title = "Patient Health Questionnaire-15"
    version = "1"
    source = "Kroenke, Spitzer & Williams 2002 (Psychosom Med 64:258)"
    options_type = Phq15Options
    items = numbered_items("phq15", 15, 0, 2)
    not_applicable_items = frozenset({ITEM4})

    def _compute(
        self, values: list[int | None], options: Phq15Options, not_applicable: AbstractSet[str]
    ) -> tuple[dict[str, Score], frozenset[str]]:
        rule = missing_rule_id(options.max_missing, round_prorated=options.round_prorated)
        if ITEM4 in not_applicable:
            applicable = values[:3] + values[4:]
            target = 15 if options.item4_not_applicable == "prorate" else 14
            rule += f"+item4_not_applicable_{options.item4_not_applicable}"
        else:
            applicable, target = values, 15
        total, status = aggregate(
            applicable,
            mean=False,
            max_missing=options.max_missing,
            round_prorated=options.round_prorated,
            target=target,
        )
        band = None if total is None else band_for(total, BANDS, "minimal")
        flags = frozenset({FLAG_THREE_BOTHERED_A_LOT}) if values.count(2) >= 3 else frozenset()
        return {"total": Score(total, status, rule, band)}, flags
