"""Every write of the directory app: directory entries, the peer finder, moderation.

Each function validates, writes inside a transaction and leaves an audit entry. ``by`` is the
acting person: an :class:`~rarebridge.core.actor.Actor` (views pass ``request.actor``) or a
user (commands, tests). Texts people type are cleaned here (tags and control characters
removed, lengths capped) whatever the form did before, and are stored as plain text. Messages
to patients go out in-app only, through ``notify.services.message_send``, and never name the
other person.

One module per part: ``text`` (cleaning), ``entries`` (suggestions and verification),
``finder`` (joining, leaving, matching peers), ``contacts`` (requests and messages),
``moderation`` (blocks and reports), ``demo``. The catalogue's writes live in
``rarebridge.conditions.services`` and are re-exported here, so callers need not change.
"""

from rarebridge.conditions.services import (
    CONDITIONS_FILE,
    ImportResult,
    catalogue_content_load,
    conditions_import,
    patient_condition_set,
    read_catalogue_content,
)
from rarebridge.directory.paths import CONTENT_DIR, DIRECTORY_FILE, MESSAGES_DIR
from rarebridge.directory.services.contacts import (
    contact_message_send,
    contact_request_cancel,
    contact_request_respond,
    contact_request_send,
    contact_share_set,
)
from rarebridge.directory.services.demo import DEMO_CONDITIONS, DEMO_RARE, directory_demo_load
from rarebridge.directory.services.entries import (
    DuplicateEntry,
    EntryData,
    directory_content_load,
    entry_duplicates,
    entry_reject,
    entry_suggest,
    entry_update,
    entry_verify,
)
from rarebridge.directory.services.finder import (
    CONSENT_VERSION,
    PeerUnavailable,
    finder_join,
    finder_withdraw,
    patient_condition_remove,
)
from rarebridge.directory.services.moderation import (
    peer_block,
    peer_report,
    report_acknowledge,
    report_close,
)
from rarebridge.directory.services.text import (
    ALIAS_MAX,
    MESSAGE_MAX,
    NAME_MAX,
    NOTE_MAX,
    OPEN_REQUESTS_MAX,
    TEXT_MAX,
    clean_text,
    has_contact_details,
    name_key,
    website_key,
)

__all__ = [
    "ALIAS_MAX",
    "CONDITIONS_FILE",
    "CONSENT_VERSION",
    "CONTENT_DIR",
    "DEMO_CONDITIONS",
    "DEMO_RARE",
    "DIRECTORY_FILE",
    "MESSAGES_DIR",
    "MESSAGE_MAX",
    "NAME_MAX",
    "NOTE_MAX",
    "OPEN_REQUESTS_MAX",
    "TEXT_MAX",
    "DuplicateEntry",
    "EntryData",
    "ImportResult",
    "PeerUnavailable",
    "catalogue_content_load",
    "clean_text",
    "conditions_import",
    "contact_message_send",
    "contact_request_cancel",
    "contact_request_respond",
    "contact_request_send",
    "contact_share_set",
    "directory_content_load",
    "directory_demo_load",
    "entry_duplicates",
    "entry_reject",
    "entry_suggest",
    "entry_update",
    "entry_verify",
    "finder_join",
    "finder_withdraw",
    "has_contact_details",
    "name_key",
    "patient_condition_remove",
    "patient_condition_set",
    "peer_block",
    "peer_report",
    "read_catalogue_content",
    "report_acknowledge",
    "report_close",
    "website_key",
]
