"""Changes to a planned clinic, recorded at once: a cancelled appointment, a family that
cannot come, a professional arriving late, a changed set-up. Each becomes a ``ClinicReplan``
that ``clinic_replanning`` re-plans around in the background (or at once, for callers
without a worker: tests, the engine's benchmarks, scripts)."""

from __future__ import annotations

from datetime import time
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from rarebridge.accounts.models import User
from rarebridge.care.models import (
    Clinic,
    ClinicDay,
    ClinicInvitation,
    ClinicProfessional,
    ClinicReplan,
    ProfessionalShift,
    RequiredAppointment,
    ScheduledVisit,
)
from rarebridge.care.services._common import _record
from rarebridge.care.services.clinic_replanning import _replans_run, replan_clinic
from rarebridge.core.actor import Actor, user_of
from rarebridge.core.audit import audit_log
from rarebridge.engines import clinic as engine


def _check_not_planning(clinic: Clinic) -> None:
    if Clinic.objects.filter(pk=clinic.pk, planning_since__isnull=False).exists():
        raise ValidationError(
            _("The clinic is being planned from scratch. Make the change when that is done.")
        )


def _replan_record(
    *,
    clinic: Clinic,
    reason: str,
    params: dict[str, Any],
    touched: set[int],
    by: Actor | User | None,
    enqueue: bool,
) -> ClinicReplan:
    replan = ClinicReplan.objects.create(
        clinic=clinic,
        reason=reason,
        params=params,
        touched=sorted(touched),
        requested_by=user_of(by),
    )
    audit_log(
        action="care.clinic.replan_requested",
        actor=by,
        obj=clinic,
        payload={"replan": replan.pk, "reason": reason, **params},
    )
    if enqueue:
        transaction.on_commit(lambda: replan_clinic.enqueue(replan_id=replan.pk))
    return replan


def appointment_cancel(
    *,
    appointment: RequiredAppointment,
    by: Actor | User | None,
    enqueue: bool = True,
) -> ClinicReplan | None:
    """Cancel one appointment now; a planned clinic is re-planned around it in the background
    (the returned change). Unplanned, there is nothing to re-plan."""
    invitation = appointment.invitation
    clinic = invitation.clinic
    _check_not_planning(clinic)
    with transaction.atomic():
        cancelled = RequiredAppointment.objects.filter(
            pk=appointment.pk, status=RequiredAppointment.Status.NEEDED
        ).update(status=RequiredAppointment.Status.CANCELLED)
        if not cancelled:
            raise ValidationError(_("That appointment is cancelled already."))
        appointment.status = RequiredAppointment.Status.CANCELLED
        RequiredAppointment.objects.filter(after=appointment).update(after=None)
        _record(
            action="care.appointment.cancelled",
            by=by,
            obj=invitation,
            patient=invitation.patient,
            label=appointment.label,
        )
        if not clinic.has_timetable:
            return None
        return _replan_record(
            clinic=clinic,
            reason=ClinicReplan.Reason.APPOINTMENT_CANCELLED,
            params={
                "appointment": appointment.pk,
                "invitation": invitation.pk,
                "label": appointment.label,
            },
            touched={invitation.pk},
            by=by,
            enqueue=enqueue,
        )


def invitation_cancel(
    *,
    invitation: ClinicInvitation,
    by: Actor | User | None,
    enqueue: bool = True,
) -> ClinicReplan | None:
    """A family cannot come: take them off the clinic now (their travel record stays) and
    re-plan a planned clinic around everyone else in the background."""
    clinic = invitation.clinic
    _check_not_planning(clinic)
    with transaction.atomic():
        cancelled = ClinicInvitation.objects.filter(
            pk=invitation.pk, status=ClinicInvitation.Status.INVITED
        ).update(status=ClinicInvitation.Status.CANCELLED)
        if not cancelled:
            raise ValidationError(_("The family is off the clinic already."))
        invitation.status = ClinicInvitation.Status.CANCELLED
        ScheduledVisit.objects.filter(invitation=invitation).delete()
        _record(
            action="care.invitation.cancelled",
            by=by,
            obj=invitation,
            patient=invitation.patient,
            clinic=clinic.name,
        )
        if not clinic.has_timetable:
            return None
        return _replan_record(
            clinic=clinic,
            reason=ClinicReplan.Reason.INVITATION_CANCELLED,
            params={"invitation": invitation.pk},
            touched=set(),
            by=by,
            enqueue=enqueue,
        )


