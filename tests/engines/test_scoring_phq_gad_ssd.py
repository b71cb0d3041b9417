"""PHQ-9, GAD-7, PHQ-15 and SSD-12: banded sum scores."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rarebridge.engines.scoring import (
    AnsweredButNotApplicableError,
    InvalidOptionsError,
    ItemOutOfRangeError,
    NotApplicableNotAllowedError,
    ScoreStatus,
    get_scorer,
)

PHQ9 = get_scorer("phq9")
GAD7 = get_scorer("gad7")
PHQ15 = get_scorer("phq15")
SSD12 = get_scorer("ssd12")


def answers(prefix: str, *values: int | None) -> dict[str, int | None]:
    return {f"{prefix}-{n}": value for n, value in enumerate(values, start=1)}


# --- PHQ-9 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_it_bands_phq9_totals_at_5_10_15_20(total: int, band: str) -> None:
    # Fill items 1..8 with 3s, then the remainder, keeping item 9 at 0.
    values = [min(3, max(0, total - 3 * i)) for i in range(8)]
    values.append(total - sum(values))
    assert 0 <= values[-1] <= 3

    result = PHQ9.score(answers("phq9", *values))

    assert result.values == {"total": total}
    assert result.bands == {"total": band}


def test_it_flags_phq9_item_9_whatever_the_total() -> None:
    result = PHQ9.score(answers("phq9", 0, 0, 0, 0, 0, 0, 0, 0, 1))

    assert result.values == {"total": 1}
    assert result.bands == {"total": "minimal"}
    assert result.flags == {"risk_item_positive"}


def test_it_flags_phq9_item_9_even_when_the_total_cannot_be_scored() -> None:
    result = PHQ9.score(answers("phq9", None, None, 1, 0, 0, 0, 0, 0, 2))

    assert result.values == {"total": None}
    assert result.scores["total"].status is ScoreStatus.MISSING
    assert "risk_item_positive" in result.flags


def test_it_flags_an_unanswered_phq9_item_9() -> None:
    result = PHQ9.score(answers("phq9", 3, 3, 3, 3, 3, 3, 3, 3, None))

    assert result.flags == {"risk_item_missing"}
    assert result.missing_items == ("phq9-9",)


def test_it_flags_a_severe_phq9_total() -> None:
    result = PHQ9.score(answers("phq9", 3, 3, 3, 3, 3, 3, 2, 0, 0))

    assert result.values == {"total": 20}
    assert result.flags == {"severe_total"}


def test_it_ignores_phq9_item_10_in_the_total_but_validates_it() -> None:
    base = answers("phq9", 1, 1, 1, 1, 1, 1, 1, 1, 0)

    assert PHQ9.score({**base, "phq9-10": 3}).values == {"total": 8}
    assert PHQ9.score({**base, "phq9-10": None}).missing_items == ()
    with pytest.raises(ItemOutOfRangeError):
        PHQ9.score({**base, "phq9-10": 4})


def test_it_requires_all_nine_phq9_items_by_default() -> None:
    result = PHQ9.score(answers("phq9", 1, 1, 1, 1, 1, 1, 1, 1, None))

    assert result.values == {"total": None}
    assert result.missing_rules == {"total": "all_required"}


def test_it_prorates_phq9_with_the_nhs_rule_when_asked() -> None:
    # Items 2 and 5 missing; the seven answered sum to 13; 13 x 9 / 7 = 16.714 -> 17.
    result = PHQ9.score(answers("phq9", 3, None, 2, 2, None, 2, 2, 1, 1), {"max_missing": 2})

    assert result.values == {"total": 17}
    assert result.scores["total"].status is ScoreStatus.PRORATED
    assert result.missing_rules == {"total": "prorate_max_2_round_half_up"}
    assert result.bands == {"total": "moderately_severe"}
    assert result.missing_items == ("phq9-2", "phq9-5")


def test_it_rounds_a_prorated_half_up() -> None:
    # One missing, eight answered summing to 12: 12 x 9 / 8 = 13.5 -> 14 (not banker's 14/13).
    result = PHQ9.score(answers("phq9", 2, 2, 2, 2, 2, 1, 1, None, 0), {"max_missing": 1})

    assert result.values == {"total": 14}


def test_it_can_keep_a_prorated_phq9_total_exact() -> None:
    result = PHQ9.score(
        answers("phq9", 2, 2, 2, 2, 2, 1, 1, None, 0),
        {"max_missing": 1, "round_prorated": False},
    )

    assert result.values == {"total": 13.5}
    assert result.missing_rules == {"total": "prorate_max_1"}


def test_it_refuses_more_than_two_missing_for_phq9() -> None:
    with pytest.raises(InvalidOptionsError) as caught:
        PHQ9.parse_options({"max_missing": 3})

    assert caught.value.code == "scoring.invalid_option"
    assert caught.value.params["option"] == "max_missing"


PHQ9_ITEMS = st.lists(st.integers(0, 3), min_size=9, max_size=9)
PHQ9_ORDER = ["minimal", "mild", "moderate", "moderately_severe", "severe"]


@given(PHQ9_ITEMS, PHQ9_ITEMS)
def test_it_bands_phq9_monotonically_in_the_total(first: list[int], second: list[int]) -> None:
    a = PHQ9.score(answers("phq9", *first))
    b = PHQ9.score(answers("phq9", *second))
    total_a, total_b = a.values["total"], b.values["total"]
    assert total_a is not None and total_b is not None
    rank_a = PHQ9_ORDER.index(a.bands["total"])
    rank_b = PHQ9_ORDER.index(b.bands["total"])

    if total_a <= total_b:
        assert rank_a <= rank_b
    else:
        assert rank_a >= rank_b


@given(
    st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=9, max_size=9),
)
def test_it_keeps_prorated_phq9_totals_in_range(values: list[int | None]) -> None:
    result = PHQ9.score(answers("phq9", *values), {"max_missing": 2})
    total = result.values["total"]

    if values.count(None) > 2:
        assert total is None
    else:
        assert total is not None
        assert 0 <= total <= 27
        assert isinstance(total, int)
    assert ("risk_item_positive" in result.flags) == (values[8] is not None and values[8] > 0)


# --- GAD-7 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "total", "band"),
    [
        ((0, 0, 0, 0, 0, 0, 0), 0, "minimal"),
        ((1, 1, 1, 1, 0, 0, 0), 4, "minimal"),
        ((1, 1, 1, 1, 1, 0, 0), 5, "mild"),
        ((2, 2, 2, 2, 1, 0, 0), 9, "mild"),
        ((2, 2, 2, 2, 2, 0, 0), 10, "moderate"),
        ((2, 2, 2, 2, 2, 2, 2), 14, "moderate"),
        ((3, 3, 3, 3, 3, 0, 0), 15, "severe"),
        ((3, 3, 3, 3, 3, 3, 3), 21, "severe"),
    ],
)
def test_it_bands_gad7_totals_at_5_10_15(values: tuple[int, ...], total: int, band: str) -> None:
    result = GAD7.score(answers("gad7", *values))

    assert result.values == {"total": total}
    assert result.bands == {"total": band}
    assert ("severe_total" in result.flags) == (band == "severe")


def test_it_ignores_the_gad7_difficulty_item() -> None:
    result = GAD7.score({**answers("gad7", 1, 1, 1, 1, 1, 1, 1), "gad7-8": 3})

    assert result.values == {"total": 7}


def test_it_prorates_gad7_only_when_asked() -> None:
    values = answers("gad7", 2, 2, 2, 2, 2, 2, None)

    assert GAD7.score(values).values == {"total": None}
    # 12 x 7 / 6 = 14
    assert GAD7.score(values, {"max_missing": 1}).values == {"total": 14}


# --- PHQ-15 ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "low"),
        (9, "low"),
        (10, "medium"),
        (14, "medium"),
        (15, "high"),
        (30, "high"),
    ],
)
def test_it_bands_phq15_totals_at_5_10_15(total: int, band: str) -> None:
    values = [min(2, max(0, total - 2 * i)) for i in range(15)]

    result = PHQ15.score(answers("phq15", *values))

    assert result.values == {"total": total}
    assert result.bands == {"total": band}


def test_it_sums_14_items_when_item_4_does_not_apply() -> None:
    values = answers("phq15", 2, 2, 2, None, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2)

    result = PHQ15.score(values, not_applicable={"phq15-4"})

    assert result.values == {"total": 28}
    assert result.scores["total"].status is ScoreStatus.COMPLETE
    assert result.missing_rules == {"total": "all_required+item4_not_applicable_sum_14"}
    assert result.missing_items == ()


def test_it_can_prorate_when_item_4_does_not_apply() -> None:
    # The 14 applicable items sum to 13: 13 x 15 / 14 = 13.93 -> 14.
    values = answers("phq15", 1, 1, 1, None, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0)

    result = PHQ15.score(values, {"item4_not_applicable": "prorate"}, not_applicable={"phq15-4"})

    assert result.values == {"total": 14}
    assert result.scores["total"].status is ScoreStatus.PRORATED


def test_it_treats_an_unanswered_item_4_as_missing_not_as_not_applicable() -> None:
    values = answers("phq15", 1, 1, 1, None, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)

    result = PHQ15.score(values)

    assert result.values == {"total": None}
    assert result.missing_items == ("phq15-4",)


def test_it_refuses_not_applicable_on_other_items_or_with_an_answer() -> None:
    values = answers("phq15", *([1] * 15))

    with pytest.raises(AnsweredButNotApplicableError):
        PHQ15.score(values, not_applicable={"phq15-4"})
    with pytest.raises(NotApplicableNotAllowedError) as caught:
        PHQ15.score({**values, "phq15-5": None}, not_applicable={"phq15-5"})
    assert caught.value.params == {"instrument": "phq15", "item": "phq15-5"}
    with pytest.raises(NotApplicableNotAllowedError):
        PHQ9.score(answers("phq9", *([0] * 9)), not_applicable={"phq9-9"})


def test_it_flags_three_items_bothered_a_lot() -> None:
    two = PHQ15.score(answers("phq15", 2, 2, *([0] * 13)))
    three = PHQ15.score(answers("phq15", 2, 2, 2, *([0] * 12)))

    assert two.flags == frozenset()
    assert three.flags == {"three_items_bothered_a_lot"}


def test_it_prorates_phq15_with_the_apa_rule_when_asked() -> None:
    # Three missing, twelve answered at 1: 12 x 15 / 12 = 15.
    values = answers("phq15", None, None, None, *([1] * 12))

    assert PHQ15.score(values, {"max_missing": 3}).values == {"total": 15}
    with pytest.raises(InvalidOptionsError):
        PHQ15.parse_options({"max_missing": 4})


# --- SSD-12 ------------------------------------------------------------------------------


def test_it_sums_ssd12_and_its_interleaved_subscales() -> None:
    # Items cycle cognitive, affective, behavioural: 4, 2, 0 repeated four times.
    result = SSD12.score(answers("ssd12", *([4, 2, 0] * 4)))

    assert result.values == {"total": 24, "cognitive": 16, "affective": 8, "behavioural": 0}
    assert result.bands == {}


def test_it_applies_an_ssd12_cutoff_only_when_configured() -> None:
    at_23 = answers("ssd12", 4, 4, 4, 4, 4, 3, 0, 0, 0, 0, 0, 0)
    at_22 = answers("ssd12", 4, 4, 4, 4, 4, 2, 0, 0, 0, 0, 0, 0)

    assert SSD12.score(at_23, {"cutoff": 23}).bands == {"total": "at_or_above_cutoff"}
    assert SSD12.score(at_22, {"cutoff": 23}).bands == {"total": "below_cutoff"}
    assert SSD12.score(at_23).bands == {}


def test_it_scores_ssd12_subscales_independently_of_the_total() -> None:
    values = answers("ssd12", None, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)

    result = SSD12.score(values, {"max_missing_per_subscale": 1})

    # Cognitive: items 4, 7, 10 = 3; 3 x 4 / 3 = 4.
    assert result.values == {"total": None, "cognitive": 4, "affective": 4, "behavioural": 4}
    assert result.scores["cognitive"].status is ScoreStatus.PRORATED
    assert result.scores["affective"].status is ScoreStatus.COMPLETE
