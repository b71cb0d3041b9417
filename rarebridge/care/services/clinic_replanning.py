"""Re-planning a planned clinic around the changes recorded (``clinic_changes``), in the
background (``replan_clinic``).

One re-plan at a time writes a clinic's timetable (the clinic's lease); changes recorded
meanwhile are re-planned together next. Running the task again does nothing new: the
changes are marked done in the same transaction that writes the timetable, and every
message has an idempotency key naming the re-plan. Unaffected appointments stay where they
are; the families and professionals whose times changed are told.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_scopes import scopes_disabled
from django_tasks import task

from rarebridge.accounts.models import User
from rarebridge.care import planning
from rarebridge.care.models import (
    Clinic,
    ClinicInvitation,
    ClinicProfessional,
    ClinicReplan,
    RequiredAppointment,
    ScheduledVisit,
)
from rarebridge.care.services._common import _ensure_message_templates, _event
from rarebridge.care.services._solver import _explanations, _options, _save_result
from rarebridge.core.actor import Actor
from rarebridge.core.audit import audit_log
from rarebridge.engines import clinic as engine
from rarebridge.notify.models import Channel
from rarebridge.notify.services import message_send

REPLAN_LEASE = timedelta(minutes=5)  # a re-plan takes seconds; a lease this old is a dead one
REPLAN_REQUEUE_AFTER = timedelta(minutes=2)


def _replanning(clinic: Clinic) -> bool:
    """A re-plan is queued or running (one queued long ago waits for the periodic re-queue and
    blocks nothing)."""
    return ClinicReplan.objects.filter(
        clinic=clinic,
        status=ClinicReplan.Status.QUEUED,
        requested_at__gte=timezone.now() - REPLAN_LEASE,
    ).exists()


def clinic_replan_run(*, replan_id: int, time_limit_seconds: float = 10.0) -> str:
    """The re-planning task's body; safe to run any number of times, by any worker."""
    replan = ClinicReplan.objects.filter(pk=replan_id).first()
    if replan is None:
        return "nothing to do"
    if replan.status != ClinicReplan.Status.QUEUED:
        return "done already"
    done = _replans_run(clinic_id=replan.clinic_id, time_limit_seconds=time_limit_seconds)
    return "done" if replan_id in done else "left to the re-plan running now"


@task()
def replan_clinic(replan_id: int) -> str:
    """``clinic_replan_run`` in the background (queued when a change is recorded)."""
    # Re-plans every change of the clinic still queued; a second run finds them done. A task
    # has no request and no person's scope; it touches only the clinic of the change.
    with scopes_disabled():
        return clinic_replan_run(replan_id=replan_id)


def _replans_run(*, clinic_id: int, time_limit_seconds: float) -> dict[int, engine.Schedule]:
    """Take the clinic's lease and re-plan its queued changes until none is left; the schedule
    each change was re-planned with. Another worker holding the lease takes them instead."""
    done: dict[int, engine.Schedule] = {}
    while True:
        lease = timezone.now()
        taken = (
            Clinic.objects.filter(pk=clinic_id)
            .filter(Q(replan_lease__isnull=True) | Q(replan_lease__lt=lease - REPLAN_LEASE))
            .update(replan_lease=lease)
        )
        if not taken:
            return done
        try:
            while True:
                batch = list(
                    ClinicReplan.objects.filter(
                        clinic_id=clinic_id, status=ClinicReplan.Status.QUEUED
                    )
                    .select_related("requested_by")
                    .order_by("pk")
                )
                if not batch:
                    break
                schedule = _replan(replans=batch, time_limit_seconds=time_limit_seconds)
                done.update(dict.fromkeys((r.pk for r in batch), schedule))
        finally:
            Clinic.objects.filter(pk=clinic_id, replan_lease=lease).update(replan_lease=None)
        # A change recorded after the last look, whose own task found the lease taken.
        if not ClinicReplan.objects.filter(
            clinic_id=clinic_id, status=ClinicReplan.Status.QUEUED
        ).exists():
            return done


def _timetable(clinic: Clinic) -> dict[str, tuple]:
    """The stored appointments and round tables: id -> (invitation, appointment, starts, room,
    professionals)."""
    rows = (
        ScheduledVisit.objects.filter(clinic=clinic)
        .exclude(kind=ScheduledVisit.Kind.LUNCH)
        .prefetch_related("professionals")
    )
    return {
        (f"a{row.appointment_id}" if row.appointment_id else f"t{row.invitation_id}"): (
            row.invitation_id,
            row.appointment_id,
            row.starts_at,
            row.room_id,
            frozenset(p.pk for p in row.professionals.all()),
        )
        for row in rows
    }


