"""GAD-7 — Generalized Anxiety Disorder scale.

Source: Spitzer, Kroenke, Williams & Löwe, Arch Intern Med 2006;166:1092-1097 (bands 5/10/15;
≥10 screening cut-off). Public domain (Pfizer), like the PHQ.

Items ``gad7-1`` … ``gad7-7`` coded 0 (not at all) … 3 (nearly every day); ``gad7-8`` (how
difficult the problems made things, 0-3) is validated but never scored.

Score ``total`` 0-21, band: ``minimal`` 0-4, ``mild`` 5-9, ``moderate`` 10-14, ``severe``
15-21. Flag ``severe_total`` when the total is in the ``severe`` band (whether it alerts anyone
is a safety setting, fact sheet §15.6). GAD-7 has no risk item.
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

FLAG_SEVERE_TOTAL = "severe_total"
BANDS = ((5, "mild"), (10, "moderate"), (15, "severe"))


@dataclass(frozen=True)
class Gad7Options(ScoringOptions):
    """Per-study GAD-7 settings (fact sheet §3: no developer missing-item rule exists).

    - ``max_missing`` (default 0: all seven items required, as the MII guide does). 1 or 2
      borrows the PHQ-9 NHS rule (mean of answered items, total x 7 / answered).
    - ``round_prorated`` (default True): round a prorated total half-up before banding.
    """

    max_missing: int = 0
    round_prorated: bool = True

    def __post_init__(self) -> None:
        check_int("max_missing", self.max_missing, 0, 2)
        check_bool("round_prorated", self.round_prorated)


class Gad7Scorer(Scorer[Gad7Options]):
    code = "gad7"
    title = "Generalized Anxiety Disorder-7"
    version = "1"
    source = "Spitzer, Kroenke, Williams & Löwe 2006 (Arch Intern Med 166:1092)"
    options_type = Gad7Options
    items = (*numbered_items("gad7", 7, 0, 3), ItemSpec("gad7-8", 0, 3, scored=False))

    def _compute(
        self, values: list[int | None], options: Gad7Options, not_applicable: AbstractSet[str]
    ) -> tuple[dict[str, Score], frozenset[str]]:
        rule = missing_rule_id(options.max_missing, round_prorated=options.round_prorated)
        total, status = aggregate(
            values[:7],
            mean=False,
            max_missing=options.max_missing,
            round_prorated=options.round_prorated,
        )
        band = None if total is None else band_for(total, BANDS, "minimal")
        flags = frozenset({FLAG_SEVERE_TOTAL}) if band == "severe" else frozenset()
        return {"total": Score(total, status, rule, band)}, flags
