"""Building blocks shared by every scorer: item specs, results, options and the base class.

A scorer turns one response (item code → integer, or ``None`` when unanswered) into a
``ScoreResult``. The base class does the parts every instrument shares — rejecting unknown
items, malformed and out-of-range values, resolving options — and each instrument module
supplies only its arithmetic in ``_compute``.
"""

from __future__ import annotations

import dataclasses
import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from typing import Any, Generic, Self, TypeVar

from .errors import (
    AnsweredButNotApplicableError,
    InvalidOptionsError,
    ItemOutOfRangeError,
    MalformedItemValueError,
    MalformedResponseError,
    NotApplicableNotAllowedError,
    UnknownItemError,
)

Responses = Mapping[str, int | None]
"""One questionnaire response: item code → raw integer answer, ``None`` (or absent) if missing."""

ALL_REQUIRED = "all_required"


class ScoreStatus(StrEnum):
    COMPLETE = "complete"  # every item the score needs was answered
    PRORATED = "prorated"  # some items missing (or not applicable) and the missing rule filled in
    MISSING = "missing"  # too many items missing: no score


@dataclass(frozen=True, slots=True)
class ItemSpec:
    """One item: its code, its allowed raw range and whether any score uses it."""

    code: str
    minimum: int
    maximum: int
    scored: bool = True


@dataclass(frozen=True, slots=True)
class Score:
    """One score of a response.

    ``value`` is an ``int`` for an unprorated or rounded sum and a ``float`` otherwise; ``None``
    when ``status`` is ``MISSING``. ``missing_rule`` names the rule that was in force for this
    score (see ``missing_rule_id``); ``band`` is a machine code such as ``"moderate"``.
    """

    value: float | None
    status: ScoreStatus
    missing_rule: str
    band: str | None = None


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """Everything one scoring run produced, traceable to the algorithm and options used."""

    instrument: str
    algorithm_version: str
    scores: Mapping[str, Score]
    flags: frozenset[str]
    missing_items: tuple[str, ...]
    options: ScoringOptions  # store ``options.to_dict()`` beside the scores

    @property
    def algorithm(self) -> str:
        """``"<instrument>@<version>"``: store it with every score."""
        return f"{self.instrument}@{self.algorithm_version}"

    @property
    def values(self) -> dict[str, float | None]:
        return {name: score.value for name, score in self.scores.items()}

    @property
    def bands(self) -> dict[str, str]:
        return {name: s.band for name, s in self.scores.items() if s.band is not None}

    @property
    def missing_rules(self) -> dict[str, str]:
        return {name: score.missing_rule for name, score in self.scores.items()}


# --- options -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoringOptions:
    """Base of every per-instrument options class.

    Options are per-study settings, so they arrive as JSON: ``from_dict`` accepts lists where a
    tuple is meant, and each subclass validates and normalises its fields in ``__post_init__``.
    """

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        names = {field.name for field in dataclasses.fields(cls)}
        if not isinstance(data, Mapping):
            raise InvalidOptionsError(
                option="options", value=type(data).__name__, expected="a mapping of options"
            )
        for key in data:
            if key not in names:
                raise InvalidOptionsError(
                    option=str(key),
                    value=repr(data[key]),
                    expected="one of " + ", ".join(sorted(names)) if names else "no options",
                )
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly copy (tuples become lists), suitable for storing with a score."""
        return {
            field.name: _jsonable(getattr(self, field.name)) for field in dataclasses.fields(self)
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_jsonable(item) for item in value]
    return value


def check_choice(option: str, value: object, allowed: Sequence[str]) -> None:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidOptionsError(
            option=option, value=repr(value), expected="one of " + ", ".join(map(repr, allowed))
        )


def check_bool(option: str, value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidOptionsError(option=option, value=repr(value), expected="true or false")


def check_int(option: str, value: object, minimum: int, maximum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidOptionsError(
            option=option,
            value=repr(value),
            expected=f"a whole number from {minimum} to {maximum}",
        )


def item_numbers(option: str, value: object, n_items: int) -> tuple[int, ...]:
    """Validate a collection of distinct 1-based item numbers; return it as a sorted tuple."""
    expected = f"a list of distinct item numbers from 1 to {n_items}"
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | AbstractSet):
        raise InvalidOptionsError(option=option, value=repr(value), expected=expected)
    numbers = tuple(value)
    for number in numbers:
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= n_items:
            raise InvalidOptionsError(option=option, value=repr(value), expected=expected)
    if len(set(numbers)) != len(numbers):
        raise InvalidOptionsError(option=option, value=repr(value), expected=expected)
    return tuple(sorted(numbers))


class ScaleKey(Mapping[str, tuple[int, ...]]):
    """A read-only, hashable scale name → item numbers mapping (options stay hashable)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, tuple[int, ...]]) -> None:
        self._data = dict(data)

    def __getitem__(self, key: str) -> tuple[int, ...]:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self._data) == dict(other)

    def __repr__(self) -> str:
        return f"ScaleKey({self._data!r})"


