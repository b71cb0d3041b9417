"""allauth's signals that RareBridge records."""

from __future__ import annotations

from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from rarebridge.accounts.services import email_change_complete, email_confirmed_record
from rarebridge.core.actor import Actor


@receiver(email_confirmed, dispatch_uid="rarebridge.accounts.email_confirmed")
def _email_confirmed(sender, request, email_address, **kwargs) -> None:
    # allauth calls with the request: the Actor is built here, at the edge.
    by = Actor.from_request(request) if request is not None else None
    user = email_address.user
    if email_address.email.lower() != user.email.lower():
        # A new address the person asked to move to (``email_change_request``).
        email_change_complete(user=user, email=email_address.email, by=by)
    email_confirmed_record(user=user, by=by)
