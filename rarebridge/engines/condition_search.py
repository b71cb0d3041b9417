"""Condition search: find a condition by any of its names, in any language, despite typos.

The catalogue gives every condition a preferred name and synonyms in six languages. People type
them as they know them: without accents ("Sjogren"), with a typo ("autoimune"), half a word
("cholang"), an abbreviation ("PSC"), or in another language than the page's. This module is
the matching, in pure Python so that it can be tested and benchmarked without a database:

- ``fold`` turns text into a comparable form: case folded, accents removed, letters that
  Unicode does not decompose (ł, ø, æ, œ, ß, đ, þ) spelled out, punctuation as spaces.
- ``ConditionIndex`` holds every name and synonym as a ``Term`` and answers ``search``.
  Query words match a term's words exactly, as a prefix (three letters or more) or within a
  small edit distance (Damerau-Levenshtein: one edit from four letters, two from eight, three
  from fourteen). Candidate words for the edit distance come from a trigram index of the
  vocabulary, so only a few dozen words are ever compared letter by letter.

A term's score is how much of the query it covers (mostly) and how much of the term the query
covers (a little), so "liver" ranks "Rare liver disease" above "Rare disease of the liver and
biliary tract". A condition's score is that of its best term. Scores are between 0 and 1.1:
an exact match of the whole term gets a bonus, so typing a full name puts that condition first.
"""

from __future__ import annotations

import heapq
import unicodedata
from bisect import bisect_left
from collections.abc import Collection, Iterable
from dataclasses import dataclass

__all__ = ["ConditionIndex", "Hit", "Term", "edit_distance", "fold", "words"]

# Letters NFKD leaves alone, spelled the way people type them without the special key.
_SPELLED = str.maketrans(
    {
        "ł": "l",
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "\u0131": "i",  # dotless i
        "ß": "ss",
    }
)

MIN_PREFIX = 3  # "cho" finds "cholangitis"; "ch" is too short to mean anything
MIN_FUZZY = 4  # below four letters a typo changes the word: "psc" is not "pbc"
PREFIX_CAP = 400  # words tried per prefix; enough for any real prefix of three letters
COMMON_WORD = 4000  # a word in more terms than this only re-scores candidates found otherwise


def fold(text: str) -> str:
    """Lower case, no accents, letters and digits separated by single spaces."""
    # Decompose first (so styled letters become plain ones), fold case, spell out, decompose
    # again (case folding can compose: "İ" -> "i" + a combining dot).
    text = unicodedata.normalize("NFKD", text)
    text = unicodedata.normalize("NFKD", text.casefold().translate(_SPELLED))
    out: list[str] = []
    space = True
    for ch in text:
        if unicodedata.combining(ch):
            continue
        if ch.isalnum():
            out.append(ch)
            space = False
        elif not space:
            out.append(" ")
            space = True
    return "".join(out).strip()


def words(text: str) -> list[str]:
    return fold(text).split()


def _allowed_edits(length: int) -> int:
    if length < MIN_FUZZY:
        return 0
    if length < 8:
        return 1
    if length < 14:
        return 2
    return 3


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (a swap of neighbours is one edit), or ``limit + 1``
    as soon as it is certain to exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    if a == b:
        return 0
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        best = current[0]
        ai = a[i - 1]
        for j in range(1, len(b) + 1):
            cost = 0 if ai == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ai == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            best = min(best, value)
        if best > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[len(b)], limit + 1)


def _trigrams(word: str) -> set[str]:
    padded = f"  {word} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


@dataclass(frozen=True, slots=True)
class Term:
    """One name or synonym of a condition. ``key`` identifies the condition."""

    key: int
    text: str
    language: str
    is_name: bool = True


@dataclass(frozen=True, slots=True)
class Hit:
    key: int
    score: float
    text: str  # the name or synonym that matched best
    language: str
    exact: bool  # the whole query is the whole term


