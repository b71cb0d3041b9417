"""SF-12 v1 PCS-12 / MCS-12.

Expected numbers are literals worked out once by hand from the weight table in
instruments.md §1.2 (the arithmetic is in the comments), never recomputed from the engine's
table: a transcription slip in either place makes a test fail.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rarebridge.engines.scoring import (
    InstrumentNotImplementedError,
    InvalidOptionsError,
    ItemOutOfRangeError,
    ScoreStatus,
    get_scorer,
)

SCORER = get_scorer("sf12v1")

CATEGORIES = {
    "GH1": 5,
    "PF02": 3,
    "PF04": 3,
    "RP2": 2,
    "RP3": 2,
    "RE2": 2,
    "RE3": 2,
    "BP2": 5,
    "MH3": 6,
    "VT2": 6,
    "MH4": 6,
    "SF2": 5,
}

# The reference (weight 0) category of every item, keyed by raw answer.
BEST = {
    "GH1": 1,
    "PF02": 3,
    "PF04": 3,
    "RP2": 2,
    "RP3": 2,
    "RE2": 2,
    "RE3": 2,
    "BP2": 1,
    "MH3": 1,
    "VT2": 1,
    "MH4": 6,
    "SF2": 5,
}

TOLERANCE = 1e-4


def pcs_mcs(answers: dict[str, int]) -> tuple[float, float]:
    values = SCORER.score(answers).values
    pcs, mcs = values["pcs"], values["mcs"]
    assert pcs is not None and mcs is not None
    return pcs, mcs


# One item moved off its best answer, all others best: constant + that category's weight.
SINGLE_ITEM_CASES = [
    ("GH1", 2, 55.25834, 60.69717),  # 56.57706 - 1.31872; 60.75781 - 0.06064
    ("GH1", 3, 53.55310, 60.79263),  # 56.57706 - 3.02396; 60.75781 + 0.03482
    ("GH1", 4, 51.01245, 60.58890),  # 56.57706 - 5.56461; 60.75781 - 0.16891
    ("GH1", 5, 48.20307, 59.04606),  # 56.57706 - 8.37399; 60.75781 - 1.71175
    ("PF02", 1, 49.34490, 64.68896),  # 56.57706 - 7.23216; 60.75781 + 3.93115
    ("PF02", 2, 53.12151, 62.62621),  # 56.57706 - 3.45555; 60.75781 + 1.86840
    ("PF04", 1, 50.33309, 63.44063),  # 56.57706 - 6.24397; 60.75781 + 2.68282
    ("PF04", 2, 53.84149, 62.18884),  # 56.57706 - 2.73557; 60.75781 + 1.43103
    ("RP2", 1, 51.96089, 62.19841),  # 56.57706 - 4.61617; 60.75781 + 1.44060
    ("RP3", 1, 51.05959, 62.42749),  # 56.57706 - 5.51747; 60.75781 + 1.66968
    ("RE2", 1, 59.62071, 53.93109),  # 56.57706 + 3.04365; 60.75781 - 6.82672
    ("RE3", 1, 58.89797, 55.05860),  # 56.57706 + 2.32091; 60.75781 - 5.69921
    ("BP2", 2, 52.77576, 61.66165),  # 56.57706 - 3.80130; 60.75781 + 0.90384
    ("BP2", 3, 50.07184, 62.25165),  # 56.57706 - 6.50522; 60.75781 + 1.49384
    ("BP2", 4, 48.19643, 62.52472),  # 56.57706 - 8.38063; 60.75781 + 1.76691
    ("BP2", 5, 45.32162, 62.24400),  # 56.57706 - 11.25544; 60.75781 + 1.48619
    ("MH3", 2, 57.24220, 58.80832),  # 56.57706 + 0.66514; 60.75781 - 1.94949
    ("MH3", 3, 57.94395, 56.65939),  # 56.57706 + 1.36689; 60.75781 - 4.09842
    ("MH3", 4, 58.94947, 54.44660),  # 56.57706 + 2.37241; 60.75781 - 6.31121
    ("MH3", 5, 59.48132, 52.83064),  # 56.57706 + 2.90426; 60.75781 - 7.92717
    ("MH3", 6, 60.04344, 50.56696),  # 56.57706 + 3.46638; 60.75781 - 10.19085
    ("VT2", 2, 56.15455, 59.83724),  # 56.57706 - 0.42251; 60.75781 - 0.92057
    ("VT2", 3, 55.43319, 59.10603),  # 56.57706 - 1.14387; 60.75781 - 1.65178
    ("VT2", 4, 54.95856, 57.45976),  # 56.57706 - 1.61850; 60.75781 - 3.29805
    ("VT2", 5, 54.55538, 55.86819),  # 56.57706 - 2.02168; 60.75781 - 4.88962
    ("VT2", 6, 54.13000, 54.73372),  # 56.57706 - 2.44706; 60.75781 - 6.02409
    ("MH4", 1, 61.19152, 44.60386),  # 56.57706 + 4.61446; 60.75781 - 16.15395
    ("MH4", 2, 59.99299, 49.97870),  # 56.57706 + 3.41593; 60.75781 - 10.77911
    ("MH4", 3, 58.91953, 52.65867),  # 56.57706 + 2.34247; 60.75781 - 8.09914
    ("MH4", 4, 57.85750, 56.16726),  # 56.57706 + 1.28044; 60.75781 - 4.59055
    ("MH4", 5, 56.98894, 58.79847),  # 56.57706 + 0.41188; 60.75781 - 1.95934
    ("SF2", 1, 56.24024, 54.46057),  # 56.57706 - 0.33682; 60.75781 - 6.29724
    ("SF2", 2, 55.63364, 52.49715),  # 56.57706 - 0.94342; 60.75781 - 8.26066
    ("SF2", 3, 56.39663, 55.12495),  # 56.57706 - 0.18043; 60.75781 - 5.63286
    ("SF2", 4, 56.68744, 57.61885),  # 56.57706 + 0.11038; 60.75781 - 3.13896
]


def test_it_scores_all_best_answers_as_exactly_the_constants() -> None:
    result = SCORER.score(BEST)

    assert result.values == {"pcs": pytest.approx(56.57706, abs=1e-9), "mcs": 60.75781}
    assert result.scores["pcs"].status is ScoreStatus.COMPLETE
    assert result.missing_items == ()
    assert result.algorithm == "sf12v1@1"


@pytest.mark.parametrize(("item", "answer", "pcs", "mcs"), SINGLE_ITEM_CASES)
def test_it_weighs_every_category_as_in_the_table(
    item: str, answer: int, pcs: float, mcs: float
) -> None:
    assert pcs_mcs({**BEST, item: answer}) == pytest.approx((pcs, mcs), abs=TOLERANCE)


def test_it_matches_the_awell_worst_reference_vector() -> None:
    # Every item at its worst printed answer. Awell's reference vector "worst" gives
    # PCS 23.99938 / MCS 19.06444 (fact sheet §1.2), which the hand sums agree with:
    # PCS 56.57706 - 8.37399 - 7.23216 - 6.24397 - 4.61617 - 5.51747 + 3.04365 + 2.32091
    #     - 11.25544 + 3.46638 - 2.44706 + 4.61446 - 0.33682 = 23.99938
    # MCS 60.75781 - 1.71175 + 3.93115 + 2.68282 + 1.44060 + 1.66968 - 6.82672 - 5.69921
    #     + 1.48619 - 10.19085 - 6.02409 - 16.15395 - 6.29724 = 19.06444
    worst = {
        "GH1": 5,
        "PF02": 1,
        "PF04": 1,
        "RP2": 1,
        "RP3": 1,
        "RE2": 1,
        "RE3": 1,
        "BP2": 5,
        "MH3": 6,
        "VT2": 6,
        "MH4": 1,
        "SF2": 1,
    }

    assert pcs_mcs(worst) == pytest.approx((23.99938, 19.06444), abs=TOLERANCE)


def test_it_scores_a_mixed_pattern() -> None:
    # GH1 3, PF02 2, PF04 1, RP2 1, RP3 2, RE2 1, RE3 2, BP2 3, MH3 4, VT2 5, MH4 3, SF2 4:
    # PCS 56.57706 - 3.02396 - 3.45555 - 6.24397 - 4.61617 + 0 + 3.04365 + 0 - 6.50522
    #     + 2.37241 - 2.02168 + 2.34247 + 0.11038 = 38.57942
    # MCS 60.75781 + 0.03482 + 1.86840 + 2.68282 + 1.44060 + 0 - 6.82672 + 0 + 1.49384
    #     - 6.31121 - 4.88962 - 8.09914 - 3.13896 = 39.01264
    answers = dict(zip(CATEGORIES, (3, 2, 1, 1, 2, 1, 2, 3, 4, 5, 3, 4), strict=True))

    assert pcs_mcs(answers) == pytest.approx((38.57942, 39.01264), abs=TOLERANCE)


def test_it_scores_another_mixed_pattern() -> None:
    # GH1 2, PF02 3, PF04 2, RP2 2, RP3 1, RE2 2, RE3 1, BP2 2, MH3 2, VT2 3, MH4 5, SF2 2:
    # PCS 56.57706 - 1.31872 + 0 - 2.73557 + 0 - 5.51747 + 0 + 2.32091 - 3.80130 + 0.66514
    #     - 1.14387 + 0.41188 - 0.94342 = 44.51464
    # MCS 60.75781 - 0.06064 + 0 + 1.43103 + 0 + 1.66968 + 0 - 5.69921 + 0.90384 - 1.94949
    #     - 1.65178 - 1.95934 - 8.26066 = 45.18124
    answers = dict(zip(CATEGORIES, (2, 3, 2, 2, 1, 2, 1, 2, 2, 3, 5, 2), strict=True))

    assert pcs_mcs(answers) == pytest.approx((44.51464, 45.18124), abs=TOLERANCE)


def test_it_keeps_the_non_monotone_sf2_weights() -> None:
    # "Most of the time" is penalised more than "all of the time" on both summaries.
    all_of_the_time = pcs_mcs({**BEST, "SF2": 1})
    most_of_the_time = pcs_mcs({**BEST, "SF2": 2})

    assert most_of_the_time[0] < all_of_the_time[0]
    assert most_of_the_time[1] < all_of_the_time[1]


@pytest.mark.parametrize("item", list(CATEGORIES))
def test_it_gives_no_score_when_any_item_is_missing(item: str) -> None:
    result = SCORER.score({**BEST, item: None})

    assert result.values == {"pcs": None, "mcs": None}
    assert result.scores["mcs"].status is ScoreStatus.MISSING
    assert result.missing_rules == {"pcs": "all_required", "mcs": "all_required"}
    assert result.missing_items == (item,)


def test_it_treats_an_absent_item_as_missing_not_as_the_best_answer() -> None:
    answers = dict(BEST)
    del answers["BP2"]

    assert SCORER.score(answers).values == {"pcs": None, "mcs": None}


def test_it_rejects_v2_answers_on_a_yes_no_item() -> None:
    # v2 role items have five categories; a v2 answer of 4 must never be scored with v1 weights.
    with pytest.raises(ItemOutOfRangeError) as caught:
        SCORER.score({**BEST, "RP2": 4})

    assert caught.value.params == {
        "instrument": "sf12v1",
        "item": "RP2",
        "value": 4,
        "minimum": 1,
        "maximum": 2,
    }


def test_it_refuses_sf12_version_2() -> None:
    with pytest.raises(InstrumentNotImplementedError) as caught:
        get_scorer("sf12v2")

    assert caught.value.code == "scoring.instrument_not_implemented"
    assert isinstance(caught.value, NotImplementedError)


def test_it_refuses_norm_sets_it_does_not_have() -> None:
    with pytest.raises(InvalidOptionsError) as caught:
        SCORER.score(BEST, {"norm_set": "de1998"})

    assert caught.value.params["option"] == "norm_set"


ANSWERS = st.fixed_dictionaries({item: st.integers(1, n) for item, n in CATEGORIES.items()})


@given(ANSWERS)
def test_it_stays_within_the_theoretical_range(answers: dict[str, int]) -> None:
    # Range from the fact sheet: PCS 9.95-70.13, MCS 5.89-72.28 (rounded to 2 decimals).
    pcs, mcs = pcs_mcs(answers)

    assert 9.945 <= pcs <= 70.135
    assert 5.885 <= mcs <= 72.285


@given(ANSWERS)
def test_it_is_additive_over_items(answers: dict[str, int]) -> None:
    # Each item contributes independently: the score minus the constant is the sum of the
    # single-item deviations from the all-best pattern.
    best_pcs, best_mcs = pcs_mcs(BEST)
    pcs, mcs = pcs_mcs(answers)
    single = [pcs_mcs({**BEST, item: answer}) for item, answer in answers.items()]

    assert pcs == pytest.approx(best_pcs + sum(p - best_pcs for p, _ in single), abs=1e-9)
    assert mcs == pytest.approx(best_mcs + sum(m - best_mcs for _, m in single), abs=1e-9)


@given(ANSWERS, st.sampled_from(list(CATEGORIES)))
def test_it_never_scores_with_a_missing_item(answers: dict[str, int], item: str) -> None:
    result = SCORER.score({**answers, item: None})

    assert result.values == {"pcs": None, "mcs": None}


@given(
    ANSWERS,
    st.sampled_from(list(CATEGORIES)),
    st.one_of(st.integers(max_value=0), st.integers(min_value=7)),
)
def test_it_always_rejects_out_of_range_answers(
    answers: dict[str, int], item: str, bad: int
) -> None:
    with pytest.raises(ItemOutOfRangeError) as caught:
        SCORER.score({**answers, item: bad})

    assert caught.value.params["item"] == item
