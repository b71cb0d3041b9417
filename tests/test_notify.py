import io
import json
import zoneinfo
from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from rarebridge.notify.models import Message, MessageTemplate, OutboxItem
from rarebridge.notify.services import message_deliver, message_send, messages_requeue_due
from rarebridge.notify.sms import OutboxSmsGateway, SmsError, TwilioSmsGateway
from rarebridge.notify.templates_store import get_template, load_message_templates


@pytest.fixture
def templates(db):
    MessageTemplate.objects.create(
        key="reminder",
        channel="sms",
        language="en",
        body="Your call is at {{ when|time:'H:i' }}.",
        checksum="x",
    )
    MessageTemplate.objects.create(
        key="reminder",
        channel="sms",
        language="de",
        body="Ihr Anruf ist um {{ when|time:'H:i' }}.",
        checksum="x",
    )
    MessageTemplate.objects.create(
        key="reminder",
        channel="email",
        language="en",
        subject="Call at {{ when|time:'H:i' }}",
        body="See you.",
        checksum="x",
    )


def test_it_renders_in_the_recipients_language_and_time_zone(cast, templates):
    user = cast.other_patient.user  # Toronto
    user.language = "de"
    user.phone = "+14165550123"
    user.save()
    when = datetime(2026, 7, 1, 16, 0, tzinfo=zoneinfo.ZoneInfo("UTC"))
    (sms,) = message_send(
        recipient=user,
        template_key="reminder",
        context={"when": when},
        idempotency_key="k1",
        channels=("sms",),
    )
    assert sms.body.strip() == "Ihr Anruf ist um 12:00."  # 16:00 UTC is noon in Toronto in July


def test_it_falls_back_to_english_when_a_language_is_missing(cast, templates):
    user = cast.patient.user
    user.language = "hu"
    (mail,) = message_send(
        recipient=user,
        template_key="reminder",
        context={"when": timezone.now()},
        idempotency_key="k2",
    )
    assert mail.subject.startswith("Call at")


def test_it_never_makes_a_message_twice_for_the_same_key(cast, templates):
    user = cast.patient.user
    first = message_send(
        recipient=user,
        template_key="reminder",
        context={"when": timezone.now()},
        idempotency_key="k3",
    )
    again = message_send(
        recipient=user,
        template_key="reminder",
        context={"when": timezone.now()},
        idempotency_key="k3",
    )
    assert [m.pk for m in first] == [m.pk for m in again]
    assert Message.objects.count() == 1


def test_it_skips_channels_the_person_cannot_receive(cast, templates):
    assert (
        message_send(
            recipient=cast.patient.user,
            template_key="reminder",
            context={"when": timezone.now()},
            idempotency_key="k4",
            channels=("sms",),
        )
        == []
    )


def test_it_delivers_once_however_often_delivery_runs(cast, templates, mailoutbox):
    (message,) = message_send(
        recipient=cast.patient.user,
        template_key="reminder",
        context={"when": timezone.now()},
        idempotency_key="k5",
    )
    assert message_deliver(message_id=message.pk) == "sent"
    assert message_deliver(message_id=message.pk) == "sent"
    assert len(mailoutbox) == 1


def test_it_retries_with_back_off_and_gives_up_after_the_limit(
    cast, templates, settings, monkeypatch
):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    cast.patient.user.phone = "+4915112345678"
    (message,) = message_send(
        recipient=cast.patient.user,
        template_key="reminder",
        context={"when": timezone.now()},
        idempotency_key="k6",
        channels=("sms",),
    )

    def broken(self, *, to, body):
        raise SmsError("gateway down")

    monkeypatch.setattr(OutboxSmsGateway, "send", broken)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        assert message_deliver(message_id=message.pk) == "retrying"
        assert message_deliver(message_id=message.pk) == "retrying"  # not due yet: nothing happens
        message.refresh_from_db()
        assert message.attempts == 1 and "gateway down" in message.last_error
        clock.shift(timedelta(seconds=settings.NOTIFY_RETRY_BASE_SECONDS + 1))
        assert message_deliver(message_id=message.pk) == "retrying"
        clock.shift(timedelta(seconds=settings.NOTIFY_RETRY_BASE_SECONDS * 2 + 1))
        assert message_deliver(message_id=message.pk) == "failed"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 3)


def test_it_requeues_messages_stuck_after_a_worker_died(
    cast, templates, mailoutbox, django_capture_on_commit_callbacks
):
    (message,) = message_send(
        recipient=cast.patient.user,
        template_key="reminder",
        context={"when": timezone.now()},
        idempotency_key="k7",
    )
    Message.objects.filter(pk=message.pk).update(
        status="sending", updated_at=timezone.now() - timedelta(minutes=30)
    )
    assert messages_requeue_due() == 1  # the immediate task backend delivers it at once
    message.refresh_from_db()
    assert message.status == "sent" and len(mailoutbox) == 1


def test_it_writes_sms_to_the_outbox_by_default(cast, templates):
    cast.patient.user.phone = "+4915112345678"
    (message,) = message_send(
        recipient=cast.patient.user,
        template_key="reminder",
        context={"when": timezone.now()},
        idempotency_key="k8",
        channels=("sms",),
    )
    message_deliver(message_id=message.pk)
    assert OutboxItem.objects.get(channel="sms").to_address == "+4915112345678"


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_it_sends_sms_through_twilio_with_basic_auth():
    seen = {}

    def opener(request, timeout):
        seen["url"], seen["auth"], seen["data"] = (
            request.full_url,
            request.get_header("Authorization"),
            request.data,
        )
        return FakeResponse(json.dumps({"sid": "SM123"}).encode())

    gateway = TwilioSmsGateway(
        account_sid="AC1", auth_token="tok", from_number="+15005550006", opener=opener
    )
    assert gateway.send(to="+4915112345678", body="Hallo") == "SM123"
    assert seen["url"].endswith("/Accounts/AC1/Messages.json")
    assert seen["auth"].startswith("Basic ")
    assert b"To=%2B4915112345678" in seen["data"]


def test_it_turns_twilio_errors_into_retryable_failures():
    def opener(request, timeout):
        return FakeResponse(
            json.dumps({"error_code": 21211, "error_message": "invalid To"}).encode()
        )

    with pytest.raises(SmsError, match="21211"):
        TwilioSmsGateway(account_sid="AC1", auth_token="t", from_number="+1", opener=opener).send(
            to="+1", body="x"
        )


def test_it_loads_every_shipped_template_and_each_email_has_a_subject(db):
    assert load_message_templates() > 0
    template = get_template("invitation", "email", "en")
    assert template.subject and "{{ link }}" in template.body
    assert load_message_templates() == MessageTemplate.objects.count()  # idempotent