def scale_key(
    option: str,
    value: object,
    *,
    n_items: int,
    scales: Sequence[str],
    sizes: Mapping[str, int] | None = None,
) -> ScaleKey:
    """Validate a scale → item-numbers key and return it read-only.

    Scale names must come from ``scales``; no item may belong to two scales; with ``sizes``
    every listed scale must have exactly its published number of items.
    """
    if not isinstance(value, Mapping):
        raise InvalidOptionsError(
            option=option, value=repr(value), expected="a mapping of scale name to item numbers"
        )
    key: dict[str, tuple[int, ...]] = {}
    seen: set[int] = set()
    for name, numbers in value.items():
        check_choice(f"{option}.{name}", name, scales)
        items = item_numbers(f"{option}.{name}", numbers, n_items)
        if sizes is not None and len(items) != sizes[name]:
            raise InvalidOptionsError(
                option=f"{option}.{name}",
                value=repr(numbers),
                expected=f"exactly {sizes[name]} item numbers",
            )
        if seen & set(items):
            raise InvalidOptionsError(
                option=f"{option}.{name}",
                value=repr(numbers),
                expected="item numbers that belong to no other scale",
            )
        seen.update(items)
        key[name] = items
    return ScaleKey(key)


# --- arithmetic --------------------------------------------------------------------------


def missing_rule_id(max_missing: int, *, round_prorated: bool = False) -> str:
    """A stable name for a missing-item rule, stored with each score.

    ``all_required``: any missing item → no score. ``prorate_max_<k>``: with up to k items
    missing, the score uses the mean of the answered items (a sum is scaled up to the full item
    count, i.e. mean substitution); ``_round_half_up`` when a prorated sum is rounded.
    """
    if max_missing == 0:
        return ALL_REQUIRED
    return f"prorate_max_{max_missing}" + ("_round_half_up" if round_prorated else "")


def round_half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def aggregate(
    values: Sequence[int | None],
    *,
    mean: bool,
    max_missing: int,
    round_prorated: bool = False,
    target: int | None = None,
) -> tuple[float | None, ScoreStatus]:
    """Sum or mean of ``values`` under a prorating missing rule.

    A sum is scaled to ``target`` items (default: all of ``values``), so a sum over 14
    applicable items can still be reported on a 15-item metric. Prorated sums are exact
    fractions before the optional half-up rounding, so 4.5 never becomes 4.
    """
    n_items = len(values)
    answered = [value for value in values if value is not None]
    n_missing = n_items - len(answered)
    if not answered or n_missing > max_missing:
        return None, ScoreStatus.MISSING
    total = sum(answered)
    if mean:
        if n_missing == 0:
            return total / n_items, ScoreStatus.COMPLETE
        return total / len(answered), ScoreStatus.PRORATED
    if target is None:
        target = n_items
    if n_missing == 0 and target == n_items:
        return total, ScoreStatus.COMPLETE
    exact = Fraction(total * target, len(answered))
    value = round_half_up(exact) if round_prorated else float(exact)
    return value, ScoreStatus.PRORATED


def band_for(value: float, cuts: Sequence[tuple[float, str]], lowest: str) -> str:
    """The band of ``value`` given ``(threshold, band)`` pairs in ascending order."""
    band = lowest
    for threshold, name in cuts:
        if value >= threshold:
            band = name
        else:
            break
    return band


def numbered_items(prefix: str, count: int, minimum: int, maximum: int) -> tuple[ItemSpec, ...]:
    """Items ``<prefix>-1`` … ``<prefix>-<count>`` sharing one range."""
    return tuple(ItemSpec(f"{prefix}-{n}", minimum, maximum) for n in range(1, count + 1))


# --- the scorer --------------------------------------------------------------------------

OptionsT = TypeVar("OptionsT", bound=ScoringOptions)