def professional_late(
    *,
    professional: ClinicProfessional,
    day: ClinicDay,
    arrives: time,
    by: Actor | User | None,
    enqueue: bool = True,
) -> ClinicReplan | None:
    """A professional arrives late: their hours that day start at ``arrives`` now; a planned
    clinic is re-planned around it in the background."""
    clinic = professional.clinic
    if day.clinic_id != clinic.pk:
        raise ValidationError(_("Choose a day of this clinic."))
    _check_not_planning(clinic)
    with transaction.atomic():
        shifts = list(professional.shifts.filter(day=day))
        if not shifts:
            ProfessionalShift.objects.create(
                professional=professional, day=day, starts=arrives, ends=day.closes
            )
            # A professional without shifts was there all clinic long: keep the other days.
            if not professional.shifts.exclude(day=day).exists():
                for other in clinic.days.exclude(pk=day.pk):
                    ProfessionalShift.objects.create(
                        professional=professional, day=other, starts=other.opens, ends=other.closes
                    )
        for shift in shifts:
            if shift.ends <= arrives:
                shift.delete()
            elif shift.starts < arrives:
                shift.starts = arrives
                shift.save(update_fields=["starts"])
        if not clinic.has_timetable:
            audit_log(
                action="care.clinic.professional_late",
                actor=by,
                obj=clinic,
                payload={"professional": professional.pk, "arrives": arrives.isoformat()},
            )
            return None
        return _replan_record(
            clinic=clinic,
            reason=ClinicReplan.Reason.PROFESSIONAL_LATE,
            params={
                "professional": professional.pk,
                "name": professional.name,
                "day": day.date.isoformat(),
                "arrives": arrives.strftime("%H:%M"),
            },
            touched=set(),
            by=by,
            enqueue=enqueue,
        )


def clinic_replan_request(
    *, clinic: Clinic, by: Actor | User | None, enqueue: bool = True
) -> ClinicReplan:
    """The set-up changed since the plan: re-plan with it, keeping families' times where
    possible (planning from scratch may move everyone)."""
    if not clinic.has_timetable:
        raise ValidationError(_("Plan the clinic first."))
    _check_not_planning(clinic)
    with transaction.atomic():
        return _replan_record(
            clinic=clinic,
            reason=ClinicReplan.Reason.SETUP_CHANGED,
            params={},
            touched=set(),
            by=by,
            enqueue=enqueue,
        )


# Re-planning at once, for callers without a worker (tests, the engine's benchmarks, scripts).


def _schedule_of(replan: ClinicReplan | None, time_limit_seconds: float) -> engine.Schedule:
    if replan is None:  # an unplanned clinic: nothing to re-plan
        return engine.Schedule(status=engine.Status.UNKNOWN, method="none")
    done = _replans_run(clinic_id=replan.clinic_id, time_limit_seconds=time_limit_seconds)
    return done.get(replan.pk) or engine.Schedule(status=engine.Status.UNKNOWN, method="busy")


def clinic_replan_after_cancellation(
    *,
    appointment: RequiredAppointment,
    by: Actor | User | None,
    time_limit_seconds: float = 10.0,
) -> engine.Schedule:
    """Cancel one appointment and re-plan now, keeping everyone else's appointments in place."""
    replan = appointment_cancel(appointment=appointment, by=by, enqueue=False)
    return _schedule_of(replan, time_limit_seconds)


def clinic_replan_after_invitation_cancelled(
    *,
    invitation: ClinicInvitation,
    by: Actor | User | None,
    time_limit_seconds: float = 10.0,
) -> engine.Schedule:
    """A family cannot come: take them off the clinic and re-plan now around everyone else."""
    replan = invitation_cancel(invitation=invitation, by=by, enqueue=False)
    return _schedule_of(replan, time_limit_seconds)


def clinic_replan_after_late_professional(
    *,
    professional: ClinicProfessional,
    day: ClinicDay,
    arrives: time,
    by: Actor | User | None,
    time_limit_seconds: float = 10.0,
) -> engine.Schedule:
    """A professional arrives late: their hours that day start at ``arrives``; re-plan now."""
    replan = professional_late(
        professional=professional, day=day, arrives=arrives, by=by, enqueue=False
    )
    return _schedule_of(replan, time_limit_seconds)
