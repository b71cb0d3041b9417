"""Condition search over 10,000 conditions in six languages, and directory search over 5,000
entries.

The catalogue is synthetic and the same on every run (seeded): 10,000 conditions under 250
groups, each with a name and two synonyms in each of the six languages, built the way rare
disease names are (an eponym or a made-up word plus "syndrome", "disease", "deficiency",
"dystrophy" or "type N", in each language's own word order): 180,000 terms. Queries are what
people type: whole names, a word with a typo, a name without its accents, the start of a word,
a name in another language. The same catalogue goes into the database for the selector (one
query checks the catalogue version, one fetches the matches), and 5,000 directory entries are
added for the public search page.

Goal: the median condition search under 50 ms.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from run import Benchmark

from rarebridge.engines.condition_search import ConditionIndex, Term

_tmp = tempfile.mkdtemp(prefix="rarebridge-bench-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_tmp}/bench.sqlite3")
os.environ.setdefault("RAREBRIDGE_VAR_DIR", _tmp)
NEEDS_DJANGO = True

SEED = 20261125
CONDITIONS = 10_000
GROUPS = 250
ENTRIES = 5_000
CODE_BASE = 5_000_000  # synthetic ORPHAcodes, far from real ones
LANGUAGES = ("en", "de", "pl", "nl", "hu", "fr")
SYLLABLES = [
    "al",
    "ber",
    "cor",
    "dan",
    "el",
    "fos",
    "gar",
    "hel",
    "is",
    "jor",
    "kel",
    "lam",
    "mor",
    "nes",
    "ot",
    "per",
    "qui",
    "ros",
    "sel",
    "tam",
    "ul",
    "ven",
    "wol",
    "xan",
    "yor",
    "zet",
    "bra",
    "chi",
    "dro",
    "fen",
    "gli",
    "kra",
    "lou",
    "mia",
    "nor",
    "pha",
    "rhe",
    "sko",
    "tri",
    "vas",
    "ök",
    "ém",
    "ąt",
    "ür",
]
PATTERNS = {
    "en": (
        "{x} syndrome",
        "{x} disease",
        "{x} deficiency",
        "familial {x} dystrophy",
        "{x} type {n}",
    ),
    "de": ("{x}-Syndrom", "{x}-Krankheit", "{x}-Mangel", "familiäre {x}-Dystrophie", "{x} Typ {n}"),
    "pl": ("zespół {x}", "choroba {x}", "niedobór {x}", "rodzinna dystrofia {x}", "{x} typu {n}"),
    "nl": (
        "{x}-syndroom",
        "ziekte van {x}",
        "{x}-deficiëntie",
        "familiaire {x}-dystrofie",
        "{x} type {n}",
    ),
    "hu": (
        "{x}-szindróma",
        "{x}-betegség",
        "{x}-hiány",
        "familiáris {x}-disztrófia",
        "{x} {n}. típus",
    ),
    "fr": (
        "syndrome de {x}",
        "maladie de {x}",
        "déficit en {x}",
        "dystrophie familiale de {x}",
        "{x} type {n}",
    ),
}
GROUP_PATTERNS = {
    "en": "rare {x} disorder",
    "de": "seltene {x}-Erkrankung",
    "pl": "rzadka choroba {x}",
    "nl": "zeldzame {x}-aandoening",
    "hu": "ritka {x}-betegség",
    "fr": "maladie rare {x}",
}


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()


def synthetic_catalogue() -> tuple[list[dict], list[str]]:
    """Conditions as dicts (code, names, synonyms, parents, level) and the queries to time."""
    rng = random.Random(SEED)
    rows: list[dict] = []
    for g in range(GROUPS):
        x = _word(rng).lower()
        rows.append(
            {
                "code": CODE_BASE + g,
                "level": "group",
                "names": {lang: GROUP_PATTERNS[lang].format(x=x) for lang in LANGUAGES},
                "synonyms": {},
                "parents": [],
            }
        )
    eponyms = []
    for i in range(CONDITIONS - GROUPS):
        x = _word(rng) + (f"-{_word(rng)}" if rng.random() < 0.3 else "")
        k, n = rng.randrange(5), rng.randint(1, 4)
        others = (_word(rng), _word(rng))
        rows.append(
            {
                "code": CODE_BASE + GROUPS + i,
                "level": "disorder",
                "names": {lang: PATTERNS[lang][k].format(x=x, n=n) for lang in LANGUAGES},
                "synonyms": {
                    lang: [
                        PATTERNS[lang][(k + 1) % 5].format(x=others[0], n=n),
                        PATTERNS[lang][(k + 2) % 5].format(x=others[1], n=n),
                    ]
                    for lang in LANGUAGES
                },
                "parents": sorted(
                    {CODE_BASE + rng.randrange(GROUPS) for _ in range(rng.randint(1, 2))}
                ),
            }
        )
        eponyms.append((x, rows[-1]["names"]))
    queries = []
    for x, names in rng.sample(eponyms, 50):
        word = x.split("-")[0]
        cut = rng.randrange(1, len(word) - 1)
        lang = rng.choice(LANGUAGES)
        queries += [
            names["en"],  # the whole name
            f"{word[:cut]}{word[cut + 1 :]} {names['en'].split()[-1]}".lower(),  # a typo
            "".join(
                c
                for c in unicodedata.normalize("NFKD", names[lang])
                if not unicodedata.combining(c)
            ),  # no accents
            word[: max(4, len(word) // 2)].lower(),  # the start of a word
        ]
    return rows, queries


def _terms(rows: list[dict]) -> list[Term]:
    terms = []
    for row in rows:
        for lang, text in row["names"].items():
            terms.append(Term(row["code"], text, lang, True))
        for lang, texts in row["synonyms"].items():
            terms.extend(Term(row["code"], text, lang, False) for text in texts)
    return terms


# --- the engine alone --------------------------------------------------------------------------


def _engine_setup():
    rows, queries = synthetic_catalogue()
    index = ConditionIndex(_terms(rows))
    return {"index": index, "queries": queries, "i": 0}


def _next_query(state) -> str:
    query = state["queries"][state["i"] % len(state["queries"])]
    state["i"] += 1
    return query


def _engine_run(state):
    state["index"].search(_next_query(state), limit=10)


# --- through Django: the selector and the public page -------------------------------------------

_db: dict = {}


def _database():
    """Migrate, then add the synthetic catalogue and 5,000 verified entries (once)."""
    if _db:
        return _db
    from django.core.management import call_command
    from django.utils import timezone

    from rarebridge.directory.models import (
        Condition,
        DirectoryEntry,
        EntryCondition,
        EntryCountry,
        EntryLanguage,
    )

    call_command("migrate", verbosity=0)
    rows, queries = synthetic_catalogue()
    if not Condition.objects.filter(orphacode=CODE_BASE).exists():
        Condition.objects.bulk_create(
            [
                Condition(
                    orphacode=r["code"],
                    level=r["level"],
                    names=r["names"],
                    synonyms=r["synonyms"],
                    source="bench",
                )
                for r in rows
            ],
            batch_size=1000,
        )
        ids = dict(Condition.objects.filter(source="bench").values_list("orphacode", "pk"))
        through = Condition.parents.through
        through.objects.bulk_create(
            [
                through(from_condition_id=ids[r["code"]], to_condition_id=ids[p])
                for r in rows
                for p in r["parents"]
            ],
            batch_size=2000,
        )
    ids = dict(Condition.objects.filter(source="bench").values_list("orphacode", "pk"))
    if not DirectoryEntry.objects.filter(slug="bench-0").exists():
        rng = random.Random(SEED + 1)
        countries = ["DE", "PL", "BE", "NL", "HU", "FR", "AT", "CA", "GB", "IT", "ES", "SE"]
        kinds = [k for k, _label in DirectoryEntry.Kind.choices]
        today = timezone.localdate()
        entries = [
            DirectoryEntry(
                slug=f"bench-{i}",
                name=f"{_word(rng)} {rng.choice(['Network', 'Association', 'Friends', 'Circle'])} {i}",
                name_key=f"bench {i}",
                kind=rng.choice(kinds),
                descriptions={"en": "A synthetic entry for the benchmark."},
                international=rng.random() < 0.1,
                all_conditions=rng.random() < 0.03,
                status="verified",
                last_verified_on=today - timezone.timedelta(days=rng.randrange(500)),
            )
            for i in range(ENTRIES)
        ]
        DirectoryEntry.objects.bulk_create(entries, batch_size=1000)
        entries = list(DirectoryEntry.objects.filter(slug__startswith="bench-"))
        codes = list(ids)
        EntryCondition.objects.bulk_create(
            [
                EntryCondition(entry=e, condition_id=ids[c])
                for e in entries
                for c in set(rng.sample(codes, rng.randint(1, 3)))
            ],
            batch_size=2000,
        )
        EntryCountry.objects.bulk_create(
            [
                EntryCountry(entry=e, code=c)
                for e in entries
                for c in rng.sample(countries, rng.randint(1, 3))
            ],
            batch_size=2000,
        )
        EntryLanguage.objects.bulk_create(
            [
                EntryLanguage(entry=e, code=c)
                for e in entries
                for c in rng.sample(LANGUAGES, rng.randint(1, 3))
            ],
            batch_size=2000,
        )
    _db.update(queries=queries, i=0)
    return _db


def _selector_setup():
    from rarebridge.directory.selectors import condition_search

    state = _database()
    condition_search(query="warm-up")  # build the in-memory index once, as a process does
    return state


def _selector_run(state):
    from rarebridge.directory.selectors import condition_search

    condition_search(query=_next_query(state), language="en")


def _page_setup():
    from django.test import Client

    state = _selector_setup()
    client = Client()
    assert client.get("/directory/", {"q": state["queries"][0], "country": "DE"}).status_code == 200
    return {**state, "client": client}


def _page_run(state):
    state["client"].get("/directory/", {"q": _next_query(state), "country": "DE"})


def _browse_run(state):
    state["i"] += 1
    page = 1 + state["i"] % 20
    state["client"].get("/directory/", {"country": "DE", "language": "de", "page": page})


BENCHMARKS = [
    Benchmark(
        name="condition search, engine (10,000 conditions x 6 languages)",
        setup=_engine_setup,
        run=_engine_run,
        repeat=200,
        goal_seconds=0.05,
    ),
    Benchmark(
        name="condition search, selector on SQLite (same catalogue)",
        setup=_selector_setup,
        run=_selector_run,
        repeat=200,
        goal_seconds=0.05,
    ),
    Benchmark(
        name="directory search page by condition + country (5,000 entries)",
        setup=_page_setup,
        run=_page_run,
        repeat=100,
        goal_seconds=0.05,
    ),
    Benchmark(
        name="directory page by country + language, paged (5,000 entries)",
        setup=_page_setup,
        run=_browse_run,
        repeat=40,
        goal_seconds=0.05,
    ),
]
