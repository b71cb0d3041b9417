"""The condition catalogue in memory: the search index and the group hierarchy.

Built from the database once per catalogue version and kept per process. The version is the
number of conditions and the latest ``updated_at`` (every change, parents included, moves it),
so a process notices an import made by another process with one cheap query.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Max

from rarebridge.conditions.models import Condition
from rarebridge.engines.condition_search import ConditionIndex, Term


@dataclass
class Catalogue:
    version: tuple
    index: ConditionIndex
    parents: dict[int, tuple[int, ...]] = field(default_factory=dict)  # condition id -> parent ids
    children: dict[int, tuple[int, ...]] = field(default_factory=dict)
    groups: frozenset[int] = frozenset()

    def ancestors(self, condition_id: int) -> list[int]:
        """Every group above the condition, nearest first (the hierarchy may have cycles in
        bad data; each id is visited once)."""
        seen: dict[int, None] = {}
        frontier = list(self.parents.get(condition_id, ()))
        while frontier:
            nxt: list[int] = []
            for pid in frontier:
                if pid not in seen and pid != condition_id:
                    seen[pid] = None
                    nxt.extend(self.parents.get(pid, ()))
            frontier = nxt
        return list(seen)

    def descendants(self, condition_id: int, limit: int = 5000) -> list[int]:
        seen: dict[int, None] = {}
        frontier = list(self.children.get(condition_id, ()))
        while frontier and len(seen) < limit:
            nxt: list[int] = []
            for cid in frontier:
                if cid not in seen and cid != condition_id:
                    seen[cid] = None
                    nxt.extend(self.children.get(cid, ()))
            frontier = nxt
        return list(seen)

    def family(self, condition_id: int) -> set[int]:
        """The condition, the groups above it and everything below it."""
        return {condition_id, *self.ancestors(condition_id), *self.descendants(condition_id)}


_lock = threading.Lock()
_cached: Catalogue | None = None
_checked_at = 0.0
# How long a process trusts its index before asking the database for the version again: an
# import in another process shows within this time; one in this process shows at once.
VERSION_CHECK_SECONDS = 1.0


def catalogue_version() -> tuple:
    row = Condition.objects.aggregate(n=Count("pk"), at=Max("updated_at"))
    return (row["n"], row["at"].isoformat() if row["at"] else "")


def terms_of(rows: Iterable[tuple[int, dict, dict]]) -> Iterable[Term]:
    for pk, names, synonyms in rows:
        for language, text in (names or {}).items():
            if text:
                yield Term(key=pk, text=text, language=language, is_name=True)
        for language, texts in (synonyms or {}).items():
            for text in texts or ():
                if text:
                    yield Term(key=pk, text=text, language=language, is_name=False)


def build_catalogue(version: tuple) -> Catalogue:
    rows = Condition.objects.filter(is_active=True).values_list("pk", "names", "synonyms", "level")
    groups = set()
    data = []
    for pk, names, synonyms, level in rows.iterator(chunk_size=2000):
        data.append((pk, names, synonyms))
        if level == Condition.Level.GROUP:
            groups.add(pk)
    parents: dict[int, list[int]] = {}
    children: dict[int, list[int]] = {}
    links = Condition.parents.through.objects.values_list("from_condition_id", "to_condition_id")
    for child, parent in links.iterator(chunk_size=5000):
        parents.setdefault(child, []).append(parent)
        children.setdefault(parent, []).append(child)
    return Catalogue(
        version=version,
        index=ConditionIndex(terms_of(data)),
        parents={k: tuple(v) for k, v in parents.items()},
        children={k: tuple(v) for k, v in children.items()},
        groups=frozenset(groups),
    )


def current_catalogue() -> Catalogue:
    """The catalogue of the current version, built at most once per version per process."""
    global _cached, _checked_at
    cached = _cached
    if cached is not None and time.monotonic() - _checked_at < VERSION_CHECK_SECONDS:
        return cached
    version = catalogue_version()
    if cached is not None and cached.version == version:
        _checked_at = time.monotonic()
        return cached
    with _lock:
        if _cached is None or _cached.version != version:
            _cached = build_catalogue(version)
        _checked_at = time.monotonic()
        return _cached


def forget_catalogue() -> None:
    """Drop the cached index (tests that rebuild the catalogue inside one second)."""
    global _cached, _checked_at
    _cached = None
    _checked_at = 0.0
