"""Sending messages. ``message_send`` is the one way any part of RareBridge reaches a person."""

from __future__ import annotations

import logging
import zoneinfo
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.template import Context, Template
from django.utils import timezone, translation

from rarebridge.notify.delivery import message_deliver
from rarebridge.notify.models import Channel, Message
from rarebridge.notify.tasks import deliver_message
from rarebridge.notify.templates_store import get_template

__all__ = [
    "Attachment",
    "message_deliver",
    "message_mark_read",
    "message_send",
    "message_send_to_address",
    "messages_requeue_due",
]

logger = logging.getLogger(__name__)
STUCK_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class Attachment:
    """One text file sent with an e-mail (e.g. a calendar invitation). SMS and in-app
    messages never carry it."""

    name: str
    content_type: str
    content: str


def _render(
    *, template_key: str, channel: str, language: str, tz_name: str, context: dict[str, Any]
) -> tuple[str, str]:
    template = get_template(template_key, channel, language)
    with translation.override(template.language), timezone.override(zoneinfo.ZoneInfo(tz_name)):
        ctx = Context({**context, "site_url": settings.SITE_URL}, autoescape=False)
        subject = Template(template.subject).render(ctx).strip() if template.subject else ""
        body = Template(template.body).render(ctx)
    return subject, body


def _create(
    *,
    idempotency_key: str,
    recipient,
    channel: str,
    address: str,
    language: str,
    tz_name: str,
    template_key: str,
    context: dict[str, Any],
    attachment: Attachment | None = None,
) -> Message:
    existing = Message.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    subject, body = _render(
        template_key=template_key,
        channel=channel,
        language=language,
        tz_name=tz_name,
        context=context,
    )
    message = Message.objects.create(
        recipient=recipient,
        channel=channel,
        to_address=address,
        language=language,
        template_key=template_key,
        subject=subject,
        body=body,
        idempotency_key=idempotency_key,
        **(
            {
                "attachment_name": attachment.name,
                "attachment_type": attachment.content_type,
                "attachment": attachment.content,
            }
            if attachment is not None and channel == Channel.EMAIL
            else {}
        ),
    )
    transaction.on_commit(lambda: _enqueue(message.pk))
    return message


def _enqueue(message_id: int) -> None:
    deliver_message.enqueue(message_id)


def message_send(
    *,
    recipient,
    template_key: str,
    context: dict[str, Any],
    idempotency_key: str,
    channels: tuple[str, ...] = (Channel.EMAIL,),
    attachment: Attachment | None = None,
) -> list[Message]:
    """Render in the recipient's language and time zone and queue one message per channel.

    Channels the person cannot receive (no phone for SMS) are skipped. Calling again with the
    same key returns the messages already made and sends nothing new. An ``attachment`` goes
    with the e-mail only.
    """
    messages = []
    for channel in channels:
        if channel == Channel.EMAIL:
            address = recipient.email
        elif channel == Channel.SMS:
            address = recipient.phone
        else:
            address = f"user:{recipient.pk}"
        if not address:
            continue
        messages.append(
            _create(
                idempotency_key=f"{idempotency_key}:{channel}",
                recipient=recipient,
                channel=channel,
                address=address,
                language=recipient.language,
                tz_name=recipient.time_zone,
                template_key=template_key,
                context=context,
                attachment=attachment,
            )
        )
    return messages


def message_send_to_address(
    *,
    address: str,
    channel: str,
    language: str,
    template_key: str,
    context: dict[str, Any],
    idempotency_key: str,
    tz_name: str = "UTC",
) -> Message:
    """For people without an account yet (an invitation)."""
    return _create(
        idempotency_key=f"{idempotency_key}:{channel}",
        recipient=None,
        channel=channel,
        address=address,
        language=language,
        tz_name=tz_name,
        template_key=template_key,
        context=context,
    )


def messages_requeue_due() -> int:
    """Queue messages whose retry time has come, and messages stuck in sending.

    A message is stuck when a worker died after claiming it; it is sent again, so a crash at
    exactly that moment can repeat one message (at-least-once). Run by the in-process worker
    loop and by ``manage.py run_periodic`` in production.
    """
    now = timezone.now()
    stuck = Message.objects.filter(status=Message.Status.SENDING, updated_at__lt=now - STUCK_AFTER)
    stuck.update(status=Message.Status.RETRYING, next_attempt_at=now, updated_at=now)
    due = list(
        Message.objects.filter(
            Q(status=Message.Status.RETRYING, next_attempt_at__lte=now)
            | Q(status=Message.Status.QUEUED, created_at__lt=now - timedelta(minutes=2))
        ).values_list("pk", flat=True)[:1000]
    )
    for pk in due:
        _enqueue(pk)
    return len(due)


def message_mark_read(*, message: Message, by) -> None:
    if message.recipient_id == by.pk and message.read_at is None:
        Message.objects.filter(pk=message.pk).update(read_at=timezone.now())
