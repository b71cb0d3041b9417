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
#
# Two shapes are met in the wild: LOINC-coded items (sometimes without ``system``, as NLM's
# exports have them) and uncoded items whose answers come from a contained ValueSet (the HL7 SDC
# examples). Items match by code where they have one, else by an explicit mapping
# (external linkId -> ours), else by identical text. Answers match by their weight
# (``itemWeight`` / ``ordinalValue``), else by position.


@dataclass(frozen=True)
class Mapping:
    instrument: str
    url: str
    link_ids: dict[str, str]  # external linkId -> ours
    answers: dict[str, dict[str, int]]  # external linkId -> {"system|code": our value}
    ignored: frozenset[str] = frozenset()  # read-only and calculated items (totals)


def _number(extension: dict[str, Any]) -> float | None:
    for key in ("valueDecimal", "valueInteger"):
        if key in extension:
            return float(extension[key])
    return None


def _option_weight(*holders: dict[str, Any]) -> float | None:
    for holder in holders:
        for extension in holder.get("extension", []) or []:
            if extension.get("url") in (ITEM_WEIGHT, ORDINAL):
                value = _number(extension)
                if value is not None:
                    return value
    return None


def _norm(text: Any) -> str:
    return " ".join(str(text or "").split()).casefold()


def questionnaire_problems(data: Any) -> list[str]:
    """What makes ``data`` unusable as a Questionnaire before any matching is tried."""
    if isinstance(data, list):
        return ["the file holds a JSON array, not a FHIR Questionnaire resource"]
    if not isinstance(data, dict):
        return ["the file does not hold a FHIR resource (a JSON object)"]
    if data.get("resourceType") != "Questionnaire":
        return [f"resourceType is {data.get('resourceType')!r}, expected 'Questionnaire'"]
    problems = []
    for position, item in enumerate(_flatten(data.get("item", [])), start=1):
        if not isinstance(item, dict) or not str(item.get("linkId", "")).strip():
            text = item.get("text", "") if isinstance(item, dict) else ""
            problems.append(f"item {position} ({str(text)[:40]!r}) has no linkId")
    if not data.get("item"):
        problems.append("the questionnaire has no items")
    return problems


def _external_options(
    item: dict[str, Any], contained: dict[str, dict[str, Any]]
) -> tuple[list[tuple[str, float | None]], str | None]:
    """Each answer of the item as ("system|code", weight), inline or from a contained
    ValueSet; with a problem when the answers cannot be found."""
    if item.get("answerOption"):
        options = []
        for option in item["answerOption"]:
            coding = option.get("valueCoding") or {}
            if not coding.get("code"):
                return [], f"{item['linkId']}: an answer option has no valueCoding code"
            key = f"{coding.get('system', '')}|{coding['code']}"
            options.append((key, _option_weight(option, coding)))
        return options, None
    reference = item.get("answerValueSet", "")
    if reference.startswith("#"):
        value_set = contained.get(reference[1:])
        if value_set is None:
            return [], f"{item['linkId']}: answerValueSet {reference} is not contained in the file"
        options = []
        for include in value_set.get("compose", {}).get("include", []):
            system = include.get("system", "")
            for concept in include.get("concept", []):
                options.append((f"{system}|{concept.get('code', '')}", _option_weight(concept)))
        for entry in value_set.get("expansion", {}).get("contains", []):
            options.append(
                (f"{entry.get('system', '')}|{entry.get('code', '')}", _option_weight(entry))
            )
        if not options:
            return [], f"{item['linkId']}: ValueSet {reference} lists no answers"
        return options, None
    if reference:
        return [], f"{item['linkId']}: answerValueSet {reference} is not in the file"
    return [], f"{item['linkId']}: has no answer options"


