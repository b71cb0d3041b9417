"""ICQ, Brief IPQ, heiQ, F-SozU, SWE, TEX-Q and AIM/IAM/FIM."""

from __future__ import annotations

import pytest

from rarebridge.engines.scoring import (
    HeiqOptions,
    InvalidOptionsError,
    ItemOutOfRangeError,
    OptionRequiredError,
    ScoreStatus,
    TexqOptions,
    UnknownItemError,
    get_scorer,
)


def answers(prefix: str, *values: int | None) -> dict[str, int | None]:
    return {f"{prefix}-{n}": value for n, value in enumerate(values, start=1)}


# --- ICQ ---------------------------------------------------------------------------------

ICQ = get_scorer("icq")


def test_it_sums_icq_subscales_with_the_default_key() -> None:
    # Helplessness items (1, 5, 7, 9, 12, 15) at 4, acceptance (2, 3, 10, 14, 17, 18) at 3,
    # benefits (4, 6, 8, 11, 13, 16) at 1.
    by_item = {1: 4, 5: 4, 7: 4, 9: 4, 12: 4, 15: 4, 2: 3, 3: 3, 10: 3, 14: 3, 17: 3, 18: 3}
    values = {f"icq-{n}": by_item.get(n, 1) for n in range(1, 19)}

    result = ICQ.score(values)

    assert result.values == {"helplessness": 24, "acceptance": 18, "benefits": 6}


def test_it_reports_the_icq_on_the_0_to_3_metric_when_asked() -> None:
    values = {f"icq-{n}": 1 if n % 2 else 4 for n in range(1, 19)}

    default = ICQ.score(values).values
    shifted = ICQ.score(values, {"metric": "0-3"}).values

    # Helplessness items 1, 5, 7, 9, 15 are odd (1) and 12 even (4): 5 + 4 = 9 on 1-4, 3 on 0-3.
    assert default["helplessness"] == 9
    assert shifted["helplessness"] == 3
    assert {name: value - 6 for name, value in default.items() if value is not None} == shifted


def test_it_accepts_a_replacement_icq_key_only_if_it_partitions_the_items() -> None:
    key = {
        "helplessness": [1, 2, 3, 4, 5, 6],
        "acceptance": [7, 8, 9, 10, 11, 12],
        "benefits": [13, 14, 15, 16, 17, 18],
    }
    values = answers("icq", *([1] * 6 + [2] * 6 + [3] * 6))

    assert ICQ.score(values, {"scale_items": key}).values == {
        "helplessness": 6,
        "acceptance": 12,
        "benefits": 18,
    }
    with pytest.raises(InvalidOptionsError):
        ICQ.parse_options({"scale_items": {**key, "benefits": [13, 14, 15, 16, 17, 1]}})
    with pytest.raises(InvalidOptionsError):
        ICQ.parse_options({"scale_items": {"helplessness": key["helplessness"]}})


def test_it_rejects_icq_answers_coded_from_zero() -> None:
    with pytest.raises(ItemOutOfRangeError, match="allowed values are 1 to 4"):
        ICQ.score(answers("icq", *([0] * 18)))


# --- Brief IPQ ---------------------------------------------------------------------------

BIPQ = get_scorer("bipq")


def test_it_reports_each_bipq_item_as_its_own_score() -> None:
    result = BIPQ.score(answers("bipq", 7, 8, 2, 3, 6, 9, 1, None))

    assert result.values == {
        "consequences": 7,
        "timeline": 8,
        "personal_control": 2,
        "treatment_control": 3,
        "identity": 6,
        "concern": 9,
        "coherence": 1,
        "emotional_response": None,
    }
    assert result.scores["emotional_response"].status is ScoreStatus.MISSING
    assert "total" not in result.values


def test_it_reverses_items_3_4_and_7_in_the_optional_bipq_total() -> None:
    # 7 + 8 + (10 - 2) + (10 - 3) + 6 + 9 + (10 - 1) + 5 = 59
    result = BIPQ.score(answers("bipq", 7, 8, 2, 3, 6, 9, 1, 5), {"total": True})

    assert result.values["total"] == 59


def test_it_refuses_the_free_text_bipq_cause_item() -> None:
    with pytest.raises(UnknownItemError) as caught:
        BIPQ.score({**answers("bipq", *([5] * 8)), "bipq-9": 1})

    assert caught.value.params == {"instrument": "bipq", "item": "bipq-9"}


# --- heiQ --------------------------------------------------------------------------------

HEIQ = get_scorer("heiq")

# A made-up key with the published scale sizes (the licensed key must not be in the code).
FAKE_HEIQ_KEY = {
    "hda": [1, 2, 3, 4],
    "pael": [5, 6, 7, 8, 9],
    "ed": [10, 11, 12, 13, 14, 15],
    "smi": [16, 17, 18, 19, 20, 21],
    "caa": [22, 23, 24, 25, 26],
    "sta": [27, 28, 29, 30],
    "sis": [31, 32, 33, 34, 35],
    "hsn": [36, 37, 38, 39, 40],
}


def test_it_refuses_to_score_heiq_without_a_licensed_key() -> None:
    with pytest.raises(OptionRequiredError) as caught:
        HEIQ.score(answers("heiq", *([2] * 40)))

    assert caught.value.params == {"instrument": "heiq", "option": "scale_items"}


def test_it_averages_heiq_scales_with_a_supplied_key() -> None:
    values = answers("heiq", *([4, 3, 3, 2] + [1] * 36))

    result = HEIQ.score(values, {"scale_items": FAKE_HEIQ_KEY})

    assert result.values["hda"] == 3.0
    assert result.values["ed"] == 1.0
    assert set(result.values) == set(FAKE_HEIQ_KEY)


