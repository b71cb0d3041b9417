"""Randomisation: concealed permuted blocks, allocation tables and minimisation.

A study allocates participants to arms in one of three ways, each a plain function over plain
data; the ``trials`` app stores what comes out and keeps it concealed:

* ``generate_sequence`` builds one stratum's list of slots from permuted blocks of random size.
  The list is derived from the study's secret and the stratum key, so it can be rebuilt (and
  audited) by whoever holds the secret, and by nobody else.
* ``allocation_table_import`` validates a statistician's allocation table in the REDCap CSV
  layout (an arm column plus one column per stratification variable) and groups its rows into
  slots per stratum, in file order, the way REDCap works down its list.
* ``minimise`` chooses an arm by Pocock-Simon minimisation with a random element.

``stratum_key`` turns factor values into the stable string that names a stratum everywhere.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import itertools
import math
import random
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

__all__ = [
    "MAX_TABLE_PROBLEMS",
    "MIN_SECRET_BYTES",
    "UNSTRATIFIED",
    "AllocationError",
    "AllocationRatio",
    "AllocationTable",
    "AllocationTableError",
    "ArmWeight",
    "BlockDesign",
    "Choice",
    "Imbalance",
    "MinimisationDesign",
    "MinimisationResult",
    "Slot",
    "TableProblem",
    "TableSlot",
    "allocation_table_import",
    "generate_sequence",
    "minimisation_counts",
    "minimise",
    "next_slot",
    "stratum_key",
    "stratum_seed",
]

# The key of the single stratum of an unstratified study. It cannot collide with a real key,
# because every real key contains "=".
UNSTRATIFIED = "*"

# A shorter secret would make the concealed sequences guessable by brute force.
MIN_SECRET_BYTES = 16

# Bumping the version changes every derived sequence; never do it for a running study.
_SEED_CONTEXT = b"rarebridge.allocation.permuted-blocks.v1\x00"

# A statistician fixing a table wants the whole list, but not a million lines of it.
MAX_TABLE_PROBLEMS = 100


class AllocationError(ValueError):
    """A design or request the engine refuses. ``code`` is stable and machine-readable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# --- arms and ratios ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArmWeight:
    """One arm's code and its whole-number share of the allocation ratio."""

    code: str
    weight: int


