"""The scoring engine as a whole: registry, validation, errors, options and invariants that
hold for every instrument."""

from __future__ import annotations

import ast
import dataclasses
import json
import pickle
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import rarebridge.engines.scoring as scoring
from rarebridge.engines.scoring import (
    HeiqOptions,
    IcqOptions,
    InvalidOptionsError,
    ItemOutOfRangeError,
    MalformedItemValueError,
    MalformedResponseError,
    Phq9Options,
    ScoreStatus,
    UnknownAlgorithmVersionError,
    UnknownInstrumentError,
    UnknownItemError,
    get_scorer,
    supported_instruments,
)

HEIQ_KEY = {
    "hda": [1, 2, 3, 4],
    "pael": [5, 6, 7, 8, 9],
    "ed": [10, 11, 12, 13, 14, 15],
    "smi": [16, 17, 18, 19, 20, 21],
    "caa": [22, 23, 24, 25, 26],
    "sta": [27, 28, 29, 30],
    "sis": [31, 32, 33, 34, 35],
    "hsn": [36, 37, 38, 39, 40],
}
TEXQ_KEY = {
    "treatment_benefit": [1, 2, 3],
    "positive_impact": [4, 5],
    "adverse_events": [6, 7, 8],
    "negative_impact": [9, 10],
    "process": [11, 12, 13],
    "behavioural_control": [14, 15],
}


def numbered(prefix: str, count: int, low: int, high: int) -> dict[str, tuple[int, int]]:
    return {f"{prefix}-{n}": (low, high) for n in range(1, count + 1)}


# Written from the fact sheet, independently of the engine: item ranges, the theoretical range
# of every score, the options needed to score at all and options that allow missing items.
INSTRUMENTS: dict[str, dict[str, Any]] = {
    "phq9": {
        "items": numbered("phq9", 10, 0, 3),
        "ranges": {"total": (0, 27)},
        "lenient": {"max_missing": 2},
    },
    "gad7": {
        "items": numbered("gad7", 8, 0, 3),
        "ranges": {"total": (0, 21)},
        "lenient": {"max_missing": 2},
    },
    "phq15": {
        "items": numbered("phq15", 15, 0, 2),
        "ranges": {"total": (0, 30)},
        "lenient": {"max_missing": 3},
    },
    "ssd12": {
        "items": numbered("ssd12", 12, 0, 4),
        "ranges": {"total": (0, 48), "cognitive": (0, 16), "affective": (0, 16)}
        | {"behavioural": (0, 16)},
        "lenient": {"max_missing": 6, "max_missing_per_subscale": 2},
    },
    "icq": {
        "items": numbered("icq", 18, 1, 4),
        "ranges": dict.fromkeys(("helplessness", "acceptance", "benefits"), (6, 24)),
        "lenient": {"max_missing_per_scale": 3},
    },
    "bipq": {
        "items": numbered("bipq", 8, 0, 10),
        "ranges": {"total": (0, 80)}
        | dict.fromkeys(
            (
                "consequences",
                "timeline",
                "personal_control",
                "treatment_control",
                "identity",
                "concern",
                "coherence",
                "emotional_response",
            ),
            (0, 10),
        ),
        "required": {"total": True},
        "lenient": {"total": True, "max_missing_total": 4},
    },
    "heiq": {
        "items": numbered("heiq", 40, 1, 4),
        "ranges": dict.fromkeys(HEIQ_KEY, (1, 4)),
        "required": {"scale_items": HEIQ_KEY},
        "lenient": {"scale_items": HEIQ_KEY, "max_missing_per_scale": 2},
    },
    "fsozu_k14": {
        "items": numbered("fsozu_k14", 14, 1, 5),
        "ranges": {"total": (1, 5)},
        "lenient": {"max_missing": 7},
    },
    "fsozu_k6": {
        "items": numbered("fsozu_k6", 6, 1, 5),
        "ranges": {"total": (1, 5)},
        "lenient": {"max_missing": 3},
    },
    "swe": {
        "items": numbered("swe", 10, 1, 4),
        "ranges": {"total": (10, 40)},
        "lenient": {"max_missing": 3},
    },
    "texq": {
        "items": numbered("texq", 15, 0, 10),
        "ranges": dict.fromkeys([*TEXQ_KEY, "total"], (0, 10)),
        "required": {"scale_items": TEXQ_KEY},
        "lenient": {"scale_items": TEXQ_KEY, "max_missing_per_scale": 1, "max_missing_total": 7},
    },
    **{
        code: {
            "items": numbered(code, 4, 1, 5),
            "ranges": {"mean": (1, 5)},
            "lenient": {"max_missing": 2},
        }
        for code in ("aim", "iam", "fim")
    },
}
SF12_ITEMS = {
    "GH1": (1, 5),
    "PF02": (1, 3),
    "PF04": (1, 3),
    "RP2": (1, 2),
    "RP3": (1, 2),
    "RE2": (1, 2),
    "RE3": (1, 2),
    "BP2": (1, 5),
    "MH3": (1, 6),
    "VT2": (1, 6),
    "MH4": (1, 6),
    "SF2": (1, 5),
}
ALL_ITEMS = {**{code: spec["items"] for code, spec in INSTRUMENTS.items()}, "sf12v1": SF12_ITEMS}


