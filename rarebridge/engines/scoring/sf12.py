"""SF-12 v1 (standard 4-week recall): norm-based PCS-12 and MCS-12.

Source: Ware, Kosinski & Keller 1995 (SF-12 manual, "How to score the SF-12 physical and mental
health summary scales"); Ware, Kosinski & Keller, Med Care 1996;34:220-233. 1990 US general
population norms (mean 50, SD 10). The weight table was transcribed from the project's
instrument fact sheet (instruments.md §1.2), which checked it against the 50 reference scores
of the Italian manual's sample and against the Hanmer 2006 SAS program.

Item codes (the Ware 1995 SAS names), raw codes exactly as printed on the form:

    GH1 1-5   PF02 1-3   PF04 1-3   RP2 1-2   RP3 1-2   RE2 1-2   RE3 1-2
    BP2 1-5   MH3 1-6    VT2 1-6    MH4 1-6   SF2 1-5

The weights are keyed on the raw answer, which is equivalent to the manual's formulation
(reverse GH1/BP2/VT2/MH3, then 0/1 indicators for every category but the best). They are
regression weights and deliberately *not* monotone (SF2 "most of the time" weighs more than
"all of the time"): do not "fix" them.

Missing data: any missing item → both scores missing (the manual's rule; QualityMetric's
proprietary missing-data estimation is unpublished and not replicated). Out-of-range values are
rejected, never treated as missing or as the best category.

SF-12 **v2** uses different response scales for eight items (RP/RE five categories, MH3/VT2/MH4
five instead of six), so v1 weights must never be applied to v2 data. v2 is registered as
``sf12v2`` and refused (see ``SF12_V2_REASON``). SF-12 is licensed: no item wording here.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from .base import ALL_REQUIRED, ItemSpec, Score, Scorer, ScoreStatus, ScoringOptions, check_choice

PCS_CONSTANT = 56.57706
MCS_CONSTANT = 60.75781

# (PCS weight, MCS weight) for raw answer 1, 2, … of each item, in form order.
# Rows with (0.0, 0.0) are the reference (best) category.
WEIGHTS: dict[str, tuple[tuple[float, float], ...]] = {
    "GH1": (
        (0.0, 0.0),
        (-1.31872, -0.06064),
        (-3.02396, 0.03482),
        (-5.56461, -0.16891),
        (-8.37399, -1.71175),
    ),
    "PF02": ((-7.23216, 3.93115), (-3.45555, 1.86840), (0.0, 0.0)),
    "PF04": ((-6.24397, 2.68282), (-2.73557, 1.43103), (0.0, 0.0)),
    "RP2": ((-4.61617, 1.44060), (0.0, 0.0)),
    "RP3": ((-5.51747, 1.66968), (0.0, 0.0)),
    "RE2": ((3.04365, -6.82672), (0.0, 0.0)),
    "RE3": ((2.32091, -5.69921), (0.0, 0.0)),
    "BP2": (
        (0.0, 0.0),
        (-3.80130, 0.90384),
        (-6.50522, 1.49384),
        (-8.38063, 1.76691),
        (-11.25544, 1.48619),
    ),
    "MH3": (
        (0.0, 0.0),
        (0.66514, -1.94949),
        (1.36689, -4.09842),
        (2.37241, -6.31121),
        (2.90426, -7.92717),
        (3.46638, -10.19085),
    ),
    "VT2": (
        (0.0, 0.0),
        (-0.42251, -0.92057),
        (-1.14387, -1.65178),
        (-1.61850, -3.29805),
        (-2.02168, -4.88962),
        (-2.44706, -6.02409),
    ),
    "MH4": (
        (4.61446, -16.15395),
        (3.41593, -10.77911),
        (2.34247, -8.09914),
        (1.28044, -4.59055),
        (0.41188, -1.95934),
        (0.0, 0.0),
    ),
    "SF2": (
        (-0.33682, -6.29724),
        (-0.94342, -8.26066),
        (-0.18043, -5.63286),
        (0.11038, -3.13896),
        (0.0, 0.0),
    ),
}

ITEMS = tuple(ItemSpec(code, 1, len(rows)) for code, rows in WEIGHTS.items())

# Theoretical range, derived from the table (fact sheet: PCS 9.95-70.13, MCS 5.89-72.28).
PCS_RANGE = (
    PCS_CONSTANT + sum(min(p for p, _ in rows) for rows in WEIGHTS.values()),
    PCS_CONSTANT + sum(max(p for p, _ in rows) for rows in WEIGHTS.values()),
)
MCS_RANGE = (
    MCS_CONSTANT + sum(min(m for _, m in rows) for rows in WEIGHTS.values()),
    MCS_CONSTANT + sum(max(m for _, m in rows) for rows in WEIGHTS.values()),
)

SF12_V2_REASON = (
    "SF-12 v2 needs the licensed QualityMetric/Optum norm-based algorithm; the only public "
    "reconstruction (Spritzer's SAS, 1998 norms) has an unresolved norm SD and no reference "
    "scores to verify against, and v1 weights must never be applied to v2 answers."
)


@dataclass(frozen=True)
class Sf12v1Options(ScoringOptions):
    """Per-study SF-12 v1 settings (fact sheet §15.1-2).

    - ``norm_set`` — only ``"us1990"`` (Ware 1995 orthogonal weights) is implemented; other norm
      sets (1998 US, German) need their own licensed tables.
    - ``missing_rule`` — only ``"all_required"``: no published item-level imputation exists.
      Imputation the SAP allows belongs to the analysis, on the missing score.
    """

    norm_set: str = "us1990"
    missing_rule: str = ALL_REQUIRED

    def __post_init__(self) -> None:
        check_choice("norm_set", self.norm_set, ("us1990",))
        check_choice("missing_rule", self.missing_rule, (ALL_REQUIRED,))


class Sf12v1Scorer(Scorer[Sf12v1Options]):
    code = "sf12v1"
    title = "SF-12 Health Survey, version 1 (PCS-12, MCS-12)"
    version = "1"
    source = "Ware, Kosinski & Keller 1995; Med Care 1996;34:220-233 (1990 US norms)"
    options_type = Sf12v1Options
    items = ITEMS

    def __init__(self) -> None:
        super().__init__()
        self._pcs_rows = tuple(tuple(p for p, _ in rows) for rows in WEIGHTS.values())
        self._mcs_rows = tuple(tuple(m for _, m in rows) for rows in WEIGHTS.values())

    def _compute(
        self, values: list[int | None], options: Sf12v1Options, not_applicable: AbstractSet[str]
    ) -> tuple[dict[str, Score], frozenset[str]]:
        if None in values:
            missing = Score(None, ScoreStatus.MISSING, ALL_REQUIRED)
            return {"pcs": missing, "mcs": missing}, frozenset()
        pcs = PCS_CONSTANT
        mcs = MCS_CONSTANT
        for value, pcs_row, mcs_row in zip(values, self._pcs_rows, self._mcs_rows, strict=True):
            assert value is not None
            pcs += pcs_row[value - 1]
            mcs += mcs_row[value - 1]
        return {
            "pcs": Score(pcs, ScoreStatus.COMPLETE, ALL_REQUIRED),
            "mcs": Score(mcs, ScoreStatus.COMPLETE, ALL_REQUIRED),
        }, frozenset()
