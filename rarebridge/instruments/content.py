"""Instruments as FHIR R4 Questionnaires from ``content/instruments/<code>/``, in a language.

The shipped file gives the structure, the answer values the scorer expects and the public
wording; a deployment's licensed or official wording (:class:`InstrumentText`) replaces it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from rarebridge.instruments.models import InstrumentText

CONTENT_DIR = Path(settings.BASE_DIR) / "content"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
PROVENANCE = "https://rarebridge.example/fhir/StructureDefinition/text-provenance"
# Wording that must be replaced before a study uses it (status of the text-provenance
# extension); a deployment's loaded licensed or official wording replaces it.
UNFIT_WORDING = ("draft", "placeholder")
# Sentences of a shipped copyright that speak to developers, never shown to participants.
_DEVELOPER_NOTE = (
    "draft",
    "placeholder",
    "not included",
    "replace them",
    "load_instrument_text",
    "licensee loads",
)
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"


def _translated(element: dict | None, language: str, fallback: str) -> str:
    for extension in (element or {}).get("extension", []):
        if extension.get("url") != TRANSLATION:
            continue
        parts = {e["url"]: e for e in extension.get("extension", [])}
        if parts.get("lang", {}).get("valueCode") == language:
            return parts.get("content", {}).get("valueString") or fallback
    return fallback


# An answer that is not a value on the scale (PHQ-15 item 4 "does not apply") is stored under
# its code and passed to the scorer as not applicable, distinct from a missing answer.
NOT_APPLICABLE = "not-applicable"


@dataclass(frozen=True)
class Option:
    value: int | str
    code: str
    label: str
    system: str


@dataclass(frozen=True)
class Item:
    link_id: str
    prefix: str
    text: str
    kind: str  # "display" or "choice"
    required: bool
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Questionnaire:
    code: str
    title: str
    url: str
    version: str
    copyright: str
    items: tuple[Item, ...]

    @property
    def questions(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.kind == "choice")

    @property
    def attribution(self) -> str:
        """The copyright without the notes to developers (\"replace them with the official
        versions before use\"): what a participant may see."""
        sentences = [part.strip() for part in self.copyright.split(". ") if part.strip()]
        kept = [
            part for part in sentences if not any(note in part.lower() for note in _DEVELOPER_NOTE)
        ]
        text = ". ".join(kept)
        return text if not kept or text.endswith(".") else text + "."


def wording_status(code: str, language: str) -> str:
    """The status of an instrument's wording in a language: ``licensed`` or ``official`` when
    a deployment loaded its own, else the shipped file's (``original``, ``draft``,
    ``placeholder``); a language the file does not provide is ``draft`` (shown in English)."""
    loaded = (
        InstrumentText.objects.filter(instrument=code, language=language)
        .order_by("-loaded_at")
        .first()
    )
    if loaded is not None:
        return loaded.provenance
    for extension in questionnaire_json(code).get("extension", []):
        if extension.get("url") != PROVENANCE:
            continue
        parts = {e["url"]: e for e in extension.get("extension", [])}
        if parts.get("lang", {}).get("valueCode") == language:
            return parts.get("status", {}).get("valueCode", "draft")
    return "draft"


@lru_cache(maxsize=128)
def questionnaire_json(code: str) -> dict:
    """The shipped FHIR Questionnaire of an instrument, as JSON."""
    path = CONTENT_DIR / "instruments" / code / "questionnaire.json"
    return json.loads(path.read_text(encoding="utf-8"))


def questionnaire(code: str, language: str) -> Questionnaire:
    """The instrument's items in ``language`` (the original where no translation exists).

    Answer values are the ``ordinalValue`` extension, else the integer code: the raw value the
    scorer expects for the item of the same linkId. An option whose code is not a number
    (``not-applicable``) keeps its code as its value.
    """
    data = questionnaire_json(code)
    items = []
    for raw in data.get("item", []):
        options = []
        for option in raw.get("answerOption", []):
            coding = option["valueCoding"]
            ordinal = next(
                (e["valueDecimal"] for e in option.get("extension", []) if e["url"] == ORDINAL),
                None,
            )
            value: int | str
            if ordinal is not None:
                value = int(ordinal)
            elif str(coding["code"]).lstrip("-").isdigit():
                value = int(coding["code"])
            else:
                value = str(coding["code"])
            options.append(
                Option(
                    value=value,
                    code=coding["code"],
                    label=_translated(coding.get("_display"), language, coding.get("display", "")),
                    system=coding.get("system", ""),
                )
            )
        items.append(
            Item(
                link_id=raw["linkId"],
                prefix=raw.get("prefix", ""),
                text=_translated(raw.get("_text"), language, raw.get("text", "")),
                kind=raw["type"],
                required=bool(raw.get("required")),
                options=tuple(options),
            )
        )
    wording = _with_loaded_wording(code, language, items)
    return Questionnaire(
        code=code,
        title=_translated(data.get("_title"), language, data.get("title", code)),
        url=data.get("url", ""),
        version=data.get("version", ""),
        copyright=data.get("copyright", ""),
        items=tuple(wording),
    )


def _with_loaded_wording(code: str, language: str, items: list[Item]) -> tuple[Item, ...]:
    """Licensed or official wording loaded into the database replaces the shipped text."""
    loaded = (
        InstrumentText.objects.filter(instrument=code, language=language)
        .order_by("-loaded_at")
        .first()
    )
    if loaded is None:
        return tuple(items)
    result = []
    for item in items:
        options = tuple(
            dataclasses.replace(o, label=loaded.answers.get(f"{o.system}|{o.code}", o.label))
            for o in item.options
        )
        result.append(
            dataclasses.replace(
                item, text=loaded.items.get(item.link_id, item.text), options=options
            )
        )
    return tuple(result)
