"""The demo's catalogue, directory and peer finder."""

from __future__ import annotations

from typing import Any

from rarebridge.accounts.models import PatientProfile
from rarebridge.conditions.models import Condition
from rarebridge.conditions.services import catalogue_content_load, patient_condition_set
from rarebridge.directory.models import (
    ContactRequest,
    PeerProfile,
)
from rarebridge.directory.paths import MESSAGES_DIR
from rarebridge.directory.services.contacts import (
    contact_message_send,
    contact_request_respond,
    contact_request_send,
)
from rarebridge.directory.services.entries import directory_content_load
from rarebridge.directory.services.finder import (
    _ensure_message_templates,
    finder_join,
)
from rarebridge.notify.templates_store import load_message_templates

# --- the demo -----------------------------------------------------------------------------

# Demo patients get conditions by their number, so the finder shows a big group (PSC), a small
# one (AIH, "fewer than 5") and a few others.
DEMO_CONDITIONS = {0: 171, 1: 171, 2: 2137, 3: 186, 4: 558, 5: 636, 6: 70}
DEMO_RARE = {40: 64}  # patient 40 of each site has Alström syndrome: five in the whole demo


def directory_demo_load() -> dict[str, Any]:
    """The demo's catalogue, directory and peer finder. Idempotent: safe to run again.

    Loads content/conditions and content/directory, gives the demo patients a condition and
    lets two in three join the peer finder; patient 07 of each site has a contact with a peer,
    with a first message, so every page has something to show.
    """
    _ensure_message_templates()
    result = catalogue_content_load().as_dict()
    result["entries_created"] = directory_content_load()
    load_message_templates(MESSAGES_DIR)
    by_code = Condition.objects.in_bulk(
        [*DEMO_CONDITIONS.values(), *DEMO_RARE.values()], field_name="orphacode"
    )
    patients = list(PatientProfile.objects.select_related("user").order_by("code"))
    joined = 0
    for patient in patients:
        local = patient.user.email.split("@")[0]
        digits = "".join(ch for ch in local if ch.isdigit())
        if not digits:
            continue
        number = int(digits)
        condition = by_code.get(DEMO_RARE.get(number) or DEMO_CONDITIONS[number % 7])
        if condition is None:
            continue
        patient_condition_set(patient=patient, condition=condition, by=None)
        # Two in three join the finder.
        if number % 3 != 0 and not PeerProfile.objects.filter(patient=patient).exists():
            languages = sorted({patient.user.language, "en"})
            finder_join(
                patient=patient,
                condition=condition,
                languages=languages,
                alias=patient.user.display_name,
                scope=PeerProfile.Scope.GROUP if number % 2 else PeerProfile.Scope.CONDITION,
                by=patient.user,
            )
            joined += 1
    result["peers_joined"] = joined
    result["contacts"] = _demo_contacts()
    return result


def _demo_contacts() -> int:
    """Patient 07 of each site asks for a peer with PSC; the peer accepts and writes back."""
    made = 0
    for profile in PeerProfile.objects.filter(
        status="active", patient__user__email__startswith="patient07."
    ).select_related("patient__user"):
        if ContactRequest.objects.filter(requester=profile).exists():
            continue
        user = profile.patient.user
        contact = contact_request_send(
            requester=profile,
            scope=profile.scope,
            note="I was diagnosed two years ago and would like to talk to someone who knows what it is like.",
            by=user,
        )
        if contact.recipient is None:
            continue
        peer_user = contact.recipient.patient.user
        contact_request_respond(contact=contact, accept=True, by=peer_user)
        contact_message_send(
            contact=contact,
            body="Hello! Thank you for asking. I have had PSC for ten years and I am happy to share what helped me.",
            by=peer_user,
        )
        made += 1
    return made
