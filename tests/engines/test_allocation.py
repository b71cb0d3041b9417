"""Randomisation engine: permuted blocks, stratum keys, allocation tables, minimisation."""

from __future__ import annotations

import csv
import io
import random
import statistics
import unicodedata
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rarebridge.engines.allocation import (
    MAX_TABLE_PROBLEMS,
    UNSTRATIFIED,
    AllocationError,
    AllocationRatio,
    AllocationTable,
    AllocationTableError,
    ArmWeight,
    BlockDesign,
    Choice,
    Imbalance,
    MinimisationDesign,
    Slot,
    allocation_table_import,
    generate_sequence,
    minimisation_counts,
    minimise,
    next_slot,
    stratum_key,
    stratum_seed,
)

SECRET = b"rarebridge-test-secret-0123456789"
ONE_TO_ONE = AllocationRatio.from_weights({"I": 1, "C": 1})
TWO_TO_ONE = AllocationRatio.from_weights({"I": 2, "C": 1})

ratios = st.lists(st.integers(1, 3), min_size=2, max_size=3).map(
    lambda ws: AllocationRatio(arms=tuple(ArmWeight("ABC"[i], w) for i, w in enumerate(ws)))
)
designs = st.builds(
    BlockDesign,
    ratio=ratios,
    multipliers=st.sets(st.integers(1, 4), min_size=1).map(lambda ms: tuple(sorted(ms))),
)
secrets = st.binary(min_size=16, max_size=48)


def _blocks(slots: list[Slot]) -> list[list[Slot]]:
    blocks: dict[int, list[Slot]] = {}
    for slot in slots:
        blocks.setdefault(slot.block, []).append(slot)
    return [blocks[number] for number in sorted(blocks)]


# --- permuted blocks ---------------------------------------------------------------------------


@given(design=designs, secret=secrets, key=st.text(max_size=30), length=st.integers(0, 150))
def test_it_balances_every_completed_block_within_its_stratum(
    design: BlockDesign, secret: bytes, key: str, length: int
) -> None:
    slots = generate_sequence(secret=secret, stratum_key=key, design=design, length=length)

    assert [slot.index for slot in slots] == list(range(1, length + 1))
    blocks = _blocks(slots)
    assert [block[0].block for block in blocks] == list(range(1, len(blocks) + 1))
    weights = dict(zip(design.ratio.codes, design.ratio.reduced_weights, strict=True))
    for number, block in enumerate(blocks, start=1):
        size = block[0].block_size
        assert size in design.block_sizes
        assert all(slot.block_size == size for slot in block)
        if len(block) < size:
            # Only the block cut at ``length`` may be incomplete.
            assert number == len(blocks)
            continue
        assert len(block) == size
        per_unit = size // design.ratio.unit
        assert Counter(slot.arm for slot in block) == {
            code: w * per_unit for code, w in weights.items()
        }


@given(design=designs, secret=secrets, key=st.text(max_size=30), length=st.integers(0, 80))
def test_it_reproduces_a_sequence_from_the_seed(
    design: BlockDesign, secret: bytes, key: str, length: int
) -> None:
    first = generate_sequence(secret=secret, stratum_key=key, design=design, length=length)
    again = generate_sequence(secret=secret, stratum_key=key, design=design, length=length)

    assert first == again


@given(design=designs, secret=secrets, short=st.integers(0, 60), extra=st.integers(0, 60))
def test_it_extends_a_sequence_without_moving_the_slots_in_use(
    design: BlockDesign, secret: bytes, short: int, extra: int
) -> None:
    head = generate_sequence(secret=secret, stratum_key="site=HH", design=design, length=short)
    longer = generate_sequence(
        secret=secret, stratum_key="site=HH", design=design, length=short + extra
    )

    assert longer[:short] == head


@given(secret=secrets, keys=st.lists(st.text(max_size=20), min_size=2, max_size=2, unique=True))
def test_it_gives_each_stratum_its_own_sequence(secret: bytes, keys: list[str]) -> None:
    design = BlockDesign(ratio=ONE_TO_ONE)
    first, second = (
        generate_sequence(secret=secret, stratum_key=key, design=design, length=60) for key in keys
    )

    assert [s.arm for s in first] != [s.arm for s in second]
    assert stratum_seed(secret=secret, stratum_key=keys[0]) != stratum_seed(
        secret=secret, stratum_key=keys[1]
    )


