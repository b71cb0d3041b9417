"""Contact requests between peers: asking, answering, cancelling, messages and sharing
contact details."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import User
from rarebridge.core.actor import Actor
from rarebridge.core.audit import audit_log
from rarebridge.directory.models import (
    ContactRequest,
    PeerMessage,
    PeerProfile,
)
from rarebridge.directory.services.finder import (
    PeerUnavailable,
    _assign,
    _close,
    _find_peer,
    _own_profile,
    _party,
    _tell,
)
from rarebridge.directory.services.text import (
    MESSAGE_MAX,
    NOTE_MAX,
    OPEN_REQUESTS_MAX,
    clean_text,
    has_contact_details,
)


@transaction.atomic
def contact_request_send(
    *,
    requester: PeerProfile,
    scope: str,
    note: str = "",
    by: Actor | User,
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
    *, contact: ContactRequest, accept: bool, by: Actor | User
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
    )
    return contact


@transaction.atomic
def contact_request_cancel(*, contact: ContactRequest, by: Actor | User) -> ContactRequest:
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
    )
    return contact


def _shares(contact: ContactRequest, side: str) -> tuple[bool, bool]:
    if side == "requester":
        return contact.requester_shares_email, contact.requester_shares_phone
    return contact.recipient_shares_email, contact.recipient_shares_phone


@transaction.atomic
def contact_message_send(*, contact: ContactRequest, body: str, by: Actor | User) -> PeerMessage:
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
    )
    return message


@transaction.atomic
def contact_share_set(
    *,
    contact: ContactRequest,
    email: bool,
    phone: bool,
    by: Actor | User,
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
    )
    return contact