class ConditionIndex:
    """An in-memory index of terms; build once per catalogue version, search many times."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self.terms: list[Term] = []
        self._term_words: list[tuple[int, ...]] = []
        self._folded: list[str] = []
        self._vocabulary: list[str] = []
        self._word_id: dict[str, int] = {}
        self._postings: list[list[int]] = []
        self._exact: dict[str, list[int]] = {}
        for term in terms:
            folded = fold(term.text)
            if not folded:
                continue
            index = len(self.terms)
            self.terms.append(term)
            self._folded.append(folded)
            self._exact.setdefault(folded, []).append(index)
            ids: list[int] = []
            for word in dict.fromkeys(folded.split()):
                word_id = self._word_id.get(word)
                if word_id is None:
                    word_id = self._word_id[word] = len(self._vocabulary)
                    self._vocabulary.append(word)
                    self._postings.append([])
                self._postings[word_id].append(index)
                ids.append(word_id)
            self._term_words.append(tuple(ids))
        self._sorted = sorted(self._vocabulary)
        self._trigram: dict[str, list[int]] = {}
        for word_id, word in enumerate(self._vocabulary):
            if len(word) >= MIN_FUZZY:
                for gram in _trigrams(word):
                    self._trigram.setdefault(gram, []).append(word_id)

    def __len__(self) -> int:
        return len(self.terms)

    @property
    def keys(self) -> set[int]:
        return {t.key for t in self.terms}

    # --- one query word -> matching vocabulary words with a similarity --------------------

    def _matches(self, word: str) -> dict[int, float]:
        found: dict[int, float] = {}
        exact = self._word_id.get(word)
        if exact is not None:
            found[exact] = 1.0
        if len(word) >= MIN_PREFIX:
            start = bisect_left(self._sorted, word)
            for candidate in self._sorted[start : start + PREFIX_CAP]:
                if not candidate.startswith(word):
                    break
                if candidate != word:
                    # A longer completion is a weaker match: "chol" is less sure than "cholang".
                    found[self._word_id[candidate]] = 0.75 + 0.2 * len(word) / len(candidate)
        limit = _allowed_edits(len(word))
        if limit:
            grams = _trigrams(word)
            counts: dict[int, int] = {}
            for gram in grams:
                for word_id in self._trigram.get(gram, ()):
                    counts[word_id] = counts.get(word_id, 0) + 1
            # n trigrams, one edit spoils at most three of them.
            needed = max(1, len(grams) - 3 * limit)
            for word_id, shared in counts.items():
                if shared < needed or word_id in found:
                    continue
                candidate = self._vocabulary[word_id]
                distance = edit_distance(word, candidate, limit)
                if distance <= limit:
                    found[word_id] = 0.95 * (1 - distance / max(len(word), len(candidate)))
        return found

    # --- the whole query ---------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        limit: int = 20,
        min_score: float = 0.55,
        prefer_languages: Collection[str] = (),
    ) -> list[Hit]:
        """The best ``limit`` conditions for ``query``, best first.

        Every language is searched; ``prefer_languages`` only decides which of a condition's
        matching terms is shown when several match equally well.
        """
        folded = fold(query)
        query_words = list(dict.fromkeys(folded.split()))
        if not query_words:
            return []
        per_word = [(word, self._matches(word)) for word in query_words]
        # Rare words first: they find the candidates; very common words ("disease",
        # "syndrome") then only add to the score of terms already found.
        per_word.sort(key=lambda item: sum(len(self._postings[w]) for w in item[1]))
        n = len(query_words)
        covered: dict[int, float] = {}
        hits_per_term: dict[int, int] = {}
        for position, (_word, matches) in enumerate(per_word):
            best: dict[int, float] = {}
            size = sum(len(self._postings[w]) for w in matches)
            restrict = position > 0 and bool(covered) and size > COMMON_WORD
            for word_id, similarity in matches.items():
                for term in self._postings[word_id]:
                    if restrict and term not in covered:
                        continue
                    if similarity > best.get(term, 0.0):
                        best[term] = similarity
            for term, similarity in best.items():
                covered[term] = covered.get(term, 0.0) + similarity
                hits_per_term[term] = hits_per_term.get(term, 0) + 1
        exact_terms = set(self._exact.get(folded, ()))
        preferred = set(prefer_languages)
        by_key: dict[int, tuple[float, float, int]] = {}
        for term, total in covered.items():
            query_cover = total / n
            if query_cover * 0.85 + 0.15 < min_score:
                continue  # cannot reach the threshold even if it covered the whole term
            term_cover = min(hits_per_term[term], len(self._term_words[term])) / len(
                self._term_words[term]
            )
            score = 0.85 * query_cover + 0.15 * term_cover
            if term in exact_terms:
                score += 0.1
            elif self._folded[term].startswith(folded):
                score += 0.03
            if score < min_score:
                continue
            info = self.terms[term]
            # Ties between a condition's own terms: the name, then a preferred language.
            tiebreak = (0.002 if info.is_name else 0.0) + (
                0.001 if info.language in preferred else 0.0
            )
            current = by_key.get(info.key)
            if current is None or (score, tiebreak) > current[:2]:
                by_key[info.key] = (score, tiebreak, term)
        best_keys = heapq.nlargest(
            limit,
            by_key.items(),
            key=lambda item: (item[1][0], item[1][1], -len(self._folded[item[1][2]]), -item[0]),
        )
        return [
            Hit(
                key=key,
                score=round(score, 4),
                text=self.terms[term].text,
                language=self.terms[term].language,
                exact=term in exact_terms,
            )
            for key, (score, _tiebreak, term) in best_keys
        ]
