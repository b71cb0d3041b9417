"""Who counsels whom: starting and ending assignments, accepting a match (one, or every
waiting patient at once), a patient asking for another counsellor, a counsellor leaving."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.accounts.selectors import patients_for_user
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.core.models import AuditEntry
from rarebridge.counselling.matching import Proposal, batch_proposal, proposal_identity
from rarebridge.counselling.models import (
    Assignment,
    Call,
    CounsellorProfile,
    MatchDecline,
    MatchPreference,
)
from rarebridge.counselling.selectors import counsellor_in_reach, is_certified
from rarebridge.engines import matching as engine
from rarebridge.notify.services import message_send
from rarebridge.programs.models import Enrolment


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


def _book_series(
    *, patient: PatientProfile, profile: CounsellorProfile, calls: Sequence[datetime], by
) -> list[Call]:
    """Book the proposed weekly series of a match, all or nothing (inside the caller's
    transaction). Refused when a call has passed or overlaps a call someone booked since the
    proposal, for the counsellor or the patient."""
    enrolment = (
        Enrolment.objects.filter(patient=patient, status=Enrolment.Status.ACTIVE)
        .select_related("version")
        .order_by("-start_date")
        .first()
    )
    if enrolment is None:
        raise ValidationError(
            _("This patient has no active program to book calls in."), code="no_enrolment"
        )
    # One booking for this counsellor at a time: the row lock serialises concurrent matches.
    CounsellorProfile.objects.select_for_update().filter(pk=profile.pk).first()
    minutes = enrolment.version.call_minutes
    now = timezone.now()
    if any(start <= now for start in calls):
        raise ValidationError(
            _("The proposed call time has passed. Please look at the suggestions again."),
            code="slot_passed",
        )
    first, last = min(calls), max(calls)
    live = Call.objects.filter(
        Q(counsellor=profile) | Q(patient=patient),
        status__in=Call.LIVE,
        starts_at__gte=first - timedelta(days=1),
        starts_at__lt=last + timedelta(minutes=minutes),
    ).values_list("starts_at", "minutes")
    for start in calls:
        end = start + timedelta(minutes=minutes)
        for other, length in live:
            if other < end and start < other + timedelta(minutes=length):
                raise ValidationError(
                    _(
                        "Someone booked this weekly time meanwhile. The patient is still "
                        "waiting; please choose again."
                    ),
                    code="slot_taken",
                )
    week = (
        Call.objects.filter(enrolment=enrolment, status__in=Call.LIVE).aggregate(w=Max("week"))["w"]
        or 0
    )
    booked = []
    try:
        with transaction.atomic():
            for k, start in enumerate(sorted(calls)):
                call = Call.objects.create(
                    organisation_id=enrolment.organisation_id,
                    enrolment=enrolment,
                    patient=patient,
                    counsellor=profile,
                    week=week + k + 1,
                    starts_at=start,
                    minutes=minutes,
                    booked_by=user_of(by),
                )
                audit_log(
                    action="counselling.call.booked",
                    actor=by,
                    obj=call,
                    payload={"week": call.week, "starts_at": start.isoformat(), "match": True},
                )
                booked.append(call)
    except IntegrityError:
        raise ValidationError(
            _(
                "Someone booked this weekly time meanwhile. The patient is still "
                "waiting; please choose again."
            ),
            code="slot_taken",
        ) from None
    return booked


def match_accept(
    *,
    patient: PatientProfile,
    counsellor: User,
    by: Actor | User,
    reasons: list[str] | None = None,
    override_reason: str = "",
    calls: Sequence[datetime] | None = None,
    require_waiting: bool = False,
) -> Assignment:
    """Pair a waiting patient with a counsellor (a suggestion, or an override with a reason),
    book the proposed weekly series (``calls``) in the same transaction, and tell both of
    them in their own languages. When the series cannot be booked nothing is written and the
    patient keeps waiting. ``require_waiting`` refuses a patient who has a counsellor by now
    (a batch confirmed twice must not match twice)."""
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
        if require_waiting:
            PatientProfile.objects.select_for_update().filter(pk=patient.pk).first()
            if Assignment.objects.filter(patient=patient, ended_at__isnull=True).exists():
                raise ValidationError(
                    _("This patient has a counsellor already."), code="already_matched"
                )
        assignment = assignment_start(patient=patient, counsellor=counsellor, by=by)
        booked = _book_series(patient=patient, profile=profile, calls=calls, by=by) if calls else []
        audit_log(
            action="counselling.match.overridden"
            if override_reason
            else "counselling.match.accepted",
            actor=by,
            obj=assignment,
            payload={
                "reasons": reasons or [],
                "override_reason": override_reason,
                "calls": [c.pk for c in booked],
            },
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


@dataclass
class BatchOutcome:
    """What confirming a "match everyone" preview did.

    ``status``: "done" (the preview was accepted; ``refused`` lists matches that could not
    be booked, each with its message), "already" (this preview was confirmed before: nothing
    was done again) or "stale" (the situation changed since the preview; ``fresh`` is a new
    preview and nothing was done).
    """

    status: str
    matched: int = 0
    left: int = 0
    refused: list[tuple[PatientProfile, str]] = field(default_factory=list)
    fresh: Proposal | None = None


def match_batch_confirm(*, token: str, by: Actor | User) -> BatchOutcome:
    """Accept exactly the previewed batch: each match books its series in its own transaction
    (one that cannot be booked is refused and its patient keeps waiting). Idempotent: a
    preview confirmed again does nothing. When the proposal computed now differs from the
    preview, nothing is done and a fresh preview is returned."""
    user = user_of(by)
    identity = proposal_identity(token=token, user=user)
    if identity is None:
        return BatchOutcome(status="stale", fresh=batch_proposal(user=user))
    if AuditEntry.objects.filter(
        action="counselling.match.batch_confirmed", payload__digest=identity["digest"]
    ).exists():
        return BatchOutcome(status="already")
    proposal = batch_proposal(user=user, now=datetime.fromisoformat(identity["now"]))
    if proposal.digest != identity["digest"]:
        return BatchOutcome(status="stale", fresh=batch_proposal(user=user))
    counsellors = {
        str(u.pk): u
        for u in User.objects.filter(
            pk__in=[int(a.counsellor_id) for a in proposal.result.assignments]
        )
    }
    outcome = BatchOutcome(status="done", left=len(proposal.result.unmatched))
    for item in proposal.result.assignments:
        patient = proposal.patients[item.patient_id]
        try:
            match_accept(
                patient=patient,
                counsellor=counsellors[item.counsellor_id],
                by=by,
                reasons=[str(r.code) for r in item.reasons if r.met],
                calls=[engine.minute_to_datetime(m) for m in item.schedule],
                require_waiting=True,
            )
            outcome.matched += 1
        except ValidationError as error:
            outcome.refused.append((patient, " ".join(error.messages)))
    outcome.left += len(outcome.refused)
    audit_log(
        action="counselling.match.batch_confirmed",
        actor=by,
        obj=None,
        payload={
            "digest": identity["digest"],
            "matched": outcome.matched,
            "refused": [p.pk for p, _m in outcome.refused],
        },
    )
    return outcome


def match_batch_accept(*, user: User) -> tuple[int, int]:
    """Match every waiting patient in reach at once (proven optimal over bookable matches)
    and accept the result, booking each series. Returns (matched, left unmatched)."""
    proposal = batch_proposal(user=user)
    outcome = match_batch_confirm(token=proposal.token, by=user)
    return outcome.matched, outcome.left


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
