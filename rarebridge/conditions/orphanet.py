"""Reading Orphanet's nomenclature files into ``ConditionRecord``s. No database here.

Orphanet publishes its nomenclature (CC BY 4.0) in two shapes, and both are read:

- **XML products** from Orphadata: ``<lang>_product1.xml`` (names, synonyms, level,
  cross-references to ICD-10, ICD-11 and OMIM with their mapping relation) and the
  classification files (``<lang>_product3_<id>.xml`` / ``ORPHAclassification_*.xml``: trees of
  ``ClassificationNode``, from which each condition's parent groups come). One file per
  language; the language is on each ``Name``.
- **JSON**: either the same products converted to JSON (``{"JDBOR": [{"DisorderList": …}]}``,
  elements as lists, texts as ``{"lang": "en", "label": "…"}``) or the ORPHAcode pack / API
  records (``{"ORPHAcode": 558, "Preferred term": "…", "Synonym": […], "ClassificationLevel":
  "Disorder", "Status": "Active", …}``), whose language comes from the record, the file or the
  file name.

A file gives part of the picture (one language, or only the parents), so records are merged by
ORPHAcode before they are written: ``merge_records``. ``parents`` is ``None`` when a file says
nothing about parents, so that loading names never erases the hierarchy.

XML is parsed with the standard library's expat, which does not fetch external entities;
on top of that a file declaring entities is refused before parsing, which rules out
entity-expansion attacks (Orphanet's files declare none).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "de", "pl", "nl", "hu", "fr")
XREF_SYSTEMS = {"ICD-10": "ICD-10", "ICD10": "ICD-10", "ICD-11": "ICD-11", "ICD11": "ICD-11"}
XREF_SYSTEMS["OMIM"] = "OMIM"

# Orphanet's classification levels, by the ids of product1 and by their English names.
LEVEL_IDS = {"36540": "group", "36547": "disorder", "36554": "subtype"}
LEVEL_NAMES = {
    "group of disorders": "group",
    "category": "group",
    "disorder": "disorder",
    "subtype of disorder": "subtype",
    "subtype": "subtype",
}
_LANGUAGE_IN_NAME = re.compile(r"(?:^|[_\-.])(en|de|pl|nl|hu|fr|es|it|pt|cs)(?=[_\-.])", re.I)


class OrphanetFormatError(ValueError):
    """The file is not one of the shapes described above (or declares XML entities)."""


@dataclass
class ConditionRecord:
    orphacode: int
    level: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    synonyms: dict[str, list[str]] = field(default_factory=dict)
    parents: set[int] | None = None
    xrefs: set[tuple[str, str, str]] | None = None  # (system, code, mapping)
    is_active: bool = True

    def merge(self, other: ConditionRecord) -> None:
        self.level = other.level or self.level
        self.names.update({k: v for k, v in other.names.items() if v})
        for language, texts in other.synonyms.items():
            mine = self.synonyms.setdefault(language, [])
            mine.extend(t for t in texts if t not in mine)
        if other.parents is not None:
            self.parents = (self.parents or set()) | other.parents
        if other.xrefs is not None:
            self.xrefs = (self.xrefs or set()) | other.xrefs
        self.is_active = self.is_active and other.is_active


def merge_records(records: Iterable[ConditionRecord]) -> list[ConditionRecord]:
    merged: dict[int, ConditionRecord] = {}
    for record in records:
        if record.orphacode in merged:
            merged[record.orphacode].merge(record)
        else:
            merged[record.orphacode] = record
    return sorted(merged.values(), key=lambda r: r.orphacode)


def read_files(paths: Iterable[Path], *, language: str | None = None) -> list[ConditionRecord]:
    """Every record of every file, merged by ORPHAcode."""
    records: list[ConditionRecord] = []
    for path in paths:
        records.extend(read_file(Path(path), language=language))
    return merge_records(records)


def read_file(path: Path, *, language: str | None = None) -> Iterator[ConditionRecord]:
    language = language or language_from_name(path.name)
    suffix = path.suffix.lower()
    if suffix == ".xml":
        yield from read_xml(path, language=language)
    elif suffix == ".json":
        with path.open(encoding="utf-8") as handle:
            try:
                payload = json.load(handle)
            except json.JSONDecodeError as exc:
                raise OrphanetFormatError(f"{path.name}: not valid JSON ({exc})") from exc
        yield from read_json(payload, language=language)
    else:
        raise OrphanetFormatError(f"{path.name}: expected a .xml or .json file")


def language_from_name(name: str) -> str | None:
    match = _LANGUAGE_IN_NAME.search(name)
    return match.group(1).lower() if match else None


# --- small helpers ---------------------------------------------------------------------------


def _clean(text: str | None) -> str:
    return " ".join((text or "").split())


def _orphacode(value: Any) -> int | None:
    text = _clean(str(value)) if value is not None else ""
    text = text.upper().removeprefix("ORPHA:").removeprefix("ORPHA").strip()
    return int(text) if text.isdigit() else None


def _level(text: str | None, ident: str | None = None) -> str | None:
    if ident and ident in LEVEL_IDS:
        return LEVEL_IDS[ident]
    return LEVEL_NAMES.get(_clean(text).lower()) if text else None


def _mapping(text: str | None) -> str:
    """'E (Exact mapping: …)' -> 'E'; 'NTBT (…)' -> 'NTBT'."""
    head = _clean(text).split(" ", 1)[0].upper() if text else ""
    return head if head in {"E", "NTBT", "BTNT", "ND", "W"} else ""


def _inactive_name(name: str) -> bool:
    return name.upper().startswith(("OBSOLETE:", "NON RARE IN EUROPE:", "DEPRECATED:"))


# --- XML -------------------------------------------------------------------------------------


def _refuse_entity_declarations(path: Path) -> None:
    """Entities can only be declared in a DOCTYPE's internal subset, before the root element.
    Orphanet's files have none, so any internal subset is refused before parsing starts."""
    with path.open("rb") as handle:
        head = handle.read(65536).decode("utf-8", errors="replace")
    if re.search(r"<!DOCTYPE[^>\[]*\[", head, re.I) or "<!ENTITY" in head.upper():
        raise OrphanetFormatError(f"{path.name}: XML entity declarations are not accepted.")
    if (
        "<!DOCTYPE" in head.upper()
        and len(head) == 65536
        and ">" not in head.upper().split("<!DOCTYPE", 1)[1]
    ):
        raise OrphanetFormatError(f"{path.name}: the DOCTYPE is too long.")


