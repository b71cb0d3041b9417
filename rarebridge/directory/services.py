"""Every write of the directory app: the catalogue, directory entries, the peer finder.

Each function validates, writes inside a transaction and leaves an audit entry. Texts people
type are cleaned here (tags and control characters removed, lengths capped) whatever the form
did before, and are stored as plain text. Messages to patients go out in-app only, through
``notify.services.message_send``, and never name the other person.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import slugify
from django.utils.translation import gettext as _

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.accounts.selectors import patients_for_user
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm, Role, role_has, user_has_perm
from rarebridge.directory.catalogue import current_catalogue, forget_catalogue
from rarebridge.directory.models import (
    Condition,
    ContactRequest,
    CrossReference,
    DirectoryEntry,
    EntryCondition,
    EntryCountry,
    EntryLanguage,
    PatientCondition,
    PeerBlock,
    PeerLanguage,
    PeerMessage,
    PeerProfile,
    PeerReport,
)
from rarebridge.directory.orphanet import ConditionRecord, merge_records
from rarebridge.engines.condition_search import fold
from rarebridge.notify.models import Channel, MessageTemplate
from rarebridge.notify.services import message_send
from rarebridge.notify.templates_store import load_message_templates

CONTENT_DIR = Path(settings.BASE_DIR) / "content"
CONDITIONS_FILE = CONTENT_DIR / "conditions" / "conditions.json"
DIRECTORY_FILE = CONTENT_DIR / "directory" / "entries.json"
MESSAGES_DIR = CONTENT_DIR / "directory" / "messages"
LANGUAGE_CODES = tuple(code for code, _name in settings.LANGUAGES)
COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
CONSENT_VERSION = "peer-finder-1"

NAME_MAX = 200
TEXT_MAX = 2000
NOTE_MAX = 500
MESSAGE_MAX = 2000
ALIAS_MAX = 40
OPEN_REQUESTS_MAX = 3

# Contact details typed into text that must not carry them (a note before both accepted, or a
# message from someone who has not chosen to share their details).
EMAIL_PATTERN = re.compile(
    r"[\w.+-]+\s*(?:@|\(at\)|\[at\])\s*[\w-]+(?:\s*(?:\.|\(dot\)|\[dot\])\s*[\w-]+)+", re.I
)
PHONE_PATTERN = re.compile(r"(?:\+|\b00)?\d(?:[\s().\-/]*\d){7,}")
LINK_PATTERN = re.compile(r"(?:https?://|www\.)\S+", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class DuplicateEntry(ValidationError):
    """The suggested entry looks like one already in the directory."""

    def __init__(self, existing: DirectoryEntry):
        super().__init__(
            _("This looks like “%(name)s”, which is already in the directory.")
            % {"name": existing.name},
            code="duplicate",
        )
        self.existing = existing


class PeerUnavailable(ValidationError):
    """The other person has left the peer finder (or the request is closed): said kindly."""


# --- cleaning what people type -----------------------------------------------------------


def clean_text(value: str | None, *, max_length: int = TEXT_MAX, multiline: bool = True) -> str:
    """Plain text: no tags, no control characters, tidy whitespace, at most ``max_length``."""
    text = strip_tags(unicodedata.normalize("NFC", value or ""))
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if multiline:
        lines = [" ".join(line.split()) for line in text.split("\n")]
        text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    else:
        text = " ".join(text.split())
    return text[:max_length].strip()


def has_contact_details(text: str) -> bool:
    return bool(
        EMAIL_PATTERN.search(text) or PHONE_PATTERN.search(text) or LINK_PATTERN.search(text)
    )


def website_key(url: str) -> str:
    """'https://www.Example.org/psc/?ref=x' -> 'example.org/psc': for spotting duplicates."""
    if not url:
        return ""
    parts = urlsplit(url if "//" in url else f"//{url}")
    host = (parts.hostname or "").lower().removeprefix("www.")
    return f"{host}{parts.path.rstrip('/').lower()}"[:300]


def name_key(name: str) -> str:
    # "(demo)" and similar bracketed notes do not make a different organisation.
    return fold(re.sub(r"\([^)]*\)", " ", name))[:200]


def _clean_url(value: str) -> str:
    url = clean_text(value, max_length=300, multiline=False)
    if not url:
        return ""
    if not re.match(r"^https?://", url, re.I):
        url = f"https://{url}"
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise ValidationError(
            {"website": _("Enter the full web address, for example https://example.org.")}
        ) from exc
    return url


def _clean_email(value: str, field_name: str) -> str:
    email = clean_text(value, max_length=254, multiline=False).lower()
    if email:
        try:
            EmailValidator()(email)
        except ValidationError as exc:
            raise ValidationError(
                {field_name: _("Enter an e-mail address like name@example.org.")}
            ) from exc
    return email


def _clean_phone(value: str) -> str:
    phone = clean_text(value, max_length=30, multiline=False)
    if phone and not re.fullmatch(r"\+?[\d\s().\-/]{5,30}", phone):
        raise ValidationError(
            {"contact_phone": _("Use digits, spaces and an optional + at the start.")}
        )
    return phone


def _texts(texts: dict[str, str]) -> dict[str, str]:
    return {
        language: clean_text(text)
        for language, text in texts.items()
        if language in LANGUAGE_CODES and clean_text(text)
    }


# --- the catalogue -----------------------------------------------------------------------


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    parent_links: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def _record_changes(condition: Condition, record: ConditionRecord) -> bool:
    changed = False
    names = {**condition.names, **{k: v for k, v in record.names.items() if v}}
    if names != condition.names:
        condition.names = names
        changed = True
    synonyms = {**condition.synonyms, **record.synonyms}
    if synonyms != condition.synonyms:
        condition.synonyms = synonyms
        changed = True
    if record.level and record.level != condition.level:
        condition.level = record.level
        changed = True
    if record.is_active != condition.is_active:
        condition.is_active = record.is_active
        changed = True
    return changed


@transaction.atomic
def conditions_import(
    *,
    records: Iterable[ConditionRecord],
    source: str,
    by: User | None = None,
    request: HttpRequest | None = None,
) -> ImportResult:
    """Create or update conditions by ORPHAcode; safe to run again with the same files.

    Names and synonyms are replaced per language present in the records, parents and
    cross-references only for records that carry them. A new ORPHAcode without any name (a
    child only mentioned in a classification) is skipped.
    """
    merged = merge_records(records)
    result = ImportResult()
    now = timezone.now()
    existing = Condition.objects.in_bulk([r.orphacode for r in merged], field_name="orphacode")
    to_create: list[Condition] = []
    to_update: list[Condition] = []
    for record in merged:
        condition = existing.get(record.orphacode)
        if condition is None:
            if not record.names:
                result.skipped += 1
                continue
            condition = Condition(
                orphacode=record.orphacode,
                level=record.level or Condition.Level.DISORDER,
                names={k: v for k, v in record.names.items() if v},
                synonyms=record.synonyms,
                is_active=record.is_active,
                source=source,
            )
            to_create.append(condition)
        elif _record_changes(condition, record):
            condition.source = source
            condition.updated_at = now
            to_update.append(condition)
    Condition.objects.bulk_create(to_create, batch_size=1000)
    Condition.objects.bulk_update(
        to_update,
        ["names", "synonyms", "level", "is_active", "source", "updated_at"],
        batch_size=500,
    )
    result.created, result.updated = len(to_create), len(to_update)
    by_code = {
        c.orphacode: c
        for c in Condition.objects.filter(orphacode__in=[r.orphacode for r in merged]).only(
            "pk", "orphacode"
        )
    }
    parents_changed = _import_parents(merged, by_code, result)
    xrefs_changed = _import_xrefs(merged, by_code)
    touched = (parents_changed | xrefs_changed) - {c.pk for c in to_create + to_update}
    if touched:
        Condition.objects.filter(pk__in=touched).update(updated_at=now)
    result.unchanged = len(merged) - result.created - result.updated - result.skipped
    audit_log(
        action="directory.catalogue.imported",
        actor=by,
        payload={"source": source, **result.as_dict()},
        request=request,
    )
    # This process rebuilds its index on the next search (this transaction sees the change
    # already; others once it commits). Other processes notice the new version themselves.
    forget_catalogue()
    transaction.on_commit(forget_catalogue)
    return result


def _import_parents(
    records: list[ConditionRecord], by_code: dict[int, Condition], result: ImportResult
) -> set[int]:
    """Replace the parents of every record that says something about them."""
    through = Condition.parents.through
    wanted: dict[int, set[int]] = {}
    for record in records:
        child = by_code.get(record.orphacode)
        if record.parents is None or child is None:
            continue
        parent_ids = set()
        for code in record.parents:
            parent = by_code.get(code) or Condition.objects.filter(orphacode=code).first()
            if parent is not None and parent.pk != child.pk:
                parent_ids.add(parent.pk)
        wanted[child.pk] = parent_ids
    if not wanted:
        return set()
    current: dict[int, set[int]] = {pk: set() for pk in wanted}
    for child_id, parent_id in through.objects.filter(from_condition_id__in=wanted).values_list(
        "from_condition_id", "to_condition_id"
    ):
        current[child_id].add(parent_id)
    changed = {pk for pk in wanted if wanted[pk] != current[pk]}
    if changed:
        through.objects.filter(from_condition_id__in=changed).delete()
        through.objects.bulk_create(
            [
                through(from_condition_id=child, to_condition_id=parent)
                for child in changed
                for parent in wanted[child]
            ],
            batch_size=2000,
        )
    result.parent_links = sum(len(p) for p in wanted.values())
    return changed


def _import_xrefs(records: list[ConditionRecord], by_code: dict[int, Condition]) -> set[int]:
    wanted: dict[int, set[tuple[str, str, str]]] = {}
    for record in records:
        condition = by_code.get(record.orphacode)
        if record.xrefs is not None and condition is not None:
            wanted[condition.pk] = {x for x in record.xrefs if x[0] in CrossReference.System.values}
    if not wanted:
        return set()
    current: dict[int, set[tuple[str, str, str]]] = {pk: set() for pk in wanted}
    for row in CrossReference.objects.filter(condition_id__in=wanted).values_list(
        "condition_id", "system", "code", "mapping"
    ):
        current[row[0]].add(row[1:])
    changed = {pk for pk in wanted if wanted[pk] != current[pk]}
    if changed:
        CrossReference.objects.filter(condition_id__in=changed).delete()
        CrossReference.objects.bulk_create(
            [
                CrossReference(condition_id=pk, system=system, code=code[:40], mapping=mapping)
                for pk in changed
                for system, code, mapping in sorted(wanted[pk])
            ],
            batch_size=2000,
            ignore_conflicts=True,
        )
    return changed


def read_catalogue_content(path: Path = CONDITIONS_FILE) -> list[ConditionRecord]:
    """RareBridge's own catalogue file: names in six languages, written by hand."""
    data = json.loads(path.read_text(encoding="utf-8"))
    records = []
    for item in data["conditions"]:
        records.append(
            ConditionRecord(
                orphacode=int(item["orphacode"]),
                level=item.get("level", "disorder"),
                names=dict(item["names"]),
                synonyms={k: list(v) for k, v in item.get("synonyms", {}).items()},
                parents={int(p) for p in item.get("parents", [])},
                xrefs={(x[0], x[1], x[2] if len(x) > 2 else "") for x in item.get("xrefs", [])},
            )
        )
    return records


