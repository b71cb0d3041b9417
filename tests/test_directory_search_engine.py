"""Condition search engine: folding, edit distance, typo, accent and language tolerance."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rarebridge.engines.condition_search import ConditionIndex, Term, edit_distance, fold, words

AIH, PSC, PBC, GROUP, MARFAN, SJOGREN = 2137, 171, 186, 9000002, 558, 289

TERMS = [
    Term(AIH, "Autoimmune hepatitis", "en"),
    Term(AIH, "AIH", "en", is_name=False),
    Term(AIH, "Autoimmunhepatitis", "de"),
    Term(AIH, "Autoimmunologiczne zapalenie wątroby", "pl"),
    Term(AIH, "Hépatite auto-immune", "fr"),
    Term(PSC, "Primary sclerosing cholangitis", "en"),
    Term(PSC, "PSC", "en", is_name=False),
    Term(PSC, "Primär sklerosierende Cholangitis", "de"),
    Term(PSC, "Cholangite sclérosante primitive", "fr"),
    Term(PSC, "Primer szklerotizáló cholangitis", "hu"),
    Term(PBC, "Primary biliary cholangitis", "en"),
    Term(PBC, "PBC", "en", is_name=False),
    Term(PBC, "Primary biliary cirrhosis", "en", is_name=False),
    Term(GROUP, "Rare autoimmune liver disease", "en"),
    Term(GROUP, "Seltene autoimmune Lebererkrankung", "de"),
    Term(MARFAN, "Marfan syndrome", "en"),
    Term(MARFAN, "Syndroom van Marfan", "nl"),
    Term(SJOGREN, "Sjögren syndrome", "en"),
]


def keys(index: ConditionIndex, query: str) -> list[int]:
    return [hit.key for hit in index.search(query)]


def test_it_folds_case_accents_and_letters_that_do_not_decompose():
    assert fold("Hépatite AUTO-immune") == "hepatite auto immune"
    assert fold("wątroby Łódź") == "watroby lodz"
    assert fold("Straße, Ærø, Œdème") == "strasse aero oedeme"
    assert words("  Primär   sklerosierende\tCholangitis ") == [
        "primar",
        "sklerosierende",
        "cholangitis",
    ]


def test_it_counts_edits_with_swaps_and_stops_early():
    assert edit_distance("marfan", "marfan", 2) == 0
    assert edit_distance("marfan", "mrafan", 2) == 1  # two neighbours swapped
    assert edit_distance("autoimune", "autoimmune", 2) == 1
    assert edit_distance("cholangitis", "xyz", 2) == 3  # gave up: more than the limit


@given(st.text(max_size=12), st.text(max_size=12))
def test_it_measures_distance_the_same_both_ways(a, b):
    assert edit_distance(a, b, 3) == edit_distance(b, a, 3)


@given(st.text(max_size=30))
def test_it_folds_to_a_fixed_point(text):
    assert fold(fold(text)) == fold(text)


def test_it_finds_a_condition_by_its_name_in_any_language():
    index = ConditionIndex(TERMS)
    assert keys(index, "autoimmune hepatitis")[0] == AIH
    assert keys(index, "Autoimmunhepatitis")[0] == AIH
    assert keys(index, "Cholangite sclérosante primitive")[0] == PSC
    assert keys(index, "szklerotizáló")[0] == PSC
    assert keys(index, "syndroom van marfan")[0] == MARFAN


def test_it_tolerates_typos_and_missing_accents():
    index = ConditionIndex(TERMS)
    assert keys(index, "autoimune hepatits")[0] == AIH
    assert keys(index, "marfn")[0] == MARFAN
    assert keys(index, "cholangite sclerosante")[0] == PSC
    assert keys(index, "sjogren")[0] == SJOGREN
    assert keys(index, "zapalenie watroby")[0] == AIH


def test_it_matches_abbreviations_exactly_and_not_by_typo():
    index = ConditionIndex(TERMS)
    assert keys(index, "PSC") == [PSC]
    assert keys(index, "pbc")[0] == PBC
    assert AIH not in keys(index, "psc")


def test_it_completes_a_word_being_typed():
    index = ConditionIndex(TERMS)
    assert set(keys(index, "cholang")[:2]) == {PSC, PBC}


def test_it_ranks_the_whole_name_above_a_longer_one_and_finds_the_group():
    index = ConditionIndex(TERMS)
    hits = index.search("autoimmune liver disease")
    assert hits[0].key == GROUP and hits[0].exact is False
    exact = index.search("Primary biliary cirrhosis")
    assert exact[0].key == PBC and exact[0].exact and exact[0].text == "Primary biliary cirrhosis"


def test_it_shows_the_preferred_language_among_equal_matches():
    index = ConditionIndex([Term(1, "Marfan", "en"), Term(1, "Marfan", "fr")])
    assert index.search("marfan", prefer_languages=("fr",))[0].language == "fr"


def test_it_returns_nothing_for_nothing_or_noise():
    index = ConditionIndex(TERMS)
    assert index.search("") == []
    assert index.search("  ,,, ") == []
    assert index.search("qwxz") == []
