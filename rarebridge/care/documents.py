"""Documents a family takes home: the itinerary as PDF (WeasyPrint renders the same HTML a
browser prints) and as a calendar file, in the family's language."""

from __future__ import annotations

from datetime import UTC, datetime

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from rarebridge.care.models import ClinicInvitation
from rarebridge.care.selectors import itinerary_for, travel_for


def itinerary_context(*, invitation: ClinicInvitation, language: str) -> dict:
    return {
        "invitation": invitation,
        "clinic": invitation.clinic,
        "patient": invitation.patient,
        "days": itinerary_for(invitation=invitation, language=language),
        "travel": travel_for(invitation=invitation),
        "language": language,
    }


def itinerary_pdf(*, invitation: ClinicInvitation, language: str, large: bool = False) -> bytes:
    from weasyprint import HTML

    with translation.override(language):
        html = render_to_string(
            "care/itinerary_pdf.html",
            {**itinerary_context(invitation=invitation, language=language), "large": large},
        )
    return HTML(string=html).write_pdf()


def itinerary_ics(*, invitation: ClinicInvitation, language: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//RareBridge//Clinic itinerary//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    with translation.override(language):
        for day in itinerary_for(invitation=invitation, language=language):
            for number, line in enumerate(day["lines"]):
                event = Event()
                event.add("uid", f"clinic-{invitation.pk}-{day['day'].pk}-{number}@rarebridge")
                event.add("dtstamp", datetime.now(UTC))
                # Stored in UTC; calendar apps show each person's own zone.
                event.add("dtstart", line.starts_at.astimezone(UTC))
                event.add("dtend", line.ends_at.astimezone(UTC))
                event.add("summary", f"{line.what} · {invitation.clinic.name}")
                where = ", ".join(x for x in (line.room, invitation.clinic.site.name) if x)
                event.add("location", where)
                if line.who or line.note:
                    event.add(
                        "description",
                        " ".join(
                            x
                            for x in (
                                _("With: %(who)s.") % {"who": line.who} if line.who else "",
                                line.note,
                            )
                            if x
                        ),
                    )
                calendar.add_component(event)
    return calendar.to_ical()
