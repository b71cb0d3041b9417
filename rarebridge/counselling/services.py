"""Every write about counselling: assignments, certification, availability, calls, notes,
reminders and calendar feeds. Each writes its audit entry."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import PatientProfile, User
from rarebridge.core.audit import audit_log
from rarebridge.counselling.models import (
    Assignment,
    AvailabilityException,
    AvailabilityRule,
    CalendarFeed,
    Call,
    CallNote,
    Certification,
    CounsellorProfile,
    NoteAmendment,
    ReminderPreference,
    RolePlayAssessment,
    TrainingAttendance,
    TrainingModule,
)
from rarebridge.notify.services import message_send


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


def counsellor_profile_upsert(
    *,
    user: User,
    organisation_id: int,
    country_id: str,
    languages: list[str],
    by: User | None = None,
    **fields,
) -> CounsellorProfile:
    with transaction.atomic():
        profile, created = CounsellorProfile.objects.update_or_create(
            user=user,
            defaults={
                "organisation_id": organisation_id,
                "country_id": country_id,
                "languages": languages,
                **fields,
            },
        )
        audit_log(
            action="counselling.profile.created" if created else "counselling.profile.changed",
            actor=by,
            obj=profile,
            payload={"fields": sorted(fields)},
        )
    return profile


# Training and certification ------------------------------------------------------------------


def training_attendance_record(
    *, counsellor: CounsellorProfile, module: TrainingModule, attended_on: date, by: User
) -> TrainingAttendance:
    with transaction.atomic():
        row, _created = TrainingAttendance.objects.get_or_create(
            counsellor=counsellor,
            module=module,
            attended_on=attended_on,
            defaults={"organisation_id": counsellor.organisation_id, "recorded_by": by},
        )
        audit_log(
            action="counselling.training.attended",
            actor=by,
            obj=row,
            payload={"module": module.code},
        )
        # A refresher keeps a current certification going for another period.
        if module.is_refresher:
            current = counsellor.certifications.filter(
                revoked_at__isnull=True, valid_until__gt=timezone.now()
            ).first()
            if current:
                current.valid_until = timezone.now() + timedelta(
                    days=settings.CERTIFICATION_VALID_DAYS
                )
                current.save(update_fields=["valid_until", "updated_at"])
                audit_log(action="counselling.certification.renewed", actor=by, obj=current)
    return row


def roleplay_sign_off(
    *, counsellor: CounsellorProfile, results: dict[str, bool], by: User
) -> RolePlayAssessment:
    with transaction.atomic():
        assessment = RolePlayAssessment.objects.create(
            organisation_id=counsellor.organisation_id,
            counsellor=counsellor,
            results=results,
            passed=bool(results) and all(results.values()),
            signed_off_by=by,
            signed_off_at=timezone.now(),
        )
        audit_log(
            action="counselling.roleplay.signed_off",
            actor=by,
            obj=assessment,
            payload={"passed": assessment.passed},
        )
    return assessment


def certification_grant(*, counsellor: CounsellorProfile, by: User) -> Certification:
    """Certify a counsellor who attended every core module and passed the role-play."""
    from rarebridge.counselling.selectors import training_gaps

    gaps = training_gaps(counsellor=counsellor)
    if gaps:
        raise ValidationError(
            _("Not ready for certification: %(gaps)s") % {"gaps": ", ".join(gaps)}, code="not_ready"
        )
    now = timezone.now()
    with transaction.atomic():
        cert = Certification.objects.create(
            organisation_id=counsellor.organisation_id,
            counsellor=counsellor,
            granted_by=by,
            granted_at=now,
            valid_until=now + timedelta(days=settings.CERTIFICATION_VALID_DAYS),
        )
        audit_log(action="counselling.certification.granted", actor=by, obj=cert)
    return cert


def certification_grant_unchecked(
    *, counsellor: CounsellorProfile, by: User | None, granted_at: datetime | None = None
) -> Certification:
    """For imports of counsellors trained before RareBridge (and the demo): no training check."""
    now = granted_at or timezone.now()
    with transaction.atomic():
        cert = Certification.objects.create(
            organisation_id=counsellor.organisation_id,
            counsellor=counsellor,
            granted_by=by or counsellor.user,
            granted_at=now,
            valid_until=now + timedelta(days=settings.CERTIFICATION_VALID_DAYS),
        )
        audit_log(action="counselling.certification.imported", actor=by, obj=cert)
    return cert


def certification_revoke(*, certification: Certification, by: User, reason: str) -> None:
    with transaction.atomic():
        certification.revoked_at = timezone.now()
        certification.save(update_fields=["revoked_at", "updated_at"])
        audit_log(
            action="counselling.certification.revoked",
            actor=by,
            obj=certification,
            payload={"reason": reason},
        )


# Availability ---------------------------------------------------------------------------------


def availability_rule_add(
    *, counsellor: CounsellorProfile, weekday: int, start: time, end: time, by: User
) -> AvailabilityRule:
    if not 0 <= weekday <= 6 or start >= end:
        raise ValidationError(
            _("Choose a weekday and a start time before the end time."), code="invalid_rule"
        )
    with transaction.atomic():
        rule = AvailabilityRule.objects.create(
            organisation_id=counsellor.organisation_id,
            counsellor=counsellor,
            weekday=weekday,
            start=start,
            end=end,
        )
        audit_log(action="counselling.availability.added", actor=by, obj=rule)
    return rule


def availability_rule_remove(*, rule: AvailabilityRule, by: User) -> None:
    with transaction.atomic():
        audit_log(
            action="counselling.availability.removed",
            actor=by,
            obj=rule,
            payload={"weekday": rule.weekday, "start": str(rule.start), "end": str(rule.end)},
        )
        rule.delete()


def availability_exception_add(
    *,
    counsellor: CounsellorProfile,
    day: date,
    by: User,
    start: time | None = None,
    end: time | None = None,
    reason: str = "",
) -> AvailabilityException:
    if (start is None) != (end is None) or (start and end and start >= end):
        raise ValidationError(
            _("Give both times, or none for the whole day."), code="invalid_exception"
        )
    with transaction.atomic():
        row = AvailabilityException.objects.create(
            organisation_id=counsellor.organisation_id,
            counsellor=counsellor,
            day=day,
            start=start,
            end=end,
            reason=reason,
        )
        audit_log(action="counselling.availability.exception_added", actor=by, obj=row)
    return row


# Calls ----------------------------------------------------------------------------------------


class SlotTaken(Exception):
    """Someone else booked the slot first. ``alternatives`` are the next free slots."""

    def __init__(self, alternatives: list[datetime]):
        super().__init__("slot taken")
        self.alternatives = alternatives


def _bookable(counsellor: CounsellorProfile) -> None:
    from rarebridge.counselling.selectors import is_certified

    if not counsellor.is_active or not is_certified(counsellor=counsellor):
        raise ValidationError(
            _("This counsellor cannot take calls at the moment. Your coordinator will help you."),
            code="not_bookable",
        )


def call_book(
    *, enrolment, counsellor: CounsellorProfile, starts_at: datetime, week: int, by: User
) -> Call:
    """Book one weekly call in a free slot. Safe when two people try the same slot at once:
    the database lets one in, the other gets SlotTaken with the next free slots."""
    from rarebridge.counselling.selectors import free_slots_for

    _bookable(counsellor)
    if starts_at <= timezone.now():
        raise ValidationError(
            _("This time has already passed. Please choose another."), code="past"
        )
    if starts_at not in free_slots_for(
        counsellor=counsellor,
        start=starts_at,
        end=starts_at + timedelta(minutes=enrolment.version.call_minutes),
    ):
        raise SlotTaken(
            free_slots_for(
                counsellor=counsellor, start=starts_at, end=starts_at + timedelta(days=7)
            )[:5]
        )
    try:
        with transaction.atomic():
            call = Call.objects.create(
                organisation_id=enrolment.organisation_id,
                enrolment=enrolment,
                patient=enrolment.patient,
                counsellor=counsellor,
                week=week,
                starts_at=starts_at,
                minutes=enrolment.version.call_minutes,
                booked_by=by,
            )
            audit_log(
                action="counselling.call.booked",
                actor=by,
                obj=call,
                payload={"week": week, "starts_at": starts_at.isoformat()},
            )
            _tell_both(call, "call_booked")
    except IntegrityError:
        if Call.objects.filter(enrolment=enrolment, week=week, status__in=Call.LIVE).exists():
            raise ValidationError(
                _("There is already a call for this week. Move that one instead."),
                code="week_taken",
            ) from None
        raise SlotTaken(
            free_slots_for(
                counsellor=counsellor, start=starts_at, end=starts_at + timedelta(days=7)
            )[:5]
        ) from None
    return call


def _cutoff_passed(call: Call) -> bool:
    return call.starts_at - timedelta(hours=settings.CALL_CHANGE_CUTOFF_HOURS) < timezone.now()


def call_cancel(*, call: Call, by: User, reason: str) -> Call:
    if not reason.strip():
        raise ValidationError(_("Please give a short reason."), code="reason_required")
    if call.status != Call.Status.BOOKED or _cutoff_passed(call):
        raise ValidationError(
            _("This call can no longer be changed here. Please contact your counsellor or site."),
            code="too_late",
        )
    with transaction.atomic():
        call.status = Call.Status.CANCELLED
        call.change_reason = reason
        call.save(update_fields=["status", "change_reason", "updated_at"])
        audit_log(
            action="counselling.call.cancelled", actor=by, obj=call, payload={"reason": reason}
        )
        _tell_both(call, "call_cancelled")
    return call


def call_reschedule(*, call: Call, new_start: datetime, by: User, reason: str) -> Call:
    """Move a call to another free slot of the same counsellor; the old row stays as 'moved'."""
    if not reason.strip():
        raise ValidationError(_("Please give a short reason."), code="reason_required")
    if call.status != Call.Status.BOOKED or _cutoff_passed(call):
        raise ValidationError(
            _("This call can no longer be changed here. Please contact your counsellor or site."),
            code="too_late",
        )
    with transaction.atomic():
        Call.objects.filter(pk=call.pk).update(
            status=Call.Status.MOVED, change_reason=reason, updated_at=timezone.now()
        )
        new = call_book(
            enrolment=call.enrolment,
            counsellor=call.counsellor,
            starts_at=new_start,
            week=call.week,
            by=by,
        )
        Call.objects.filter(pk=call.pk).update(moved_to=new)
        audit_log(
            action="counselling.call.moved",
            actor=by,
            obj=call,
            payload={
                "from": call.starts_at.isoformat(),
                "to": new_start.isoformat(),
                "reason": reason,
            },
        )
    return new


def _tell_both(call: Call, template_key: str) -> None:
    for person in (call.patient.user, call.counsellor.user):
        message_send(
            recipient=person,
            template_key=template_key,
            idempotency_key=f"{template_key}:{call.pk}:{person.pk}",
            context={
                "when": call.starts_at,
                "minutes": call.minutes,
                "week": call.week,
                "counsellor": call.counsellor.user.display_name,
                "patient_code": call.patient.code,
            },
            channels=("email", "inapp"),
        )


# Reminders ------------------------------------------------------------------------------------

REMINDER_OFFSETS = {"day_before": timedelta(hours=24), "hour_before": timedelta(hours=1)}


def call_reminders_due(now: datetime | None = None) -> int:
    """Send the reminders that are due. Idempotent: each (call, time, offset, channel) has one
    message key, so a reminder is never sent twice, and a call that was cancelled or moved
    sends nothing because only booked calls are read."""
    now = now or timezone.now()
    created = 0
    window = max(REMINDER_OFFSETS.values())
    calls = Call.objects.filter(
        status=Call.Status.BOOKED, starts_at__gt=now, starts_at__lte=now + window
    ).select_related("patient__user", "counsellor__user")
    for call in calls:
        for person in (call.patient.user, call.counsellor.user):
            preference = ReminderPreference.objects.filter(
                user=person
            ).first() or ReminderPreference(user=person)
            channels = tuple(
                c for c, on in (("email", preference.by_email), ("sms", preference.by_sms)) if on
            )
            for name, offset in REMINDER_OFFSETS.items():
                if not getattr(preference, name) or call.starts_at - offset > now:
                    continue
                # Too late for the day-before one when the hour-before one is due: skip it.
                if name == "day_before" and call.starts_at - now <= REMINDER_OFFSETS["hour_before"]:
                    continue
                made = message_send(
                    recipient=person,
                    template_key="call_reminder",
                    channels=channels,
                    idempotency_key=f"reminder:{call.pk}:{call.starts_at.isoformat()}:{name}:{person.pk}",
                    context={
                        "when": call.starts_at,
                        "minutes": call.minutes,
                        "week": call.week,
                        "counsellor": call.counsellor.user.display_name,
                        "patient_code": call.patient.code,
                    },
                )
                created += sum(1 for m in made if m.created_at >= now)
    return created


# Notes ----------------------------------------------------------------------------------------

NOTE_FIELDS = (
    "held",
    "missed_reason",
    "duration_minutes",
    "topics",
    "engagement",
    "agreed_next",
    "risk",
    "text",
)


def note_save(*, call: Call, by: User, sign: bool = False, **fields) -> CallNote:
    """Write (or update, until signed) the note of a call; signing locks it."""
    unknown = set(fields) - set(NOTE_FIELDS)
    if unknown:
        raise ValueError(f"Not a note field: {sorted(unknown)}")
    if fields.get("held") is False and not str(fields.get("missed_reason", "")).strip():
        raise ValidationError({"missed_reason": _("Please say why the call did not take place.")})
    with transaction.atomic():
        note = CallNote.objects.select_for_update().filter(call=call).first()
        if note and note.signed_at:
            raise ValidationError(
                _("This note is signed. Add an amendment instead."), code="signed"
            )
        note = note or CallNote(call=call, organisation_id=call.organisation_id, written_by=by)
        for key, value in fields.items():
            setattr(note, key, value)
        if sign:
            note.signed_at = timezone.now()
        note.save()
        Call.objects.filter(pk=call.pk).update(
            status=Call.Status.HELD if note.held else Call.Status.MISSED, updated_at=timezone.now()
        )
        audit_log(
            action="counselling.note.signed" if sign else "counselling.note.saved",
            actor=by,
            obj=note,
            payload={"held": note.held, "risk": note.risk},
        )
    return note


def note_amend(*, note: CallNote, by: User, text: str) -> NoteAmendment:
    if not text.strip():
        raise ValidationError(_("Please write the amendment."), code="empty")
    with transaction.atomic():
        amendment = NoteAmendment.objects.create(note=note, author=by, text=text)
        audit_log(action="counselling.note.amended", actor=by, obj=note)
    return amendment


# Calendar feeds -------------------------------------------------------------------------------


def feed_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_feed_create(*, user: User) -> str:
    """A new private feed URL token; earlier feeds of the person are revoked."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        feed = CalendarFeed.objects.create(user=user, token_hash=feed_token_hash(token))
        audit_log(action="counselling.calendar_feed.created", actor=user, obj=feed)
    return token


