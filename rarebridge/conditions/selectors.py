"""Reads of the conditions app: the catalogue (public, no person needed), the conditions a
patient lives with (the patient themselves), and what matching needs as ORPHAcode strings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import get_language

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.conditions.catalogue import current_catalogue
from rarebridge.conditions.models import Condition, CrossReference, PatientCondition
from rarebridge.core.access import get_for_actor
from rarebridge.core.actor import Actor, user_of

_CODE_QUERY = re.compile(r"^\s*(?:orpha(?:code)?\s*:?\s*)?(\d{1,7})\s*$", re.I)
_XREF_QUERY = re.compile(
    r"^\s*(?:(?:icd-?1[01]|omim)\s*:?\s*)?([A-Z]{1,2}\d[\w.]*|\d{6})\s*$", re.I
)


# --- the catalogue ------------------------------------------------------------------------


@dataclass
class ConditionMatch:
    condition: Condition
    score: float
    matched: str  # the name or synonym that matched (may be in another language)
    matched_language: str
    via: Condition | None = None  # the group that brought this condition in


def condition_search(
    *, query: str, language: str | None = None, limit: int = 10, expand_groups: bool = True
) -> list[ConditionMatch]:
    """Conditions for what someone typed: an ORPHAcode, an ICD-10/ICD-11/OMIM code, or any
    name or synonym in any of the languages, with typos. A matching group brings the
    conditions under it along (after the group itself)."""
    language = language or get_language() or "en"
    query = (query or "").strip()[:200]
    if not query:
        return []
    code = _CODE_QUERY.match(query)
    if code:
        found = Condition.objects.filter(orphacode=int(code.group(1)), is_active=True).first()
        if found is not None:
            return [ConditionMatch(found, 1.0, f"ORPHA:{found.orphacode}", language)]
    xref = _XREF_QUERY.match(query)
    if xref:
        ids = list(
            CrossReference.objects.filter(code__iexact=xref.group(1))
            .values_list("condition_id", flat=True)
            .distinct()[:limit]
        )
        if ids:
            conditions = Condition.objects.filter(pk__in=ids, is_active=True)
            return [ConditionMatch(c, 1.0, xref.group(1).upper(), language) for c in conditions]
    catalogue = current_catalogue()
    hits = catalogue.index.search(query, limit=limit, prefer_languages=(language, "en"))
    wanted: dict[int, tuple[float, str, str, int | None]] = {}
    for hit in hits:
        wanted.setdefault(hit.key, (hit.score, hit.text, hit.language, None))
    if expand_groups:
        for hit in hits:
            if hit.key in catalogue.groups:
                for child in catalogue.descendants(hit.key, limit=limit * 5):
                    wanted.setdefault(child, (hit.score - 0.01, hit.text, hit.language, hit.key))
    by_id = Condition.objects.in_bulk(list(wanted))
    matches = [
        ConditionMatch(
            condition=by_id[pk],
            score=score,
            matched=text,
            matched_language=lang,
            via=by_id.get(via) if via else None,
        )
        for pk, (score, text, lang, via) in wanted.items()
        if pk in by_id
    ]
    matches.sort(key=lambda m: (-m.score, m.via is not None, m.condition.name_in(language)))
    return matches[: limit * 3]


def condition_get(*, orphacode: int) -> Condition:
    condition = (
        Condition.objects.filter(orphacode=orphacode, is_active=True)
        .prefetch_related("xrefs", "parents", "children")
        .first()
    )
    if condition is None:
        raise Http404
    return condition


def condition_groups(*, condition: Condition) -> list[Condition]:
    """The groups above the condition, nearest first."""
    ids = current_catalogue().ancestors(condition.pk)
    by_id = Condition.objects.in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]


def top_groups() -> QuerySet[Condition]:
    """Groups that are not inside another group: where browsing starts."""
    return Condition.objects.filter(
        level=Condition.Level.GROUP, is_active=True, parents__isnull=True
    ).order_by("orphacode")


def conditions_named(parts: Iterable[str]) -> tuple[list[Condition], list[str]]:
    """The active conditions that texts name unambiguously — an ORPHAcode ("ORPHA:171",
    "171") or a name or synonym in any language — and the texts that named none."""
    catalogue = None
    found: dict[int, None] = {}
    unknown: list[str] = []
    for part in parts:
        text = part.strip()
        if not text:
            continue
        code = _CODE_QUERY.match(text)
        if code:
            pk = (
                Condition.objects.filter(orphacode=int(code.group(1)), is_active=True)
                .values_list("pk", flat=True)
                .first()
            )
        else:
            catalogue = catalogue or current_catalogue()
            hits = catalogue.index.search(text, limit=2, min_score=0.85)
            unambiguous = hits and (
                len(hits) == 1 or hits[0].score - hits[1].score >= 0.05 or hits[0].exact
            )
            pk = hits[0].key if unambiguous else None
        if pk is None:
            unknown.append(text)
        else:
            found[pk] = None
    by_id = Condition.objects.in_bulk(list(found))
    return [by_id[pk] for pk in found if pk in by_id], unknown


# --- the conditions a patient lives with ----------------------------------------------------


def _own_patient(by: Actor | User) -> PatientProfile:
    profile = getattr(user_of(by), "patient_profile", None)
    if profile is None:
        raise Http404
    return profile


def patient_conditions_for(*, by: Actor | User) -> list[PatientCondition]:
    """The signed-in patient's own conditions (404 for anyone who is not a patient)."""
    return list(
        PatientCondition.objects.filter(patient=_own_patient(by))
        .select_related("condition")
        .order_by("pk")
    )


def patient_condition_get(*, by: Actor | User, id: int) -> PatientCondition:
    """One of the signed-in patient's own conditions; 404 for anything else."""
    readable = PatientCondition.objects.filter(patient=_own_patient(by)).select_related(
        "condition", "patient"
    )
    return get_for_actor(readable, by=by, pk=id)


# --- what matching needs ------------------------------------------------------------------


def groups_by_code(codes: Iterable[str | int]) -> dict[str, frozenset[str]]:
    """For each ORPHAcode (as a string), the ORPHAcodes of every group above it. A fixed
    number of queries, however many codes."""
    wanted = sorted({int(c) for c in codes if str(c).isdigit()})
    if not wanted:
        return {}
    catalogue = current_catalogue()
    ancestors = {
        code: catalogue.ancestors(pk)
        for pk, code in Condition.objects.filter(orphacode__in=wanted).values_list(
            "pk", "orphacode"
        )
    }
    ids = {pk for found in ancestors.values() for pk in found}
    code_of = dict(Condition.objects.filter(pk__in=ids).values_list("pk", "orphacode"))
    return {
        str(code): frozenset(str(code_of[pk]) for pk in found if pk in code_of)
        for code, found in ancestors.items()
    }


def patient_condition_codes(patient: PatientProfile) -> set[str]:
    """The patient's conditions as ORPHAcode strings ("171")."""
    return {
        str(code)
        for code in PatientCondition.objects.filter(patient=patient).values_list(
            "condition__orphacode", flat=True
        )
    }
