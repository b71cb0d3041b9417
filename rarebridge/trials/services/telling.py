"""Telling the participant what just happened in their study: consent, countersignature,
randomisation. One message per event, in their language and zone, on the channels they chose
(e-mail and/or SMS, as set for reminders; e-mail when they chose neither), plus the in-app
copy on their messages page. Made inside the caller's transaction (so a rolled-back step tells
nobody); delivery is queued on commit by ``message_send``; never twice for one event."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from rarebridge.counselling.models import ReminderPreference
from rarebridge.notify.models import Channel
from rarebridge.notify.services import message_send
from rarebridge.trials.models import Participant


def participant_channels(user) -> tuple[str, ...]:
    preference = ReminderPreference.objects.filter(user=user).first()
    chosen = []
    if preference is None or preference.by_email:
        chosen.append(Channel.EMAIL)
    if preference is not None and preference.by_sms and user.phone:
        chosen.append(Channel.SMS)
    if not chosen:
        chosen.append(Channel.EMAIL)
    return (*chosen, Channel.IN_APP)


def participant_tell(
    *, participant: Participant, template_key: str, event: str, context: dict[str, Any]
) -> None:
    user = participant.patient.user
    message_send(
        recipient=user,
        template_key=template_key,
        context={
            "name": user.display_name,
            "study": participant.study.title,
            "path": reverse("trials_patient:home"),
            **context,
        },
        idempotency_key=f"trials.{template_key}:{event}",
        channels=participant_channels(user),
    )
