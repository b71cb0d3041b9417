"""Delivering one queued message on its channel, with retries and back-off.

The background task (``notify.tasks``) calls this; ``notify.services`` queues the task. The
imports go one way: services -> tasks -> delivery.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from email.mime.text import MIMEText

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import Q
from django.utils import timezone

from rarebridge.notify.models import Channel, Message
from rarebridge.notify.sms import get_gateway

logger = logging.getLogger("rarebridge.notify.services")


def _text_part(message: Message) -> MIMEText:
    """The stored text attachment as a MIME part, with its parameters kept
    (``text/calendar; method=REQUEST`` tells mail clients it is an invitation)."""
    kind, *params = [p.strip() for p in (message.attachment_type or "text/plain").split(";")]
    part = MIMEText(message.attachment, kind.split("/", 1)[-1], "utf-8")
    for param in params:
        key, _sep, value = param.partition("=")
        if key.strip().lower() != "charset" and value:
            part.set_param(key.strip(), value.strip())
    part.add_header(
        "Content-Disposition", "attachment", filename=message.attachment_name or "attachment.txt"
    )
    return part


def message_deliver(*, message_id: int) -> str:
    """Try to deliver one message. Safe to call any number of times, from any worker."""
    now = timezone.now()
    claimed = Message.objects.filter(
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        pk=message_id,
        status__in=[Message.Status.QUEUED, Message.Status.RETRYING],
    ).update(status=Message.Status.SENDING, updated_at=now)
    message = Message.objects.get(pk=message_id)
    if not claimed:
        return message.status  # already sent, cancelled, failed, or another worker has it
    try:
        if message.channel == Channel.EMAIL:
            email = EmailMessage(message.subject, message.body, None, [message.to_address])
            if message.attachment:
                email.attach(_text_part(message))
            email.send()
            provider_id = ""
        elif message.channel == Channel.SMS:
            provider_id = get_gateway().send(to=message.to_address, body=message.body)
        else:
            provider_id = ""  # in-app: stored already, shown on the person's messages page
    except Exception as exc:  # any failure of a channel is retried with back-off
        attempts = message.attempts + 1
        failed = attempts >= settings.NOTIFY_MAX_ATTEMPTS
        delay = timedelta(seconds=settings.NOTIFY_RETRY_BASE_SECONDS * 2 ** (attempts - 1))
        Message.objects.filter(pk=message_id).update(
            status=Message.Status.FAILED if failed else Message.Status.RETRYING,
            attempts=attempts,
            last_error=str(exc)[:2000],
            next_attempt_at=None if failed else timezone.now() + delay,
            updated_at=timezone.now(),
        )
        logger.warning("Delivery of message %s failed (attempt %s): %s", message_id, attempts, exc)
        return Message.Status.FAILED if failed else Message.Status.RETRYING
    Message.objects.filter(pk=message_id).update(
        status=Message.Status.SENT,
        attempts=message.attempts + 1,
        provider_id=provider_id,
        sent_at=timezone.now(),
        last_error="",
        updated_at=timezone.now(),
    )
    return Message.Status.SENT
