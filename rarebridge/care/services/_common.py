"""What every care service shares: the audit entry and the care timeline line, the mark a
planned clinic gets when its set-up changes, and the care message templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.care.models import CareEvent, Clinic
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.notify.models import MessageTemplate
from rarebridge.notify.templates_store import load_message_templates

MESSAGES_DIR = Path(settings.BASE_DIR) / "content" / "care" / "messages"


def _event(*, patient: PatientProfile, code: str, by: Actor | User | None, **params: Any) -> None:
    CareEvent.objects.create(
        organisation_id=patient.organisation_id,
        patient=patient,
        actor=user_of(by),
        code=code,
        params=params,
    )


def _record(
    *,
    action: str,
    by: Actor | User | None,
    obj,
    patient: PatientProfile | None = None,
    **params: Any,
) -> None:
    audit_log(action=action, actor=by, obj=obj, payload=params)
    if patient is not None:
        _event(patient=patient, code=action, by=by, **params)


def _setup_changed(clinic: Clinic) -> None:
    """The set-up changed in a way the plan depends on."""
    now = timezone.now()
    if Clinic.objects.filter(pk=clinic.pk, planned_at__isnull=False).update(
        setup_changed_at=now, updated_at=now
    ):
        clinic.setup_changed_at = now


CARE_MESSAGES = ("care_itinerary_changed", "care_itinerary_ready", "care_day_sheet_changed")


def _ensure_message_templates() -> None:
    found = set(MessageTemplate.objects.filter(key__in=CARE_MESSAGES).values_list("key", flat=True))
    if found != set(CARE_MESSAGES):
        load_message_templates(directory=MESSAGES_DIR)
