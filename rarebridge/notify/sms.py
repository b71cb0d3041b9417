"""SMS gateways behind one small interface. The outbox is the embedded default; Twilio is the
production adapter (any provider can be added by writing one more class)."""

from __future__ import annotations

import base64
import json
import urllib.parse
import urllib.request
from typing import Protocol

from django.conf import settings


class SmsError(Exception):
    """The gateway did not accept the message; the delivery log keeps the reason."""


class SmsGateway(Protocol):
    def send(self, *, to: str, body: str) -> str:
        """Send one message; return the provider's id for it."""
        ...


class OutboxSmsGateway:
    def send(self, *, to: str, body: str) -> str:
        from rarebridge.notify.models import OutboxItem

        item = OutboxItem.objects.create(channel="sms", to_address=to, body=body)
        return f"outbox-{item.pk}"


class TwilioSmsGateway:
    """Twilio's Messages API over HTTPS, with no SDK: one POST per message."""

    api = "https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json"

    def __init__(self, *, account_sid: str, auth_token: str, from_number: str, opener=None):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = from_number
        self.opener = opener or urllib.request.urlopen

    def send(self, *, to: str, body: str) -> str:
        data = urllib.parse.urlencode({"To": to, "From": self.from_number, "Body": body}).encode()
        url = self.api.format(sid=self.account_sid)
        request = urllib.request.Request(url, data=data, method="POST")  # noqa: S310 - fixed https URL
        credentials = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        request.add_header("Authorization", f"Basic {credentials}")
        try:
            with self.opener(request, timeout=15) as response:
                payload = json.loads(response.read().decode() or "{}")
        except Exception as exc:  # network errors, HTTP errors: all are retried by the caller
            raise SmsError(str(exc)) from exc
        if payload.get("error_code"):
            raise SmsError(f"{payload.get('error_code')}: {payload.get('error_message')}")
        return str(payload.get("sid", ""))


def get_gateway() -> SmsGateway:
    if settings.SMS_BACKEND == "twilio":
        return TwilioSmsGateway(
            account_sid=settings.TWILIO_ACCOUNT_SID,
            auth_token=settings.TWILIO_AUTH_TOKEN,
            from_number=settings.TWILIO_FROM_NUMBER,
        )
    return OutboxSmsGateway()