def test_it_scores_only_the_administered_heiq_scales() -> None:
    options = HeiqOptions(scale_items=FAKE_HEIQ_KEY, scales=("hda", "sis"), reversed_items=(2,))
    values = {**answers("heiq", 4, 1, 4, 4), "heiq-31": 2, "heiq-32": 2, "heiq-33": 2}
    values |= {"heiq-34": 3, "heiq-35": 3}

    result = HEIQ.score(values, options)

    # hda: 4, 5 - 1, 4, 4 -> mean 4.0; sis: (2 + 2 + 2 + 3 + 3) / 5 = 2.4
    assert result.values == {"hda": 4.0, "sis": pytest.approx(2.4)}
    assert result.missing_items == ()


def test_it_checks_heiq_keys_against_the_published_scale_sizes() -> None:
    with pytest.raises(InvalidOptionsError) as caught:
        HeiqOptions(scale_items={**FAKE_HEIQ_KEY, "hda": [1, 2, 3]})

    assert caught.value.params["option"] == "scale_items.hda"


# --- F-SozU ------------------------------------------------------------------------------


def test_it_averages_fsozu_k14_by_default() -> None:
    result = get_scorer("fsozu_k14").score(answers("fsozu_k14", *([4] * 7 + [5] * 7)))

    assert result.values == {"total": 4.5}


def test_it_can_sum_fsozu_k6() -> None:
    scorer = get_scorer("fsozu_k6")
    values = answers("fsozu_k6", 1, 2, 3, 4, 5, 5)

    assert scorer.score(values).values == {"total": 20 / 6}
    assert scorer.score(values, {"metric": "sum"}).values == {"total": 20}


def test_it_keeps_fsozu_forms_apart() -> None:
    with pytest.raises(UnknownItemError):
        get_scorer("fsozu_k6").score(answers("fsozu_k14", *([3] * 14)))
    with pytest.raises(InvalidOptionsError):
        get_scorer("fsozu_k6").parse_options({"max_missing": 4})


# --- SWE ---------------------------------------------------------------------------------

SWE = get_scorer("swe")


def test_it_sums_swe_from_10_to_40() -> None:
    assert SWE.score(answers("swe", *([1] * 10))).values == {"total": 10}
    assert SWE.score(answers("swe", *([4] * 10))).values == {"total": 40}
    assert SWE.score(answers("swe", *([3] * 10)), {"metric": "mean"}).values == {"total": 3.0}


def test_it_prorates_swe_with_up_to_three_missing_items() -> None:
    # Seven answered summing to 20: mean 20 / 7, sum 20 x 10 / 7 = 28.571...
    three_missing = answers("swe", 4, 4, 4, 2, 2, 2, 2, None, None, None)
    four_missing = answers("swe", 4, 4, 4, 2, 2, 2, None, None, None, None)

    result = SWE.score(three_missing)

    assert result.values["total"] == pytest.approx(28.5714286)
    assert result.scores["total"].status is ScoreStatus.PRORATED
    assert result.missing_rules == {"total": "prorate_max_3"}
    assert SWE.score(four_missing).values == {"total": None}


# --- TEX-Q -------------------------------------------------------------------------------

TEXQ = get_scorer("texq")

# A made-up key: the real one is not public.
FAKE_TEXQ_KEY = {
    "treatment_benefit": [1, 2, 3],
    "positive_impact": [4, 5],
    "adverse_events": [6, 7, 8],
    "negative_impact": [9, 10],
    "process": [11, 12, 13],
    "behavioural_control": [14, 15],
}


def test_it_refuses_to_score_texq_without_a_key() -> None:
    with pytest.raises(OptionRequiredError):
        TEXQ.score(answers("texq", *([5] * 15)))


def test_it_scores_texq_subscales_and_a_total_with_negative_scales_reversed() -> None:
    values = answers("texq", 8, 8, 8, 6, 6, 2, 2, 2, 4, 4, 7, 7, 7, 9, 9)

    result = TEXQ.score(values, {"scale_items": FAKE_TEXQ_KEY})

    assert result.values["treatment_benefit"] == 8.0
    assert result.values["adverse_events"] == 2.0
    # Total: 8+8+8 + 6+6 + (10-2)x3 + (10-4)x2 + 7+7+7 + 9+9 = 24+12+24+12+21+18 = 111; / 15
    assert result.values["total"] == pytest.approx(111 / 15)


def test_it_scores_texq_with_a_different_response_format() -> None:
    options = TexqOptions(scale_items=FAKE_TEXQ_KEY, item_min=1, item_max=5, total=False)

    result = TEXQ.score(answers("texq", *([5] * 15)), options)

    assert "total" not in result.values
    assert result.values["process"] == 5.0
    with pytest.raises(ItemOutOfRangeError, match="allowed values are 1 to 5"):
        TEXQ.score(answers("texq", *([6] * 15)), options)


# --- AIM / IAM / FIM ---------------------------------------------------------------------


@pytest.mark.parametrize("code", ["aim", "iam", "fim"])
def test_it_averages_each_implementation_measure(code: str) -> None:
    result = get_scorer(code).score(answers(code, 5, 4, 4, 3))

    assert result.values == {"mean": 4.0}
    assert result.algorithm == f"{code}@1"


def test_it_requires_all_four_implementation_items_by_default() -> None:
    values = answers("aim", 5, 4, None, 3)

    assert get_scorer("aim").score(values).values == {"mean": None}
    assert get_scorer("aim").score(values, {"max_missing": 1}).values == {"mean": 4.0}
