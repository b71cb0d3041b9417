"""Reads of the directory app. Views call these, never the ORM directly.

Verified directory entries are public: no person needed. Staff reads check
``DIRECTORY_VERIFY`` / ``PEER_MODERATE`` (403 without it; the portal gives non-staff a 404).
Peer-finder reads take the signed-in patient and only ever return their own profile and the
contacts they are a party to (404 otherwise). ``by`` is an Actor or a user.

One module per part: ``places`` (countries and languages), ``public`` (the public directory),
``verification`` (staff queues), ``peers`` (the peer finder), ``moderation`` (reports). The
catalogue's reads live in ``rarebridge.conditions.selectors`` and are re-exported here, so
callers need not change.
"""

from rarebridge.conditions.selectors import (
    ConditionMatch,
    condition_get,
    condition_groups,
    condition_search,
    patient_condition_get,
    patient_conditions_for,
    top_groups,
)
from rarebridge.directory.selectors.moderation import (
    report_get_for_moderator,
    report_messages,
    reports_for_moderator,
)
from rarebridge.directory.selectors.peers import (
    CLOSING_WEEK,
    SMALL_COUNT,
    ClosingResources,
    ConditionPeers,
    ContactView,
    PeerCount,
    closing_resources_for,
    condition_family_for_group_scope,
    contact_get_for,
    contacts_for,
    findable_peers,
    peer_counts_for,
    peer_profile_for,
    suppressed,
)
from rarebridge.directory.selectors.places import country_choices, country_name, language_choices
from rarebridge.directory.selectors.public import (
    INTERNATIONAL_KINDS,
    Fallback,
    directory_fallback,
    directory_search,
    entry_conditions_in,
    entry_get_public,
)
from rarebridge.directory.selectors.verification import (
    QUEUES,
    entries_for_verifier,
    entry_get_for_verifier,
    queue_counts,
)

__all__ = [
    "CLOSING_WEEK",
    "INTERNATIONAL_KINDS",
    "QUEUES",
    "SMALL_COUNT",
    "ClosingResources",
    "ConditionMatch",
    "ConditionPeers",
    "ContactView",
    "Fallback",
    "PeerCount",
    "closing_resources_for",
    "condition_family_for_group_scope",
    "condition_get",
    "condition_groups",
    "condition_search",
    "contact_get_for",
    "contacts_for",
    "country_choices",
    "country_name",
    "directory_fallback",
    "directory_search",
    "entries_for_verifier",
    "entry_conditions_in",
    "entry_get_for_verifier",
    "entry_get_public",
    "findable_peers",
    "language_choices",
    "patient_condition_get",
    "patient_conditions_for",
    "peer_counts_for",
    "peer_profile_for",
    "queue_counts",
    "report_get_for_moderator",
    "report_messages",
    "reports_for_moderator",
    "suppressed",
    "top_groups",
]