@dataclass(frozen=True, slots=True)
class AllocationRatio:
    """The arms, in a fixed order, with their weights: 1:1, 2:1, 1:1:1.

    The order is part of the design: sequences and minimisation list arms in this order, so the
    same secret reproduces the same sequence only with the same ratio written the same way.
    """

    arms: tuple[ArmWeight, ...]

    def __post_init__(self) -> None:
        if len(self.arms) < 2:
            raise AllocationError("too_few_arms", "A ratio needs at least two arms.")
        codes = [arm.code for arm in self.arms]
        if any(not code for code in codes):
            raise AllocationError("empty_arm_code", "Every arm needs a code.")
        if len(set(codes)) != len(codes):
            raise AllocationError("duplicate_arm", f"Arm codes repeat: {codes}.")
        if any(arm.weight < 1 for arm in self.arms):
            raise AllocationError("bad_weight", "Every arm weight must be a whole number >= 1.")

    @classmethod
    def from_weights(cls, weights: Mapping[str, int]) -> AllocationRatio:
        """``{"intervention": 2, "control": 1}`` in the mapping's order."""
        return cls(arms=tuple(ArmWeight(code=c, weight=w) for c, w in weights.items()))

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(arm.code for arm in self.arms)

    @property
    def reduced_weights(self) -> tuple[int, ...]:
        """The weights divided by their common factor: 2:2 is 1:1, and blocks of 2 suffice."""
        divisor = math.gcd(*(arm.weight for arm in self.arms))
        return tuple(arm.weight // divisor for arm in self.arms)

    @property
    def unit(self) -> int:
        """The smallest block that holds every arm in the ratio: 2 for 1:1, 3 for 2:1."""
        return sum(self.reduced_weights)


# --- stratum keys ------------------------------------------------------------------------------


def _escape(text: str) -> str:
    # Percent-escape only what the key syntax uses, so keys stay readable ("site=Hamburg").
    return text.replace("%", "%25").replace("=", "%3D").replace("|", "%7C")


def stratum_key(*, factors: Mapping[str, str]) -> str:
    """The stable name of the stratum with these factor values, e.g. ``disease=PSC|site=HH``.

    Factors are sorted by name, so dictionary order does not matter; text is NFC-normalised,
    so "Liège" typed on two keyboards is one stratum. An empty mapping is ``UNSTRATIFIED``.
    """
    if not factors:
        return UNSTRATIFIED
    normalised: dict[str, str] = {}
    for name, value in factors.items():
        name_nfc = unicodedata.normalize("NFC", name)
        value_nfc = unicodedata.normalize("NFC", value)
        if not name_nfc:
            raise AllocationError("empty_factor_name", "A stratification factor has no name.")
        if not value_nfc:
            raise AllocationError("empty_factor_value", f"Factor {name!r} has no value.")
        if name_nfc in normalised:
            raise AllocationError("duplicate_factor", f"Factor {name!r} is given twice.")
        normalised[name_nfc] = value_nfc
    return "|".join(f"{_escape(n)}={_escape(v)}" for n, v in sorted(normalised.items()))


# --- permuted blocks ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BlockDesign:
    """Permuted blocks of random size.

    ``multipliers`` scale the ratio's smallest block: the default (1, 2, 3) gives blocks of
    2, 4 or 6 for 1:1 and of 3, 6 or 9 for 2:1. Mixing sizes keeps the end of a block from
    being predictable by staff who have seen the previous allocations.
    """

    ratio: AllocationRatio
    multipliers: tuple[int, ...] = (1, 2, 3)

    def __post_init__(self) -> None:
        if not self.multipliers:
            raise AllocationError("no_block_sizes", "Give at least one block multiplier.")
        if any(m < 1 for m in self.multipliers):
            raise AllocationError("bad_block_size", "Block multipliers must be >= 1.")
        if len(set(self.multipliers)) != len(self.multipliers):
            raise AllocationError("bad_block_size", "Block multipliers must not repeat.")

    @property
    def block_sizes(self) -> tuple[int, ...]:
        return tuple(m * self.ratio.unit for m in self.multipliers)


@dataclass(frozen=True, slots=True)
class Slot:
    """One place in a stratum's concealed sequence."""

    index: int  # 1-based position in the stratum's sequence
    block: int  # 1-based block number within the stratum
    block_size: int
    arm: str


def stratum_seed(*, secret: bytes, stratum_key: str) -> int:
    """The seed of one stratum's sequence: HMAC-SHA256 of the key under the study's secret.

    The secrecy lives in ``secret``; the pseudo-random generator only has to be reproducible.
    """
    if len(secret) < MIN_SECRET_BYTES:
        raise AllocationError(
            "short_secret", f"The allocation secret must be at least {MIN_SECRET_BYTES} bytes."
        )
    digest = hmac.new(secret, _SEED_CONTEXT + stratum_key.encode("utf-8"), hashlib.sha256)
    return int.from_bytes(digest.digest(), "big")


def generate_sequence(
    *, secret: bytes, stratum_key: str, design: BlockDesign, length: int
) -> list[Slot]:
    """The first ``length`` slots of the stratum's concealed sequence.

    Whole blocks are drawn and the last one is cut at ``length``, so a longer sequence always
    starts with the shorter one: slots can be appended later without moving those in use.
    """
    if length < 0:
        raise AllocationError("bad_length", "A sequence cannot have a negative length.")
    rng = random.Random(stratum_seed(secret=secret, stratum_key=stratum_key))
    codes = design.ratio.codes
    weights = design.ratio.reduced_weights
    sizes = design.block_sizes
    unit = design.ratio.unit
    slots: list[Slot] = []
    block = 0
    while len(slots) < length:
        block += 1
        size = rng.choice(sizes)
        per_unit = size // unit
        arms = [code for code, w in zip(codes, weights, strict=True) for _ in range(w * per_unit)]
        rng.shuffle(arms)
        for arm in arms[: length - len(slots)]:
            slots.append(Slot(index=len(slots) + 1, block=block, block_size=size, arm=arm))
    return slots


def next_slot(*, sequence: Sequence[Slot], used: int) -> Slot:
    """The slot for the next participant, given how many slots of the stratum are used."""
    if used < 0:
        raise AllocationError("bad_length", "The used count cannot be negative.")
    if used >= len(sequence):
        raise AllocationError(
            "sequence_exhausted",
            f"All {len(sequence)} slots of the stratum are used; append slots to go on.",
        )
    return sequence[used]


# --- allocation tables (REDCap CSV) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TableProblem:
    """One thing wrong with an allocation table, precise enough to fix it in a spreadsheet."""

    code: str  # machine-readable: unknown_arm, unknown_stratum_value, empty_table, ...
    row: int | None  # line in the file, the header being 1; None for the table as a whole
    column: str | None
    value: str | None
    message: str


class AllocationTableError(AllocationError):
    """The table was refused; ``problems`` lists every problem found, in file order."""

    def __init__(self, problems: Sequence[TableProblem]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        where = f" (row {first.row})" if first.row is not None else ""
        more = f" and {len(self.problems) - 1} more" if len(self.problems) > 1 else ""
        super().__init__("invalid_table", f"{first.message}{where}{more}.")


@dataclass(frozen=True, slots=True)
class TableSlot:
    """One row of an imported table, as a slot of its stratum."""

    index: int  # 1-based position within its stratum, in file order
    row: int  # line in the file, so a question about a slot leads back to the table
    arm: str


@dataclass(frozen=True, slots=True)
class AllocationTable:
    """A validated table: slots per stratum key, strata in order of first appearance."""

    factors: tuple[str, ...]
    strata: Mapping[str, tuple[TableSlot, ...]] = field(hash=False)
    # Declared strata without a single slot: a participant there could not be randomised.
    empty_strata: tuple[str, ...] = ()

    @property
    def slot_count(self) -> int:
        return sum(len(slots) for slots in self.strata.values())


class _Problems:
    """Collects problems up to the cap, so one bad column does not produce 10,000 lines."""

    def __init__(self) -> None:
        self.items: list[TableProblem] = []
        self.full = False

    def add(
        self, code: str, row: int | None, column: str | None, value: str | None, msg: str
    ) -> None:
        if len(self.items) >= MAX_TABLE_PROBLEMS:
            self.full = True
            return
        self.items.append(TableProblem(code, row, column, value, msg))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        items = list(self.items)
        if self.full:
            items.append(
                TableProblem(
                    "too_many_problems",
                    None,
                    None,
                    None,
                    f"Stopped listing after {MAX_TABLE_PROBLEMS} problems",
                )
            )
        raise AllocationTableError(items)


def _check_header(
    header: list[str], *, arm_column: str, factor_columns: Collection[str], problems: _Problems
) -> None:
    if len(header) == 1 and ";" in header[0]:
        # Excel in German, Dutch, Polish or Hungarian saves "CSV" with semicolons.
        problems.add("semicolon_separated", 1, None, header[0], "Cells are separated by semicolons")
        return
    expected = {arm_column, *factor_columns}
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.add("duplicate_column", 1, name, None, f"Column {name!r} appears twice")
        elif name not in expected:
            problems.add("unexpected_column", 1, name, None, f"Column {name!r} is not expected")
        seen.add(name)
    for name in [arm_column, *factor_columns]:
        if name not in seen:
            problems.add("missing_column", 1, name, None, f"Column {name!r} is missing")


def allocation_table_import(
    *,
    text: str,
    arm_column: str,
    arms: Collection[str],
    factors: Mapping[str, Collection[str]],
) -> AllocationTable:
    """Validate a REDCap-style allocation table and group its rows into slots per stratum.

    ``arms`` are the arm codes as written in the table; ``factors`` maps each stratification
    column to its allowed values. Raises ``AllocationTableError`` listing every problem (code,
    row, column, value) if anything is wrong; a table is taken whole or not at all.
    """
    if arm_column in factors:
        raise AllocationError("arm_is_factor", f"{arm_column!r} cannot also be a factor.")
    problems = _Problems()
    factor_names = tuple(factors)
    allowed_arms = set(arms)
    allowed_levels = {name: set(levels) for name, levels in factors.items()}
    # Spreadsheet programs like to start a UTF-8 file with a byte-order mark.
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    strata: dict[str, list[TableSlot]] = {}
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            no_header = TableProblem("empty_file", None, None, None, "The file has no header row")
            raise AllocationTableError([no_header])
        header = [cell.strip() for cell in header]
        _check_header(header, arm_column=arm_column, factor_columns=factor_names, problems=problems)
        problems.raise_if_any()
        position = {name: i for i, name in enumerate(header)}
        for cells in reader:
            row = reader.line_num
            values = [cell.strip() for cell in cells]
            # Blank lines and the ",,," lines spreadsheets leave at the end are not slots.
            if not any(values):
                continue
            if len(values) != len(header):
                found = f"Expected {len(header)} cells, found {len(values)}"
                problems.add("wrong_cell_count", row, None, None, found)
                continue
            arm = values[position[arm_column]]
            row_ok = True
            if not arm:
                problems.add("empty_cell", row, arm_column, None, "The arm is empty")
                row_ok = False
            elif arm not in allowed_arms:
                problems.add("unknown_arm", row, arm_column, arm, f"Unknown arm {arm!r}")
                row_ok = False
            levels: dict[str, str] = {}
            for name in factor_names:
                level = values[position[name]]
                if not level:
                    problems.add("empty_cell", row, name, None, f"{name!r} is empty")
                    row_ok = False
                elif level not in allowed_levels[name]:
                    unknown = f"Unknown value {level!r} for {name!r}"
                    problems.add("unknown_stratum_value", row, name, level, unknown)
                    row_ok = False
                levels[name] = level
            if row_ok:
                slots = strata.setdefault(stratum_key(factors=levels), [])
                slots.append(TableSlot(index=len(slots) + 1, row=row, arm=arm))
    except csv.Error as error:
        problems.add("unreadable", reader.line_num, None, None, f"Not readable as CSV: {error}")
    problems.raise_if_any()
    if not strata:
        problems.add("empty_table", None, None, None, "The table has no slots")
        problems.raise_if_any()
    declared = (
        stratum_key(factors=dict(zip(factor_names, combo, strict=True)))
        for combo in itertools.product(*(sorted(allowed_levels[n]) for n in factor_names))
    )
    return AllocationTable(
        factors=factor_names,
        strata={key: tuple(slots) for key, slots in strata.items()},
        empty_strata=tuple(key for key in declared if key not in strata),
    )


# --- minimisation ------------------------------------------------------------------------------


class Imbalance(StrEnum):
    """How the imbalance of one factor level across arms is measured."""

    RANGE = "range"  # largest minus smallest (ratio-scaled) count
    VARIANCE = "variance"  # population variance of the (ratio-scaled) counts


class Choice(StrEnum):
    """Why ``minimise`` chose the arm it chose, for the audit entry."""

    ALL_TIED = "all_tied"  # every arm scores the same: drawn at random by the ratio
    MINIMISING = "minimising"  # an arm with the lowest imbalance (probability p)
    RANDOM_ELEMENT = "random_element"  # another arm, drawn with probability 1 - p


@dataclass(frozen=True, slots=True)
class MinimisationDesign:
    """Pocock-Simon minimisation.

    ``factor_weights`` names every factor a participant is minimised on, with its relative
    importance (any positive number; scores are compared exactly, so ties are real ties).
    Counts are divided by the arm weights before the imbalance is measured, so 2:1 aims at
    twice as many in the first arm. ``p`` is the probability of taking the minimising arm;
    below 1 it keeps the next allocation from being predictable, 0.8 being the usual choice.
    """

    ratio: AllocationRatio
    factor_weights: Mapping[str, float] = field(hash=False)
    p: float = 0.8
    imbalance: Imbalance = Imbalance.RANGE

    def __post_init__(self) -> None:
        if not self.factor_weights:
            raise AllocationError("no_factors", "Minimisation needs at least one factor.")
        for name, weight in self.factor_weights.items():
            if not math.isfinite(weight) or weight <= 0:
                raise AllocationError("bad_weight", f"Factor {name!r} needs a weight > 0.")
        if not 0 < self.p <= 1:
            raise AllocationError("bad_probability", "p must be in (0, 1].")


@dataclass(frozen=True, slots=True)
class MinimisationResult:
    """The chosen arm and the figures behind it."""

    arm: str
    # The total imbalance if the participant joined each arm, in the ratio's arm order.
    scores: tuple[tuple[str, float], ...]
    minimising: tuple[str, ...]  # the arms with the lowest score
    choice: Choice


CountKey = tuple[str, str, str]  # (factor, level, arm)


def minimisation_counts(
    *, allocations: Iterable[tuple[Mapping[str, str], str]]
) -> Counter[CountKey]:
    """Counts per (factor, level, arm) from earlier allocations given as (levels, arm)."""
    counts: Counter[CountKey] = Counter()
    for levels, arm in allocations:
        for factor, level in levels.items():
            counts[(factor, level, arm)] += 1
    return counts


def _exact(weight: float) -> int | Fraction:
    # Integer weights keep the arithmetic fast; others become exact fractions so that two arms
    # with mathematically equal imbalance tie, instead of differing in the last float bit.
    return int(weight) if float(weight).is_integer() else Fraction(weight)


def minimise(
    *,
    factors: Mapping[str, str],
    counts: Mapping[CountKey, int],
    design: MinimisationDesign,
    rng: random.Random,
) -> MinimisationResult:
    """Choose the arm for a participant with these factor levels.

    ``counts`` holds the earlier allocations per (factor, level, arm); missing keys are 0. For
    each arm the engine adds the participant to it, measures each factor's imbalance at the
    participant's level and sums them by weight. With probability ``p`` the result is one of
    the arms with the lowest sum, otherwise one of the others; ties are broken with ``rng``,
    and if every arm ties the draw follows the allocation ratio.
    """
    missing = set(design.factor_weights) - set(factors)
    if missing:
        raise AllocationError("missing_factor", f"No level given for {sorted(missing)}.")
    unknown = set(factors) - set(design.factor_weights)
    if unknown:
        raise AllocationError("unknown_factor", f"Not a minimisation factor: {sorted(unknown)}.")

    codes = design.ratio.codes
    weights = design.ratio.reduced_weights
    arm_count = len(codes)
    # Scale counts to whole numbers: an arm's count times lcm/weight. 2:1 counts of (4, 2) are
    # (4, 4) after scaling, i.e. balanced, and every comparison stays exact.
    lcm = math.lcm(*weights)
    scales = [lcm // w for w in weights]
    rows: list[tuple[int | Fraction, list[int]]] = []
    for factor, factor_weight in design.factor_weights.items():
        level = factors[factor]
        row = [
            counts.get((factor, level, code), 0) * s for code, s in zip(codes, scales, strict=True)
        ]
        rows.append((_exact(factor_weight), row))

    scores: list[int | Fraction] = []
    for k in range(arm_count):
        total: int | Fraction = 0
        for exact_weight, row in rows:
            after = row.copy()
            after[k] += scales[k]
            if design.imbalance is Imbalance.RANGE:
                spread = max(after) - min(after)
            else:
                # arm_count squared times the population variance, which is a whole number.
                spread = arm_count * sum(x * x for x in after) - sum(after) ** 2
            total += exact_weight * spread
        scores.append(total)

    best = min(scores)
    minimising = [code for code, score in zip(codes, scores, strict=True) if score == best]
    if len(minimising) == arm_count:
        arm = rng.choices(codes, weights=weights)[0]
        choice = Choice.ALL_TIED
    elif rng.random() < design.p:
        arm = rng.choice(minimising)
        choice = Choice.MINIMISING
    else:
        arm = rng.choice([code for code in codes if code not in minimising])
        choice = Choice.RANDOM_ELEMENT

    # Report scores in real units: counts per unit of ratio weight (and their square).
    unit = lcm if design.imbalance is Imbalance.RANGE else arm_count * arm_count * lcm * lcm
    return MinimisationResult(
        arm=arm,
        scores=tuple(
            (code, float(Fraction(s) / unit)) for code, s in zip(codes, scores, strict=True)
        ),
        minimising=tuple(minimising),
        choice=choice,
    )