def catalogue_content_load(*, path: Path = CONDITIONS_FILE) -> ImportResult:
    return conditions_import(records=read_catalogue_content(path), source="rarebridge-content")


# --- a patient's condition -------------------------------------------------------------


def _may_change_patient(by: User, patient: PatientProfile) -> bool:
    if patient.user_id == by.pk:
        return True
    return patients_for_user(user=by, perm=Perm.PATIENT_CHANGE).filter(pk=patient.pk).exists()


@transaction.atomic
def patient_condition_set(
    *,
    patient: PatientProfile,
    condition: Condition,
    by: User | None,
    request: HttpRequest | None = None,
) -> PatientCondition:
    """Record that the patient lives with ``condition`` (the patient themselves, or staff who
    may change the patient's record; ``by=None`` for imports and the demo)."""
    if by is not None and not _may_change_patient(by, patient):
        raise PermissionDenied
    if not condition.is_active:
        raise ValidationError(_("This condition is no longer in the catalogue."))
    link, created = PatientCondition.objects.get_or_create(
        patient=patient,
        condition=condition,
        defaults={"organisation_id": patient.organisation_id, "added_by": by},
    )
    if created:
        audit_log(
            action="directory.patient_condition.added",
            actor=by,
            obj=link,
            payload={"orphacode": condition.orphacode},
            request=request,
        )
    return link