class Scorer(ABC, Generic[OptionsT]):
    """Scores one instrument with one algorithm version.

    Subclasses set the class attributes and implement ``_compute``. Scorers hold no state
    beyond their tables, so one instance serves every call and every thread.
    """

    code: str
    title: str
    version: str
    source: str
    options_type: type[OptionsT]
    items: tuple[ItemSpec, ...]
    # Items a respondent may legitimately skip as "does not apply" (distinct from missing).
    not_applicable_items: frozenset[str] = frozenset()

    def __init__(self) -> None:
        self._index = {spec.code: position for position, spec in enumerate(self.items)}
        self._scored = tuple(i for i, spec in enumerate(self.items) if spec.scored)
        self._default_options = self.options_type()

    @property
    def item_codes(self) -> tuple[str, ...]:
        return tuple(spec.code for spec in self.items)

    @property
    def algorithm(self) -> str:
        return f"{self.code}@{self.version}"

    def default_options(self) -> OptionsT:
        return self._default_options

    def parse_options(self, data: Mapping[str, Any] | None) -> OptionsT:
        """Options from a per-study JSON setting; ``None`` or ``{}`` gives the defaults."""
        if not data:
            return self._default_options
        return self.options_type.from_dict(data)

    def score(
        self,
        responses: Responses,
        options: OptionsT | Mapping[str, Any] | None = None,
        *,
        not_applicable: AbstractSet[str] = frozenset(),
    ) -> ScoreResult:
        """Validate ``responses`` and score them.

        ``not_applicable`` lists items that do not apply to this respondent (only those in
        ``not_applicable_items``, e.g. PHQ-15 item 4); they must be unanswered.
        """
        opts = self._resolve(options)
        self.check_options(opts)
        specs = self.item_specs(opts)
        values = self._read(responses, specs, not_applicable)
        scores, flags = self._compute(values, opts, not_applicable)
        missing = tuple(
            specs[i].code
            for i in self.scored_positions(opts)
            if values[i] is None and specs[i].code not in not_applicable
        )
        return ScoreResult(
            instrument=self.code,
            algorithm_version=self.version,
            scores=scores,
            flags=flags,
            missing_items=missing,
            options=opts,
        )

    # Hooks -----------------------------------------------------------------------------

    def check_options(self, options: OptionsT) -> None:
        """Refuse options that cannot score yet (e.g. a licensed key not set); default: none."""

    def item_specs(self, options: OptionsT) -> tuple[ItemSpec, ...]:
        """Item ranges; override when options change them. Order must match ``items``."""
        return self.items

    def scored_positions(self, options: OptionsT) -> tuple[int, ...]:
        """Positions of the items some score uses under ``options`` (for ``missing_items``)."""
        return self._scored

    @abstractmethod
    def _compute(
        self, values: list[int | None], options: OptionsT, not_applicable: AbstractSet[str]
    ) -> tuple[dict[str, Score], frozenset[str]]:
        """Scores and raised flags from validated values in ``items`` order."""

    # Internals -------------------------------------------------------------------------

    def _resolve(self, options: OptionsT | Mapping[str, Any] | None) -> OptionsT:
        if options is None:
            return self._default_options
        if isinstance(options, self.options_type):
            return options
        if isinstance(options, Mapping):
            return self.options_type.from_dict(options)
        raise InvalidOptionsError(
            option="options",
            value=type(options).__name__,
            expected=f"{self.options_type.__name__} or a mapping",
        )

    def _read(
        self,
        responses: Responses,
        specs: tuple[ItemSpec, ...],
        not_applicable: AbstractSet[str],
    ) -> list[int | None]:
        index = self._index
        if not isinstance(responses, Mapping):
            raise MalformedResponseError(instrument=self.code, value_type=type(responses).__name__)
        unknown = [key for key in responses if key not in index]
        if unknown:
            raise UnknownItemError(instrument=self.code, item=str(min(map(str, unknown))))
        for code in sorted(not_applicable):
            if code not in self.not_applicable_items:
                raise NotApplicableNotAllowedError(instrument=self.code, item=code)
            if responses.get(code) is not None:
                raise AnsweredButNotApplicableError(instrument=self.code, item=code)

        values: list[int | None] = []
        append = values.append
        for spec in specs:
            value = responses.get(spec.code)
            if value is None:
                append(None)
                continue
            if type(value) is not int:
                # bool is an int subclass but never a valid answer; IntEnum members are fine.
                if isinstance(value, bool) or not isinstance(value, int):
                    raise MalformedItemValueError(
                        instrument=self.code, item=spec.code, value_type=type(value).__name__
                    )
                value = int(value)
            if value < spec.minimum or value > spec.maximum:
                raise ItemOutOfRangeError(
                    instrument=self.code,
                    item=spec.code,
                    value=value,
                    minimum=spec.minimum,
                    maximum=spec.maximum,
                )
            append(value)
        return values
