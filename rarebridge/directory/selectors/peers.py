"""The peer finder, as the signed-in patient sees it: only their own profile and the contacts
they are a party to (404 otherwise). Counts of peers are suppressed below ``SMALL_COUNT``: the
number itself never leaves this module."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Q
from django.http import Http404

from rarebridge.accounts.models import User
from rarebridge.conditions.catalogue import current_catalogue
from rarebridge.conditions.models import Condition
from rarebridge.conditions.selectors import condition_groups, patient_conditions_for
from rarebridge.core.access import get_for_actor
from rarebridge.core.actor import Actor, user_of
from rarebridge.directory.models import (
    ContactRequest,
    DirectoryEntry,
    PeerLanguage,
    PeerMessage,
    PeerProfile,
)
from rarebridge.directory.selectors.public import directory_search
from rarebridge.programs.selectors import enrolment_for_patient, weeks_for

SMALL_COUNT = 5  # counts of people under this are shown as "fewer than 5"
CLOSING_WEEK = 6  # the closing week of the program: organisations and groups are shown from here


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


def peer_profile_for(*, by: Actor | User) -> PeerProfile | None:
    user = user_of(by)
    profile = getattr(user, "patient_profile", None)
    if profile is None:
        return None
    return (
        PeerProfile.objects.filter(patient=profile)
        .select_related("condition")
        .prefetch_related("languages")
        .first()
    )


def peer_counts_for(*, by: Actor | User) -> list[ConditionPeers]:
    """For each of the patient's conditions: how many findable people share it, and the wider
    group, and a language with the patient — suppressed below ``SMALL_COUNT``."""
    user = user_of(by)
    profile = peer_profile_for(by=user)
    languages = (
        profile.language_codes if profile is not None and profile.is_active else [user.language]
    )
    rows = []
    for link in patient_conditions_for(by=user):
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


def contacts_for(*, by: Actor | User) -> list[ContactRequest]:
    user = user_of(by)
    profile = peer_profile_for(by=user)
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


def contact_get_for(*, by: Actor | User, id: int) -> ContactView:
    """A contact the signed-in patient is a party to; 404 for everyone else."""
    user = user_of(by)
    profile = peer_profile_for(by=user)
    if profile is None:
        raise Http404
    readable = (
        ContactRequest.objects.filter(Q(requester=profile) | Q(recipient=profile))
        .select_related(
            "condition",
            "requester__patient__user",
            "recipient__patient__user",
        )
        .prefetch_related("requester__languages", "recipient__languages")
    )
    contact = get_for_actor(readable, by=by, pk=id)
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


def closing_resources_for(*, by: Actor | User) -> ClosingResources:
    """From week 6 of the program (and after it ends): the verified organisations and groups
    that fit the patient's conditions, country and languages."""
    user = user_of(by)
    enrolment = enrolment_for_patient(user=user)
    if enrolment is None:
        return ClosingResources(open=False)
    if enrolment.status == "active":
        weeks = weeks_for(enrolment=enrolment, user=user)
        reached = [w for w in weeks if w.number >= CLOSING_WEEK and w.is_open]
        if not reached:
            return ClosingResources(open=False)
    patient = user.patient_profile
    conditions = [link.condition for link in patient_conditions_for(by=user)]
    profile = peer_profile_for(by=user)
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


# --- who may be found -----------------------------------------------------------------


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
