"""Care content that is data, not code (``content/care/``): transition milestones, per-country
benefits checklists, travel checklist items and school-letter templates, per language."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import get_language

CONTENT_DIR = Path(settings.BASE_DIR) / "content" / "care"


@cache
def _json(name: str) -> dict[str, Any]:
    return json.loads((CONTENT_DIR / name).read_text(encoding="utf-8"))


def _pick(texts: dict[str, str], language: str | None) -> str:
    language = (language or get_language() or "en").split("-")[0]
    return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")


def transition_milestones(*, language: str | None = None) -> list[dict[str, Any]]:
    """Milestones by age, each with checklist items: [{"age", "title", "items": [{key, text}]}]."""
    return [
        {
            "age": stage["age"],
            "title": _pick(stage["title"], language),
            "items": [
                {"key": item["key"], "text": _pick(item["text"], language)}
                for item in stage["items"]
            ],
        }
        for stage in _json("transition.json")["milestones"]
    ]


def benefits_checklist(*, country: str, language: str | None = None) -> list[dict[str, str]]:
    """The example allowances for a country (generic, not legal advice); [] when none."""
    path = CONTENT_DIR / "benefits" / f"{country.lower()}.json"
    if not path.exists():
        return []
    data = _json(f"benefits/{country.lower()}.json")
    return [
        {
            "key": item["key"],
            "text": _pick(item["title"], language),
            "hint": _pick(item.get("hint", {}), language) if item.get("hint") else "",
        }
        for item in data["items"]
    ]


def travel_checklist(*, language: str | None = None) -> list[dict[str, str]]:
    return [
        {"key": item["key"], "text": _pick(item["text"], language)}
        for item in _json("travel.json")["items"]
    ]


def letter_templates() -> list[str]:
    return sorted(p.stem for p in (CONTENT_DIR / "letters" / "en").glob("*.txt"))


def letter_template(*, key: str, language: str) -> tuple[str, str]:
    """The template text in ``language``, else English; and the language used."""
    if key not in letter_templates():
        raise LookupError(key)
    for lang in (language, "en"):
        path = CONTENT_DIR / "letters" / lang / f"{key}.txt"
        if path.exists():
            return path.read_text(encoding="utf-8"), lang
    raise LookupError(key)


def checklist_titles(*, country: str, language: str | None = None) -> dict[tuple[str, str], str]:
    """Every checklist item's title by (kind, key), in ``language``: transition milestones,
    travel, and the benefits of ``country`` first, then of the other countries."""
    titles: dict[tuple[str, str], str] = {}
    for stage in transition_milestones(language=language):
        for item in stage["items"]:
            titles["transition", item["key"]] = item["text"]
    for item in travel_checklist(language=language):
        titles["travel", item["key"]] = item["text"]
    countries = sorted(p.stem for p in (CONTENT_DIR / "benefits").glob("*.json"))
    for code in sorted(countries, key=lambda c: c != (country or "").lower()):
        for item in benefits_checklist(country=code, language=language):
            titles.setdefault(("benefits", item["key"]), item["text"])
    return titles