@transaction.atomic
def patient_condition_remove(
    *, link: PatientCondition, by: User, request: HttpRequest | None = None
) -> None:
    if not _may_change_patient(by, link.patient):
        raise PermissionDenied
    profile = PeerProfile.objects.filter(patient_id=link.patient_id, status="active").first()
    if profile is not None and profile.condition_id == link.condition_id:
        raise ValidationError(
            _(
                "You are findable in the peer finder for this condition. Leave the peer finder first, or join again with another condition."
            )
        )
    audit_log(
        action="directory.patient_condition.removed",
        actor=by,
        obj=link,
        payload={"orphacode": link.condition.orphacode},
        request=request,
    )
    link.delete()


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
    by: User | None = None,
    suggester_email: str = "",
    request: HttpRequest | None = None,
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
    entry.suggested_by = by if by is not None and by.is_authenticated else None
    entry.suggester_email = _clean_email(suggester_email, "suggester_email")
    entry.save()
    _write_relations(entry, clean)
    audit_log(
        action="directory.entry.suggested",
        actor=by,
        obj=entry,
        payload={"kind": entry.kind},
        request=request,
    )
    return entry


def _require_verifier(by: User) -> None:
    if not user_has_perm(by, Perm.DIRECTORY_VERIFY):
        raise PermissionDenied


@transaction.atomic
def entry_update(
    *, entry: DirectoryEntry, data: EntryData, by: User, request: HttpRequest | None = None
) -> DirectoryEntry:
    _require_verifier(by)
    clean = _clean_entry(data)
    duplicates = entry_duplicates(name=clean.name, website=clean.website, exclude=entry)
    if duplicates:
        raise DuplicateEntry(duplicates[0])
    _apply(entry, clean)
    entry.save()
    _write_relations(entry, clean)
    audit_log(action="directory.entry.updated", actor=by, obj=entry, request=request)
    return entry


