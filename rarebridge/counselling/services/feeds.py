"""Private calendar feed links: only the token's hash is stored."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils import timezone

from rarebridge.accounts.models import User
from rarebridge.core.audit import audit_log
from rarebridge.counselling.models import CalendarFeed
from rarebridge.counselling.tokens import feed_token_hash


def calendar_feed_create(*, user: User) -> str:
    """A new private feed URL token; earlier feeds of the person are revoked."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        feed = CalendarFeed.objects.create(user=user, token_hash=feed_token_hash(token))
        audit_log(action="counselling.calendar_feed.created", actor=user, obj=feed)
    return token


def calendar_feed_revoke(*, user: User) -> int:
    with transaction.atomic():
        count = CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        audit_log(
            action="counselling.calendar_feed.revoked",
            actor=user,
            obj=user,
            payload={"count": count},
        )
    return count
