"""Every write about counselling, one module per process:

- ``assignment``: who counsels whom, accepting matches, a patient asking for a change,
  a counsellor leaving;
- ``training``: counsellor profiles, training records and certification;
- ``availability``: weekly availability and exceptions;
- ``calls``: booking, moving, cancelling and importing calls, and their reminders;
- ``notes``: call notes and amendments;
- ``feeds``: private calendar feed links.

Callers import from ``rarebridge.counselling.services``; every public name is here.
"""

from rarebridge.counselling.services.assignment import (
    BatchOutcome,
    assignment_end,
    assignment_start,
    counsellor_deactivate,
    match_accept,
    match_batch_accept,
    match_batch_confirm,
    match_preference_set,
    match_request_change,
)
from rarebridge.counselling.services.availability import (
    availability_exception_add,
    availability_rule_add,
    availability_rule_remove,
)
from rarebridge.counselling.services.calls import (
    REMINDER_OFFSETS,
    SlotTaken,
    call_book,
    call_cancel,
    call_import,
    call_reminders_due,
    call_reschedule,
    reminder_preference_set,
)
from rarebridge.counselling.services.feeds import calendar_feed_create, calendar_feed_revoke
from rarebridge.counselling.services.notes import NOTE_FIELDS, note_amend, note_save
from rarebridge.counselling.services.training import (
    certification_grant,
    certification_grant_unchecked,
    certification_revoke,
    counsellor_profile_upsert,
    roleplay_sign_off,
    training_attendance_record,
    training_curriculum_load,
)
from rarebridge.counselling.tokens import feed_token_hash

__all__ = [
    "NOTE_FIELDS",
    "REMINDER_OFFSETS",
    "BatchOutcome",
    "SlotTaken",
    "assignment_end",
    "assignment_start",
    "availability_exception_add",
    "availability_rule_add",
    "availability_rule_remove",
    "calendar_feed_create",
    "calendar_feed_revoke",
    "call_book",
    "call_cancel",
    "call_import",
    "call_reminders_due",
    "call_reschedule",
    "certification_grant",
    "certification_grant_unchecked",
    "certification_revoke",
    "counsellor_deactivate",
    "counsellor_profile_upsert",
    "feed_token_hash",
    "match_accept",
    "match_batch_accept",
    "match_batch_confirm",
    "match_preference_set",
    "match_request_change",
    "note_amend",
    "note_save",
    "reminder_preference_set",
    "roleplay_sign_off",
    "training_attendance_record",
    "training_curriculum_load",
]