def test_it_gives_each_secret_its_own_sequence() -> None:
    design = BlockDesign(ratio=ONE_TO_ONE)
    ours = generate_sequence(secret=SECRET, stratum_key="site=HH", design=design, length=60)
    theirs = generate_sequence(secret=SECRET[::-1], stratum_key="site=HH", design=design, length=60)

    assert [s.arm for s in ours] != [s.arm for s in theirs]


def test_it_keeps_stored_sequences_reproducible_across_releases() -> None:
    # Sequences of running studies are rebuilt for audit from the secret: if this test fails,
    # the derivation changed and old sequences can no longer be reproduced.
    one = generate_sequence(
        secret=SECRET,
        stratum_key="disease=PSC|site=HH",
        design=BlockDesign(ratio=ONE_TO_ONE),
        length=12,
    )
    two = generate_sequence(
        secret=SECRET,
        stratum_key="disease=PSC|site=HH",
        design=BlockDesign(ratio=TWO_TO_ONE),
        length=12,
    )

    assert "".join(s.arm for s in one) == "CIICCCIICICI"
    assert [s.block_size for s in one] == [2, 2, 6, 6, 6, 6, 6, 6, 2, 2, 4, 4]
    assert "".join(s.arm for s in two) == "IICIICIICCII"
    assert [s.block_size for s in two] == [3, 3, 3] + [9] * 9


def test_it_scales_block_sizes_by_the_ratio() -> None:
    assert BlockDesign(ratio=ONE_TO_ONE).block_sizes == (2, 4, 6)
    assert BlockDesign(ratio=TWO_TO_ONE).block_sizes == (3, 6, 9)
    two_two = AllocationRatio.from_weights({"I": 2, "C": 2})
    assert BlockDesign(ratio=two_two).block_sizes == (2, 4, 6)


@pytest.mark.parametrize(
    ("weights", "code"),
    [
        ({"I": 1}, "too_few_arms"),
        ({"I": 1, "": 1}, "empty_arm_code"),
        ({"I": 0, "C": 1}, "bad_weight"),
    ],
)
def test_it_refuses_a_bad_ratio(weights: dict[str, int], code: str) -> None:
    with pytest.raises(AllocationError) as caught:
        AllocationRatio.from_weights(weights)
    assert caught.value.code == code


def test_it_refuses_repeated_arm_codes() -> None:
    with pytest.raises(AllocationError) as caught:
        AllocationRatio(arms=(ArmWeight("I", 1), ArmWeight("I", 1)))
    assert caught.value.code == "duplicate_arm"


@pytest.mark.parametrize("multipliers", [(), (0, 1), (2, 2)])
def test_it_refuses_bad_block_multipliers(multipliers: tuple[int, ...]) -> None:
    with pytest.raises(AllocationError):
        BlockDesign(ratio=ONE_TO_ONE, multipliers=multipliers)


def test_it_refuses_a_short_secret() -> None:
    with pytest.raises(AllocationError) as caught:
        generate_sequence(
            secret=b"short", stratum_key="site=HH", design=BlockDesign(ratio=ONE_TO_ONE), length=4
        )
    assert caught.value.code == "short_secret"


def test_it_hands_out_slots_in_order_until_the_sequence_runs_out() -> None:
    sequence = generate_sequence(
        secret=SECRET, stratum_key="site=HH", design=BlockDesign(ratio=ONE_TO_ONE), length=3
    )

    assert [next_slot(sequence=sequence, used=used) for used in range(3)] == sequence
    with pytest.raises(AllocationError) as caught:
        next_slot(sequence=sequence, used=3)
    assert caught.value.code == "sequence_exhausted"


# --- stratum keys ------------------------------------------------------------------------------

factor_maps = st.dictionaries(st.text(min_size=1, max_size=8), st.text(min_size=1, max_size=8))


@given(factors=factor_maps, seed=st.integers())
def test_it_builds_the_same_key_whatever_the_factor_order(
    factors: dict[str, str], seed: int
) -> None:
    items = list(factors.items())
    random.Random(seed).shuffle(items)

    assert stratum_key(factors=dict(items)) == stratum_key(factors=factors)


