"""The transition and benefits checklists (and the travel checklist of a clinic visit): one
status per item and patient."""

from __future__ import annotations

from django.db import transaction

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.care.models import ChecklistEntry
from rarebridge.care.services._common import _record
from rarebridge.core.actor import Actor, user_of


@transaction.atomic
def checklist_set(
    *,
    patient: PatientProfile,
    by: Actor | User | None,
    kind: str,
    key: str,
    status: str,
    note: str = "",
) -> ChecklistEntry:
    entry, _created = ChecklistEntry.objects.update_or_create(
        patient=patient,
        kind=kind,
        key=key,
        defaults={
            "organisation_id": patient.organisation_id,
            "status": status,
            "note": note,
            "updated_by": user_of(by),
        },
    )
    _record(
        action="care.checklist.updated",
        by=by,
        obj=entry,
        patient=patient,
        kind=kind,
        key=key,
        status=status,
    )
    return entry