def calendar_feed_revoke(*, user: User) -> int:
    with transaction.atomic():
        count = CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        audit_log(
            action="counselling.calendar_feed.revoked",
            actor=user,
            obj=user,
            payload={"count": count},
        )
    return count


def reminder_preference_set(*, user: User, by: User, **fields) -> ReminderPreference:
    with transaction.atomic():
        preference, _created = ReminderPreference.objects.update_or_create(
            user=user, defaults=fields
        )
        audit_log(action="counselling.reminders.changed", actor=by, obj=user, payload=fields)
    return preference


def training_curriculum_load(*, path) -> int:
    """Load a training curriculum file (content/training/*.json). Safe to run again."""
    import json

    data = json.loads(path.read_text(encoding="utf-8"))
    with transaction.atomic():
        for position, module in enumerate(data["modules"]):
            TrainingModule.objects.update_or_create(
                curriculum=data["curriculum"],
                code=module["code"],
                defaults={
                    "day": module["day"],
                    "position": position,
                    "titles": module["title"],
                    "objectives": module["objectives"],
                    "is_refresher": module.get("refresher", False),
                },
            )
    return len(data["modules"])


def call_import(
    *,
    enrolment,
    counsellor: CounsellorProfile,
    starts_at: datetime,
    week: int,
    by: User | None = None,
) -> Call:
    """Record a call that was arranged outside RareBridge (an import, or the demo's history).
    No availability check and no messages; the audit says where it came from."""
    with transaction.atomic():
        call = Call.objects.create(
            organisation_id=enrolment.organisation_id,
            enrolment=enrolment,
            patient=enrolment.patient,
            counsellor=counsellor,
            week=week,
            starts_at=starts_at,
            minutes=enrolment.version.call_minutes,
            booked_by=by or counsellor.user,
        )
        audit_log(action="counselling.call.imported", actor=by, obj=call, payload={"week": week})
    return call