def read_xml(path: Path, *, language: str | None = None) -> Iterator[ConditionRecord]:
    """Product1-style ``DisorderList`` and classification ``ClassificationNode`` trees."""
    _refuse_entity_declarations(path)
    depth_tags: list[str] = []
    try:
        # expat never fetches external entities, and internal ones were refused above.
        for event, element in ET.iterparse(str(path), events=("start", "end")):  # noqa: S314
            if event == "start":
                depth_tags.append(element.tag)
                continue
            depth_tags.pop()
            parent = depth_tags[-1] if depth_tags else ""
            if element.tag == "Disorder" and parent == "DisorderList":
                record = _xml_disorder(element, language)
                if record is not None:
                    yield record
                element.clear()
            elif element.tag == "ClassificationNode" and parent == "ClassificationNodeRootList":
                yield from _xml_classification(element, language, parent_code=None)
                element.clear()
    except ET.ParseError as exc:
        raise OrphanetFormatError(f"{path.name}: not well-formed XML ({exc})") from exc


def _xml_name(element: ET.Element, language: str | None) -> tuple[str, str]:
    name = element.find("Name")
    if name is None:
        return "", language or "en"
    return _clean(name.text), (name.get("lang") or language or "en").lower()


def _xml_disorder(element: ET.Element, language: str | None) -> ConditionRecord | None:
    code = _orphacode(element.findtext("OrphaCode") or element.findtext("OrphaNumber"))
    if code is None:
        return None
    name, lang = _xml_name(element, language)
    record = ConditionRecord(orphacode=code, names={lang: name} if name else {})
    synonyms = [_clean(s.text) for s in element.findall("SynonymList/Synonym") if _clean(s.text)]
    if synonyms:
        record.synonyms[lang] = synonyms
    group = element.find("DisorderGroup")
    if group is not None:
        record.level = _level(group.findtext("Name"), group.get("id"))
    references = element.find("ExternalReferenceList")
    if references is not None:
        record.xrefs = set()
        for ref in references.findall("ExternalReference"):
            system = XREF_SYSTEMS.get(_clean(ref.findtext("Source")).upper())
            value = _clean(ref.findtext("Reference"))
            if system and value:
                mapping = _mapping(ref.findtext("DisorderMappingRelation/Name"))
                record.xrefs.add((system, value, mapping))
    status = _clean(element.findtext("Status") or element.findtext("DisorderStatus/Name"))
    record.is_active = not _inactive_name(name) and status.lower() not in {
        "inactive",
        "deprecated",
        "obsolete",
    }
    return record


