"""Reads of the directory app. Views call these, never the ORM directly.

The catalogue and verified directory entries are public: no person needed. Staff reads check
``DIRECTORY_VERIFY`` / ``PEER_MODERATE`` (403 without it; the portal gives non-staff a 404).
Peer-finder reads take the signed-in patient and only ever return their own profile and the
contacts they are a party to (404 otherwise). Counts of peers are suppressed below
``SMALL_COUNT``: the number itself never leaves this module.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Case,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import get_language

from rarebridge.accounts.models import User
from rarebridge.core.audit import audit_log
from rarebridge.core.permissions import Perm, Role, role_has, user_has_perm
from rarebridge.directory.catalogue import current_catalogue
from rarebridge.directory.models import (
    STALE_AFTER,
    Condition,
    ContactRequest,
    CrossReference,
    DirectoryEntry,
    EntryCondition,
    EntryCountry,
    EntryLanguage,
    PatientCondition,
    PeerMessage,
    PeerProfile,
    PeerReport,
)
from rarebridge.directory.services import CONTENT_DIR, findable_peers
from rarebridge.network.models import Country, pick_translation
from rarebridge.programs.selectors import enrolment_for_patient, weeks_for

SMALL_COUNT = 5  # counts of people under this are shown as "fewer than 5"
CLOSING_WEEK = 6  # the closing week of the program: organisations and groups are shown from here
INTERNATIONAL_KINDS = (
    DirectoryEntry.Kind.INTERNATIONAL_ALLIANCE,
    DirectoryEntry.Kind.ONLINE_COMMUNITY,
    DirectoryEntry.Kind.SOCIAL_MEDIA_GROUP,
)
_CODE_QUERY = re.compile(r"^\s*(?:orpha(?:code)?\s*:?\s*)?(\d{1,7})\s*$", re.I)
_XREF_QUERY = re.compile(
    r"^\s*(?:(?:icd-?1[01]|omim)\s*:?\s*)?([A-Z]{1,2}\d[\w.]*|\d{6})\s*$", re.I
)


# --- countries and languages ---------------------------------------------------------------


@lru_cache(maxsize=1)
def _country_names() -> dict[str, dict[str, str]]:
    return json.loads((CONTENT_DIR / "directory" / "countries.json").read_text(encoding="utf-8"))


def country_name(code: str, language: str | None = None) -> str:
    names = _country_names().get(code)
    return pick_translation(names, language) if names else code


def country_choices(language: str | None = None) -> list[tuple[str, str]]:
    """Countries people can pick: the directory's list and the deployment's own countries."""
    language = language or get_language()
    names = {code: pick_translation(n, language) for code, n in _country_names().items()}
    for country in Country.objects.all():
        names.setdefault(country.code, pick_translation(country.names, language) or country.code)
    return sorted(names.items(), key=lambda item: item[1])


def language_choices() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


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


# --- staff: verification ------------------------------------------------------------------

QUEUES = ("suggested", "stale", "verified", "rejected")


def entries_for_verifier(*, user: User, queue: str = "suggested") -> QuerySet[DirectoryEntry]:
    if not user_has_perm(user, Perm.DIRECTORY_VERIFY):
        raise PermissionDenied
    entries = DirectoryEntry.objects.prefetch_related("countries", "languages")
    if queue == "stale":
        cutoff = timezone.localdate() - STALE_AFTER
        return entries.filter(
            status=DirectoryEntry.Status.VERIFIED, last_verified_on__lt=cutoff
        ).order_by("last_verified_on", "pk")
    if queue in ("verified", "rejected"):
        return entries.filter(status=queue).order_by("name", "pk")
    return entries.filter(status=DirectoryEntry.Status.SUGGESTED).order_by("created_at", "pk")


def entry_get_for_verifier(*, user: User, id: int) -> DirectoryEntry:
    entry = (
        DirectoryEntry.objects.filter(pk=id)
        .prefetch_related("conditions", "countries", "languages")
        .select_related("verified_by", "suggested_by")
        .first()
    )
    if entry is None:
        raise Http404
    if not user_has_perm(user, Perm.DIRECTORY_VERIFY):
        raise PermissionDenied
    return entry


def queue_counts(*, user: User) -> dict[str, int]:
    return {queue: entries_for_verifier(user=user, queue=queue).count() for queue in QUEUES}


# --- patients: their conditions, the finder, closing resources ----------------------------


def patient_conditions_for(*, user: User) -> list[PatientCondition]:
    profile = getattr(user, "patient_profile", None)
    if profile is None:
        raise Http404
    return list(
        PatientCondition.objects.filter(patient=profile).select_related("condition").order_by("pk")
    )


def patient_condition_get(*, user: User, id: int) -> PatientCondition:
    for link in patient_conditions_for(user=user):
        if link.pk == id:
            return link
    raise Http404


@dataclass(frozen=True)
class PeerCount:
    """How many peers, or only that there are fewer than ``SMALL_COUNT`` (``shown`` is None).

    The true small number is never kept here, so no template can print it by mistake.
    """

    shown: int | None

    @property
    def is_small(self) -> bool:
        return self.shown is None

    @property
    def threshold(self) -> int:
        return SMALL_COUNT


def suppressed(count: int) -> PeerCount:
    return PeerCount(shown=count if count >= SMALL_COUNT else None)


@dataclass
class ConditionPeers:
    condition: Condition
    same: PeerCount
    group: PeerCount
    group_names: list[str]


def peer_profile_for(*, user: User) -> PeerProfile | None:
    profile = getattr(user, "patient_profile", None)
    if profile is None:
        return None
    return (
        PeerProfile.objects.filter(patient=profile)
        .select_related("condition")
        .prefetch_related("languages")
        .first()
    )


def peer_counts_for(*, user: User) -> list[ConditionPeers]:
    """For each of the patient's conditions: how many findable people share it, and the wider
    group, and a language with the patient — suppressed below ``SMALL_COUNT``."""
    profile = peer_profile_for(user=user)
    languages = (
        profile.language_codes if profile is not None and profile.is_active else [user.language]
    )
    rows = []
    for link in patient_conditions_for(user=user):
        condition = link.condition
        same = findable_peers(
            condition=condition,
            languages=languages,
            scope=PeerProfile.Scope.CONDITION,
            exclude=profile,
        ).count()
        group = findable_peers(
            condition=condition, languages=languages, scope=PeerProfile.Scope.GROUP, exclude=profile
        ).count()
        groups = condition_groups(condition=condition)
        rows.append(
            ConditionPeers(
                condition=condition,
                same=suppressed(same),
                group=suppressed(group),
                group_names=[g.name for g in groups[:2]],
            )
        )
    return rows


def contacts_for(*, user: User) -> list[ContactRequest]:
    profile = peer_profile_for(user=user)
    if profile is None:
        return []
    return list(
        ContactRequest.objects.filter(Q(requester=profile) | Q(recipient=profile))
        .select_related("requester", "recipient", "condition")
        .order_by("-updated_at", "-pk")[:50]
    )


@dataclass
class ContactView:
    """One contact as one of its two people sees it."""

    contact: ContactRequest
    me: PeerProfile
    other: PeerProfile | None
    side: str
    identified: bool  # both have accepted: the other's chosen name and country may show
    other_email: str = ""
    other_phone: str = ""
    messages: list[PeerMessage] = field(default_factory=list)
    shared_languages: list[str] = field(default_factory=list)

    @property
    def my_shares(self) -> tuple[bool, bool]:
        c = self.contact
        if self.side == "requester":
            return c.requester_shares_email, c.requester_shares_phone
        return c.recipient_shares_email, c.recipient_shares_phone

    @property
    def can_respond(self) -> bool:
        return self.side == "recipient" and self.contact.status == ContactRequest.Status.PENDING

    @property
    def can_write(self) -> bool:
        return (
            self.contact.status == ContactRequest.Status.ACCEPTED
            and self.me.is_active
            and self.other is not None
            and self.other.is_active
        )


def contact_get_for(*, user: User, id: int) -> ContactView:
    """A contact the signed-in patient is a party to; 404 for everyone else."""
    profile = peer_profile_for(user=user)
    if profile is None:
        raise Http404
    contact = (
        ContactRequest.objects.filter(Q(requester=profile) | Q(recipient=profile), pk=id)
        .select_related(
            "condition",
            "requester__patient__user",
            "recipient__patient__user",
        )
        .prefetch_related("requester__languages", "recipient__languages")
        .first()
    )
    if contact is None:
        raise Http404
    side = contact.side_of(profile)
    other = contact.other(profile)
    identified = contact.status == ContactRequest.Status.ACCEPTED or (
        contact.status == ContactRequest.Status.CLOSED and contact.responded_at is not None
    )
    view = ContactView(contact=contact, me=profile, other=other, side=side, identified=identified)
    if other is not None:
        mine = set(profile.language_codes) | {user.language}
        view.shared_languages = sorted(mine & set(other.language_codes)) or sorted(
            set(other.language_codes)
        )
        if contact.status == ContactRequest.Status.ACCEPTED:
            other_side = "recipient" if side == "requester" else "requester"
            if getattr(contact, f"{other_side}_shares_email"):
                view.other_email = other.patient.user.email
            if getattr(contact, f"{other_side}_shares_phone"):
                view.other_phone = other.patient.user.phone
    if identified:
        view.messages = list(contact.messages.select_related("sender"))
    return view


@dataclass
class ClosingResources:
    open: bool
    opens_week: int = CLOSING_WEEK
    entries: list[DirectoryEntry] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)


def closing_resources_for(*, user: User) -> ClosingResources:
    """From week 6 of the program (and after it ends): the verified organisations and groups
    that fit the patient's conditions, country and languages."""
    enrolment = enrolment_for_patient(user=user)
    if enrolment is None:
        return ClosingResources(open=False)
    if enrolment.status == "active":
        weeks = weeks_for(enrolment=enrolment, user=user)
        reached = [w for w in weeks if w.number >= CLOSING_WEEK and w.is_open]
        if not reached:
            return ClosingResources(open=False)
    patient = user.patient_profile
    conditions = [link.condition for link in patient_conditions_for(user=user)]
    profile = peer_profile_for(user=user)
    languages = {user.language}
    if profile is not None and profile.is_active:
        languages |= set(profile.language_codes)
    found: dict[int, DirectoryEntry] = {}
    each: list[Condition | None] = list(conditions) or [None]
    for condition in each:
        for entry in directory_search(
            condition=condition, country=patient.country_id, languages=languages
        )[:30]:
            found.setdefault(entry.pk, entry)
    return ClosingResources(open=True, entries=list(found.values()), conditions=conditions)


