"""The peer finder: joining and leaving, and who is matched with whom. The in-app messages
to patients go out here too (``_tell``): in-app only, and they never name the other person."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.conditions.models import Condition, PatientCondition
from rarebridge.conditions.services import may_change_patient, patient_condition_delete
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.directory.models import (
    ContactRequest,
    PeerBlock,
    PeerLanguage,
    PeerProfile,
)
from rarebridge.directory.paths import MESSAGES_DIR
from rarebridge.directory.selectors.peers import findable_peers
from rarebridge.directory.services.text import (
    ALIAS_MAX,
    LANGUAGE_CODES,
    clean_text,
    has_contact_details,
)
from rarebridge.notify.models import Channel, MessageTemplate
from rarebridge.notify.services import message_send
from rarebridge.notify.templates_store import load_message_templates

CONSENT_VERSION = "peer-finder-1"


class PeerUnavailable(ValidationError):
    """The other person has left the peer finder (or the request is closed): said kindly."""


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


def _user_pk(by: Actor | User | None) -> int | None:
    user = user_of(by)
    return user.pk if user is not None else None


def _own_profile(by: Actor | User, profile: PeerProfile) -> None:
    if profile.patient.user_id != _user_pk(by):
        raise PermissionDenied


def _party(
    contact: ContactRequest, by: Actor | User
) -> tuple[PeerProfile, PeerProfile | None, str]:
    """(my profile, the other's, my side) — PermissionDenied for anyone else."""
    for side, mine, other in (
        ("requester", contact.requester, contact.recipient),
        ("recipient", contact.recipient, contact.requester),
    ):
        if mine is not None and mine.patient.user_id == _user_pk(by):
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
    by: Actor | User,
) -> PeerProfile:
    """The patient agrees to be findable by peers with the same condition (or group)."""
    if patient.user_id != _user_pk(by):
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
def finder_withdraw(*, profile: PeerProfile, by: Actor | User) -> PeerProfile:
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
    )
    return profile


# --- a patient's condition, as the peer finder sees it ------------------------------------


@transaction.atomic
def patient_condition_remove(*, link: PatientCondition, by: Actor | User) -> None:
    """Remove one of the patient's conditions, unless they are findable for it."""
    if not may_change_patient(by, link.patient):
        raise PermissionDenied
    profile = PeerProfile.objects.filter(patient_id=link.patient_id, status="active").first()
    if profile is not None and profile.condition_id == link.condition_id:
        raise ValidationError(
            _(
                "You are findable in the peer finder for this condition. Leave the peer finder first, or join again with another condition."
            )
        )
    patient_condition_delete(link=link, by=by)
