"""Who counsels whom: starting and ending assignments, accepting a match (one, or every
waiting patient at once), a patient asking for another counsellor, a counsellor leaving."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.accounts.selectors import patients_for_user
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.counselling.matching import now_minute, patient_for_matching, weights
from rarebridge.counselling.models import (
    Assignment,
    Call,
    CounsellorProfile,
    MatchDecline,
    MatchPreference,
)
from rarebridge.counselling.selectors import (
    counsellor_in_reach,
    is_certified,
    matching_counsellors_for_user,
    waiting_patients_for_user,
)
from rarebridge.engines import matching as engine
from rarebridge.notify.services import message_send


def assignment_start(
    *,
    patient: PatientProfile,
    counsellor: User,
    by: Actor | User | None,
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


def match_accept(
    *,
    patient: PatientProfile,
    counsellor: User,
    by: Actor | User,
    reasons: list[str] | None = None,
    override_reason: str = "",
) -> Assignment:
    """Pair a waiting patient with a counsellor (a suggestion, or an override with a reason),
    and tell both of them in their own languages."""
    profile = CounsellorProfile.objects.filter(user=counsellor).first()
    person = user_of(by)
    if person is not None and (
        profile is None
        or not counsellor_in_reach(user=person, counsellor=profile)
        or not patients_for_user(user=person).filter(pk=patient.pk).exists()
    ):
        raise PermissionDenied  # the patient or the counsellor is outside the person's reach
    if profile is None or not profile.is_active or not is_certified(counsellor=profile):
        raise ValidationError(
            _("This counsellor cannot take patients at the moment."), code="not_bookable"
        )
    if profile.organisation_id != patient.organisation_id:
        raise ValidationError(
            _("This counsellor works for another organisation."), code="other_organisation"
        )
    with transaction.atomic():
        assignment = assignment_start(patient=patient, counsellor=counsellor, by=by)
        audit_log(
            action="counselling.match.overridden"
            if override_reason
            else "counselling.match.accepted",
            actor=by,
            obj=assignment,
            payload={"reasons": reasons or [], "override_reason": override_reason},
        )
        for person, template in (
            (patient.user, "match_made_patient"),
            (counsellor, "match_made_counsellor"),
        ):
            message_send(
                recipient=person,
                template_key=template,
                channels=("email", "inapp"),
                idempotency_key=f"match:{assignment.pk}:{person.pk}",
                context={
                    "counsellor": counsellor.display_name,
                    "patient_code": patient.code,
                    "introduction": profile.introduction,
                },
            )
    return assignment


def match_batch_accept(*, user: User) -> tuple[int, int]:
    """Match every waiting patient in reach at once (proven optimal) and accept the result.
    Returns (matched, left unmatched)."""
    now = timezone.now()
    waiting = {str(p.pk): p for p in waiting_patients_for_user(user=user)}
    result = engine.match_batch(
        patients=[patient_for_matching(patient=p, now=now) for p in waiting.values()],
        counsellors=matching_counsellors_for_user(user=user, now=now),
        now=now_minute(now),
        weights=weights(),
    )
    counsellors = {
        str(u.pk): u
        for u in User.objects.filter(pk__in=[int(a.counsellor_id) for a in result.assignments])
    }
    for item in result.assignments:
        match_accept(
            patient=waiting[item.patient_id],
            counsellor=counsellors[item.counsellor_id],
            by=user,
            reasons=[str(r.code) for r in item.reasons if r.met],
        )
    return len(result.assignments), len(result.unmatched)


def match_request_change(*, patient: PatientProfile, by: Actor | User, reason: str) -> None:
    """The patient asks for a different counsellor: the pairing ends and is never proposed
    again; calls already held stay in the record, booked future calls are cancelled."""
    with transaction.atomic():
        current = Assignment.objects.filter(patient=patient, ended_at__isnull=True).first()
        if current is None:
            return
        current.ended_at = timezone.now()
        current.save(update_fields=["ended_at", "updated_at"])
        MatchDecline.objects.create(
            organisation_id=patient.organisation_id,
            patient=patient,
            counsellor=current.counsellor,
            reason=reason,
            by=user_of(by),
        )
        Call.objects.filter(
            patient=patient, status=Call.Status.BOOKED, starts_at__gt=timezone.now()
        ).update(
            status=Call.Status.CANCELLED,
            change_reason="counsellor change",
            updated_at=timezone.now(),
        )
        audit_log(
            action="counselling.match.change_requested",
            actor=by,
            obj=current,
            payload={"reason": reason},
        )


def counsellor_deactivate(*, profile: CounsellorProfile, by: Actor | User, reason: str) -> int:
    """A counsellor leaves: no new bookings, and their patients go back to the waiting list.
    Only someone whose reach covers the counsellor's site may do it (the system always may)."""
    person = user_of(by)
    if person is not None and not counsellor_in_reach(user=person, counsellor=profile):
        raise PermissionDenied
    with transaction.atomic():
        profile.is_active = False
        profile.save(update_fields=["is_active", "updated_at"])
        ended = Assignment.objects.filter(counsellor=profile.user, ended_at__isnull=True)
        patient_ids = list(ended.values_list("patient_id", flat=True))
        ended.update(ended_at=timezone.now())
        Call.objects.filter(
            counsellor=profile, status=Call.Status.BOOKED, starts_at__gt=timezone.now()
        ).update(
            status=Call.Status.CANCELLED, change_reason="counsellor left", updated_at=timezone.now()
        )
        audit_log(
            action="counselling.counsellor.deactivated",
            actor=by,
            obj=profile,
            payload={"reason": reason, "patients": patient_ids},
        )
    return len(patient_ids)


def match_preference_set(*, patient: PatientProfile, by: Actor | User, **fields):
    with transaction.atomic():
        preference, _created = MatchPreference.objects.update_or_create(
            patient=patient, defaults=fields
        )
        audit_log(
            action="counselling.match.preferences_changed",
            actor=by,
            obj=patient,
            payload={"fields": sorted(fields)},
        )
    return preference


def assignment_end(*, patient: PatientProfile, by: Actor | User | None, reason: str) -> int:
    """End the patient's counselling (they left the program): no more calls are held or
    reminded; calls already held stay in the record. Returns the number of calls cancelled."""
    now = timezone.now()
    with transaction.atomic():
        ended = Assignment.objects.filter(patient=patient, ended_at__isnull=True)
        for assignment in ended:
            audit_log(
                action="counselling.assignment.ended",
                actor=by,
                obj=assignment,
                payload={"reason": reason},
            )
        ended.update(ended_at=now)
        cancelled = Call.objects.filter(
            patient=patient, status=Call.Status.BOOKED, starts_at__gt=now
        ).update(status=Call.Status.CANCELLED, change_reason=reason[:300], updated_at=now)
    return cancelled
