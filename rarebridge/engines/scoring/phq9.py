"""PHQ-9 — Patient Health Questionnaire, depression module.

Source: Kroenke, Spitzer & Williams, J Gen Intern Med 2001;16:606-613 (bands 5/10/15/20);
screening cut-off ≥10 per Kroenke et al. 2010. Public domain (Pfizer): "No permission required
to reproduce, translate, display or distribute." Missing-item option from the NHS Data
Dictionary (PHQ-9: up to two missing items replaced by the mean of the answered items).

Items ``phq9-1`` … ``phq9-9`` coded 0 (not at all) … 3 (nearly every day); ``phq9-10`` (how
difficult the problems made things, 0-3) is validated but never scored.

Score ``total`` 0-27, band: ``minimal`` 0-4, ``mild`` 5-9, ``moderate`` 10-14,
``moderately_severe`` 15-19, ``severe`` 20-27.

Flags, computed from the raw item whatever the completeness of the total (a safety signal must
never wait for a complete questionnaire):

- ``risk_item_positive`` — item 9 (thoughts of being better off dead or of self-harm) > 0;
- ``risk_item_missing`` — item 9 unanswered;
- ``severe_total`` — total in the ``severe`` band. Whether this alerts anyone is a safety
  setting (fact sheet §15.6), not a scoring one.
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
    band_for,
    check_bool,
    check_int,
    missing_rule_id,
    numbered_items,
)

FLAG_RISK_ITEM_POSITIVE = "risk_item_positive"
FLAG_RISK_ITEM_MISSING = "risk_item_missing"
FLAG_SEVERE_TOTAL = "severe_total"

BANDS = ((5, "mild"), (10, "moderate"), (15, "moderately_severe"), (20, "severe"))
RISK_ITEM = "phq9-9"


@dataclass(frozen=True)
class Phq9Options(ScoringOptions):
    """Per-study PHQ-9 settings (fact sheet §2, missing items).

    - ``max_missing`` (default 0: all nine items required, as CamCOPS, Awell and the MII
      implementation guide do). 1 or 2 applies the NHS Data Dictionary rule: missing items take
      the mean of the answered ones (total x 9 / answered). More than 2 is not allowed.
    - ``round_prorated`` (default True): round a prorated total half-up to a whole number before
      banding, so it lands on the published integer scale.
    """

    max_missing: int = 0
    round_prorated: bool = True

    def __post_init__(self) -> None:
        check_int("max_missing", self.max_missing, 0, 2)
        check_bool("round_prorated", self.round_prorated)


class Phq9Scorer(Scorer[Phq9Options]):
    code = "phq9"
    title = "Patient Health Questionnaire-9"
    version = "1"
    source = "Kroenke, Spitzer & Williams 2001 (J Gen Intern Med 16:606); NHS Data Dictionary"
    options_type = Phq9Options
    items = (*numbered_items("phq9", 9, 0, 3), ItemSpec("phq9-10", 0, 3, scored=False))

    def _compute(
        self, values: list[int | None], options: Phq9Options, not_applicable: AbstractSet[str]
    ) -> tuple[dict[str, Score], frozenset[str]]:
        rule = missing_rule_id(options.max_missing, round_prorated=options.round_prorated)
        total, status = aggregate(
            values[:9],
            mean=False,
            max_missing=options.max_missing,
            round_prorated=options.round_prorated,
        )
        band = None if total is None else band_for(total, BANDS, "minimal")

        flags: set[str] = set()
        risk = values[8]
        if risk is None:
            flags.add(FLAG_RISK_ITEM_MISSING)
        elif risk > 0:
            flags.add(FLAG_RISK_ITEM_POSITIVE)
        if band == "severe":
            flags.add(FLAG_SEVERE_TOTAL)
        return {"total": Score(total, status, rule, band)}, frozenset(flags)
