"""allauth's signals that RareBridge records."""

from __future__ import annotations

from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from rarebridge.accounts.services import email_confirmed_record


@receiver(email_confirmed, dispatch_uid="rarebridge.accounts.email_confirmed")
def _email_confirmed(sender, request, email_address, **kwargs) -> None:
    email_confirmed_record(user=email_address.user, request=request)