# --- registry ----------------------------------------------------------------------------


def test_it_lists_every_supported_instrument() -> None:
    assert set(supported_instruments()) == set(ALL_ITEMS)


@pytest.mark.parametrize("code", sorted(ALL_ITEMS))
def test_it_describes_each_scorer(code: str) -> None:
    scorer = get_scorer(code)

    assert scorer.code == code
    assert scorer.version
    assert scorer.title
    assert scorer.source
    assert scorer.algorithm == f"{code}@{scorer.version}"
    assert get_scorer(code, scorer.version) is scorer
    assert set(scorer.item_codes) == set(ALL_ITEMS[code])


def test_it_names_unknown_instruments_and_versions() -> None:
    with pytest.raises(UnknownInstrumentError) as unknown:
        get_scorer("phq8")
    with pytest.raises(UnknownAlgorithmVersionError) as version:
        get_scorer("phq9", "0.9")

    assert unknown.value.code == "scoring.unknown_instrument"
    assert "phq9" in unknown.value.params["known"]
    assert version.value.params == {"instrument": "phq9", "version": "0.9", "known": ("1",)}
    assert isinstance(unknown.value, LookupError)


def test_it_imports_only_the_standard_library() -> None:
    package = Path(scoring.__file__).parent
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                assert root in sys.stdlib_module_names or root == "__future__", (path, name)


# --- validation and errors ---------------------------------------------------------------


def test_it_rejects_an_unknown_item_code() -> None:
    with pytest.raises(UnknownItemError) as caught:
        get_scorer("phq9").score({"PHQ9-1": 1})

    assert caught.value.code == "scoring.unknown_item"
    assert caught.value.params == {"instrument": "phq9", "item": "PHQ9-1"}


@pytest.mark.parametrize("bad", [True, 1.0, "1", b"1", [1]])
def test_it_rejects_values_that_are_not_integers(bad: object) -> None:
    with pytest.raises(MalformedItemValueError) as caught:
        get_scorer("gad7").score({"gad7-3": bad})  # type: ignore[dict-item]

    assert caught.value.code == "scoring.malformed_item_value"
    assert caught.value.params["item"] == "gad7-3"
    assert caught.value.params["value_type"] == type(bad).__name__


def test_it_rejects_a_response_that_is_not_a_mapping() -> None:
    with pytest.raises(MalformedResponseError) as caught:
        get_scorer("swe").score([1, 2, 3])  # type: ignore[arg-type]

    assert caught.value.params == {"instrument": "swe", "value_type": "list"}


def test_it_explains_an_out_of_range_value_in_words_and_in_params() -> None:
    with pytest.raises(ItemOutOfRangeError) as caught:
        get_scorer("phq9").score({"phq9-3": 7})

    error = caught.value
    assert error.code == "scoring.item_out_of_range"
    assert error.params == {
        "instrument": "phq9",
        "item": "phq9-3",
        "value": 7,
        "minimum": 0,
        "maximum": 3,
    }
    assert (
        error.message
        == "Item phq9-3 of instrument phq9 has the value 7; allowed values are 0 to 3."
    )
    assert error.template.format(**error.params) == error.message
    assert isinstance(error, ValueError)


def test_it_keeps_code_and_params_when_an_error_is_pickled() -> None:
    error = ItemOutOfRangeError(instrument="gad7", item="gad7-1", value=9, minimum=0, maximum=3)

    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object, round-tripped

    assert type(copy) is ItemOutOfRangeError
    assert copy.params == error.params
    assert str(copy) == str(error)


# --- options -----------------------------------------------------------------------------


def test_it_rejects_unknown_and_mistyped_options() -> None:
    scorer = get_scorer("phq9")

    with pytest.raises(InvalidOptionsError) as unknown:
        scorer.parse_options({"max_mising": 1})
    with pytest.raises(InvalidOptionsError) as mistyped:
        scorer.parse_options({"round_prorated": "yes"})
    with pytest.raises(InvalidOptionsError) as wrong_class:
        get_scorer("gad7").score({}, Phq9Options())

    assert unknown.value.params["option"] == "max_mising"
    assert mistyped.value.params["option"] == "round_prorated"
    assert wrong_class.value.params["option"] == "options"


