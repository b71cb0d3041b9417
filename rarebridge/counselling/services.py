from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.core.audit import audit_log
from rarebridge.counselling.models import Assignment


def assignment_start(
    *,
    patient: PatientProfile,
    counsellor: User,
    by: User | None,
    started_at: datetime | None = None,
) -> Assignment:
    """Give a patient a counsellor, ending any current assignment first."""
    with transaction.atomic():
        now = timezone.now()
        Assignment.objects.filter(patient=patient, ended_at__isnull=True).update(ended_at=now)
        assignment = Assignment.objects.create(
            organisation_id=patient.organisation_id,
            counsellor=counsellor,
            patient=patient,
            started_at=started_at or now,
        )
        audit_log(
            action="counselling.assignment.started",
            actor=by,
            obj=assignment,
            payload={"counsellor": counsellor.pk, "patient": patient.pk},
        )
    return assignment
