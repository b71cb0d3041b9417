"""Directory entries: suggesting, editing, verifying and rejecting organisations and groups,
and loading the verified entries of the content files."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from rarebridge.accounts.models import User
from rarebridge.conditions.catalogue import current_catalogue
from rarebridge.conditions.models import Condition
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm, user_has_perm
from rarebridge.directory.models import (
    DirectoryEntry,
    EntryCondition,
    EntryCountry,
    EntryLanguage,
)
from rarebridge.directory.paths import DIRECTORY_FILE
from rarebridge.directory.services.text import (
    COUNTRY_CODE,
    LANGUAGE_CODES,
    NAME_MAX,
    _clean_email,
    _clean_phone,
    _clean_url,
    _texts,
    clean_text,
    name_key,
    website_key,
)


class DuplicateEntry(ValidationError):
    """The suggested entry looks like one already in the directory."""

    def __init__(self, existing: DirectoryEntry):
        super().__init__(
            _("This looks like “%(name)s”, which is already in the directory.")
            % {"name": existing.name},
            code="duplicate",
        )
        self.existing = existing


# --- the directory -----------------------------------------------------------------------


@dataclass
class EntryData:
    """What a person wrote about an organisation or group (cleaned by the service)."""

    name: str
    kind: str
    descriptions: dict[str, str] = field(default_factory=dict)
    how_to_join: dict[str, str] = field(default_factory=dict)
    conditions: Sequence[Condition] = ()
    conditions_note: str = ""
    all_conditions: bool = False
    countries: Sequence[str] = ()
    international: bool = False
    languages: Sequence[str] = ()
    contact_email: str = ""
    contact_phone: str = ""
    website: str = ""


def _clean_entry(data: EntryData) -> EntryData:
    errors: dict[str, str] = {}
    name = clean_text(data.name, max_length=NAME_MAX, multiline=False)
    if len(name) < 3:
        errors["name"] = _("Enter the name of the organisation or group.")
    if data.kind not in DirectoryEntry.Kind.values:
        errors["kind"] = _("Choose what kind of organisation or group it is.")
    countries = sorted({c.strip().upper() for c in data.countries if c})
    if any(not COUNTRY_CODE.match(c) for c in countries):
        errors["countries"] = _("Choose countries from the list.")
    languages = sorted({code for code in data.languages if code})
    if any(code not in LANGUAGE_CODES for code in languages):
        errors["languages"] = _("Choose languages from the list.")
    try:
        website = _clean_url(data.website)
        email = _clean_email(data.contact_email, "contact_email")
        phone = _clean_phone(data.contact_phone)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        website = email = phone = ""
    if errors:
        raise ValidationError(errors)
    return EntryData(
        name=name,
        kind=data.kind,
        descriptions=_texts(data.descriptions),
        how_to_join=_texts(data.how_to_join),
        conditions=list(data.conditions),
        conditions_note=clean_text(data.conditions_note, max_length=1000),
        all_conditions=data.all_conditions,
        countries=countries,
        international=data.international,
        languages=languages,
        contact_email=email,
        contact_phone=phone,
        website=website,
    )


def entry_duplicates(
    *, name: str, website: str, exclude: DirectoryEntry | None = None
) -> list[DirectoryEntry]:
    """Entries (not rejected) with the same folded name or the same website."""
    matches = Q(name_key=name_key(name))
    key = website_key(website)
    if key:
        matches |= Q(website_key=key)
    entries = DirectoryEntry.objects.filter(matches).exclude(status=DirectoryEntry.Status.REJECTED)
    if exclude is not None:
        entries = entries.exclude(pk=exclude.pk)
    return list(entries.order_by("pk")[:5])


def _unique_slug(name: str, entry: DirectoryEntry | None = None) -> str:
    base = (slugify(name) or "entry")[:70]
    slug, n = base, 1
    taken = DirectoryEntry.objects.all()
    if entry is not None and entry.pk is not None:
        taken = taken.exclude(pk=entry.pk)
    while taken.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _write_relations(entry: DirectoryEntry, data: EntryData) -> None:
    EntryCondition.objects.filter(entry=entry).delete()
    EntryCondition.objects.bulk_create(
        [
            EntryCondition(entry=entry, condition=c)
            for c in {c.pk: c for c in data.conditions}.values()
        ]
    )
    EntryCountry.objects.filter(entry=entry).delete()
    EntryCountry.objects.bulk_create([EntryCountry(entry=entry, code=c) for c in data.countries])
    EntryLanguage.objects.filter(entry=entry).delete()
    EntryLanguage.objects.bulk_create([EntryLanguage(entry=entry, code=c) for c in data.languages])


def _apply(entry: DirectoryEntry, data: EntryData) -> None:
    entry.name = data.name
    entry.name_key = name_key(data.name)
    entry.kind = data.kind
    entry.descriptions = {**entry.descriptions, **data.descriptions}
    entry.how_to_join = {**entry.how_to_join, **data.how_to_join}
    entry.all_conditions = data.all_conditions
    entry.international = data.international
    entry.contact_email = data.contact_email
    entry.contact_phone = data.contact_phone
    entry.website = data.website
    entry.website_key = website_key(data.website)
    if data.conditions_note:
        entry.conditions_note = data.conditions_note


def _suggested_conditions(note: str) -> list[Condition]:
    """The catalogue conditions a suggester's free text names unambiguously."""
    if not note:
        return []
    catalogue = current_catalogue()
    found: dict[int, None] = {}
    for part in re.split(r"[,;\n]+", note)[:10]:
        hits = catalogue.index.search(part, limit=2, min_score=0.85)
        if hits and (len(hits) == 1 or hits[0].score - hits[1].score >= 0.05 or hits[0].exact):
            found[hits[0].key] = None
    return list(Condition.objects.filter(pk__in=found))