def _xml_classification(
    node: ET.Element, language: str | None, *, parent_code: int | None
) -> Iterator[ConditionRecord]:
    disorder = node.find("Disorder")
    code = None
    if disorder is not None:
        code = _orphacode(disorder.findtext("OrphaCode") or disorder.findtext("OrphaNumber"))
    if code is not None and disorder is not None:
        name, lang = _xml_name(disorder, language)
        group = disorder.find("DisorderGroup")
        yield ConditionRecord(
            orphacode=code,
            names={lang: name} if name else {},
            level=_level(group.findtext("Name"), group.get("id")) if group is not None else None,
            parents={parent_code} if parent_code is not None else set(),
        )
    for child in node.findall("ClassificationNodeChildList/ClassificationNode"):
        yield from _xml_classification(child, language, parent_code=code)


# --- JSON ------------------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _json_text(value: Any) -> tuple[str, str | None]:
    """A text node as JSON conversions write it: a string, {"label"/"#text"/"value": …,
    "lang"/"@lang": …}, or a list of those (the first one)."""
    if isinstance(value, list):
        return _json_text(value[0]) if value else ("", None)
    if isinstance(value, dict):
        for key in ("label", "#text", "value", "text", "Name"):
            if key in value:
                text, _ = _json_text(value[key])
                lang = value.get("lang") or value.get("@lang")
                return text, (str(lang).lower() if lang else None)
        return "", None
    return (_clean(str(value)), None) if value is not None else ("", None)


def _child(node: Any, *keys: str) -> Any:
    """``node[key1][0][key2]…``: follows lists-of-one the way JSON conversions nest."""
    current = node
    for key in keys:
        if isinstance(current, list):
            current = current[0] if current else None
        if not isinstance(current, dict):
            return None
        current = current.get(key)
    return current


def read_json(payload: Any, *, language: str | None = None) -> Iterator[ConditionRecord]:
    if isinstance(payload, dict) and "JDBOR" in payload:
        yield from _json_jdbor(payload["JDBOR"], language)
        return
    if isinstance(payload, dict):
        language = payload.get("language") or payload.get("Language") or language
        for key in ("results", "data", "records", "ORPHAcodes"):
            if key in payload:
                yield from read_json(payload[key], language=language)
                return
        if "ORPHAcode" in payload:
            payload = [payload]
    if not isinstance(payload, list):
        raise OrphanetFormatError("Expected JDBOR, a list of ORPHAcode records or {results: […]}")
    for item in payload:
        if isinstance(item, dict) and "ORPHAcode" in item:
            yield from _json_pack_record(item, language)


def _json_jdbor(root: Any, language: str | None) -> Iterator[ConditionRecord]:
    for jdbor in _as_list(root):
        for disorder_list in _as_list(_child(jdbor, "DisorderList")):
            for disorder in _as_list(_child(disorder_list, "Disorder")):
                record = _json_disorder(disorder, language)
                if record is not None:
                    yield record
        for classification in _as_list(_child(jdbor, "ClassificationList", "Classification")):
            for node in _as_list(
                _child(classification, "ClassificationNodeRootList", "ClassificationNode")
            ):
                yield from _json_classification(node, language, parent_code=None)


