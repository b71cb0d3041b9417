"""The embedded e-mail back end: messages land in the outbox table instead of leaving."""

from __future__ import annotations

from django.core.mail.backends.base import BaseEmailBackend


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        from rarebridge.notify.models import OutboxItem

        for message in email_messages:
            for address in message.recipients():
                OutboxItem.objects.create(
                    channel="email", to_address=address, subject=message.subject, body=message.body
                )
        return len(email_messages)
