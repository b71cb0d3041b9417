"""Messages to people: templates per language, the delivery log, and the embedded outbox."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rarebridge.core.models import TimeStampedModel


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("Text message")
    IN_APP = "inapp", _("In RareBridge")


class MessageTemplate(TimeStampedModel):
    """Wording of one message in one language and channel, loaded from content/messages/."""

    key = models.CharField(max_length=100)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    language = models.CharField(max_length=8, choices=settings.LANGUAGES)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    checksum = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "channel", "language"], name="template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key}.{self.channel}.{self.language}"


class Message(TimeStampedModel):
    """One message to one address on one channel: the delivery log.

    ``idempotency_key`` makes sending safe to repeat: the same key never makes a second row,
    and delivery only moves a row from queued/retrying to sending with a conditional update.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        RETRYING = "retrying", _("Waiting to retry")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    to_address = models.CharField(max_length=254)
    language = models.CharField(max_length=8)
    template_key = models.CharField(max_length=100)
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # One file sent with an e-mail (a calendar invitation); other channels ignore it.
    attachment_name = models.CharField(max_length=100, blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    attachment = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "channel", "created_at"])]

    def __str__(self) -> str:
        return f"{self.template_key} → {self.to_address} ({self.status})"


class OutboxItem(models.Model):
    """What the embedded e-mail and SMS back ends 'sent': shown on a demo-only page."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    to_address = models.CharField(max_length=254)
    subject = models.CharField(max_length=255, blank=True)
    body = models.TextField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} → {self.to_address}"