def _json_disorder(node: dict, language: str | None) -> ConditionRecord | None:
    code = _orphacode(_json_text(node.get("OrphaCode") or node.get("OrphaNumber"))[0])
    if code is None:
        return None
    name, lang = _json_text(node.get("Name"))
    lang = lang or language or "en"
    record = ConditionRecord(orphacode=code, names={lang: name} if name else {})
    synonyms = [_json_text(s)[0] for s in _as_list(_child(node, "SynonymList", "Synonym"))]
    if any(synonyms):
        record.synonyms[lang] = [s for s in synonyms if s]
    group = _child(node, "DisorderGroup")
    if group is not None:
        ident = _child(group, "id") or _child(group, "@id")
        record.level = _level(_json_text(_child(group, "Name"))[0], str(ident) if ident else None)
    references = _child(node, "ExternalReferenceList")
    if references is not None:
        record.xrefs = set()
        for ref in _as_list(_child(references, "ExternalReference")):
            system = XREF_SYSTEMS.get(_json_text(_child(ref, "Source"))[0].upper())
            value = _json_text(_child(ref, "Reference"))[0]
            if system and value:
                mapping = _mapping(_json_text(_child(ref, "DisorderMappingRelation", "Name"))[0])
                record.xrefs.add((system, value, mapping))
    record.is_active = not _inactive_name(name)
    return record


def _json_classification(
    node: Any, language: str | None, *, parent_code: int | None
) -> Iterator[ConditionRecord]:
    disorder = _child(node, "Disorder")
    code = _orphacode(_json_text(_child(disorder, "OrphaCode"))[0]) if disorder else None
    if code is not None:
        name, lang = _json_text(_child(disorder, "Name"))
        yield ConditionRecord(
            orphacode=code,
            names={(lang or language or "en"): name} if name else {},
            parents={parent_code} if parent_code is not None else set(),
        )
    for child in _as_list(_child(node, "ClassificationNodeChildList", "ClassificationNode")):
        yield from _json_classification(child, language, parent_code=code)


def _codes(value: Any) -> set[int]:
    codes = set()
    for item in _as_list(value):
        code = _orphacode(item.get("ORPHAcode") if isinstance(item, dict) else item)
        if code is not None:
            codes.add(code)
    return codes


def _json_pack_record(item: dict, language: str | None) -> Iterator[ConditionRecord]:
    code = _orphacode(item.get("ORPHAcode"))
    if code is None:
        return
    lang = str(item.get("Language") or item.get("lang") or language or "en").lower()
    name = _clean(str(item.get("Preferred term") or item.get("PreferredTerm") or ""))
    record = ConditionRecord(orphacode=code, names={lang: name} if name else {})
    synonyms = [_clean(str(s)) for s in _as_list(item.get("Synonym") or item.get("Synonyms"))]
    if any(synonyms):
        record.synonyms[lang] = [s for s in synonyms if s]
    record.level = _level(
        str(
            item.get("ClassificationLevel")
            or item.get("Classification level")
            or item.get("DisorderGroup")
            or ""
        )
    )
    status = _clean(str(item.get("Status") or "Active")).lower()
    record.is_active = status.startswith("active") and not _inactive_name(name)
    for key in ("Parents", "Parent", "parents"):
        if key in item:
            record.parents = _codes(item[key])
    xrefs: set[tuple[str, str, str]] = set()
    for key, system in (
        ("Code ICD10", "ICD-10"),
        ("ICD10", "ICD-10"),
        ("Code ICD11", "ICD-11"),
        ("ICD11", "ICD-11"),
        ("Code OMIM", "OMIM"),
        ("OMIM", "OMIM"),
    ):
        for value in _as_list(item.get(key)):
            if isinstance(value, dict):
                ref = _clean(
                    str(value.get(key) or value.get("Code") or value.get("Reference") or "")
                )
                mapping = _mapping(str(value.get("DisorderMappingRelation") or ""))
            else:
                ref, mapping = _clean(str(value)), ""
            if ref:
                xrefs.add((system, ref, mapping))
    for ref in _as_list(item.get("References") or item.get("ExternalReference")):
        if isinstance(ref, dict):
            system_of_ref = XREF_SYSTEMS.get(_clean(str(ref.get("Source") or "")).upper())
            value = _clean(str(ref.get("Reference") or ""))
            if system_of_ref and value:
                mapping = _mapping(str(ref.get("DisorderMappingRelation") or ""))
                xrefs.add((system_of_ref, value, mapping))
    if xrefs:
        record.xrefs = xrefs
    yield record
    # Children listed on a group ("Childs" in the ORPHAcode API) are parent links, seen from above.
    for key in ("Childs", "childs", "Children", "children"):
        for child in _codes(item.get(key)):
            yield ConditionRecord(orphacode=child, parents={code})
