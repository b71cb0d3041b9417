"""Permission-checked reads of care data: 404 for what is out of reach, 403 for read-only
access (through ``rarebridge.core.access.get_for_actor``). Selectors never write, except the
audit entry of a read that names patients, and never import the services.

- ``patients``: a patient's care, the team, the case plan, notes (visibility follows role),
  checklists;
- ``timeline``: the care timeline in the reader's language;
- ``clinics``: clinics, their set-up and what the timetable uses;
- ``clinic_progress``: planning under way and the last re-plan;
- ``itineraries``: a family's itinerary and travel, day sheets;
- ``explanations``: the solver's reasons as sentences.

``from rarebridge.care.selectors import x`` finds every one of them.
"""

from rarebridge.care.selectors.clinic_progress import (
    CHANGE_TEXT,
    MovedLine,
    clinic_busy,
    clinic_progress,
)
from rarebridge.care.selectors.clinics import (
    SETUP_KINDS,
    appointment_get_for_user,
    clinic_get_for_user,
    clinic_overview,
    clinic_setup_item_get,
    clinic_setup_usage,
    clinics_for_user,
    professional_get,
    room_get,
)
from rarebridge.care.selectors.explanations import RULE_SENTENCES, RULE_TITLES, explanations_for
from rarebridge.care.selectors.itineraries import (
    ItineraryLine,
    appointment_label,
    day_sheets,
    invitation_get_for_user,
    itinerary_for,
    own_invitation_get,
    own_invitations,
    travel_for,
)
from rarebridge.care.selectors.patients import (
    can_read_clinical_notes,
    care_patient_get_for_user,
    care_patients_for_user,
    care_staff_for_user,
    checklist_state,
    goal_get_for_user,
    goals_for,
    notes_for_user,
    task_get_for_user,
    team_for,
)
from rarebridge.care.selectors.timeline import TIMELINE_TEXT, TimelineLine, timeline_for

__all__ = [
    "CHANGE_TEXT",
    "RULE_SENTENCES",
    "RULE_TITLES",
    "SETUP_KINDS",
    "TIMELINE_TEXT",
    "ItineraryLine",
    "MovedLine",
    "TimelineLine",
    "appointment_get_for_user",
    "appointment_label",
    "can_read_clinical_notes",
    "care_patient_get_for_user",
    "care_patients_for_user",
    "care_staff_for_user",
    "checklist_state",
    "clinic_busy",
    "clinic_get_for_user",
    "clinic_overview",
    "clinic_progress",
    "clinic_setup_item_get",
    "clinic_setup_usage",
    "clinics_for_user",
    "day_sheets",
    "explanations_for",
    "goal_get_for_user",
    "goals_for",
    "invitation_get_for_user",
    "itinerary_for",
    "notes_for_user",
    "own_invitation_get",
    "own_invitations",
    "professional_get",
    "room_get",
    "task_get_for_user",
    "team_for",
    "timeline_for",
    "travel_for",
]
