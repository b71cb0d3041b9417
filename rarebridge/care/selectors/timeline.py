"""The patient's care timeline, in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy

from rarebridge.accounts.models import PatientProfile
from rarebridge.care.content import checklist_titles
from rarebridge.care.models import CareEvent, ChecklistEntry

TIMELINE_TEXT = {
    "care.team.member_added": gettext_lazy("%(name)s joined the care team."),
    "care.goal.added": gettext_lazy("Goal added: %(title)s"),
    "care.task.added": gettext_lazy("Task added: %(title)s"),
    "care.task.completed": gettext_lazy("Task done: %(title)s"),
    "care.note.added": gettext_lazy("A note was written."),
    "care.checklist.updated": gettext_lazy("Checklist updated: “%(item)s” is now: %(status)s."),
    "care.letter.written": gettext_lazy("A letter to school was written."),
    "care.clinic.invited": gettext_lazy("Invited to the clinic %(clinic)s."),
    "care.clinic.planned": gettext_lazy("Itinerary planned for %(clinic)s."),
    "care.itinerary.changed": gettext_lazy(
        "Itinerary for %(clinic)s changed; the family was told."
    ),
    "care.itinerary.sent": gettext_lazy("Itinerary for %(clinic)s sent to the family."),
    "care.invitation.cancelled": gettext_lazy("No longer coming to %(clinic)s."),
    "care.appointment.cancelled": gettext_lazy("Appointment cancelled: %(label)s"),
    "care.appointment.removed": gettext_lazy("Appointment taken off the clinic set-up: %(label)s"),
    "care.invitation.updated": gettext_lazy("Arrangements for %(clinic)s changed."),
    "care.invitation.removed": gettext_lazy("Invitation to %(clinic)s withdrawn."),
    "care.travel.updated": gettext_lazy("Travel and stay updated for %(clinic)s."),
}


@dataclass(frozen=True)
class TimelineLine:
    at: Any
    actor: str
    text: str


def _checklist_params(
    params: dict[str, Any], *, patient: PatientProfile, titles: dict[tuple[str, str], str]
) -> dict[str, Any]:
    """A checklist line names the item and its status as the reader reads them, not as stored."""
    kind, key, status = params.get("kind", ""), params.get("key", ""), params.get("status", "")
    if not titles:
        titles.update(checklist_titles(country=patient.country_id))
    return {
        **params,
        "item": titles.get((kind, key), key),
        "status": ChecklistEntry.Status(status).label
        if status in ChecklistEntry.Status.values
        else status,
    }


def timeline_for(*, patient: PatientProfile, limit: int = 100) -> list[TimelineLine]:
    """The patient's care timeline, newest first, in the reader's language."""
    lines = []
    titles: dict[tuple[str, str], str] = {}
    for event in CareEvent.objects.filter(patient=patient).select_related("actor")[:limit]:
        template = TIMELINE_TEXT.get(event.code)
        params = event.params
        if event.code == "care.checklist.updated":
            params = _checklist_params(params, patient=patient, titles=titles)
        try:
            text = str(template) % params if template else event.code
        except (KeyError, TypeError, ValueError):
            text = event.code
        lines.append(
            TimelineLine(at=event.at, actor=str(event.actor) if event.actor else "", text=text)
        )
    return lines
