"""Calendar files for calls: an .ics invitation per call and a private feed per person.

Each call series has one UID (a move carries it to the new row) and a sequence that only
rises, so a calendar app replaces the event it has instead of adding another. Files for
download and the feed are ``METHOD:PUBLISH``; messages carry ``METHOD:REQUEST`` (booked,
moved) or ``METHOD:CANCEL`` (RFC 5546), which the person's calendar app applies by itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress

from rarebridge.counselling.models import Call

CANCELLED = (Call.Status.CANCELLED, Call.Status.MOVED)


def _event(call: Call, for_user, method: str) -> Event:
    event = Event()
    event.add("uid", call.calendar_uid)
    event.add("dtstamp", datetime.now(UTC))
    # Instants are stored in UTC; calendar apps show them in each person's own zone.
    event.add("dtstart", call.starts_at.astimezone(UTC))
    event.add("dtend", call.ends_at.astimezone(UTC))
    if call.counsellor.user_id == for_user.pk:
        summary = _("RareBridge call with %(code)s (week %(week)s)") % {
            "code": call.patient.code,
            "week": call.week,
        }
    else:
        summary = _("RareBridge call with your peer counsellor (week %(week)s)") % {
            "week": call.week
        }
    if call.status in (Call.Status.HELD, Call.Status.MISSED):
        summary = f"{summary} — {call.get_status_display()}"
    event.add("summary", summary)
    event.add(
        "description",
        _("Your counsellor phones you at this time. To move or cancel: %(url)s")
        % {"url": settings.SITE_URL},
    )
    cancelled = method == "CANCEL" or call.status in CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("sequence", call.sequence)
    if method != "PUBLISH":
        # An invitation names who sends it and whom it is for (RFC 5546, section 3.2).
        organizer = vCalAddress(f"mailto:{settings.DEFAULT_FROM_EMAIL}")
        organizer.params["cn"] = "RareBridge"
        event.add("organizer", organizer)
        if for_user.email:
            event.add("attendee", vCalAddress(f"mailto:{for_user.email}"))
    return event


def calendar_for(calls: Iterable[Call], for_user, method: str = "PUBLISH") -> bytes:
    """The calls as one calendar, worded in the owner's language (not the calendar app's)."""
    calendar = Calendar()
    calendar.add("prodid", "-//RareBridge//Calls//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    with translation.override(getattr(for_user, "language", None) or settings.LANGUAGE_CODE):
        for call in calls:
            calendar.add_component(_event(call, for_user, method))
    return calendar.to_ical()
