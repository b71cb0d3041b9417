"""Every write about people, one module per process. Each writes its audit entry.

- ``people``: accounts, preferences and role assignments;
- ``invitations``: sending, withdrawing and accepting invitations;
- ``email``: confirming, correcting and changing a person's e-mail address.

Callers import from ``rarebridge.accounts.services``; every public name is here.
"""

from rarebridge.accounts.services.email import (
    email_change_complete,
    email_change_request,
    email_confirm,
    email_confirmation_send,
    email_confirmed_record,
    email_correct_unconfirmed,
)
from rarebridge.accounts.services.invitations import (
    INVITATION_VALID_DAYS,
    invitation_accept,
    invitation_create,
    invitation_revoke,
)
from rarebridge.accounts.services.people import (
    PREFERENCE_FIELDS,
    acting_self,
    normalise_phone,
    role_assign,
    user_create,
    user_update_preferences,
)
from rarebridge.accounts.tokens import hash_token

__all__ = [
    "INVITATION_VALID_DAYS",
    "PREFERENCE_FIELDS",
    "acting_self",
    "email_change_complete",
    "email_change_request",
    "email_confirm",
    "email_confirmation_send",
    "email_confirmed_record",
    "email_correct_unconfirmed",
    "hash_token",
    "invitation_accept",
    "invitation_create",
    "invitation_revoke",
    "normalise_phone",
    "role_assign",
    "user_create",
    "user_update_preferences",
]