@transaction.atomic
def entry_suggest(
    *,
    data: EntryData,
    by: Actor | User | None = None,
    suggester_email: str = "",
) -> DirectoryEntry:
    """Anyone may suggest an entry; it is public only after a program admin verifies it."""
    clean = _clean_entry(data)
    duplicates = entry_duplicates(name=clean.name, website=clean.website)
    if duplicates:
        raise DuplicateEntry(duplicates[0])
    if not clean.conditions:
        clean.conditions = _suggested_conditions(clean.conditions_note)
    entry = DirectoryEntry(status=DirectoryEntry.Status.SUGGESTED, slug=_unique_slug(clean.name))
    _apply(entry, clean)
    entry.suggested_by = user_of(by)
    entry.suggester_email = _clean_email(suggester_email, "suggester_email")
    entry.save()
    _write_relations(entry, clean)
    audit_log(
        action="directory.entry.suggested",
        actor=by,
        obj=entry,
        payload={"kind": entry.kind},
    )
    return entry


def _require_verifier(by: Actor | User) -> None:
    user = user_of(by)
    if user is None or not user_has_perm(user, Perm.DIRECTORY_VERIFY):
        raise PermissionDenied


@transaction.atomic
def entry_update(*, entry: DirectoryEntry, data: EntryData, by: Actor | User) -> DirectoryEntry:
    _require_verifier(by)
    clean = _clean_entry(data)
    duplicates = entry_duplicates(name=clean.name, website=clean.website, exclude=entry)
    if duplicates:
        raise DuplicateEntry(duplicates[0])
    _apply(entry, clean)
    entry.save()
    _write_relations(entry, clean)
    audit_log(action="directory.entry.updated", actor=by, obj=entry)
    return entry


@transaction.atomic
def entry_verify(*, entry: DirectoryEntry, by: Actor | User) -> DirectoryEntry:
    """Make the entry public (or confirm it again) as checked today."""
    _require_verifier(by)
    problems = []
    if not entry.all_conditions and not EntryCondition.objects.filter(entry=entry).exists():
        problems.append(_("Link at least one condition, or mark it as for all rare conditions."))
    if not entry.international and not entry.countries.exists():
        problems.append(_("Choose the countries it serves, or mark it as open to every country."))
    if not entry.languages.exists():
        problems.append(_("Choose at least one language."))
    if problems:
        raise ValidationError(problems)
    entry.status = DirectoryEntry.Status.VERIFIED
    entry.last_verified_on = timezone.localdate()
    entry.verified_by = user_of(by)
    entry.review_note = ""
    entry.save(
        update_fields=["status", "last_verified_on", "verified_by", "review_note", "updated_at"]
    )
    audit_log(action="directory.entry.verified", actor=by, obj=entry)
    return entry


@transaction.atomic
def entry_reject(*, entry: DirectoryEntry, by: Actor | User, note: str) -> DirectoryEntry:
    _require_verifier(by)
    entry.status = DirectoryEntry.Status.REJECTED
    entry.review_note = clean_text(note, max_length=1000)
    entry.save(update_fields=["status", "review_note", "updated_at"])
    audit_log(action="directory.entry.rejected", actor=by, obj=entry)
    return entry


def directory_content_load(*, path: Path = DIRECTORY_FILE) -> int:
    """Load the verified entries of a content file; entries already there are left alone,
    so a program admin's later edits survive. Returns how many were created."""
    data = json.loads(path.read_text(encoding="utf-8"))
    created = 0
    today = timezone.localdate()
    with transaction.atomic():
        conditions = Condition.objects.in_bulk(field_name="orphacode")
        for item in data["entries"]:
            if DirectoryEntry.objects.filter(slug=item["slug"]).exists():
                continue
            clean = _clean_entry(
                EntryData(
                    name=item["name"],
                    kind=item["kind"],
                    descriptions=item.get("descriptions", {}),
                    how_to_join=item.get("how_to_join", {}),
                    conditions=[
                        conditions[c] for c in item.get("conditions", []) if c in conditions
                    ],
                    all_conditions=item.get("all_conditions", False),
                    countries=item.get("countries", []),
                    international=item.get("international", False),
                    languages=item.get("languages", []),
                    contact_email=item.get("contact_email", ""),
                    website=item.get("website", ""),
                )
            )
            entry = DirectoryEntry(slug=item["slug"], status=DirectoryEntry.Status.VERIFIED)
            _apply(entry, clean)
            entry.last_verified_on = today - timedelta(days=item.get("verified_days_ago", 30))
            entry.save()
            _write_relations(entry, clean)
            created += 1
        if created:
            audit_log(
                action="directory.entry.content_loaded",
                payload={"file": path.name, "created": created},
            )
    return created