@transaction.atomic
def entry_verify(
    *, entry: DirectoryEntry, by: User, request: HttpRequest | None = None
) -> DirectoryEntry:
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
    entry.verified_by = by
    entry.review_note = ""
    entry.save(
        update_fields=["status", "last_verified_on", "verified_by", "review_note", "updated_at"]
    )
    audit_log(action="directory.entry.verified", actor=by, obj=entry, request=request)
    return entry


@transaction.atomic
def entry_reject(
    *, entry: DirectoryEntry, by: User, note: str, request: HttpRequest | None = None
) -> DirectoryEntry:
    _require_verifier(by)
    entry.status = DirectoryEntry.Status.REJECTED
    entry.review_note = clean_text(note, max_length=1000)
    entry.save(update_fields=["status", "review_note", "updated_at"])
    audit_log(action="directory.entry.rejected", actor=by, obj=entry, request=request)
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


# --- the peer finder ------------------------------------------------------------------------


def _ensure_message_templates() -> None:
    """The peer finder's in-app messages live with the rest of its content."""
    if not MessageTemplate.objects.filter(key="peers_request_received", language="en").exists():
        load_message_templates(MESSAGES_DIR)


def _tell(*, profile: PeerProfile, key: str, idempotency_key: str, path: str) -> None:
    _ensure_message_templates()
    message_send(
        recipient=profile.patient.user,
        template_key=key,
        context={"url": f"{settings.SITE_URL}{path}"},
        idempotency_key=idempotency_key,
        channels=(Channel.IN_APP,),
    )


def _own_profile(by: User, profile: PeerProfile) -> None:
    if profile.patient.user_id != by.pk:
        raise PermissionDenied


def _party(contact: ContactRequest, by: User) -> tuple[PeerProfile, PeerProfile | None, str]:
    """(my profile, the other's, my side) — PermissionDenied for anyone else."""
    for side, mine, other in (
        ("requester", contact.requester, contact.recipient),
        ("recipient", contact.recipient, contact.requester),
    ):
        if mine is not None and mine.patient.user_id == by.pk:
            return mine, other, side
    raise PermissionDenied


def _languages_ok(languages: Iterable[str]) -> list[str]:
    chosen = sorted({code for code in languages if code in LANGUAGE_CODES})
    if not chosen:
        raise ValidationError({"languages": _("Choose at least one language you can write in.")})
    return chosen


def _close(contact: ContactRequest, *, status: str, reason: str) -> None:
    contact.status = status
    contact.closed_reason = reason
    contact.closed_at = timezone.now()
    contact.save(update_fields=["status", "closed_reason", "closed_at", "updated_at"])


def condition_family_for_group_scope(condition: Condition) -> set[int]:
    """The condition and its relatives: everything in the groups directly above it."""
    catalogue = current_catalogue()
    family = {condition.pk, *catalogue.descendants(condition.pk)}
    for parent in catalogue.parents.get(condition.pk, ()):
        family |= {parent, *catalogue.descendants(parent)}
    return family


def findable_peers(
    *, condition: Condition, languages: Sequence[str], scope: str, exclude: PeerProfile | None
):
    """Active profiles who share the condition (or, for the group scope, a relative that
    agreed to be found by the group) and at least one language."""
    peers = PeerProfile.objects.filter(status=PeerProfile.Status.ACTIVE)
    if scope == PeerProfile.Scope.GROUP:
        family = condition_family_for_group_scope(condition)
        peers = peers.filter(
            Q(condition=condition) | Q(condition_id__in=family, scope=PeerProfile.Scope.GROUP)
        )
    else:
        peers = peers.filter(condition=condition)
    peers = peers.filter(
        pk__in=PeerLanguage.objects.filter(code__in=languages).values("profile_id")
    )
    if exclude is not None:
        peers = peers.exclude(pk=exclude.pk)
    return peers