def map_external(
    *,
    external: dict[str, Any],
    ours: dict[str, Any],
    instrument: str,
    link_map: dict[str, str] | None = None,
) -> Mapping:
    """Match an external questionnaire's items to ours (by code, else ``link_map``, else
    identical text) and each answer by its score (itemWeight or ordinalValue), unweighted
    answers by position. Read-only and calculated items (totals) are left out."""
    problems = questionnaire_problems(external)
    if problems:
        raise ExternalError(problems)
    link_map = link_map or {}
    our_items = [i for i in _flatten(ours.get("item", [])) if i.get("type") == "choice"]
    ours_by_link = {i["linkId"]: i for i in our_items}
    by_code = {code: item for item in our_items for code in _codes(item)}
    by_bare_code = {code: item for item in our_items for _system, code in _codes(item)}
    by_text = {_norm(i.get("text")): i for i in our_items if i.get("text")}
    contained = {
        r.get("id", ""): r
        for r in external.get("contained", []) or []
        if isinstance(r, dict) and r.get("resourceType") == "ValueSet"
    }
    for external_id, our_id in link_map.items():
        if our_id not in ours_by_link:
            problems.append(f"mapping: {external_id} -> {our_id!r}, which {instrument} lacks")
    link_ids: dict[str, str] = {}
    answers: dict[str, dict[str, int]] = {}
    ignored: set[str] = set()
    for item in _flatten(external.get("item", [])):
        link_id = item["linkId"]
        if item.get("type") != "choice" or item.get("readOnly"):
            ignored.add(link_id)
            continue
        match = _match_item(item, link_map, ours_by_link, by_code, by_bare_code, by_text)
        if match is None:
            if item.get("code"):
                problems.append(f"{link_id}: no item of {instrument} has its code")
            else:
                problems.append(
                    f"{link_id}: no item of {instrument} matches; it has no code, so name its "
                    "counterpart in a mapping file (--map)"
                )
            continue
        options, problem = _external_options(item, contained)
        if problem:
            problems.append(problem)
            continue
        our_values = [_our_value(o) for o in match.get("answerOption", [])]
        mapped: dict[str, int] = {}
        for position, (key, weight) in enumerate(options):
            value = (
                int(weight)
                if weight is not None
                else (our_values[position] if position < len(our_values) else None)
            )
            if value is None or value not in our_values:
                problems.append(f"{link_id}: answer {key.split('|')[-1]} has no counterpart")
                continue
            mapped[key] = value
        link_ids[link_id] = match["linkId"]
        answers[link_id] = mapped
    if problems:
        raise ExternalError(problems)
    if not link_ids:
        raise ExternalError(["no item could be matched"])
    return Mapping(
        instrument=instrument,
        url=external.get("url", ""),
        link_ids=link_ids,
        answers=answers,
        ignored=frozenset(ignored),
    )


def _our_value(option: dict[str, Any]) -> int:
    weight = _weight(option)
    return int(weight) if weight is not None else int(option["valueCoding"]["code"])


def _match_item(item, link_map, ours_by_link, by_code, by_bare_code, by_text):
    if item["linkId"] in link_map:
        return ours_by_link.get(link_map[item["linkId"]])
    for system, code in _codes(item):
        if (system, code) in by_code:
            return by_code[(system, code)]
        if not system and code in by_bare_code:  # NLM exports leave out the system
            return by_bare_code[code]
    if not item.get("code"):
        return by_text.get(_norm(item.get("text"))) if item.get("text") else None
    return None


def answers_from_external_response(*, mapping: Mapping, response: dict[str, Any]) -> dict[str, int]:
    """Our answers (linkId -> raw value) from an external QuestionnaireResponse.

    Nothing is dropped silently: an answer to an item the mapping does not know, or an answer
    the item's mapping lacks, raises ``ExternalError`` naming it.
    """
    if not isinstance(response, dict) or response.get("resourceType") not in (
        None,
        "QuestionnaireResponse",
    ):
        raise ExternalError(["the response is not a FHIR QuestionnaireResponse"])
    result: dict[str, int] = {}
    problems = []
    for item in _flatten(response.get("item", [])):
        link_id = item.get("linkId")
        item_answers = item.get("answer", []) or []
        if link_id in mapping.ignored or not item_answers:
            continue
        if link_id not in mapping.link_ids:
            problems.append(f"{link_id}: answered, but not an item of the mapping")
            continue
        known = mapping.answers[link_id]
        for answer in item_answers:
            coding = answer.get("valueCoding")
            if not coding:
                problems.append(f"{link_id}: answer {answer!r} is not a coded answer")
                continue
            key = f"{coding.get('system', '')}|{coding.get('code', '')}"
            if key not in known and not coding.get("system"):
                bare = [k for k in known if k.split("|")[-1] == coding.get("code")]
                key = bare[0] if len(bare) == 1 else key
            if key not in known:
                problems.append(f"{link_id}: answer {coding.get('code')!r} is not mapped")
                continue
            result[mapping.link_ids[link_id]] = known[key]
    if problems:
        raise ExternalError(problems)
    return result