# Matching -------------------------------------------------------------------------------------


def match_accept(
    *,
    patient: PatientProfile,
    counsellor: User,
    by: User,
    reasons: list[str] | None = None,
    override_reason: str = "",
) -> Assignment:
    """Pair a waiting patient with a counsellor (a suggestion, or an override with a reason),
    and tell both of them in their own languages."""
    from rarebridge.counselling.selectors import is_certified

    profile = CounsellorProfile.objects.filter(user=counsellor).first()
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
    from rarebridge.counselling.matching import (
        counsellors_for_matching,
        now_minute,
        patient_for_matching,
        weights,
    )
    from rarebridge.counselling.selectors import waiting_patients_for_user
    from rarebridge.engines import matching as engine

    now = timezone.now()
    waiting = {str(p.pk): p for p in waiting_patients_for_user(user=user)}
    result = engine.match_batch(
        patients=[patient_for_matching(patient=p, now=now) for p in waiting.values()],
        counsellors=counsellors_for_matching(organisation_ids=user.organisation_ids, now=now),
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


def match_request_change(*, patient: PatientProfile, by: User, reason: str) -> None:
    """The patient asks for a different counsellor: the pairing ends and is never proposed
    again; calls already held stay in the record, booked future calls are cancelled."""
    with transaction.atomic():
        current = Assignment.objects.filter(patient=patient, ended_at__isnull=True).first()
        if current is None:
            return
        current.ended_at = timezone.now()
        current.save(update_fields=["ended_at", "updated_at"])
        from rarebridge.counselling.models import MatchDecline

        MatchDecline.objects.create(
            organisation_id=patient.organisation_id,
            patient=patient,
            counsellor=current.counsellor,
            reason=reason,
            by=by,
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


def counsellor_deactivate(*, profile: CounsellorProfile, by: User, reason: str) -> int:
    """A counsellor leaves: no new bookings, and their patients go back to the waiting list."""
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


def match_preference_set(*, patient: PatientProfile, by: User, **fields):
    from rarebridge.counselling.models import MatchPreference

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


def assignment_end(*, patient: PatientProfile, by: User | None, reason: str) -> int:
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
