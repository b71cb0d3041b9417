"""TEX-Q — Treatment Expectation Questionnaire.

Source: Alberts et al., BMJ Open 2020 (development); Shedden-Mora et al., PLoS One
2023;18:e0280472 (validation: 15 items, six subscales and a sum score). Developed at UKE
Hamburg; licence unconfirmed: no item text here.

**What is not known** (fact sheet §11 and §15.4): the item → subscale key, the response format
(0-10 is the working assumption) and the reverse-keying. So the key is a required option and
the format and keying are options; nothing is scored until a study sets ``scale_items`` from
the authors' scoring instructions. Every option is stored with each score, so a score can be
recomputed once the authors confirm the key.

Items ``texq-1`` … ``texq-15``, coded ``item_min`` … ``item_max`` (default 0-10).

Scores: one per keyed subscale — ``treatment_benefit``, ``positive_impact``,
``adverse_events``, ``negative_impact``, ``process``, ``behavioural_control`` — and, unless
``total`` is off, a ``total`` over all 15 items in which the items of the negative subscales
(``total_reversed_scales``) are reversed so that higher always means more positive expectation.
Mean or sum per ``aggregate``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cached_property

from .base import (
    ItemSpec,
    Score,
    Scorer,
    ScoringOptions,
    aggregate,
    check_bool,
    check_choice,
    check_int,
    item_numbers,
    missing_rule_id,
    scale_key,
)
from .errors import InvalidOptionsError, OptionRequiredError

N_ITEMS = 15
SCALES = (
    "treatment_benefit",
    "positive_impact",
    "adverse_events",
    "negative_impact",
    "process",
    "behavioural_control",
)


@dataclass(frozen=True)
class TexqOptions(ScoringOptions):
    """Per-study TEX-Q settings (fact sheet §11 and §15.4; every one of them unconfirmed).

    - ``scale_items`` — subscale → item numbers. No default (``None`` refuses to score); names
      from the six subscales, no item in two subscales.
    - ``item_min`` / ``item_max`` — the response format (default 0-10; min 0 or 1, max 4-100).
    - ``reversed_items`` — item numbers reversed (``item_min + item_max - answer``) everywhere
      before scoring (default none).
    - ``aggregate`` — ``"mean"`` (default; the Dutch validation reports mean scores) or ``"sum"``.
    - ``total`` (default True) — also report the total over all 15 items.
    - ``total_reversed_scales`` — subscales whose items are (additionally) reversed for the total
      only (default the two negative ones, ``adverse_events`` and ``negative_impact``).
    - ``max_missing_per_scale`` (default 0; up to 1 allowed) and ``max_missing_total``
      (default 0; up to 7 allowed): prorated from the answered items.
    """

    scale_items: Mapping[str, Sequence[int]] | None = None
    item_min: int = 0
    item_max: int = 10
    reversed_items: Sequence[int] = ()
    aggregate: str = "mean"
    total: bool = True
    total_reversed_scales: Sequence[str] = ("adverse_events", "negative_impact")
    max_missing_per_scale: int = 0
    max_missing_total: int = 0

    def __post_init__(self) -> None:
        if self.scale_items is not None:
            key = scale_key("scale_items", self.scale_items, n_items=N_ITEMS, scales=SCALES)
            if not key:
                raise InvalidOptionsError(
                    option="scale_items", value="{}", expected="at least one subscale"
                )
            object.__setattr__(self, "scale_items", key)
        check_int("item_min", self.item_min, 0, 1)
        check_int("item_max", self.item_max, 4, 100)
        object.__setattr__(
            self, "reversed_items", item_numbers("reversed_items", self.reversed_items, N_ITEMS)
        )
        check_choice("aggregate", self.aggregate, ("mean", "sum"))
        check_bool("total", self.total)
        scales = self.total_reversed_scales
        if isinstance(scales, str) or not isinstance(scales, tuple | list):
            raise InvalidOptionsError(
                option="total_reversed_scales",
                value=repr(scales),
                expected="a list of TEX-Q subscale names",
            )
        for name in scales:
            check_choice("total_reversed_scales", name, SCALES)
        object.__setattr__(self, "total_reversed_scales", tuple(scales))
        check_int("max_missing_per_scale", self.max_missing_per_scale, 0, 1)
        check_int("max_missing_total", self.max_missing_total, 0, 7)

    # Derived once per options object, not once per response.

    @cached_property
    def scale_positions(self) -> dict[str, tuple[int, ...]]:
        """Keyed subscale → zero-based positions of its items."""
        return {
            name: tuple(n - 1 for n in items) for name, items in (self.scale_items or {}).items()
        }

    @cached_property
    def reversed_positions(self) -> frozenset[int]:
        return frozenset(n - 1 for n in self.reversed_items)

    @cached_property
    def total_reversed_positions(self) -> frozenset[int]:
        """Positions flipped (once more) for the total: the items of the negative subscales."""
        scales = self.scale_positions
        return frozenset(p for name in self.total_reversed_scales for p in scales.get(name, ()))

    @cached_property
    def subscale_positions(self) -> tuple[int, ...]:
        return tuple(sorted(p for positions in self.scale_positions.values() for p in positions))


class TexqScorer(Scorer[TexqOptions]):
    code = "texq"
    title = "Treatment Expectation Questionnaire (TEX-Q)"
    version = "1"
    source = "Alberts et al. 2020 (BMJ Open); Shedden-Mora et al. 2023 (PLoS One 18:e0280472)"
    options_type = TexqOptions
    items = tuple(ItemSpec(f"texq-{n}", 0, 10) for n in range(1, N_ITEMS + 1))

    def __init__(self) -> None:
        super().__init__()
        self._specs_by_range: dict[tuple[int, int], tuple[ItemSpec, ...]] = {}

    def check_options(self, options: TexqOptions) -> None:
        if options.scale_items is None:
            raise OptionRequiredError(instrument=self.code, option="scale_items")

    def item_specs(self, options: TexqOptions) -> tuple[ItemSpec, ...]:
        bounds = (options.item_min, options.item_max)
        specs = self._specs_by_range.get(bounds)
        if specs is None:
            specs = tuple(ItemSpec(spec.code, *bounds) for spec in self.items)
            self._specs_by_range[bounds] = specs
        return specs

    def scored_positions(self, options: TexqOptions) -> tuple[int, ...]:
        return self._scored if options.total else options.subscale_positions

    def _compute(
        self, values: list[int | None], options: TexqOptions, not_applicable: AbstractSet[str]
    ) -> tuple[dict[str, Score], frozenset[str]]:
        flip = options.item_min + options.item_max
        keyed = _flipped(values, options.reversed_positions, flip)
        mean = options.aggregate == "mean"
        scale_rule = missing_rule_id(options.max_missing_per_scale)
        scores = {}
        for name, positions in options.scale_positions.items():
            value, status = aggregate(
                [keyed[p] for p in positions],
                mean=mean,
                max_missing=options.max_missing_per_scale,
            )
            scores[name] = Score(value, status, scale_rule)
        if options.total:
            for_total = _flipped(keyed, options.total_reversed_positions, flip)
            total, status = aggregate(for_total, mean=mean, max_missing=options.max_missing_total)
            scores["total"] = Score(total, status, missing_rule_id(options.max_missing_total))
        return scores, frozenset()


def _flipped(values: list[int | None], positions: frozenset[int], flip: int) -> list[int | None]:
    if not positions:
        return values
    return [
        flip - value if value is not None and i in positions else value
        for i, value in enumerate(values)
    ]