def _find_peer(contact: ContactRequest) -> PeerProfile | None:
    requester = contact.requester
    blocked = PeerBlock.objects.filter(Q(blocker=requester) | Q(blocked=requester)).values_list(
        "blocker_id", "blocked_id"
    )
    known = ContactRequest.objects.filter(
        Q(requester=requester) | Q(recipient=requester), recipient__isnull=False
    ).values_list("requester_id", "recipient_id")
    excluded = {pk for pair in [*blocked, *known] for pk in pair}
    pending = (
        ContactRequest.objects.filter(
            recipient=OuterRef("pk"), status=ContactRequest.Status.PENDING
        )
        .order_by()
        .values("recipient")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        findable_peers(
            condition=contact.condition,
            languages=requester.language_codes,
            scope=contact.scope,
            exclude=requester,
        )
        .exclude(pk__in=excluded)
        .annotate(
            same=Case(
                When(condition_id=contact.condition_id, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            # Spread requests: the person with the fewest requests waiting for their answer.
            pending=Coalesce(Subquery(pending, output_field=IntegerField()), Value(0)),
        )
        .order_by("same", "pending", "joined_at", "pk")
        .select_related("patient__user")
        .first()
    )


def _assign(contact: ContactRequest, peer: PeerProfile) -> None:
    contact.recipient = peer
    contact.status = ContactRequest.Status.PENDING
    contact.matched_at = timezone.now()
    contact.save(update_fields=["recipient", "status", "matched_at", "updated_at"])
    _tell(
        profile=peer,
        key="peers_request_received",
        idempotency_key=f"directory.contact:{contact.pk}:received",
        path=reverse("peers:contact", args=[contact.pk]),
    )


def _match_waiting(profile: PeerProfile, limit: int = 3) -> int:
    """Give a newcomer the oldest waiting requests they fit (a few, not a flood)."""
    assigned = 0
    for contact in (
        ContactRequest.objects.filter(status=ContactRequest.Status.WAITING)
        .exclude(requester=profile)
        .select_related("requester", "condition")
        .order_by("created_at", "pk")[:200]
    ):
        if assigned >= limit:
            break
        if _find_peer(contact) == profile:
            _assign(contact, profile)
            assigned += 1
    return assigned


@transaction.atomic
def finder_join(
    *,
    patient: PatientProfile,
    condition: Condition,
    languages: Sequence[str],
    alias: str,
    scope: str,
    by: User,
    request: HttpRequest | None = None,
) -> PeerProfile:
    """The patient agrees to be findable by peers with the same condition (or group)."""
    if patient.user_id != by.pk:
        raise PermissionDenied  # consent is the patient's own, nobody gives it for them
    if not PatientCondition.objects.filter(patient=patient, condition=condition).exists():
        raise ValidationError({"condition": _("Choose one of your conditions.")})
    if scope not in PeerProfile.Scope.values:
        raise ValidationError({"scope": _("Choose who may find you.")})
    chosen = _languages_ok(languages)
    alias = clean_text(alias, max_length=ALIAS_MAX, multiline=False)
    if not alias:
        raise ValidationError({"alias": _("Choose a name to show to peers.")})
    if has_contact_details(alias):
        raise ValidationError(
            {"alias": _("Please leave e-mail addresses, phone numbers and links out of your name.")}
        )
    profile = PeerProfile.objects.filter(patient=patient).first() or PeerProfile(patient=patient)
    profile.organisation_id = patient.organisation_id
    profile.condition = condition
    profile.scope = scope
    profile.alias = alias
    profile.country = patient.country_id
    profile.status = PeerProfile.Status.ACTIVE
    profile.consent_version = CONSENT_VERSION
    profile.joined_at = timezone.now()
    profile.withdrawn_at = None
    profile.save()
    PeerLanguage.objects.filter(profile=profile).delete()
    PeerLanguage.objects.bulk_create([PeerLanguage(profile=profile, code=c) for c in chosen])
    audit_log(
        action="directory.peer.joined",
        actor=by,
        obj=profile,
        payload={"orphacode": condition.orphacode, "scope": scope, "languages": chosen},
        request=request,
    )
    _match_waiting(profile)
    return profile


def _end_contacts(profile: PeerProfile, *, left: bool, moderated: bool = False) -> int:
    contacts = ContactRequest.objects.filter(
        Q(requester=profile) | Q(recipient=profile), status__in=ContactRequest.OPEN
    )
    n = 0
    for contact in contacts:
        if moderated:
            reason = ContactRequest.Reason.MODERATED
        else:
            reason = (
                ContactRequest.Reason.REQUESTER_LEFT
                if contact.requester_id == profile.pk
                else ContactRequest.Reason.RECIPIENT_LEFT
            )
        status = (
            ContactRequest.Status.CANCELLED
            if contact.status == ContactRequest.Status.WAITING
            else ContactRequest.Status.CLOSED
        )
        _close(contact, status=status, reason=reason)
        n += 1
    return n


@transaction.atomic
def finder_withdraw(
    *, profile: PeerProfile, by: User, request: HttpRequest | None = None
) -> PeerProfile:
    """Withdraw consent: out of every count and match at once; open requests and contacts
    close, and the other people see that the person has left (nothing more)."""
    _own_profile(by, profile)
    profile = PeerProfile.objects.select_for_update().get(pk=profile.pk)
    if profile.status != PeerProfile.Status.ACTIVE:
        return profile
    profile.status = PeerProfile.Status.WITHDRAWN
    profile.withdrawn_at = timezone.now()
    profile.save(update_fields=["status", "withdrawn_at", "updated_at"])
    PeerLanguage.objects.filter(profile=profile).delete()
    closed = _end_contacts(profile, left=True)
    audit_log(
        action="directory.peer.withdrawn",
        actor=by,
        obj=profile,
        payload={"contacts_closed": closed},
        request=request,
    )
    return profile


@transaction.atomic
def contact_request_send(
    *,
    requester: PeerProfile,
    scope: str,
    note: str = "",
    by: User,
    request: HttpRequest | None = None,
) -> ContactRequest:
    """Ask to be put in touch with someone who shares the condition (first consent).

    A findable peer is chosen at once if there is one; otherwise the request waits for the
    next person who joins and fits. Nothing about the requester but the condition, the shared
    languages and ``note`` reaches that person before they accept.
    """
    _own_profile(by, requester)
    requester = PeerProfile.objects.select_for_update().get(pk=requester.pk)
    if not requester.is_active:
        raise PeerUnavailable(_("Join the peer finder first."))
    if scope not in PeerProfile.Scope.values:
        raise ValidationError({"scope": _("Choose who you would like to meet.")})
    note = clean_text(note, max_length=NOTE_MAX)
    if has_contact_details(note):
        raise ValidationError(
            {
                "note": _(
                    "Please leave out e-mail addresses, phone numbers and links. You can share them later, once you have both accepted."
                )
            }
        )
    open_count = ContactRequest.objects.filter(
        requester=requester,
        status__in=[ContactRequest.Status.WAITING, ContactRequest.Status.PENDING],
    ).count()
    if open_count >= OPEN_REQUESTS_MAX:
        raise ValidationError(
            _("You have %(n)s requests waiting. Please wait for an answer before you ask again.")
            % {"n": open_count}
        )
    contact = ContactRequest.objects.create(
        requester=requester, condition=requester.condition, scope=scope, note=note
    )
    peer = _find_peer(contact)
    if peer is not None:
        _assign(contact, peer)
    audit_log(
        action="directory.contact.requested",
        actor=by,
        obj=contact,
        organisation_id=requester.organisation_id,
        payload={"scope": scope, "status": contact.status},
        request=request,
    )
    return contact


def _unavailable_message(contact: ContactRequest) -> str:
    if contact.closed_reason == ContactRequest.Reason.REQUESTER_LEFT:
        return _(
            "The person who asked has since left the peer finder, so this request is closed. Nothing about you was shared."
        )
    if contact.closed_reason == ContactRequest.Reason.RECIPIENT_LEFT:
        return _(
            "This person has since left the peer finder, so the request is closed. You can ask again and we will look for someone else."
        )
    return _("This request is closed.")


@transaction.atomic
def contact_request_respond(
    *, contact: ContactRequest, accept: bool, by: User, request: HttpRequest | None = None
) -> ContactRequest:
    """The chosen peer accepts (second consent) or declines."""
    contact = (
        ContactRequest.objects.select_for_update(of=("self",))
        .select_related("requester__patient", "recipient__patient")
        .get(pk=contact.pk)
    )
    _mine, _other, side = _party(contact, by)
    if side != "recipient":
        raise PermissionDenied
    if contact.status != ContactRequest.Status.PENDING:
        raise PeerUnavailable(_unavailable_message(contact))
    if not contact.requester.is_active:
        _close(
            contact,
            status=ContactRequest.Status.CLOSED,
            reason=ContactRequest.Reason.REQUESTER_LEFT,
        )
        raise PeerUnavailable(_unavailable_message(contact))
    contact.status = ContactRequest.Status.ACCEPTED if accept else ContactRequest.Status.DECLINED
    contact.responded_at = timezone.now()
    contact.save(update_fields=["status", "responded_at", "updated_at"])
    if accept:
        _tell(
            profile=contact.requester,
            key="peers_request_accepted",
            idempotency_key=f"directory.contact:{contact.pk}:accepted",
            path=reverse("peers:contact", args=[contact.pk]),
        )
    audit_log(
        action="directory.contact.accepted" if accept else "directory.contact.declined",
        actor=by,
        obj=contact,
        organisation_id=contact.recipient.organisation_id if contact.recipient else None,
        request=request,
    )
    return contact


@transaction.atomic
def contact_request_cancel(
    *, contact: ContactRequest, by: User, request: HttpRequest | None = None
) -> ContactRequest:
    mine, _other, side = _party(contact, by)
    if side != "requester" or contact.status not in (
        ContactRequest.Status.WAITING,
        ContactRequest.Status.PENDING,
    ):
        raise PeerUnavailable(_("This request can no longer be cancelled."))
    _close(contact, status=ContactRequest.Status.CANCELLED, reason=ContactRequest.Reason.NONE)
    audit_log(
        action="directory.contact.cancelled",
        actor=by,
        obj=contact,
        organisation_id=mine.organisation_id,
        request=request,
    )
    return contact


def _shares(contact: ContactRequest, side: str) -> tuple[bool, bool]:
    if side == "requester":
        return contact.requester_shares_email, contact.requester_shares_phone
    return contact.recipient_shares_email, contact.recipient_shares_phone


@transaction.atomic
def contact_message_send(
    *, contact: ContactRequest, body: str, by: User, request: HttpRequest | None = None
) -> PeerMessage:
    """A message inside RareBridge between two people who have both accepted."""
    contact = ContactRequest.objects.select_for_update().get(pk=contact.pk)
    mine, other, side = _party(contact, by)
    if contact.status != ContactRequest.Status.ACCEPTED or other is None:
        raise PeerUnavailable(_unavailable_message(contact))
    if not mine.is_active or not other.is_active:
        raise PeerUnavailable(_unavailable_message(contact))
    body = clean_text(body, max_length=MESSAGE_MAX)
    if not body:
        raise ValidationError({"body": _("Write a message first.")})
    if has_contact_details(body) and not any(_shares(contact, side)):
        raise ValidationError(
            {
                "body": _(
                    "Your message has an e-mail address, phone number or link in it. If you want to share your contact details, choose to share them on this page first."
                )
            }
        )
    message = PeerMessage.objects.create(contact=contact, sender=mine, body=body)
    _tell(
        profile=other,
        key="peers_message_received",
        idempotency_key=f"directory.peer_message:{message.pk}",
        path=reverse("peers:contact", args=[contact.pk]),
    )
    audit_log(
        action="directory.contact.message_sent",
        actor=by,
        obj=contact,
        organisation_id=mine.organisation_id,
        payload={"message": message.pk},
        request=request,
    )
    return message


@transaction.atomic
def contact_share_set(
    *,
    contact: ContactRequest,
    email: bool,
    phone: bool,
    by: User,
    request: HttpRequest | None = None,
) -> ContactRequest:
    """Each person chooses for themselves whether the other may see their e-mail or phone."""
    mine, _other, side = _party(contact, by)
    if contact.status != ContactRequest.Status.ACCEPTED:
        raise PeerUnavailable(_unavailable_message(contact))
    setattr(contact, f"{side}_shares_email", email)
    setattr(contact, f"{side}_shares_phone", phone)
    contact.save(update_fields=[f"{side}_shares_email", f"{side}_shares_phone", "updated_at"])
    audit_log(
        action="directory.contact.sharing_changed",
        actor=by,
        obj=contact,
        organisation_id=mine.organisation_id,
        payload={"email": email, "phone": phone},
        request=request,
    )
    return contact


@transaction.atomic
def peer_block(
    *, contact: ContactRequest, by: User, request: HttpRequest | None = None
) -> PeerBlock:
    """Either side may block the other: the contact closes and they are never matched again."""
    mine, other, _side = _party(contact, by)
    if other is None:
        raise PeerUnavailable(_("There is nobody to block in this request yet."))
    block, _created = PeerBlock.objects.get_or_create(
        blocker=mine, blocked=other, defaults={"contact": contact}
    )
    if contact.status in ContactRequest.OPEN:
        _close(contact, status=ContactRequest.Status.CLOSED, reason=ContactRequest.Reason.BLOCKED)
    audit_log(
        action="directory.peer.blocked",
        actor=by,
        obj=contact,
        organisation_id=mine.organisation_id,
        request=request,
    )
    return block


@transaction.atomic
def peer_report(
    *,
    contact: ContactRequest,
    reason: str,
    details: str = "",
    by: User,
    request: HttpRequest | None = None,
) -> PeerReport:
    """Report the other person to the moderators of their organisation. The reporter gets an
    acknowledgement at once, and hears again when a moderator picks it up and closes it."""
    mine, other, _side = _party(contact, by)
    if other is None:
        raise PeerUnavailable(_("There is nobody to report in this request yet."))
    if reason not in PeerReport.Reason.values:
        raise ValidationError({"reason": _("Choose what happened.")})
    report = PeerReport.objects.create(
        organisation_id=other.organisation_id,
        contact=contact,
        reporter=mine,
        reported=other,
        reason=reason,
        details=clean_text(details, max_length=TEXT_MAX),
    )
    _tell(
        profile=mine,
        key="peers_report_received",
        idempotency_key=f"directory.report:{report.pk}:received",
        path=reverse("peers:contact", args=[contact.pk]),
    )
    audit_log(
        action="directory.report.raised",
        actor=by,
        obj=report,
        payload={"reason": reason, "contact": contact.pk},
        request=request,
    )
    return report


def _require_moderator(by: User, report: PeerReport) -> None:
    if not any(
        a.organisation_id == report.organisation_id and role_has(Role(a.role), Perm.PEER_MODERATE)
        for a in by.active_roles()
    ):
        raise PermissionDenied


@transaction.atomic
def report_acknowledge(
    *, report: PeerReport, by: User, request: HttpRequest | None = None
) -> PeerReport:
    _require_moderator(by, report)
    report = PeerReport.objects.select_for_update().get(pk=report.pk)
    if report.status != PeerReport.Status.OPEN:
        return report
    report.status = PeerReport.Status.ACKNOWLEDGED
    report.acknowledged_at = timezone.now()
    report.acknowledged_by = by
    report.save(update_fields=["status", "acknowledged_at", "acknowledged_by", "updated_at"])
    _tell(
        profile=report.reporter,
        key="peers_report_acknowledged",
        idempotency_key=f"directory.report:{report.pk}:acknowledged",
        path=reverse("peers:home"),
    )
    audit_log(action="directory.report.acknowledged", actor=by, obj=report, request=request)
    return report


@transaction.atomic
def report_close(
    *,
    report: PeerReport,
    outcome: str,
    note: str,
    by: User,
    request: HttpRequest | None = None,
) -> PeerReport:
    """Close a report with an outcome; removing the person takes them out of the finder."""
    _require_moderator(by, report)
    report = PeerReport.objects.select_for_update().get(pk=report.pk)
    if report.status == PeerReport.Status.CLOSED:
        return report
    if outcome not in PeerReport.Outcome.values:
        raise ValidationError({"outcome": _("Choose an outcome.")})
    now = timezone.now()
    if report.acknowledged_at is None:
        report.acknowledged_at, report.acknowledged_by = now, by
    report.status = PeerReport.Status.CLOSED
    report.closed_at, report.closed_by = now, by
    report.outcome = outcome
    report.outcome_note = clean_text(note, max_length=TEXT_MAX)
    report.save()
    if (
        outcome == PeerReport.Outcome.CONTACT_CLOSED
        and report.contact.status in ContactRequest.OPEN
    ):
        _close(
            report.contact,
            status=ContactRequest.Status.CLOSED,
            reason=ContactRequest.Reason.MODERATED,
        )
    elif outcome == PeerReport.Outcome.REMOVED:
        reported = report.reported
        if reported.status == PeerProfile.Status.ACTIVE:
            reported.status = PeerProfile.Status.SUSPENDED
            reported.withdrawn_at = now
            reported.save(update_fields=["status", "withdrawn_at", "updated_at"])
            _end_contacts(reported, left=True, moderated=True)
    _tell(
        profile=report.reporter,
        key="peers_report_closed",
        idempotency_key=f"directory.report:{report.pk}:closed",
        path=reverse("peers:home"),
    )
    audit_log(
        action="directory.report.closed",
        actor=by,
        obj=report,
        payload={"outcome": outcome},
        request=request,
    )
    return report


# --- the demo -----------------------------------------------------------------------------

# Demo patients get conditions by their number, so the finder shows a big group (PSC), a small
# one (AIH, "fewer than 5") and a few others.
DEMO_CONDITIONS = {0: 171, 1: 171, 2: 2137, 3: 186, 4: 558, 5: 636, 6: 70}
DEMO_RARE = {40: 64}  # patient 40 of each site has Alström syndrome: five in the whole demo


def directory_demo_load() -> dict[str, Any]:
    """The demo's catalogue, directory and peer finder. Idempotent: safe to run again.

    Loads content/conditions and content/directory, gives the demo patients a condition and
    lets two in three join the peer finder; patient 07 of each site has a contact with a peer,
    with a first message, so every page has something to show.
    """
    _ensure_message_templates()
    result = catalogue_content_load().as_dict()
    result["entries_created"] = directory_content_load()
    load_message_templates(MESSAGES_DIR)
    by_code = Condition.objects.in_bulk(
        [*DEMO_CONDITIONS.values(), *DEMO_RARE.values()], field_name="orphacode"
    )
    patients = list(PatientProfile.objects.select_related("user").order_by("code"))
    joined = 0
    for patient in patients:
        local = patient.user.email.split("@")[0]
        digits = "".join(ch for ch in local if ch.isdigit())
        if not digits:
            continue
        number = int(digits)
        condition = by_code.get(DEMO_RARE.get(number) or DEMO_CONDITIONS[number % 7])
        if condition is None:
            continue
        patient_condition_set(patient=patient, condition=condition, by=None)
        # Two in three join the finder.
        if number % 3 != 0 and not PeerProfile.objects.filter(patient=patient).exists():
            languages = sorted({patient.user.language, "en"})
            finder_join(
                patient=patient,
                condition=condition,
                languages=languages,
                alias=patient.user.display_name,
                scope=PeerProfile.Scope.GROUP if number % 2 else PeerProfile.Scope.CONDITION,
                by=patient.user,
            )
            joined += 1
    result["peers_joined"] = joined
    result["contacts"] = _demo_contacts()
    return result


def _demo_contacts() -> int:
    """Patient 07 of each site asks for a peer with PSC; the peer accepts and writes back."""
    made = 0
    for profile in PeerProfile.objects.filter(
        status="active", patient__user__email__startswith="patient07."
    ).select_related("patient__user"):
        if ContactRequest.objects.filter(requester=profile).exists():
            continue
        user = profile.patient.user
        contact = contact_request_send(
            requester=profile,
            scope=profile.scope,
            note="I was diagnosed two years ago and would like to talk to someone who knows what it is like.",
            by=user,
        )
        if contact.recipient is None:
            continue
        peer_user = contact.recipient.patient.user
        contact_request_respond(contact=contact, accept=True, by=peer_user)
        contact_message_send(
            contact=contact,
            body="Hello! Thank you for asking. I have had PSC for ten years and I am happy to share what helped me.",
            by=peer_user,
        )
        made += 1
    return made
