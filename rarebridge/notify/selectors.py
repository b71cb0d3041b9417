from __future__ import annotations

from django.db.models import QuerySet

from rarebridge.notify.models import Message, OutboxItem


def inbox_for_user(*, user) -> QuerySet[Message]:
    return Message.objects.filter(recipient=user, channel="inapp").order_by("-created_at")


def outbox_for_user(*, demo_mode: bool) -> QuerySet[OutboxItem]:
    """The embedded outbox of the demo: fake people, so anyone may read it, and only there."""
    if not demo_mode:
        return OutboxItem.objects.none()
    return OutboxItem.objects.all()