def test_it_freezes_options() -> None:
    options = Phq9Options(max_missing=1)

    with pytest.raises(dataclasses.FrozenInstanceError):
        options.max_missing = 2  # type: ignore[misc]


def test_it_keeps_options_hashable_so_they_can_key_a_cache() -> None:
    from_json = get_scorer("heiq").parse_options({"scale_items": HEIQ_KEY, "scales": ["hda"]})
    direct = HeiqOptions(scale_items={k: tuple(v) for k, v in HEIQ_KEY.items()}, scales=("hda",))

    assert from_json == direct
    assert hash(from_json) == hash(direct)
    assert hash(IcqOptions()) == hash(IcqOptions())


@pytest.mark.parametrize("code", sorted(ALL_ITEMS))
def test_it_stores_json_ready_options_with_every_result(code: str) -> None:
    scorer = get_scorer(code)
    options = scorer.parse_options(INSTRUMENTS.get(code, {}).get("required"))
    low_answers = {item: low for item, (low, _) in ALL_ITEMS[code].items()}

    result = scorer.score(low_answers, options)

    stored = json.loads(json.dumps(result.options.to_dict()))
    assert result.options is options
    assert scorer.parse_options(stored) == options
    assert result.algorithm == scorer.algorithm


def test_it_tells_each_score_which_missing_rule_applied() -> None:
    scorer = get_scorer("phq9")
    values: dict[str, int | None] = {f"phq9-{n}": 1 for n in range(1, 10)}

    complete = scorer.score(values, {"max_missing": 2}).scores["total"]
    prorated = scorer.score({**values, "phq9-1": None}, {"max_missing": 2}).scores["total"]

    assert (complete.status, complete.missing_rule) == (
        ScoreStatus.COMPLETE,
        "prorate_max_2_round_half_up",
    )
    assert prorated.status is ScoreStatus.PRORATED


# --- properties for every instrument -----------------------------------------------------


@st.composite
def responses(draw: st.DrawFn, *, missing: bool) -> tuple[str, dict[str, int | None]]:
    code = draw(st.sampled_from(sorted(INSTRUMENTS)))
    value: st.SearchStrategy[int | None]
    answers: dict[str, int | None] = {}
    for item, (low, high) in INSTRUMENTS[code]["items"].items():
        value = st.integers(low, high)
        if missing:
            value = st.one_of(st.none(), value)
        answers[item] = draw(value)
    return code, answers


@given(responses(missing=False))
def test_it_keeps_complete_scores_within_the_theoretical_range(
    case: tuple[str, dict[str, int | None]],
) -> None:
    code, answers = case
    spec = INSTRUMENTS[code]

    result = get_scorer(code).score(answers, spec.get("required"))

    assert set(result.scores) == set(spec["ranges"])
    for name, score in result.scores.items():
        low, high = spec["ranges"][name]
        assert score.value is not None, name
        assert low <= score.value <= high, (name, score.value)
        assert score.status is ScoreStatus.COMPLETE
    assert result.missing_items == ()


@given(responses(missing=True))
def test_it_keeps_prorated_scores_within_the_theoretical_range(
    case: tuple[str, dict[str, int | None]],
) -> None:
    code, answers = case
    spec = INSTRUMENTS[code]

    result = get_scorer(code).score(answers, spec["lenient"])

    for name, score in result.scores.items():
        low, high = spec["ranges"][name]
        if score.value is None:
            assert score.status is ScoreStatus.MISSING
        else:
            assert low <= score.value <= high, (name, score.value)


@given(st.data())
def test_it_always_rejects_out_of_range_answers(data: st.DataObject) -> None:
    code = data.draw(st.sampled_from(sorted(ALL_ITEMS)))
    items = ALL_ITEMS[code]
    item = data.draw(st.sampled_from(sorted(items)))
    low, high = items[item]
    bad = data.draw(st.one_of(st.integers(max_value=low - 1), st.integers(min_value=high + 1)))
    answers: dict[str, int | None] = {other: lo for other, (lo, _) in items.items()}
    answers[item] = bad

    with pytest.raises(ItemOutOfRangeError) as caught:
        get_scorer(code).score(answers, INSTRUMENTS.get(code, {}).get("required"))

    assert caught.value.params["item"] == item
    assert (caught.value.params["minimum"], caught.value.params["maximum"]) == (low, high)


@given(st.sampled_from(sorted(ALL_ITEMS)))
def test_it_never_scores_an_empty_response(code: str) -> None:
    scorer = get_scorer(code)

    result = scorer.score({}, INSTRUMENTS.get(code, {}).get("lenient"))

    assert all(score.value is None for score in result.scores.values())
