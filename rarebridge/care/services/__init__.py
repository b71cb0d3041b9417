"""Every change to care data: one function per state change, each writing its audit entry and,
for things that happen to a patient, a line on their care timeline.

Each takes the person acting as ``by``: an :class:`~rarebridge.core.actor.Actor` (views pass
``request.actor``) or a user (commands, tasks, tests). One module per process:

- ``caseplan``: the care team, goals and tasks, notes;
- ``checklists``: the transition, benefits and travel checklists;
- ``school``: letters to school;
- ``clinic_setup``: a clinic, its days, rooms and professionals;
- ``clinic_invitations``: the families invited and the appointments each needs;
- ``clinic_planning``: planning from scratch (background task ``plan_clinic``), sending
  itineraries;
- ``clinic_changes``: cancellations, a family that cannot come, a late professional, a changed
  set-up, recorded at once;
- ``clinic_replanning``: re-planning around them (background task ``replan_clinic``);
- ``travel``: travel and stay.

``from rarebridge.care.services import x`` finds every one of them.
"""

from rarebridge.care.services._common import CARE_MESSAGES, MESSAGES_DIR
from rarebridge.care.services.caseplan import (
    goal_add,
    note_add,
    task_add,
    task_complete,
    team_member_add,
)
from rarebridge.care.services.checklists import checklist_set
from rarebridge.care.services.clinic_changes import (
    appointment_cancel,
    clinic_replan_after_cancellation,
    clinic_replan_after_invitation_cancelled,
    clinic_replan_after_late_professional,
    clinic_replan_request,
    invitation_cancel,
    professional_late,
)
from rarebridge.care.services.clinic_invitations import (
    appointment_remove,
    appointment_require,
    appointment_update,
    clinic_invitation_remove,
    clinic_invitation_update,
    clinic_invite,
)
from rarebridge.care.services.clinic_planning import (
    clinic_itineraries_send,
    clinic_plan,
    clinic_plan_request,
    clinic_plan_run,
)
from rarebridge.care.services.clinic_replanning import (
    REPLAN_LEASE,
    REPLAN_REQUEUE_AFTER,
    clinic_replan_run,
    clinic_replans_requeue_due,
)
from rarebridge.care.services.clinic_setup import (
    clinic_create,
    clinic_day_add,
    clinic_day_remove,
    clinic_day_update,
    clinic_professional_add,
    clinic_professional_remove,
    clinic_professional_update,
    clinic_room_add,
    clinic_room_remove,
    clinic_room_update,
)
from rarebridge.care.services.school import letter_write
from rarebridge.care.services.travel import (
    travel_cost_add,
    travel_cost_status_set,
    travel_leg_add,
    travel_plan_set,
)

__all__ = [
    "CARE_MESSAGES",
    "MESSAGES_DIR",
    "REPLAN_LEASE",
    "REPLAN_REQUEUE_AFTER",
    "appointment_cancel",
    "appointment_remove",
    "appointment_require",
    "appointment_update",
    "checklist_set",
    "clinic_create",
    "clinic_day_add",
    "clinic_day_remove",
    "clinic_day_update",
    "clinic_invitation_remove",
    "clinic_invitation_update",
    "clinic_invite",
    "clinic_itineraries_send",
    "clinic_plan",
    "clinic_plan_request",
    "clinic_plan_run",
    "clinic_professional_add",
    "clinic_professional_remove",
    "clinic_professional_update",
    "clinic_replan_after_cancellation",
    "clinic_replan_after_invitation_cancelled",
    "clinic_replan_after_late_professional",
    "clinic_replan_request",
    "clinic_replan_run",
    "clinic_replans_requeue_due",
    "clinic_room_add",
    "clinic_room_remove",
    "clinic_room_update",
    "goal_add",
    "invitation_cancel",
    "letter_write",
    "note_add",
    "professional_late",
    "task_add",
    "task_complete",
    "team_member_add",
    "travel_cost_add",
    "travel_cost_status_set",
    "travel_leg_add",
    "travel_plan_set",
]
