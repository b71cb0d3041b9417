"""Calls: booking in a free slot, cancelling, moving, importing, and the reminders before
them. Each writes its audit entry and tells both people."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rarebridge.accounts.models import User
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.counselling.ics import calendar_for
from rarebridge.counselling.models import Call, CounsellorProfile, ReminderPreference
from rarebridge.counselling.selectors import free_slots_for, is_certified
from rarebridge.notify.services import Attachment, message_send


class SlotTaken(Exception):
    """Someone else booked the slot first. ``alternatives`` are the next free slots."""

    def __init__(self, alternatives: list[datetime]):
        super().__init__("slot taken")
        self.alternatives = alternatives


def _bookable(counsellor: CounsellorProfile) -> None:
    if not counsellor.is_active or not is_certified(counsellor=counsellor):
        raise ValidationError(
            _("This counsellor cannot take calls at the moment. Your coordinator will help you."),
            code="not_bookable",
        )


def _within_horizon(starts_at: datetime) -> None:
    """The server's own limit on how far ahead a call may be booked or moved (the pages offer
    the same horizon). Checked before any date arithmetic, so year 9999 is refused, not a 500."""
    if starts_at.tzinfo is None:
        raise ValidationError(_("Please choose a time from the list."), code="naive")
    now = timezone.now()
    if starts_at <= now:
        raise ValidationError(
            _("This time has already passed. Please choose another."), code="past"
        )
    if starts_at - now > timedelta(days=settings.BOOKING_HORIZON_DAYS):
        raise ValidationError(
            _("Calls can be booked at most %(days)s days ahead. Please choose an earlier time.")
            % {"days": settings.BOOKING_HORIZON_DAYS},
            code="beyond_horizon",
        )


def _alternatives(counsellor: CounsellorProfile, starts_at: datetime) -> list[datetime]:
    return free_slots_for(
        counsellor=counsellor, start=starts_at, end=starts_at + timedelta(days=7)
    )[:5]


def call_book(
    *,
    enrolment,
    counsellor: CounsellorProfile,
    starts_at: datetime,
    week: int,
    by: Actor | User,
    _moved_from: Call | None = None,
) -> Call:
    """Book one weekly call in a free slot, where the whole call fits. Safe when two people
    try the same or overlapping times at once: one gets in, the other gets SlotTaken with the
    next free slots."""
    _bookable(counsellor)
    _within_horizon(starts_at)
    minutes = enrolment.version.call_minutes
    try:
        with transaction.atomic():
            # Overlap is checked under a row lock on the counsellor: bookings of one counsellor
            # take turns, so two overlapping calls (09:00 and 09:15) cannot both pass the check.
            # The unique constraint only catches the same start time; an exclusion constraint
            # would need btree_gist and a range column, while the lock keeps the one check in
            # Python (the slots engine) that SQLite runs too. SQLite has no row locks, but it
            # lets one writer at a time in.
            CounsellorProfile.objects.select_for_update().filter(pk=counsellor.pk).first()
            if starts_at not in free_slots_for(
                counsellor=counsellor,
                start=starts_at,
                end=starts_at + timedelta(minutes=minutes),
            ):
                raise SlotTaken([])
            call = Call.objects.create(
                organisation_id=enrolment.organisation_id,
                enrolment=enrolment,
                patient=enrolment.patient,
                counsellor=counsellor,
                week=week,
                starts_at=starts_at,
                minutes=minutes,
                booked_by=user_of(by),
                ical_uid=_moved_from.calendar_uid if _moved_from else "",
                sequence=_moved_from.sequence + 1 if _moved_from else 0,
            )
            audit_log(
                action="counselling.call.booked",
                actor=by,
                obj=call,
                payload={"week": week, "starts_at": starts_at.isoformat()},
            )
            _tell_both(call, "call_booked")
    except SlotTaken:
        raise SlotTaken(_alternatives(counsellor, starts_at)) from None
    except IntegrityError:
        if Call.objects.filter(enrolment=enrolment, week=week, status__in=Call.LIVE).exists():
            raise ValidationError(
                _("There is already a call for this week. Move that one instead."),
                code="week_taken",
            ) from None
        raise SlotTaken(_alternatives(counsellor, starts_at)) from None
    return call


def _cutoff_passed(call: Call) -> bool:
    return call.starts_at - timedelta(hours=settings.CALL_CHANGE_CUTOFF_HOURS) < timezone.now()


def call_cancel(*, call: Call, by: Actor | User, reason: str) -> Call:
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
        call.sequence += 1  # only ever rises: calendar apps apply the newest version
        call.save(update_fields=["status", "change_reason", "sequence", "updated_at"])
        audit_log(
            action="counselling.call.cancelled", actor=by, obj=call, payload={"reason": reason}
        )
        _tell_both(call, "call_cancelled")
    return call


def call_reschedule(*, call: Call, new_start: datetime, by: Actor | User, reason: str) -> Call:
    """Move a call to another free slot of the same counsellor; the old row stays as 'moved'.
    The new row keeps the calendar UID and raises its sequence, so calendars move the event."""
    if not reason.strip():
        raise ValidationError(_("Please give a short reason."), code="reason_required")
    if call.status != Call.Status.BOOKED or _cutoff_passed(call):
        raise ValidationError(
            _("This call can no longer be changed here. Please contact your counsellor or site."),
            code="too_late",
        )
    _within_horizon(new_start)
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
            _moved_from=call,
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
    """Both people get the message, with the calendar event attached by e-mail: a request
    (new or moved) or a cancellation, which their calendar app applies to the same UID."""
    method = "CANCEL" if call.status == Call.Status.CANCELLED else "REQUEST"
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
            attachment=Attachment(
                name="invite.ics" if method == "REQUEST" else "cancel.ics",
                content_type=f"text/calendar; method={method}; charset=utf-8",
                content=calendar_for([call], person, method=method).decode("utf-8"),
            ),
        )


def call_import(
    *,
    enrolment,
    counsellor: CounsellorProfile,
    starts_at: datetime,
    week: int,
    by: Actor | User | None = None,
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
            booked_by=user_of(by) or counsellor.user,
        )
        audit_log(action="counselling.call.imported", actor=by, obj=call, payload={"week": week})
    return call


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


def reminder_preference_set(*, user: User, by: Actor | User, **fields) -> ReminderPreference:
    with transaction.atomic():
        preference, _created = ReminderPreference.objects.update_or_create(
            user=user, defaults=fields
        )
        audit_log(action="counselling.reminders.changed", actor=by, obj=user, payload=fields)
    return preference