# --- moderators ----------------------------------------------------------------------------


def _moderated_organisations(user: User) -> list[int]:
    return sorted(
        {
            a.organisation_id
            for a in user.active_roles()
            if role_has(Role(a.role), Perm.PEER_MODERATE)
        }
    )


def reports_for_moderator(*, user: User) -> QuerySet[PeerReport]:
    """Reports about people of the moderator's organisations: new first, then oldest."""
    orgs = _moderated_organisations(user)
    if not orgs:
        raise PermissionDenied
    return (
        PeerReport.objects.filter(organisation_id__in=orgs)
        .select_related("reporter", "reported", "reported__patient", "acknowledged_by")
        .annotate(
            status_rank=Case(
                When(status=PeerReport.Status.OPEN, then=Value(0)),
                When(status=PeerReport.Status.ACKNOWLEDGED, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("status_rank", "created_at", "pk")
    )


def report_get_for_moderator(
    *, user: User, id: int, request: HttpRequest | None = None
) -> PeerReport:
    """One report with its contact's messages. Every read is audited: it shows what two
    people wrote to each other."""
    report = (
        reports_for_moderator(user=user)
        .select_related("contact", "reported__patient__user", "closed_by")
        .filter(pk=id)
        .first()
    )
    if report is None:
        raise Http404
    audit_log(action="directory.report.viewed", actor=user, obj=report, request=request)
    return report


def report_messages(*, report: PeerReport) -> list[PeerMessage]:
    return list(report.contact.messages.select_related("sender"))


class MatchingConditions:
    """Conditions for the matching engine, as ORPHAcode strings: a patient's own conditions and
    the groups above them, and the groups above the codes a counsellor lives with. The matching
    screen hands this to counselling, which cannot import the directory itself."""

    def __init__(self) -> None:
        self._groups: dict[frozenset[str], set[str]] = {}

    def groups_of(self, codes) -> set[str]:
        key = frozenset(str(c) for c in codes)
        if key not in self._groups:
            self._groups[key] = self._lookup_groups(key)
        return self._groups[key]

    def _lookup_groups(self, codes) -> set[str]:
        catalogue = current_catalogue()
        conditions = Condition.objects.filter(
            orphacode__in=[int(c) for c in codes if str(c).isdigit()]
        )
        groups: set[str] = set()
        by_id = {}
        for condition in conditions:
            ids = catalogue.ancestors(condition.pk)
            by_id.update(Condition.objects.in_bulk([i for i in ids if i not in by_id]))
            groups |= {str(by_id[i].orphacode) for i in ids if i in by_id}
        return groups

    def of_patient(self, patient) -> tuple[set[str], set[str]]:
        codes = {
            str(c)
            for c in PatientCondition.objects.filter(patient=patient).values_list(
                "condition__orphacode", flat=True
            )
        }
        return codes, self.groups_of(codes)
