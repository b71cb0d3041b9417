"""Questionnaires from elsewhere: licensee wording loaded over our structure, and external
SDC questionnaires (LOINC-coded, with ``itemWeight`` or ``ordinalValue``) mapped onto ours.

Pure functions on FHIR JSON; the services store what they return.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"


class ExternalError(ValueError):
    """The file cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _flatten(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for item in items or []:
        out.append(item)
        out.extend(_flatten(item.get("item", [])))
    return out


def _value(option: dict[str, Any]) -> int:
    """An answer option's score: its weight where one is given, else its code."""
    weight = _weight(option)
    return int(weight if weight is not None else option["valueCoding"]["code"])


def _weight(option: dict[str, Any]) -> float | None:
    for holder in (option, option.get("valueCoding", {})):
        for extension in holder.get("extension", []):
            if extension.get("url") in (ITEM_WEIGHT, ORDINAL):
                return float(extension["valueDecimal"])
    return None


def _codes(item: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c.get("system", ""), c.get("code", "")) for c in item.get("code", [])}


# Licensee wording -------------------------------------------------------------------------------


def check_instrument_text(
    *, questionnaire: dict[str, Any], instrument: str, language: str, data: dict[str, Any]
) -> list[str]:
    """Every reason the file cannot be loaded (empty when it can)."""
    problems = []
    if data.get("instrument") != instrument:
        problems.append(f"'instrument' is {data.get('instrument')!r}, expected {instrument!r}")
    if data.get("language") != language:
        problems.append(f"'language' is {data.get('language')!r}, expected {language!r}")
    if not str(data.get("source", "")).strip():
        problems.append("'source' must say who supplied the text, which form and licence")
    items = _flatten(questionnaire.get("item", []))
    link_ids = {i["linkId"] for i in items if i.get("type") != "group" or i.get("text")}
    answer_keys = {
        f"{o['valueCoding'].get('system', '')}|{o['valueCoding'].get('code', '')}"
        for i in items
        for o in i.get("answerOption", [])
        if "valueCoding" in o
    }
    for section, known in (("items", link_ids), ("answers", answer_keys)):
        values = data.get(section, {})
        if not isinstance(values, dict):
            problems.append(f"'{section}' must be an object")
            continue
        for key, text in values.items():
            if key not in known:
                problems.append(f"{section}: {key!r} is not in the questionnaire")
            elif not isinstance(text, str) or not text.strip():
                problems.append(f"{section}: {key!r} needs text")
            elif text.lstrip().startswith("["):
                problems.append(f"{section}: {key!r} still holds a placeholder")
    return problems


def placeholders_left(*, questionnaire: dict[str, Any], texts: dict[str, str]) -> list[str]:
    """LinkIds whose shipped text is a placeholder and that the loaded wording does not cover."""
    return [
        i["linkId"]
        for i in _flatten(questionnaire.get("item", []))
        if str(i.get("text", "")).startswith("[") and i["linkId"] not in texts
    ]


# External SDC questionnaires --------------------------------------------------------------------


@dataclass(frozen=True)
class Mapping:
    instrument: str
    url: str
    link_ids: dict[str, str]  # external linkId -> ours
    answers: dict[str, dict[str, int]]  # external linkId -> {"system|code": our value}


def map_external(*, external: dict[str, Any], ours: dict[str, Any], instrument: str) -> Mapping:
    """Match an external questionnaire's items to ours by their codes (LOINC), and each answer
    by its score (itemWeight or ordinalValue); unweighted answers match by position. Calculated
    and read-only items (totals) are left out."""
    our_items = [i for i in _flatten(ours.get("item", [])) if i.get("type") == "choice"]
    by_code = {code: item for item in our_items for code in _codes(item)}
    link_ids: dict[str, str] = {}
    answers: dict[str, dict[str, int]] = {}
    problems = []
    for item in _flatten(external.get("item", [])):
        if item.get("type") != "choice" or item.get("readOnly"):
            continue
        match = next((by_code[c] for c in _codes(item) if c in by_code), None)
        if match is None:
            problems.append(f"{item['linkId']}: no item of {instrument} has its code")
            continue
        our_values = [_value(o) for o in match.get("answerOption", [])]
        mapped: dict[str, int] = {}
        for position, option in enumerate(item.get("answerOption", [])):
            coding = option.get("valueCoding", {})
            weight = _weight(option)
            value = (
                int(weight)
                if weight is not None
                else (our_values[position] if position < len(our_values) else None)
            )
            if value is None or value not in our_values:
                problems.append(f"{item['linkId']}: answer {coding.get('code')} has no counterpart")
                continue
            mapped[f"{coding.get('system', '')}|{coding.get('code', '')}"] = value
        link_ids[item["linkId"]] = match["linkId"]
        answers[item["linkId"]] = mapped
    if problems:
        raise ExternalError(problems)
    if not link_ids:
        raise ExternalError(["no item could be matched"])
    return Mapping(
        instrument=instrument, url=external.get("url", ""), link_ids=link_ids, answers=answers
    )


def answers_from_external_response(*, mapping: Mapping, response: dict[str, Any]) -> dict[str, int]:
    """Our answers (linkId -> raw value) from an external QuestionnaireResponse."""
    result: dict[str, int] = {}
    for item in _flatten(response.get("item", [])):
        link_id = item.get("linkId")
        if link_id not in mapping.link_ids:
            continue
        for answer in item.get("answer", []):
            coding = answer.get("valueCoding")
            if coding:
                key = f"{coding.get('system', '')}|{coding.get('code', '')}"
                if key in mapping.answers[link_id]:
                    result[mapping.link_ids[link_id]] = mapping.answers[link_id][key]
    return result