@given(first=factor_maps, second=factor_maps)
def test_it_builds_different_keys_for_different_strata(
    first: dict[str, str], second: dict[str, str]
) -> None:
    def nfc(factors: dict[str, str]) -> dict[str, str]:
        return {
            unicodedata.normalize("NFC", k): unicodedata.normalize("NFC", v)
            for k, v in factors.items()
        }

    try:
        keys = stratum_key(factors=first), stratum_key(factors=second)
    except AllocationError:
        return  # two spellings of one factor name in one mapping: refused, tested below
    assert (keys[0] == keys[1]) == (nfc(first) == nfc(second))


def test_it_keeps_separators_in_values_from_forging_another_stratum() -> None:
    forged = stratum_key(factors={"site": "HH|disease=PSC"})
    real = stratum_key(factors={"site": "HH", "disease": "PSC"})

    assert forged != real
    assert real == "disease=PSC|site=HH"


def test_it_treats_composed_and_decomposed_accents_as_one_stratum() -> None:
    assert stratum_key(factors={"site": "Li\u00e8ge"}) == stratum_key(
        factors={"site": "Lie\u0300ge"}
    )
    with pytest.raises(AllocationError) as caught:
        stratum_key(factors={"sit\u00e9": "a", "site\u0301": "b"})
    assert caught.value.code == "duplicate_factor"


def test_it_names_the_single_stratum_of_an_unstratified_study() -> None:
    assert stratum_key(factors={}) == UNSTRATIFIED


@pytest.mark.parametrize(
    ("factors", "code"), [({"": "x"}, "empty_factor_name"), ({"x": ""}, "empty_factor_value")]
)
def test_it_refuses_empty_factor_names_and_values(factors: dict[str, str], code: str) -> None:
    with pytest.raises(AllocationError) as caught:
        stratum_key(factors=factors)
    assert caught.value.code == code


# --- allocation tables -------------------------------------------------------------------------

ARMS = ("1", "2")
FACTORS = {"site": ("HH", "TO", "GH"), "disease": ("AIH", "PSC", "PBC")}
HEADER = ("rand_group", "site", "disease")
table_rows = st.lists(
    st.tuples(
        st.sampled_from(ARMS), st.sampled_from(FACTORS["site"]), st.sampled_from(FACTORS["disease"])
    ),
    min_size=1,
    max_size=40,
)


