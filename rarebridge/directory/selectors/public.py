"""The public directory: verified entries that fit a condition, a country and a language."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.http import Http404

from rarebridge.conditions.catalogue import current_catalogue
from rarebridge.conditions.models import Condition
from rarebridge.conditions.selectors import condition_groups, top_groups
from rarebridge.directory.models import (
    DirectoryEntry,
    EntryCondition,
    EntryCountry,
    EntryLanguage,
)

INTERNATIONAL_KINDS = (
    DirectoryEntry.Kind.INTERNATIONAL_ALLIANCE,
    DirectoryEntry.Kind.ONLINE_COMMUNITY,
    DirectoryEntry.Kind.SOCIAL_MEDIA_GROUP,
)
# --- the public directory -------------------------------------------------------------------


def _public_entries() -> QuerySet[DirectoryEntry]:
    return DirectoryEntry.objects.filter(status=DirectoryEntry.Status.VERIFIED).prefetch_related(
        Prefetch("conditions", queryset=Condition.objects.order_by("orphacode")),
        "countries",
        "languages",
    )


def directory_search(
    *,
    condition: Condition | None = None,
    country: str = "",
    language: str = "",
    languages: Collection[str] = (),
    kind: str = "",
) -> QuerySet[DirectoryEntry]:
    """Verified entries that fit; the best fit first.

    Condition: entries for the condition, for a group above or below it, and those for all
    rare conditions. Country: entries serving it and those open to every country. Language:
    entries in that language.
    """
    entries = _public_entries()
    order = []
    # Non-correlated IN subqueries: the database works each one out once, not once per row.
    if condition is not None:
        catalogue = current_catalogue()
        exact = {condition.pk, *catalogue.descendants(condition.pk)}
        above = set(catalogue.ancestors(condition.pk))
        for_exact = EntryCondition.objects.filter(condition_id__in=exact).values("entry_id")
        for_any = EntryCondition.objects.filter(condition_id__in=exact | above).values("entry_id")
        entries = entries.filter(Q(pk__in=for_any) | Q(all_conditions=True))
        order.append(
            Case(
                When(pk__in=for_exact, then=Value(0)),
                When(all_conditions=False, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
    if country:
        serving = EntryCountry.objects.filter(code=country.upper()).values("entry_id")
        entries = entries.filter(Q(pk__in=serving) | Q(international=True))
        order.append(
            Case(When(pk__in=serving, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
    wanted = {language} if language else set(languages)
    if wanted:
        entries = entries.filter(
            pk__in=EntryLanguage.objects.filter(code__in=wanted).values("entry_id")
        )
    if kind in DirectoryEntry.Kind.values:
        entries = entries.filter(kind=kind)
    return entries.order_by(*order, "name", "pk")


@dataclass
class Fallback:
    """What to offer when a search found nothing."""

    groups: list[Condition] = field(default_factory=list)
    international: list[DirectoryEntry] = field(default_factory=list)


def directory_fallback(
    *, condition: Condition | None, country: str = "", language: str = ""
) -> Fallback:
    """The groups above the condition, and international organisations and online groups for
    it (or for all rare conditions) whatever the country."""
    groups = (
        condition_groups(condition=condition) if condition is not None else list(top_groups()[:12])
    )
    wide = Q(international=True) | Q(kind__in=INTERNATIONAL_KINDS)
    if condition is None:
        wide &= Q(all_conditions=True)  # no condition known: the alliances for everyone
    international = directory_search(condition=condition, language=language).filter(wide)
    if language and not international.exists():
        international = directory_search(condition=condition).filter(wide)
    return Fallback(groups=groups, international=list(international[:6]))


def entry_get_public(*, slug: str) -> DirectoryEntry:
    entry = _public_entries().filter(slug=slug).first()
    if entry is None:
        raise Http404
    return entry


def entry_conditions_in(entry: DirectoryEntry, language: str) -> list[str]:
    return [c.name_in(language) for c in entry.conditions.all()]