def _replan(*, replans: list[ClinicReplan], time_limit_seconds: float) -> engine.Schedule:
    """Re-plan the clinic once for these changes and mark them done, in one transaction."""
    clinic = Clinic.objects.select_related("site").get(pk=replans[0].clinic_id)
    by = replans[-1].requested_by
    key = replans[-1].pk
    touched = {pk for r in replans for pk in r.touched}
    loaded = planning.load(clinic=clinic)
    previous = planning.previous_schedule(loaded)
    before = _timetable(clinic)
    try:
        schedule = engine.replan(
            clinic=planning.to_engine(loaded),
            previous=previous,
            options=_options(time_limit_seconds),
        )
        explanations = _explanations(schedule)
    except ValueError as exc:  # a malformed set-up, shown like the solver's reasons
        schedule = engine.Schedule(status=engine.Status.UNKNOWN, method="setup")
        explanations = [{"rule": "setup", "people": [], "params": {}, "message": str(exc)}]
    status = ClinicReplan.Status.DONE if schedule.has_timetable else ClinicReplan.Status.KEPT
    payload = {
        "replans": [r.pk for r in replans],
        "changes": [{"reason": r.reason, **r.params} for r in replans],
    }
    with transaction.atomic():
        claimed = ClinicReplan.objects.filter(
            pk__in=[r.pk for r in replans], status=ClinicReplan.Status.QUEUED
        ).update(status=status, batch=key, finished_at=timezone.now())
        if claimed != len(replans):  # another worker re-planned them meanwhile
            transaction.set_rollback(True)
            return schedule
        if not schedule.has_timetable:
            # Keep the timetable people already have (without what was cancelled) and show why
            # the change cannot be planned; nobody is told of a change that did not happen.
            ScheduledVisit.objects.filter(
                clinic=clinic, appointment__status=RequiredAppointment.Status.CANCELLED
            ).delete()
            clinic.explanations = explanations
            clinic.save(update_fields=["explanations", "updated_at"])
            audit_log(
                action="care.clinic.replanned",
                actor=by,
                obj=clinic,
                payload={**payload, "status": str(schedule.status), "kept_previous": True},
            )
            return schedule
        _save_result(loaded=loaded, schedule=schedule)
        after = _timetable(clinic)
        moved = [
            {
                "invitation": now[0],
                "appointment": now[1],
                "from": before[code][2].isoformat() if code in before else "",
                "to": now[2].isoformat(),
            }
            for code, now in sorted(after.items(), key=lambda item: item[1][2])
            if code not in before or before[code][2:] != now[2:]
        ]
        gone = [was for code, was in before.items() if code not in after]
        ClinicReplan.objects.filter(pk__in=[r.pk for r in replans]).update(moved=moved)
        audit_log(
            action="care.clinic.replanned",
            actor=by,
            obj=clinic,
            payload={**payload, "status": clinic.status, "moved": len(moved)},
        )
        invited = {i.pk: i for i in loaded.invitations.values()}
        told = ({m["invitation"] for m in moved} | {was[0] for was in gone} | touched) & set(
            invited
        )
        for pk in sorted(told):
            _itinerary_changed(invitation=invited[pk], by=by, key=key)
        # Professionals with an account hear that their day sheet changed.
        changed_codes = {
            code for code in after if code not in before or before[code] != after[code]
        }
        changed_codes |= {code for code in before if code not in after}
        staff = {
            pro
            for timetable in (before, after)
            for code, visit in timetable.items()
            if code in changed_codes or visit[0] in touched
            for pro in visit[4]
        }
        _ensure_message_templates()
        for pro in ClinicProfessional.objects.filter(
            pk__in=staff, user__isnull=False
        ).select_related("user"):
            message_send(
                recipient=pro.user,
                template_key="care_day_sheet_changed",
                context={"clinic": clinic.name},
                idempotency_key=f"care-day-sheet-{pro.pk}-replan-{key}",
                channels=(Channel.IN_APP,),
            )
    return schedule


def _itinerary_changed(*, invitation: ClinicInvitation, by: Actor | User | None, key: int) -> None:
    _event(
        patient=invitation.patient,
        code="care.itinerary.changed",
        by=by,
        clinic=invitation.clinic.name,
    )
    _ensure_message_templates()
    first = invitation.visits.order_by("starts_at").first()
    message_send(
        recipient=invitation.patient.user,
        template_key="care_itinerary_changed",
        context={
            "clinic": invitation.clinic.name,
            "first": first.starts_at if first else None,
        },
        idempotency_key=f"care-itinerary-{invitation.pk}-replan-{key}",
        channels=(Channel.EMAIL, Channel.IN_APP),
    )


def clinic_replans_requeue_due() -> int:
    """Periodic: queue again the re-plans a lost worker left behind. Returns how many."""
    now = timezone.now()
    waiting = (
        ClinicReplan.objects.filter(
            status=ClinicReplan.Status.QUEUED, requested_at__lt=now - REPLAN_REQUEUE_AFTER
        )
        .filter(
            Q(clinic__replan_lease__isnull=True) | Q(clinic__replan_lease__lt=now - REPLAN_LEASE)
        )
        .order_by("clinic_id", "pk")
    )
    first: dict[int, int] = {}
    for replan in waiting:
        first.setdefault(replan.clinic_id, replan.pk)
    for replan_id in first.values():
        replan_clinic.enqueue(replan_id=replan_id)
    return len(first)
