"""heiQ — Health Education Impact Questionnaire, version 3.

Source: Osborne, Elsworth & Whitfield, Patient Educ Couns 2007;66:192-201; scale list per
Table 1 of PMC4679238; classical scoring (scale score = item sum / number of items) per
Elsworth & Osborne 2017. The heiQ is licensed by Deakin University and the item → scale key
comes with the licence, so **no key ships here**: a study must set ``scale_items`` from its
licensed scoring sheet before anything can be scored.

Items ``heiq-1`` … ``heiq-40`` coded 1 (strongly disagree) … 4 (strongly agree), numbered as
on the licensed form.

Scores: one mean (1-4) per administered scale — ``hda`` health-directed activities (4 items),
``pael`` positive and active engagement in life (5), ``ed`` emotional distress (6), ``smi``
self-monitoring and insight (6), ``caa`` constructive attitudes and approaches (5), ``sta``
skill and technique acquisition (4), ``sis`` social integration and support (5), ``hsn``
health service navigation (5). Higher is better on every scale except ``ed`` (higher = more
distress); that direction is the instrument's, not reversed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cached_property

from .base import (
    Score,
    Scorer,
    ScoringOptions,
    aggregate,
    check_choice,
    check_int,
    item_numbers,
    missing_rule_id,
    numbered_items,
    scale_key,
)
from .errors import InvalidOptionsError, OptionRequiredError

SCALE_SIZES: Mapping[str, int] = {
    "hda": 4,
    "pael": 5,
    "ed": 6,
    "smi": 6,
    "caa": 5,
    "sta": 4,
    "sis": 5,
    "hsn": 5,
}
SCALES = tuple(SCALE_SIZES)


@dataclass(frozen=True)
class HeiqOptions(ScoringOptions):
    """Per-study heiQ settings (fact sheet §8 and §15.3).

    - ``scale_items`` — scale → item numbers from the licensed scoring sheet. No default
      (``None`` refuses to score). Each listed scale must have its published item count.
    - ``scales`` — the scales the study administers (default: all eight); each needs a key.
    - ``reversed_items`` — item numbers scored 5 - answer before averaging (default none:
      whether any heiQ item is reverse-keyed is not public; take it from the licensed sheet).
    - ``max_missing_per_scale`` (default 0: all items of a scale required; up to 2 allowed,
      the scale mean then uses the answered items).
    """

    scale_items: Mapping[str, Sequence[int]] | None = None
    scales: Sequence[str] = SCALES
    reversed_items: Sequence[int] = ()
    max_missing_per_scale: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.scales, str) or not isinstance(self.scales, tuple | list):
            raise InvalidOptionsError(
                option="scales", value=repr(self.scales), expected="a list of heiQ scale codes"
            )
        for name in self.scales:
            check_choice("scales", name, SCALES)
        if not self.scales or len(set(self.scales)) != len(self.scales):
            raise InvalidOptionsError(
                option="scales", value=repr(self.scales), expected="distinct heiQ scale codes"
            )
        object.__setattr__(self, "scales", tuple(self.scales))
        if self.scale_items is not None:
            key = scale_key(
                "scale_items", self.scale_items, n_items=40, scales=SCALES, sizes=SCALE_SIZES
            )
            for name in self.scales:
                if name not in key:
                    raise InvalidOptionsError(
                        option="scale_items",
                        value=repr(self.scale_items),
                        expected=f"item numbers for every administered scale, including {name}",
                    )
            object.__setattr__(self, "scale_items", key)
        object.__setattr__(
            self, "reversed_items", item_numbers("reversed_items", self.reversed_items, 40)
        )
        check_int("max_missing_per_scale", self.max_missing_per_scale, 0, 2)

    # Derived once per options object, not once per response.

    @cached_property
    def scale_positions(self) -> dict[str, tuple[int, ...]]:
        """Administered scale → zero-based positions of its items."""
        key = self.scale_items or {}
        return {name: tuple(n - 1 for n in key[name]) for name in self.scales if name in key}

    @cached_property
    def reversed_positions(self) -> frozenset[int]:
        return frozenset(n - 1 for n in self.reversed_items)

    @cached_property
    def scored_positions(self) -> tuple[int, ...]:
        return tuple(sorted(p for positions in self.scale_positions.values() for p in positions))


class HeiqScorer(Scorer[HeiqOptions]):
    code = "heiq"
    title = "Health Education Impact Questionnaire (heiQ) v3"
    version = "1"
    source = "Osborne, Elsworth & Whitfield 2007 (Patient Educ Couns 66:192)"
    options_type = HeiqOptions
    items = numbered_items("heiq", 40, 1, 4)

    def check_options(self, options: HeiqOptions) -> None:
        if options.scale_items is None:
            raise OptionRequiredError(instrument=self.code, option="scale_items")

    def scored_positions(self, options: HeiqOptions) -> tuple[int, ...]:
        return options.scored_positions

    def _compute(
        self, values: list[int | None], options: HeiqOptions, not_applicable: AbstractSet[str]
    ) -> tuple[dict[str, Score], frozenset[str]]:
        flipped = options.reversed_positions
        if flipped:
            values = [
                5 - value if value is not None and i in flipped else value
                for i, value in enumerate(values)
            ]
        rule = missing_rule_id(options.max_missing_per_scale)
        scores = {}
        for name, positions in options.scale_positions.items():
            scale_values = [values[p] for p in positions]
            mean, status = aggregate(
                scale_values, mean=True, max_missing=options.max_missing_per_scale
            )
            scores[name] = Score(mean, status, rule)
        return scores, frozenset()
