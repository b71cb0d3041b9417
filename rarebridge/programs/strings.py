"""Localised strings of a program version, keyed by a stable path.

English text lives inline in ``program.json`` and ``exercises/*.json`` (``{"en": "…"}``).
Other languages live in ``translations/<lang>.json``: a flat object mapping each string's key
(as produced by ``iter_localised``) to its translation. Translators work on one file per
language, and the loader merges it in. Keys name the place, not the English text, so editing
English wording keeps the translation linked (and marks it for review by its checksum).

    python -m rarebridge.programs.strings content/programs/act-six-weeks/1   # writes translations/en.json
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

LOCALISED_KEYS = (
    "title",
    "summary",
    "intro",
    "label",
    "help",
    "min_label",
    "max_label",
    "add_label",
)


def _walk(node: Any, path: str) -> Iterator[tuple[str, dict[str, str]]]:
    if isinstance(node, dict):
        for key in LOCALISED_KEYS:
            value = node.get(key)
            if isinstance(value, dict) and "en" in value:
                yield f"{path}.{key}", value
        for key in ("fields", "choices", "cards"):
            for child in node.get(key) or []:
                ident = child.get("id") or child.get("value")
                yield from _walk(child, f"{path}.{key[:-1]}.{ident}")
        if "reflection" in node:
            yield from _walk(node["reflection"], f"{path}.reflection")


def iter_localised(
    program: dict[str, Any], exercises: dict[str, dict[str, Any]]
) -> Iterator[tuple[str, dict[str, str]]]:
    """Every localised text object of a version, with its key."""
    yield from _walk({k: v for k, v in program.items() if k != "weeks"}, "program")
    for week in program.get("weeks", []):
        yield from _walk(week, f"week.{week['number']}")
    for ident in sorted(exercises):
        yield from _walk(exercises[ident], f"exercise.{ident}")


def read_version(directory: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    program = json.loads((directory / "program.json").read_text(encoding="utf-8"))
    exercises = {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((directory / "exercises").glob("*.json"))
    }
    return program, exercises


def merge_translations(
    program: dict[str, Any], exercises: dict[str, dict[str, Any]], directory: Path
) -> list[str]:
    """Fill other languages into the localised objects from translations/<lang>.json.

    Returns the unknown keys found in translation files (a stale translation to clean up).
    """
    objects = dict(iter_localised(program, exercises))
    unknown: list[str] = []
    for path in sorted((directory / "translations").glob("*.json")):
        language = path.stem
        if language == "en":
            continue
        for key, text in json.loads(path.read_text(encoding="utf-8")).items():
            if key not in objects:
                unknown.append(f"{path.name}: {key}")
            elif isinstance(text, str) and text.strip():
                objects[key][language] = text
    return unknown


def extract_english(directory: Path) -> dict[str, str]:
    program, exercises = read_version(directory)
    return {key: value["en"] for key, value in iter_localised(program, exercises)}


if __name__ == "__main__":
    target = Path(sys.argv[1])
    strings = extract_english(target)
    out = target / "translations" / "en.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(strings, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{len(strings)} strings → {out}")
