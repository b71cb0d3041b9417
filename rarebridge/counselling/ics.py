"""Calendar files for calls: an .ics invitation per call and a private feed per person."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.conf import settings
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from rarebridge.counselling.models import Call


def _event(call: Call, for_user) -> Event:
    event = Event()
    event.add("uid", f"call-{call.pk}@rarebridge")
    event.add("dtstamp", datetime.now(UTC))
    # Instants are stored in UTC; calendar apps show them in each person's own zone.
    event.add("dtstart", call.starts_at.astimezone(UTC))
    event.add("dtend", call.ends_at.astimezone(UTC))
    if call.counsellor.user_id == for_user.pk:
        event.add(
            "summary",
            _("RareBridge call with %(code)s (week %(week)s)")
            % {"code": call.patient.code, "week": call.week},
        )
    else:
        event.add(
            "summary",
            _("RareBridge call with your peer counsellor (week %(week)s)") % {"week": call.week},
        )
    event.add(
        "description",
        _("Your counsellor phones you at this time. To move or cancel: %(url)s")
        % {"url": settings.SITE_URL},
    )
    event.add(
        "status",
        "CANCELLED" if call.status in (Call.Status.CANCELLED, Call.Status.MOVED) else "CONFIRMED",
    )
    event.add("sequence", int(call.updated_at.timestamp()) % 100000)
    return event


def calendar_for(calls: Iterable[Call], for_user) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//RareBridge//Calls//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    for call in calls:
        calendar.add_component(_event(call, for_user))
    return calendar.to_ical()