def _csv(rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _import(text: str) -> AllocationTable:
    return allocation_table_import(text=text, arm_column="rand_group", arms=ARMS, factors=FACTORS)


@given(rows=table_rows)
def test_it_groups_a_valid_table_into_slots_per_stratum_in_file_order(
    rows: list[tuple[str, str, str]],
) -> None:
    table = _import(_csv(rows))

    assert table.factors == ("site", "disease")
    assert table.slot_count == len(rows)
    for key, slots in table.strata.items():
        expected = [
            (line, arm)
            for line, (arm, site, disease) in enumerate(rows, start=2)
            if stratum_key(factors={"site": site, "disease": disease}) == key
        ]
        assert [(s.row, s.arm) for s in slots] == expected
        assert [s.index for s in slots] == list(range(1, len(slots) + 1))
    assert len(table.strata) + len(table.empty_strata) == 9


@given(rows=table_rows, data=st.data(), bad=st.sampled_from(["3", "X", "intervention", "01"]))
def test_it_rejects_an_unknown_arm_with_its_row_number(
    rows: list[tuple[str, str, str]], data: st.DataObject, bad: str
) -> None:
    at = data.draw(st.integers(0, len(rows) - 1))
    rows[at] = (bad, *rows[at][1:])

    with pytest.raises(AllocationTableError) as caught:
        _import(_csv(rows))

    [problem] = caught.value.problems
    assert (problem.code, problem.row, problem.column, problem.value) == (
        "unknown_arm",
        at + 2,
        "rand_group",
        bad,
    )
    assert caught.value.code == "invalid_table"


@given(
    rows=table_rows,
    data=st.data(),
    column=st.sampled_from([1, 2]),
    bad=st.sampled_from(["Hamburg", "psc", "XX", "PSC "]),
)
def test_it_rejects_an_unknown_stratum_value_with_its_row_number(
    rows: list[tuple[str, str, str]], data: st.DataObject, column: int, bad: str
) -> None:
    at = data.draw(st.integers(0, len(rows) - 1))
    row = list(rows[at])
    row[column] = bad
    rows[at] = (row[0], row[1], row[2])
    if bad.strip() in FACTORS[HEADER[column]]:
        return  # surrounding spaces are trimmed, as REDCap does; "PSC " is fine for disease

    with pytest.raises(AllocationTableError) as caught:
        _import(_csv(rows))

    [problem] = caught.value.problems
    assert (problem.code, problem.row, problem.column, problem.value) == (
        "unknown_stratum_value",
        at + 2,
        HEADER[column],
        bad.strip(),
    )


def test_it_trims_cells_and_skips_blank_lines_but_counts_them_in_row_numbers() -> None:
    text = "\ufeffrand_group, site ,disease\n1,HH,PSC\n\n,,\n 2 ,HH,PSC\n3,HH,PSC\n"

    with pytest.raises(AllocationTableError) as caught:
        _import(text)

    [problem] = caught.value.problems
    assert (problem.code, problem.row) == ("unknown_arm", 6)
    table = _import(text.replace("3,HH", "1,HH"))
    assert [(s.row, s.arm) for s in table.strata["disease=PSC|site=HH"]] == [
        (2, "1"),
        (5, "2"),
        (6, "1"),
    ]


def test_it_rejects_a_table_without_slots() -> None:
    with pytest.raises(AllocationTableError) as caught:
        _import("rand_group,site,disease\n\n")
    assert [p.code for p in caught.value.problems] == ["empty_table"]

    with pytest.raises(AllocationTableError) as caught:
        _import("")
    assert [p.code for p in caught.value.problems] == ["empty_file"]


def test_it_rejects_missing_unexpected_and_repeated_columns_on_row_1() -> None:
    with pytest.raises(AllocationTableError) as caught:
        _import("rand_group,site,site,record_id\n1,HH,HH,7\n")

    found = {(p.code, p.row, p.column) for p in caught.value.problems}
    assert found == {
        ("duplicate_column", 1, "site"),
        ("unexpected_column", 1, "record_id"),
        ("missing_column", 1, "disease"),
    }


def test_it_recognises_a_semicolon_separated_export() -> None:
    with pytest.raises(AllocationTableError) as caught:
        _import("rand_group;site;disease\n1;HH;PSC\n")

    assert [(p.code, p.row) for p in caught.value.problems] == [("semicolon_separated", 1)]


def test_it_lists_every_problem_row_by_row() -> None:
    text = "rand_group,site,disease\n1,HH,PSC\n9,HH,PSC\n1,HH\n2,,PBC\n2,TO,PBC,extra\n"

    with pytest.raises(AllocationTableError) as caught:
        _import(text)

    assert [(p.code, p.row) for p in caught.value.problems] == [
        ("unknown_arm", 3),
        ("wrong_cell_count", 4),
        ("empty_cell", 5),
        ("wrong_cell_count", 6),
    ]


def test_it_stops_listing_problems_at_the_cap() -> None:
    text = _csv([("9", "HH", "PSC")] * (MAX_TABLE_PROBLEMS + 50))

    with pytest.raises(AllocationTableError) as caught:
        _import(text)

    assert len(caught.value.problems) == MAX_TABLE_PROBLEMS + 1
    assert caught.value.problems[-1].code == "too_many_problems"


def test_it_reports_declared_strata_that_have_no_slot() -> None:
    table = _import(_csv([("1", "HH", "PSC"), ("2", "HH", "PSC")]))

    assert "disease=AIH|site=TO" in table.empty_strata
    assert "disease=PSC|site=HH" not in table.empty_strata
    assert len(table.empty_strata) == 8


def test_it_imports_an_unstratified_table() -> None:
    table = allocation_table_import(
        text="arm\n1\n2\n2\n1\n", arm_column="arm", arms=ARMS, factors={}
    )

    assert [s.arm for s in table.strata[UNSTRATIFIED]] == ["1", "2", "2", "1"]
    assert table.empty_strata == ()


# --- minimisation ------------------------------------------------------------------------------


def _reference_scores(
    *,
    levels: dict[str, str],
    counts: dict[tuple[str, str, str], int],
    design: MinimisationDesign,
) -> dict[str, Fraction]:
    # Written straight from the textbook definition, with exact fractions, to check the engine.
    weights = {arm.code: arm.weight for arm in design.ratio.arms}
    scores = {}
    for candidate in weights:
        total = Fraction(0)
        for factor, factor_weight in design.factor_weights.items():
            shares = [
                Fraction(counts.get((factor, levels[factor], arm), 0) + (arm == candidate), w)
                for arm, w in weights.items()
            ]
            if design.imbalance is Imbalance.RANGE:
                spread = max(shares) - min(shares)
            else:
                spread = statistics.pvariance(shares)
            total += Fraction(factor_weight) * spread
        scores[candidate] = total
    return scores


FACTOR_NAMES = ("site", "disease", "sex")
MinimisationState = tuple[MinimisationDesign, dict[tuple[str, str, str], int], dict[str, str]]
LEVELS = ("a", "b", "c")


@st.composite
def minimisation_states(draw: st.DrawFn) -> MinimisationState:
    ratio = draw(ratios)
    names = FACTOR_NAMES[: draw(st.integers(1, 3))]
    design = MinimisationDesign(
        ratio=ratio,
        factor_weights={n: draw(st.sampled_from([1, 2, 3, 0.5, 1.5, 0.1])) for n in names},
        p=1.0,
        imbalance=draw(st.sampled_from(Imbalance)),
    )
    counts = {
        (n, level, code): draw(st.integers(0, 12))
        for n in names
        for level in LEVELS
        for code in ratio.codes
    }
    levels = {n: draw(st.sampled_from(LEVELS)) for n in names}
    return design, counts, levels


@given(state=minimisation_states(), seed=st.integers())
def test_it_always_picks_an_imbalance_minimising_arm_when_p_is_1(
    state: MinimisationState, seed: int
) -> None:
    design, counts, levels = state

    result = minimise(factors=levels, counts=counts, design=design, rng=random.Random(seed))

    reference = _reference_scores(levels=levels, counts=counts, design=design)
    best = min(reference.values())
    assert set(result.minimising) == {arm for arm, score in reference.items() if score == best}
    assert result.arm in result.minimising
    assert result.choice in (Choice.MINIMISING, Choice.ALL_TIED)


@given(
    weights=st.lists(st.integers(1, 3), min_size=2, max_size=3),
    arrivals=st.lists(st.sampled_from(LEVELS), max_size=150),
    seed=st.integers(),
)
def test_it_keeps_one_factor_within_one_allocation_of_the_ratio_when_p_is_1(
    weights: list[int], arrivals: list[str], seed: int
) -> None:
    ratio = AllocationRatio(arms=tuple(ArmWeight("ABC"[i], w) for i, w in enumerate(weights)))
    design = MinimisationDesign(ratio=ratio, factor_weights={"site": 1}, p=1.0)
    rng = random.Random(seed)
    counts: Counter[tuple[str, str, str]] = Counter()
    reduced = dict(zip(ratio.codes, ratio.reduced_weights, strict=True))
    # One more allocation to the smallest arm is the most any level can be off the ratio.
    bound = max(Fraction(1, w) for w in reduced.values())

    for level in arrivals:
        arm = minimise(factors={"site": level}, counts=counts, design=design, rng=rng).arm
        counts[("site", level, arm)] += 1
        shares = [Fraction(counts[("site", level, code)], w) for code, w in reduced.items()]
        assert max(shares) - min(shares) <= bound


@given(
    arms=st.integers(2, 4),
    arrivals=st.lists(st.sampled_from(LEVELS), max_size=150),
    seed=st.integers(),
)
def test_it_keeps_one_factor_balanced_by_variance_too(
    arms: int, arrivals: list[str], seed: int
) -> None:
    ratio = AllocationRatio(arms=tuple(ArmWeight("ABCD"[i], 1) for i in range(arms)))
    design = MinimisationDesign(
        ratio=ratio, factor_weights={"site": 1}, p=1.0, imbalance=Imbalance.VARIANCE
    )
    rng = random.Random(seed)
    counts: Counter[tuple[str, str, str]] = Counter()

    for level in arrivals:
        arm = minimise(factors={"site": level}, counts=counts, design=design, rng=rng).arm
        counts[("site", level, arm)] += 1
        per_arm = [counts[("site", level, code)] for code in ratio.codes]
        assert max(per_arm) - min(per_arm) <= 1


def _worst_level_imbalance(*, p: float | None, seed: int) -> int:
    """Largest |I - C| at any level after 500 participants with three factors (p=None: coin)."""
    covariates = random.Random(seed)
    rng = random.Random(seed + 1)
    design = MinimisationDesign(
        ratio=ONE_TO_ONE, factor_weights=dict.fromkeys(FACTOR_NAMES, 1), p=p or 1
    )
    counts: Counter[tuple[str, str, str]] = Counter()
    for _ in range(500):
        levels = {name: covariates.choice(LEVELS) for name in FACTOR_NAMES}
        if p is None:
            arm = rng.choice(["I", "C"])
        else:
            arm = minimise(factors=levels, counts=counts, design=design, rng=rng).arm
        for name, level in levels.items():
            counts[(name, level, arm)] += 1
    return max(
        abs(counts[(name, level, "I")] - counts[(name, level, "C")])
        for name in FACTOR_NAMES
        for level in LEVELS
    )


def test_it_keeps_every_level_of_several_factors_nearly_balanced() -> None:
    # With several factors minimisation balances margins, not cells, so there is no hard bound;
    # over seeded trials of 500 it stays within a few participants where a coin drifts far.
    minimised = [_worst_level_imbalance(p=1.0, seed=seed) for seed in range(10)]
    random_element = [_worst_level_imbalance(p=0.8, seed=seed) for seed in range(10)]
    coin = [_worst_level_imbalance(p=None, seed=seed) for seed in range(10)]

    assert max(minimised) <= 4
    assert max(random_element) <= 8
    assert min(coin) > max(random_element)


def test_it_measures_range_and_variance_differently() -> None:
    # Arm I ahead by 3 on site, behind by 1 on disease and sex: adding to I makes one large
    # imbalance (range 4, squares 16), adding to C three medium ones (range 6, squares 12).
    counts = {
        ("site", "a", "I"): 3,
        ("disease", "a", "C"): 1,
        ("sex", "a", "C"): 1,
    }
    levels = dict.fromkeys(FACTOR_NAMES, "a")
    weights = dict.fromkeys(FACTOR_NAMES, 1)

    by_range = minimise(
        factors=levels,
        counts=counts,
        design=MinimisationDesign(ratio=ONE_TO_ONE, factor_weights=weights, p=1.0),
        rng=random.Random(1),
    )
    by_variance = minimise(
        factors=levels,
        counts=counts,
        design=MinimisationDesign(
            ratio=ONE_TO_ONE, factor_weights=weights, p=1.0, imbalance=Imbalance.VARIANCE
        ),
        rng=random.Random(1),
    )

    assert (by_range.arm, dict(by_range.scores)) == ("I", {"I": 4.0, "C": 6.0})
    assert (by_variance.arm, dict(by_variance.scores)) == ("C", {"I": 4.0, "C": 3.0})


def test_it_takes_the_minimising_arm_with_probability_p() -> None:
    design = MinimisationDesign(ratio=ONE_TO_ONE, factor_weights={"site": 1}, p=0.8)
    counts = {("site", "a", "I"): 5}
    rng = random.Random(20260101)

    results = [
        minimise(factors={"site": "a"}, counts=counts, design=design, rng=rng) for _ in range(4000)
    ]

    share = sum(r.arm == "C" for r in results) / len(results)
    assert 0.77 < share < 0.83
    assert {r.choice for r in results if r.arm == "I"} == {Choice.RANDOM_ELEMENT}
    assert {r.minimising for r in results} == {("C",)}


def test_it_draws_by_the_ratio_when_every_arm_ties() -> None:
    # 2:1, counts scaled by 1/weight. Factor f is empty: joining I leaves it off by 1, joining C
    # by 2. Factor g has one I: joining I leaves it off by 2, joining C by 1. Both total 3.
    design = MinimisationDesign(ratio=TWO_TO_ONE, factor_weights={"f": 1, "g": 1})
    counts = {("g", "a", "I"): 1}
    rng = random.Random(7)

    results = [
        minimise(factors={"f": "a", "g": "a"}, counts=counts, design=design, rng=rng)
        for _ in range(3000)
    ]

    assert {r.choice for r in results} == {Choice.ALL_TIED}
    assert {r.scores for r in results} == {(("I", 1.5), ("C", 1.5))}
    assert 0.63 < sum(r.arm == "I" for r in results) / len(results) < 0.70


def test_it_prefers_the_larger_arm_of_an_unequal_ratio_at_the_start() -> None:
    design = MinimisationDesign(ratio=TWO_TO_ONE, factor_weights={"site": 1}, p=1.0)
    counts: Counter[tuple[str, str, str]] = Counter()
    arms = []

    for _ in range(9):
        arm = minimise(
            factors={"site": "a"}, counts=counts, design=design, rng=random.Random(0)
        ).arm
        counts[("site", "a", arm)] += 1
        arms.append(arm)

    # No ties along the way, so the order is fixed: two to I for every one to C.
    assert "".join(arms) == "ICIICIICI"


def test_it_breaks_ties_between_minimising_arms_at_random() -> None:
    ratio = AllocationRatio.from_weights({"A": 1, "B": 1, "C": 1})
    design = MinimisationDesign(ratio=ratio, factor_weights={"site": 1}, p=1.0)
    counts = {("site", "a", "C"): 1}
    rng = random.Random(3)

    arms = Counter(
        minimise(factors={"site": "a"}, counts=counts, design=design, rng=rng).arm
        for _ in range(400)
    )

    assert set(arms) == {"A", "B"}
    assert min(arms.values()) > 150


def test_it_lets_the_random_element_choose_only_among_the_other_arms() -> None:
    ratio = AllocationRatio.from_weights({"A": 1, "B": 1, "C": 1})
    design = MinimisationDesign(ratio=ratio, factor_weights={"site": 1}, p=0.01)
    counts = {("site", "a", "B"): 2, ("site", "a", "C"): 2}
    rng = random.Random(11)

    results = [
        minimise(factors={"site": "a"}, counts=counts, design=design, rng=rng) for _ in range(300)
    ]

    overridden = Counter(r.arm for r in results if r.choice is Choice.RANDOM_ELEMENT)
    assert set(overridden) == {"B", "C"}
    assert all(r.arm == "A" for r in results if r.choice is Choice.MINIMISING)


@given(state=minimisation_states(), seed=st.integers())
@settings(max_examples=30)
def test_it_repeats_its_choice_given_the_same_rng_state(
    state: MinimisationState, seed: int
) -> None:
    design, counts, levels = state
    design = MinimisationDesign(
        ratio=design.ratio, factor_weights=design.factor_weights, p=0.7, imbalance=design.imbalance
    )

    runs = [
        [minimise(factors=levels, counts=counts, design=design, rng=rng) for _ in range(5)]
        for rng in (random.Random(seed), random.Random(seed))
    ]

    assert runs[0] == runs[1]


def test_it_counts_earlier_allocations_per_factor_level_and_arm() -> None:
    counts = minimisation_counts(
        allocations=[({"site": "HH", "sex": "f"}, "I"), ({"site": "HH", "sex": "m"}, "I")]
    )

    assert counts == {("site", "HH", "I"): 2, ("sex", "f", "I"): 1, ("sex", "m", "I"): 1}


@pytest.mark.parametrize(
    ("levels", "code"),
    [
        ({"site": "a"}, "missing_factor"),
        ({"site": "a", "sex": "f", "age": "old"}, "unknown_factor"),
    ],
)
def test_it_refuses_a_participant_whose_factors_do_not_match_the_design(
    levels: dict[str, str], code: str
) -> None:
    design = MinimisationDesign(ratio=ONE_TO_ONE, factor_weights={"site": 1, "sex": 1})

    with pytest.raises(AllocationError) as caught:
        minimise(factors=levels, counts={}, design=design, rng=random.Random(0))
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("weights", "p", "code"),
    [
        ({}, 0.8, "no_factors"),
        ({"site": 0}, 0.8, "bad_weight"),
        ({"site": float("nan")}, 0.8, "bad_weight"),
        ({"site": 1}, 0.0, "bad_probability"),
        ({"site": 1}, 1.5, "bad_probability"),
    ],
)
def test_it_refuses_a_bad_minimisation_design(
    weights: dict[str, float], p: float, code: str
) -> None:
    with pytest.raises(AllocationError) as caught:
        MinimisationDesign(ratio=ONE_TO_ONE, factor_weights=weights, p=p)
    assert caught.value.code == code
